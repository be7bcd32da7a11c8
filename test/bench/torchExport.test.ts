import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a JavaScript module of the bench, without types
import { torchEncoderOnnx, torchEncoderPath } from "../../bench/engines/torchOnnx.mjs";
import { buildGraph } from "../../src/cli/pipeline.js";
import { randomWeights, seededRandom } from "../../src/runtime/random.js";
import { OUT, ortRun, ortWeb, tfmcRun, writeTensors } from "../export/harness.js";
import { maxAbsDiff } from "../randomInputs.js";
import { overrides, ROOT } from "../helpers.js";

// The bench's torch→onnx rows run PyTorch's own export of bench/models/encoder.tfm's layer
// (bench/models/torch-onnx/, data stripped), its initializers filled by name from the seeded
// weights every engine uses. Filled so, on onnxruntime-node (and -web), it gives `tfmc run`'s output on the
// same weights: the graph is the same layer and every weight lands where its name says.

const TFM = "bench/models/encoder.tfm";

function params(layers: number) {
  const built = buildGraph(readFileSync(join(ROOT, TFM), "utf8"), overrides(`layers=${layers}`), { level: 1 });
  return built.model!.params.map((p) => ({ name: p.name, shape: [...p.shape] }));
}

describe("PyTorch's export of the bench encoder", () => {
  for (const layers of [1, 6]) {
    it(`encoder-L${layers}.onnx: initializers are the .tfm's parameters, data stripped; refilled, it equals tfmc run`, { timeout: 120_000 }, async () => {
      const specs = params(layers);
      const committed = fromBinary(ModelProtoSchema, readFileSync(torchEncoderPath(layers))).graph!;
      const inits = committed.initializer.map((i) => ({ name: i.name, shape: i.dims.map(Number) }));
      expect(inits.sort((a, b) => a.name.localeCompare(b.name))).toEqual([...specs].sort((a, b) => a.name.localeCompare(b.name)));
      expect(committed.initializer.every((i) => i.rawData.length === 0 && i.floatData.length === 0)).toBe(true);
      // The plain math path, standard ops only (no fused encoder-layer or attention kernel).
      expect(committed.node.filter((n) => n.domain !== "" || /attention|transformer|ATen/i.test(n.opType))).toEqual([]);

      const weights = randomWeights(specs, 1);
      const bytes = torchEncoderOnnx(Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, t.data])), { d: 512, heads: 8, ff: 2048, layers });
      const rand = seededRandom(2);
      const shape = [2, 7, 512];
      const src = { data: Float32Array.from({ length: 2 * 7 * 512 }, () => 2 * rand() - 1), shape };
      const got = (await ortRun(bytes, { src })).out;
      const name = `torch-encoder-L${layers}`;
      const want = tfmcRun(TFM, [`layers=${layers}`], writeTensors(join(OUT, `${name}.inputs.safetensors`), { src }), ["--weights", writeTensors(join(OUT, `${name}.weights.safetensors`), weights)], name).get("out")!;
      expect(got.shape).toEqual(shape);
      expect(maxAbsDiff(got.data as Float32Array, want.data as Float32Array)).toBeLessThanOrEqual(1e-4);
      // The torch→onnx-web rows run the same bytes on onnxruntime-web's wasm backend.
      if (layers === 1) expect(maxAbsDiff((await ortRun(bytes, { src }, await ortWeb())).out.data as Float32Array, want.data as Float32Array)).toBeLessThanOrEqual(1e-4);
    });
  }

  it("refuses weights of another size, naming the initializer", () => {
    const specs = params(1).map((p) => (p.name === "layers.0.linear1.bias" ? { ...p, shape: [7] } : p));
    const weights = Object.fromEntries(Object.entries(randomWeights(specs, 1)).map(([k, t]) => [k, t.data]));
    expect(() => torchEncoderOnnx(weights, { d: 512, heads: 8, ff: 2048, layers: 1 })).toThrow(/initializer layers\.0\.linear1\.bias \[2048\] does not take 7 float values/);
    expect(() => torchEncoderOnnx(weights, { d: 64, heads: 4, ff: 128, layers: 1 })).toThrow(/export is of d_model 512/);
  });
});
