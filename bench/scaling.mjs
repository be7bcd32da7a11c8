// The compile-scaling row: `tfmc compile` of bench/models/deep.tfm (check, lower, optimise, emit
// and format the module) at a growing number of layers. Near-linear growth shows as a roughly
// constant time per layer; each size is compiled in this process after one warm-up compile.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Compiles the model at each size; returns one row per size. */
export async function runCompileScaling({ root, quick, buildGraph, emitModel, parseOverride, log }) {
  const text = readFileSync(join(root, "bench", "models", "deep.tfm"), "utf8");
  const compile = async (layers) => {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const built = buildGraph(text, [parseOverride(`layers=${layers}`)], { level: 2 });
    if (!built.graph) throw new Error(`deep.tfm at ${layers} layers: ${built.diagnostics.items.map((d) => d.message).join("; ")}`);
    const files = await emitModel(built.graph, { emit: "ts" });
    const used = process.cpuUsage(cpu);
    return { layers, nodes: built.lowered.size, bytes: files[0].text.length, ms: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
  };
  await compile(10);
  const rows = [];
  for (const layers of quick ? [10, 100] : [100, 1000, 10000]) {
    log(`compile-scaling: ${layers} layers ... `);
    const row = await compile(layers);
    log(`${row.ms.toFixed(0)} ms\n`);
    rows.push(row);
  }
  return rows;
}

/** The table: time per layer stays about the same when growth is near-linear. */
export function scalingTable(rows) {
  const pad = (s, n) => String(s).padStart(n);
  const lines = [`\ncompile time against layer count (bench/models/deep.tfm, -O2, TypeScript module)`, `${pad("layers", 8)}${pad("IR nodes", 10)}${pad("module KB", 11)}${pad("wall ms", 10)}${pad("CPU ms", 10)}${pad("CPU µs/layer", 14)}${pad("x previous", 12)}`];
  rows.forEach((r, i) => {
    const growth = i > 0 ? `${(r.cpuMs / rows[i - 1].cpuMs).toFixed(1)} for ${r.layers / rows[i - 1].layers}x` : "";
    lines.push(`${pad(r.layers, 8)}${pad(r.nodes, 10)}${pad((r.bytes / 1024).toFixed(0), 11)}${pad(r.ms.toFixed(0), 10)}${pad(r.cpuMs.toFixed(0), 10)}${pad(((1000 * r.cpuMs) / r.layers).toFixed(0), 14)}${pad(growth, 12)}`);
  });
  return lines.join("\n");
}
