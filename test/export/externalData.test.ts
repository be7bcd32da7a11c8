import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorProto_DataLocation } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { ExportError } from "../../src/export/context.js";
import { exportOnnx } from "../../src/export/exportGraph.js";
import type { WeightStream } from "../../src/export/weights.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";
import { graphOf, ortRun, OUT, setFlags, tfmc, tfmcRun, writeTensors } from "./harness.js";

// --external-data: the weights in a file beside the model, streamed. A model over protobuf's
// 2 GiB limit exports this way without its weights ever being held whole.

const GPT = "examples/gpt.tfm";
const SMALL = ["d=64", "heads=4", "layers=2", "ctx=16", "vocab=100"];
/** GPT-2's vocabulary at width 2048 with 10 layers: 606 million parameters, 2.26 GiB of float32. */
const LARGE = ["d=2048", "heads=16", "layers=10", "ctx=64"];

/** Llama at 4 layers, 512 positions: each rotary table is 512 × 32 float32, 64 KiB; the weights 2.5 MB. */
const LLAMA = "examples/hf/llama.tfm";
const LLAMA_SETS = ["vocab_size=100", "hidden_size=128", "intermediate_size=256", "num_hidden_layers=4", "num_attention_heads=4", "num_key_value_heads=2", "max_position_embeddings=512"];

/** Every parameter as one shared chunk of zeros, repeated: weights that take no memory to make. */
function* zeros(params: readonly { name: string; shape: readonly number[] }[]): WeightStream {
  const chunk = new Float32Array(1 << 20);
  for (const p of params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    function* chunks() {
      for (let at = 0; at < n; at += chunk.length) yield n - at >= chunk.length ? chunk : chunk.subarray(0, n - at);
    }
    yield { name: p.name, shape: p.shape, chunks: chunks() };
  }
}

describe("tfmc export --external-data", () => {
  it("writes the weights beside the model, where onnxruntime finds them, with the same outputs", async () => {
    const inline = join(OUT, "gpt_inline.onnx");
    const external = join(OUT, "gpt_external.onnx");
    expect((await tfmc("export", GPT, "-o", inline, ...setFlags(SMALL))).code).toBe(0);
    const r = await tfmc("export", GPT, "-o", external, "--external-data", ...setFlags(SMALL));
    expect(r.err).toBe("");
    expect(r.out).toMatch(/gpt_external\.onnx and gpt_external\.onnx\.data beside it/);
    const model = fromBinary(ModelProtoSchema, readFileSync(external));
    const weights = model.graph!.initializer.filter((t) => !t.name.startsWith("/"));
    expect(weights.every((t) => t.dataLocation === TensorProto_DataLocation.EXTERNAL && t.externalData[0].value === "gpt_external.onnx.data")).toBe(true);
    expect(statSync(external).size).toBeLessThan(statSync(inline).size / 10);
    const feeds = randomInputs(graphOf(GPT, SMALL), { B: 2, T: 7 }, 11);
    const [a, b] = [await ortRun(inline, feeds), await ortRun(external, feeds)];
    expect(maxAbsDiff(a.logits.data as Float32Array, b.logits.data as Float32Array)).toBe(0);
  });

  it("exports a model over 2 GiB by streaming its weights, never holding them", () => {
    const g = graphOf(GPT, LARGE);
    const total = g.meta.params.reduce((a, p) => a + 4 * p.shape.reduce((x, y) => x * y, 1), 0);
    expect(total).toBeGreaterThan(2 ** 31);
    let written = 0;
    let writes = 0;
    const before = process.memoryUsage().rss;
    const bytes = exportOnnx(g, {
      opset: 17,
      without: [],
      weights: zeros(g.meta.params),
      file: GPT,
      producerVersion: "test",
      external: { location: "big.onnx.data", sink: { write: (b) => ((written += b.length), writes++) } },
    });
    const grown = process.memoryUsage().rss - before;
    // The data file holds every weight (aligned), the model only the graph.
    expect(written).toBeGreaterThanOrEqual(total);
    expect(writes).toBeGreaterThan(total / (1 << 22));
    expect(bytes.length).toBeLessThan(1 << 20);
    expect(grown).toBeLessThan(512 * 2 ** 20);
    const m = fromBinary(ModelProtoSchema, bytes);
    const last = m.graph!.initializer.filter((t) => t.externalData.length > 0).at(-1)!;
    const field = (k: string) => Number(last.externalData.find((e) => e.key === k)!.value);
    expect(field("offset") + field("length")).toBe(written);
  });

  it("refuses a model over 2 GiB without it, before making any weight", () => {
    const g = graphOf(GPT, LARGE);
    let made = 0;
    const counted: WeightStream = (function* () {
      for (const w of zeros(g.meta.params)) {
        made++;
        yield w;
      }
    })();
    expect(() => exportOnnx(g, { opset: 17, without: [], weights: counted, file: GPT, producerVersion: "test" })).toThrow(ExportError);
    expect(() => exportOnnx(g, { opset: 17, without: [], weights: counted, file: GPT, producerVersion: "test" })).toThrow(/over protobuf's 2 GiB limit .*--external-data/);
    expect(made).toBe(0);
  });

  it("writes a multi-layer rotary model's tables once, shared by every layer, and puts them beside the model too", async () => {
    const inline = join(OUT, "llama_inline.onnx");
    const external = join(OUT, "llama_external.onnx");
    expect((await tfmc("export", LLAMA, "-o", inline, ...setFlags(LLAMA_SETS))).code).toBe(0);
    expect((await tfmc("export", LLAMA, "-o", external, "--external-data", ...setFlags(LLAMA_SETS))).code).toBe(0);
    const tables = (path: string) => fromBinary(ModelProtoSchema, readFileSync(path)).graph!.initializer.filter((t) => t.name.startsWith("/const/rope_"));
    // One cosine and one sine table for the queries and keys of all four layers.
    expect(tables(inline).map((t) => [t.name.replace(/_\d+$/, ""), t.dims.map(Number)])).toEqual([
      ["/const/rope_cos", [512, 32]],
      ["/const/rope_sin", [512, 32]],
    ]);
    expect(tables(external).every((t) => t.dataLocation === TensorProto_DataLocation.EXTERNAL && t.rawData.length === 0)).toBe(true);
    // The model holds the graph and small constants only (under 1 KiB each): under 5% of the weights.
    const weights = graphOf(LLAMA, LLAMA_SETS).meta.params.reduce((a, p) => a + 4 * p.shape.reduce((x, y) => x * y, 1), 0);
    const inModel = fromBinary(ModelProtoSchema, readFileSync(external)).graph!.initializer.filter((t) => t.dataLocation !== TensorProto_DataLocation.EXTERNAL);
    expect(Math.max(...inModel.map((t) => t.rawData.length))).toBeLessThan(1024);
    expect(statSync(external).size).toBeLessThan(weights / 20);
    expect(statSync(`${external}.data`).size).toBeGreaterThan(weights + 2 * 512 * 32 * 4);
    const feeds = randomInputs(graphOf(LLAMA, LLAMA_SETS), { B: 2, T: 9 }, 5);
    const want = tfmcRun(LLAMA, LLAMA_SETS, writeTensors(join(OUT, "llama_external.inputs.safetensors"), feeds), [], "llama_external").get("logits")!;
    const [a, b] = [await ortRun(inline, feeds), await ortRun(external, feeds)];
    expect(maxAbsDiff(a.logits.data as Float32Array, b.logits.data as Float32Array)).toBe(0);
    expect(maxAbsDiff(b.logits.data as Float32Array, want.data as Float32Array)).toBeLessThanOrEqual(1e-4);
  });
});
