// Decoding steps of a generated module's session: the time of one token at a short and at a long
// context, with softmax attention (a key/value cache read in full every step) and with linear
// attention (running sums: constant per token), and for a Llama-shaped model (grouped-query
// attention: a cache of 2 key/value heads for 8 query heads; rotary embeddings), and the memory a
// step allocates. Run by run.mjs,
// each kernel in its own process (with --expose-gc); as a child it takes a job in argv[2].
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import inspector from "node:inspector";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const TIMED = 20;
const WARMUP = 3;
const ALLOC_STEPS = 100;
const ALLOC_WINDOWS = 3;
// Steps before the allocation count: until then V8 may still box numbers in code it has not optimised.
const ALLOC_WARMUP = 200;

/** The child: one kernel, both contexts. */
async function child(job) {
  const mod = await import(job.module);
  const { randomWeights, seededRandom } = await import(job.runtime);
  const model = mod.createModel(randomWeights(mod.spec.parameters, 1));
  const rand = seededRandom(3);
  const vocab = mod.spec.config.vocab;
  const token = { data: new Int32Array(1), shape: [1, 1] };
  const step = (s) => {
    token.data[0] = Math.floor(rand() * vocab);
    return s.append(token);
  };
  // One session per context, filled with a prompt; then the timed steps go round the sessions in
  // turn, so a slow moment of a shared machine falls on every context alike.
  const sessions = job.contexts.map((context) => {
    const session = model.startSession({ maxLength: job.ctx });
    const prefill = context - TIMED - WARMUP;
    const t0 = performance.now();
    session.append({ data: Int32Array.from({ length: prefill }, () => Math.floor(rand() * vocab)), shape: [1, prefill] });
    return { session, context, prefill, prefillMs: performance.now() - t0, times: new Float64Array(TIMED) };
  });
  // The prefills' arenas are garbage: collect them now, not while timing.
  globalThis.gc();
  for (let i = 0; i < WARMUP; i++) for (const s of sessions) step(s.session);
  for (let i = 0; i < TIMED; i++)
    for (const s of sessions) {
      const a = performance.now();
      step(s.session);
      s.times[i] = performance.now() - a;
    }
  const out = { kernel: job.kernel, contexts: [] };
  for (const { session, context, prefill, prefillMs, times } of sessions) {
    const sorted = [...times].sort((a, b) => a - b);
    const entry = { context, from: context - TIMED + 1, prefill, prefillMs, medianMs: sorted[TIMED >> 1], minMs: sorted[0], maxMs: sorted[TIMED - 1] };
    if (session.length + ALLOC_WARMUP + ALLOC_WINDOWS * ALLOC_STEPS <= job.ctx) {
      // Allocation: V8's sampling heap profiler over windows of steps after a warm-up, counting what
      // is allocated while a frame of the generated module is on the stack. An allocation made by
      // every step shows in every window; a one-off (the engine re-optimising a function) in one.
      for (let i = 0; i < ALLOC_WARMUP; i++) step(session);
      const profiler = new inspector.Session();
      profiler.connect();
      const post = (method, params) => new Promise((resolve, reject) => profiler.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
      const windows = [];
      for (let w = 0; w < ALLOC_WINDOWS; w++) {
        await post("HeapProfiler.startSampling", { samplingInterval: 16, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
        for (let i = 0; i < ALLOC_STEPS; i++) step(session);
        const { profile } = await post("HeapProfiler.stopSampling");
        let bytes = 0;
        const walk = (node, inModel) => {
          const here = inModel || node.callFrame.url === job.module;
          if (here) bytes += node.selfSize;
          for (const c of node.children) walk(c, here);
        };
        walk(profile.head, false);
        windows.push(bytes / ALLOC_STEPS);
      }
      profiler.disconnect();
      entry.bytesPerStep = Math.min(...windows);
      entry.bytesPerStepWindows = windows;
      entry.allocSteps = ALLOC_STEPS;
    }
    out.contexts.push(entry);
  }
  console.log(JSON.stringify(out));
}

/**
 * The rows: the GPT-style decoder with softmax and with linear attention, and a Llama-shaped model
 * (rotary embeddings, 2 key/value heads for 8 query heads, RMS norms, SwiGLU) with softmax attention.
 */
export function decodeRows(quick) {
  const size = quick ? { d: 64, heads: 4, layers: 2, ctx: 640, vocab: 64, contexts: [32, 640] } : { d: 512, heads: 8, layers: 6, ctx: 1024, vocab: 1024, contexts: [64, 1024] };
  const common = [`d=${size.d}`, `heads=${size.heads}`, `layers=${size.layers}`, `ctx=${size.ctx}`, `vocab=${size.vocab}`];
  return [
    ...["softmax", "linear"].map((kernel) => ({ kernel, model: "decoder", sets: [...common, `kernel=${kernel}`], size })),
    { kernel: "llama gqa", model: "llama", sets: [...common, `kv_heads=${size.heads / 4}`, `hidden=${Math.round((size.d * 8) / 3 / 32) * 32}`], size },
  ];
}

/** Compiles each row's model and measures it in a child; returns the results. `only` keeps the rows of those kernels. */
export function runDecodeBench({ root, work, quick, buildGraph, emitModuleSource, parseOverride, log, only }) {
  const results = [];
  for (const row of decodeRows(quick).filter((r) => !only || only.includes(r.kernel))) {
    const { kernel, model, sets, size } = row;
    const built = buildGraph(readFileSync(join(root, "bench", "models", `${model}.tfm`), "utf8"), sets.map(parseOverride), { level: 2 });
    if (!built.graph) throw new Error(`${model}: ${built.diagnostics.items.map((d) => d.message).join("; ")}`);
    const runtime = pathToFileURL(join(root, "dist", "runtime", "index.js")).href;
    const module = join(work, `${model}-${kernel.replace(/ /g, "-")}.mjs`);
    writeFileSync(module, emitModuleSource(built.graph, { runtime, typed: false }));
    log(`W6 decode ${kernel}: steps at contexts ${size.contexts.join(" and ")} ... `);
    const job = { module: pathToFileURL(module).href, runtime, kernel, ctx: size.ctx, contexts: size.contexts };
    const stdout = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), JSON.stringify(job)], { encoding: "utf8", maxBuffer: 1 << 24 });
    const r = JSON.parse(stdout.trim().split("\n").pop());
    log(`${r.contexts.map((c) => `${c.medianMs.toFixed(1)} ms`).join(", ")}\n`);
    results.push({ ...r, size, model });
  }
  return results;
}

/** The table rows for the decode results. */
export function decodeTable(results) {
  const lines = [`\nW6 decode: one token through a session (d=${results[0]?.size.d}, ${results[0]?.size.layers} layers; "llama gqa": ${results[0]?.size.heads} heads sharing ${results[0]?.size.heads / 4} key/value heads, rotary, SwiGLU), median of ${TIMED} steps ending at the context, taken in turn across the contexts`];
  lines.push(`${"attention".padEnd(12)}${"context".padStart(10)}${"median ms".padStart(11)}${"min".padStart(9)}${"max".padStart(9)}${"x short".padStart(9)}  ${"bytes allocated/step".padStart(26)}`);
  for (const r of results) {
    const short = r.contexts[0];
    for (const c of r.contexts) {
      const alloc = c.bytesPerStep === undefined ? "" : `${c.bytesPerStepWindows.map((b) => b.toFixed(0)).join(" / ")} (${c.allocSteps} steps each)`;
      lines.push(`${r.kernel.padEnd(12)}${String(c.context).padStart(10)}${c.medianMs.toFixed(2).padStart(11)}${c.minMs.toFixed(2).padStart(9)}${c.maxMs.toFixed(2).padStart(9)}${(c.medianMs / short.medianMs).toFixed(2).padStart(9)}  ${alloc.padStart(26)}`);
    }
  }
  return lines.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) await child(JSON.parse(process.argv[2]));
