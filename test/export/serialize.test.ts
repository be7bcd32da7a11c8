import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { exportOnnx, exportOnnxParts } from "../../src/export/exportGraph.js";
import { randomWeightStream, type WeightStream } from "../../src/export/weights.js";
import { randomWeights } from "../../src/runtime/random.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";
import { graphOf, ortRun, OUT, setFlags, tfmc } from "./harness.js";

// A model with inline weights is written in parts, each weight's chunks as they are made: never
// one buffer of the model's size (GPT-2 small's export peaked at 1.8 GB of memory for a 498 MB file
// when the whole message was serialised at once; so, 85 MB).

const GPT = "examples/gpt.tfm";
const SETS = ["d=256", "heads=4", "layers=2", "ctx=16", "vocab=1000"];
const options = (weights: WeightStream) => ({ opset: 17, without: [], weights, file: GPT, producerVersion: "test" });

describe("tfmc export: inline weights written in parts", () => {
  it("reads no weight until the parts are taken, then one chunk at a time, never joining them", () => {
    const g = graphOf(GPT, SETS);
    let made = 0;
    let largest = 0;
    const counted: WeightStream = (function* () {
      for (const w of randomWeightStream(g.meta.params, 3))
        yield {
          ...w,
          chunks: (function* () {
            for (const c of w.chunks) {
              made++;
              largest = Math.max(largest, c.byteLength);
              yield c;
            }
          })(),
        };
    })();
    const { size, parts } = exportOnnxParts(g, options(counted));
    expect(made).toBe(0);
    const taken: Uint8Array[] = [];
    for (const p of parts) taken.push(p);
    expect(made).toBeGreaterThan(g.meta.params.length);
    // No part larger than a chunk of the weight stream or the graph without its weights.
    const weights = g.meta.params.reduce((a, p) => a + 4 * p.shape.reduce((x, y) => x * y, 1), 0);
    expect(Math.max(...taken.map((p) => p.length))).toBeLessThanOrEqual(Math.max(largest, size - weights));
    expect(taken.reduce((a, p) => a + p.length, 0)).toBe(size);
  });

  it("says the same model: every weight inline, with the values of tfmc run's random weights", () => {
    const g = graphOf(GPT, SETS);
    const bytes = exportOnnx(g, options(randomWeightStream(g.meta.params, 3)));
    const m = fromBinary(ModelProtoSchema, bytes);
    const want = randomWeights(g.meta.params, 3);
    const inits = new Map(m.graph!.initializer.map((t) => [t.name, t]));
    for (const p of g.meta.params) {
      const t = inits.get(p.name)!;
      expect(t.dims.map(Number)).toEqual([...p.shape]);
      const got = new Float32Array(t.rawData.slice().buffer);
      expect(maxAbsDiff(got, want[p.name].data)).toBe(0);
    }
    expect(m.graph!.node.length).toBeGreaterThan(0);
    expect(m.producerName).toBe("tfmc");
  });

  it("tfmc export writes those bytes, which onnxruntime runs", async () => {
    const path = join(OUT, "gpt_parts.onnx");
    expect((await tfmc("export", GPT, "-o", path, "--seed", "3", ...setFlags(SETS))).code).toBe(0);
    const g = graphOf(GPT, SETS);
    const bytes = exportOnnx(g, { ...options(randomWeightStream(g.meta.params, 3)), producerVersion: "0.1.0", int64Ids: true });
    expect(Buffer.compare(readFileSync(path), bytes)).toBe(0);
    const out = await ortRun(path, randomInputs(g, { B: 1, T: 5 }, 1));
    expect(out.logits.shape).toEqual([1, 5, 1000]);
  });
});
