// `npm run bench`: tfmc against its peers on PEERS.md's workloads, in one run, with the same
// weights and inputs for every engine. `--quick` (or BENCH_QUICK=1) runs small sizes as a smoke test.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildGraph } from "../dist/cli/pipeline.js";
import { emitModuleSource } from "../dist/codegen/module.js";
import { parseOverride } from "../dist/semantics/overrides.js";
import { randomWeights, seededRandom, writeSafetensors } from "../dist/runtime/index.js";
import { emitModel } from "../dist/codegen/emit.js";
import { exportOnnx } from "../dist/export/exportGraph.js";
import { loadedWeights } from "../dist/export/weights.js";
import { decodeTable, runDecodeBench } from "./decode.mjs";
import { runCompileScaling, scalingTable } from "./scaling.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const QUICK = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";
const WORK = join(ROOT, "bench", ".work");
mkdirSync(WORK, { recursive: true });

const FULL = { d: 512, heads: 8, ff: 2048, S: 128, long: 1024, w5: 4096, gemm: { m: 512, k: 512, n: 2048 }, runs: 10, slowRuns: 3 };
const SMALL = { d: 64, heads: 4, ff: 128, S: 32, long: 128, w5: 256, gemm: { m: 64, k: 64, n: 128 }, runs: 2, slowRuns: 1 };
const P = QUICK ? SMALL : FULL;
// `--only W1,W3` and `--engines tfmc:1,tfmc:2` narrow a run (for investigating; a full run has neither);
// `--only compile-scaling` runs the compile-time row alone.
const option = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1].split(",") : undefined;
};
const ONLY = option("--only");
const ONLY_ENGINES = option("--engines");

const layerFlops = (S, d, ff) => S * (8 * d * d + 4 * d * ff) + 4 * S * S * d;
const ENGINES = ["tfmc:1", "tfmc:2", "tfmc-wasm:1", "tfmc-wasm:2", "ort-node:1", "ort-node:2", "ort-web:1", "ort-web:2", "tfjs:cpu", "tfjs:wasm"];
// `tfmc export`'s ONNX of the same model, and torch.onnx.export's of the same layer
// (bench/models/torch-onnx/, full sizes only), on the same onnxruntime engines as the ort rows, which
// run a graph built in JavaScript (bench/engines/onnxModel.mjs).
const EXPORTED = ["tfmc→onnx-node:1", "tfmc→onnx-node:2", "tfmc→onnx-web:1", "tfmc→onnx-web:2"];
if (!QUICK) EXPORTED.push("torch→onnx-node:1", "torch→onnx-node:2", "torch→onnx-web:1", "torch→onnx-web:2");

const encoder = (name, S, layers, extra = []) => ({
  name, kind: "encoder", tfm: "bench/models/encoder.tfm", S, layers,
  sets: [`d_model=${P.d}`, `nhead=${P.heads}`, `dim_feedforward=${P.ff}`, `layers=${layers}`, `max_len=${Math.max(P.w5, P.long)}`, ...extra],
  flops: layers * layerFlops(S, P.d, P.ff), config: { d: P.d, heads: P.heads, ff: P.ff, layers },
});
const W5 = [["softmax (fused)", []], ["linear", ["kernel=linear"]], ["performer", ["kernel=performer"]], ["linformer", ["kernel=linformer", `k=${QUICK ? 32 : 256}`]], ["local", ["kernel=local", `window=${QUICK ? 16 : 128}`]]];
const WORKLOADS = [
  { ...encoder("W1 enc512", P.S, 1), engines: [...ENGINES, ...EXPORTED] },
  { ...encoder("W2 enc512-long", P.long, 1), engines: [...ENGINES, ...EXPORTED] },
  { name: "W3 gemm", kind: "gemm", tfm: "bench/models/gemm.tfm", sets: [`m=${P.gemm.m}`, `k=${P.gemm.k}`, `n=${P.gemm.n}`], flops: 2 * P.gemm.m * P.gemm.k * P.gemm.n, config: P.gemm, engines: ENGINES },
  { ...encoder("W4 enc6", P.S, 6), engines: [...ENGINES, ...EXPORTED] },
  ...W5.map(([variant, sets]) => ({ ...encoder(`W5 seq${P.w5} ${variant}`, P.w5, 1, sets), engines: variant.startsWith("softmax") ? ["tfmc:1", "tfmc:2", "tfmc-wasm:1", "tfmc-wasm:2", "ort-node:1", "ort-node:2"] : ["tfmc:1", "tfmc:2", "tfmc-wasm:1", "tfmc-wasm:2"], slow: true })),
];

/** Compiles the workload's model, writes its module, weights and input; returns their paths. */
function prepare(w, index) {
  const t0 = performance.now();
  const built = buildGraph(readFileSync(join(ROOT, w.tfm), "utf8"), w.sets.map(parseOverride), { level: 2 });
  if (!built.graph) throw new Error(`${w.name}: ${built.diagnostics.items.map((d) => d.message).join("; ")}`);
  const source = emitModuleSource(built.graph, { runtime: pathToFileURL(join(ROOT, "dist", "runtime", "index.js")).href, typed: false, profile: Boolean(w.slow) });
  const compileMs = performance.now() - t0;
  const module = join(WORK, `w${index}.mjs`);
  writeFileSync(module, source);
  const wasmModule = join(WORK, `w${index}.wasm.mjs`);
  writeFileSync(wasmModule, emitModuleSource(built.graph, { runtime: pathToFileURL(join(ROOT, "dist", "runtime", "index.js")).href, typed: false, profile: Boolean(w.slow), target: "wasm" }));
  const params = built.model.params.map((p) => ({ name: p.name, shape: p.shape }));
  const weights = join(WORK, `w${index}.weights.safetensors`);
  const values = randomWeights(params, 1);
  writeFileSync(weights, writeSafetensors(values));
  // What `tfmc export` writes for the model (lowering and clean-up, opset 17), with the same weights.
  const onnx = join(WORK, `w${index}.onnx`);
  if (w.engines.some((e) => e.startsWith("tfmc→onnx"))) {
    const lowered = buildGraph(readFileSync(join(ROOT, w.tfm), "utf8"), w.sets.map(parseOverride), { level: 1 }).graph;
    const data = Object.fromEntries(Object.entries(values).map(([k, t]) => [k, t.data]));
    writeFileSync(onnx, exportOnnx(lowered, { opset: 17, without: [], weights: loadedWeights(params, data), file: w.tfm, producerVersion: "bench" }));
  }
  const inputName = built.graph.inputs[0].name;
  const shape = w.kind === "gemm" ? [P.gemm.m, P.gemm.k] : [1, w.S, P.d];
  const rand = seededRandom(2);
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rand() - 1);
  const input = join(WORK, `w${index}.input.safetensors`);
  writeFileSync(input, writeSafetensors({ [inputName]: { data, shape } }));
  return { module: pathToFileURL(module).href, wasmModule: pathToFileURL(wasmModule).href, weights, input, inputName, compileMs, onnx };
}

function runEngine(w, files, engine, index) {
  const slow = w.slow || (engine === "tfjs:cpu" && !w.name.startsWith("W1") && !w.name.startsWith("W3"));
  const runs = slow ? P.slowRuns : P.runs;
  const output = join(WORK, `w${index}.${engine.replace(":", "-")}.out`);
  const job = { ...files, module: engine.startsWith("tfmc-wasm") ? files.wasmModule : files.module, engine, kind: w.kind, config: w.config, output, runs: QUICK ? runs : Math.max(runs, 3), warmup: slow ? 1 : 2 };
  try {
    const stdout = execFileSync(process.execPath, [join(ROOT, "bench", "child.mjs"), JSON.stringify(job)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 24 });
    const result = JSON.parse(stdout.trim().split("\n").pop());
    return { ...result, output: new Float32Array(readFileSync(output).buffer.slice(0)) };
  } catch (e) {
    const lines = String(e.stderr ?? e.message).split("\n").filter((l) => l.trim() && !/^\s+at /.test(l) && !/^Node\.js v/.test(l));
    return { error: lines.slice(-2).join(" | ").slice(0, 300) };
  }
}

const median = (xs) => xs[Math.floor(xs.length / 2)];
const results = [];
for (const [i, w] of WORKLOADS.entries()) {
  if (ONLY && !ONLY.some((prefix) => w.name.startsWith(prefix))) continue;
  const files = prepare(w, i);
  process.stderr.write(`${w.name}: compiled in ${files.compileMs.toFixed(0)} ms\n`);
  let reference;
  for (const engine of w.engines.filter((e) => !ONLY_ENGINES || e === "tfmc:1" || ONLY_ENGINES.includes(e))) {
    process.stderr.write(`  ${engine} ... `);
    const r = runEngine(w, files, engine, i);
    if (r.error) {
      process.stderr.write(`not available: ${r.error}\n`);
      results.push({ workload: w.name, engine, error: r.error });
      continue;
    }
    if (engine === "tfmc:1") reference = r.output;
    if (!reference) {
      results.push({ workload: w.name, engine, error: "no tfmc output to compare with" });
      continue;
    }
    let maxDiff = 0;
    for (let k = 0; k < r.output.length; k++) maxDiff = Math.max(maxDiff, Math.abs(r.output[k] - reference[k]));
    if (r.output.length !== reference.length) maxDiff = Infinity;
    const ms = median(r.times);
    process.stderr.write(`${ms.toFixed(1)} ms\n`);
    results.push({
      workload: w.name, engine, medianMs: ms, minMs: r.times[0], maxMs: r.times[r.times.length - 1], runs: r.times.length,
      gflops: w.flops / (ms * 1e6), attentionMs: r.attentionMs, createMs: r.createMs, maxRssMb: r.maxRssMb, maxAbsDiff: maxDiff, agrees: maxDiff <= 1e-4, compileMs: engine.startsWith("tfmc") ? files.compileMs : undefined,
    });
  }
}

// W6: incremental decoding, tfmc only (the peers here have no decoding sessions to compare).
const decode = !ONLY || ONLY.some((p) => "W6 decode".startsWith(p)) ? runDecodeBench({ root: ROOT, work: WORK, quick: QUICK, buildGraph, emitModuleSource, parseOverride, log: (s) => process.stderr.write(s) }) : [];

// Compile time against layer count (tfmc only).
const scaling = !ONLY || ONLY.includes("compile-scaling") ? await runCompileScaling({ root: ROOT, quick: QUICK, buildGraph, emitModel, parseOverride, log: (s) => process.stderr.write(s) }) : [];

// Ratios: each engine's time over tfmc's 1-thread time on the same workload.
for (const r of results) {
  const base = results.find((x) => x.workload === r.workload && x.engine === "tfmc:1");
  if (r.medianMs && base?.medianMs) r.ratioToTfmc = r.medianMs / base.medianMs;
}

const pad = (s, n) => String(s).padStart(n);
console.log(`\n${QUICK ? "QUICK MODE (small sizes, smoke test only)\n" : ""}${"workload".padEnd(28)}${"engine".padEnd(18)}${pad("median ms", 11)}${pad("min", 9)}${pad("max", 9)}${pad("GFLOP/s", 9)}${pad("x tfmc", 8)}${pad("create ms", 11)}${pad("RSS MB", 8)}  agrees`);
for (const r of results) {
  if (r.error) {
    console.log(`${r.workload.padEnd(28)}${r.engine.padEnd(18)}  not available`);
    continue;
  }
  console.log(`${r.workload.padEnd(28)}${r.engine.padEnd(18)}${pad(r.medianMs.toFixed(1), 11)}${pad(r.minMs.toFixed(1), 9)}${pad(r.maxMs.toFixed(1), 9)}${pad(r.gflops.toFixed(2), 9)}${pad(r.ratioToTfmc.toFixed(2), 8)}${pad(r.createMs.toFixed(0), 11)}${pad(r.maxRssMb.toFixed(0), 8)}  ${r.agrees ? "yes" : `NO (${r.maxAbsDiff.toExponential(1)})`}`);
}
const w5 = results.filter((r) => r.workload.startsWith("W5") && r.attentionMs !== undefined);
if (w5.length > 0) {
  console.log(`\nW5: the attention alone (scores, softmax and weighting, or the rewrite's linear form), mean per timed forward`);
  for (const r of w5) {
    const base = w5.find((x) => x.engine === r.engine && x.workload.includes("softmax"));
    const speedup = base ? `  ${(base.attentionMs / r.attentionMs).toFixed(1)}x faster than fused softmax; layer ${(base.medianMs / r.medianMs).toFixed(2)}x` : "";
    console.log(`${r.workload.padEnd(28)}${r.engine.padEnd(18)}${pad(r.attentionMs.toFixed(1), 11)} ms${speedup}`);
  }
}
const w4 = results.find((r) => r.workload.startsWith("W4") && r.engine === "tfmc:1");
if (w4) console.log(`\ntfmc compile of W4's model (check, lower, optimise, emit): ${w4.compileMs.toFixed(0)} ms`);
if (decode.length > 0) console.log(decodeTable(decode));
if (scaling.length > 0) console.log(scalingTable(scaling));

mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
const partial = ONLY || ONLY_ENGINES;
const file = join(ROOT, "bench", "results", QUICK ? "quick.json" : partial ? "partial.json" : "bench.json");
const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, memoryGb: Math.round(os.totalmem() / 2 ** 30) };
writeFileSync(file, JSON.stringify({ quick: QUICK, machine, sizes: P, results, decode, compileScaling: scaling }, null, 2) + "\n");
console.log(`results written to ${file}`);
const disagreeing = results.filter((r) => r.agrees === false);
if (disagreeing.length > 0) {
  console.log(`engines disagreeing with tfmc (excluded from comparisons): ${disagreeing.map((r) => `${r.workload}/${r.engine}`).join(", ")}`);
}
