// One engine on one workload, in its own process so its peak RSS is its own. Reads the weights and
// input the parent wrote, times forward, writes the output for the parent to compare, prints JSON.
import { readFileSync, writeFileSync } from "node:fs";
import { readSafetensors } from "../dist/runtime/index.js";

const job = JSON.parse(process.argv[2]);
const weights = Object.fromEntries([...readSafetensors(readFileSync(job.weights)).tensors].map(([k, t]) => [k, t.data]));
const input = readSafetensors(readFileSync(job.input)).tensors.get(job.inputName);

async function engine() {
  const [family, variant] = job.engine.split(":");
  if (family === "tfmc" || family === "tfmc-wasm") {
    const mod = await import(job.module);
    const tensors = Object.fromEntries(mod.spec.parameters.map((p) => [p.name, { data: weights[p.name], shape: p.shape }]));
    const feeds = { [job.inputName]: { data: input.data, shape: input.shape } };
    if (variant === "1") {
      const m = mod.createModel(tensors);
      return { run: async () => Object.values(m.forward(feeds))[0].data, close: async () => {}, profile: m.profile };
    }
    const m = await mod.createThreadedModel(tensors, { threads: Number(variant) });
    return { run: async () => Object.values(await m.forward(feeds))[0].data, close: () => m.close(), profile: m.profile };
  }
  const ONNX = ["ort-node", "ort-web", "tfmc→onnx-node", "tfmc→onnx-web", "torch→onnx-node", "torch→onnx-web"];
  if (ONNX.includes(family)) {
    const native = family.endsWith("node");
    const ort = native ? await import("onnxruntime-node") : await import("onnxruntime-web");
    const { encoderOnnx, gemmOnnx } = await import("./engines/onnxModel.mjs");
    const { torchEncoderOnnx } = await import("./engines/torchOnnx.mjs");
    // The ort rows run the graph built in JavaScript (bench/engines/onnxModel.mjs); the tfmc→onnx
    // rows what `tfmc export` writes; the torch→onnx rows what torch.onnx.export writes.
    const bytes = family.startsWith("tfmc")
      ? new Uint8Array(readFileSync(job.onnx))
      : family.startsWith("torch")
        ? torchEncoderOnnx(weights, job.config)
        : job.kind === "gemm"
          ? gemmOnnx(weights, job.config)
          : encoderOnnx(weights, job.config);
    const threads = Number(variant);
    if (!native) {
      ort.env.wasm.numThreads = threads;
      ort.env.logLevel = "error";
    }
    const options = native ? { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential" } : { executionProviders: ["wasm"] };
    const session = await ort.InferenceSession.create(bytes, options);
    const feed = { [job.inputName]: new ort.Tensor("float32", input.data, input.shape) };
    return { run: async () => (await session.run(feed)).out.data, close: () => session.release?.() };
  }
  if (family === "tfjs") {
    const tfjs = await import("./engines/tfjs.mjs");
    await tfjs.useBackend(variant);
    const f = job.kind === "gemm" ? tfjs.gemmModel(weights, job.config) : tfjs.encoderModel(weights, job.config, input.shape[1]);
    return { run: async () => f(input.data), close: async () => {} };
  }
  throw new Error(`unknown engine ${job.engine}`);
}

const t0 = performance.now();
const e = await engine();
const createMs = performance.now() - t0;
let out = await e.run();
for (let i = 1; i < job.warmup; i++) out = await e.run();
// With a profiled module: the time in attention kernels per timed run, warm-up excluded.
const ATTENTION = new Set(["attention", "linear_attention", "performer_attention", "linformer_attention", "local_attention"]);
const attentionTime = () => (e.profile?.() ?? []).filter((p) => ATTENTION.has(p.op)).reduce((a, p) => a + p.ms, 0);
const attentionBefore = attentionTime();
const times = [];
for (let i = 0; i < job.runs; i++) {
  const t = performance.now();
  out = await e.run();
  times.push(performance.now() - t);
}
await e.close();
writeFileSync(job.output, Buffer.from(Float32Array.from(out).buffer));
times.sort((a, b) => a - b);
const attentionMs = e.profile ? (attentionTime() - attentionBefore) / job.runs : undefined;
console.log(JSON.stringify({ times, createMs, maxRssMb: process.resourceUsage().maxRSS / 1024, attentionMs }));
process.exit(0);
