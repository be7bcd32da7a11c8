import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildGraph } from "../../src/cli/pipeline.js";
import { exportOnnx } from "../../src/export/exportGraph.js";
import { randomWeightStream } from "../../src/export/weights.js";
import { interpret } from "../../src/ir/interpret.js";
import { randomWeights } from "../../src/runtime/random.js";
import { modelSource, modelSpec } from "../differential/modelGenerator.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";
import { ortRun } from "./harness.js";

// Random models of the differential tests (test/differential/modelGenerator.ts: attention of
// every layout and kernel, masks, cross-attention, FFNs, norms, hand-written attention, primitives),
// exported with the seeded random weights of tfmc run and run on onnxruntime-node: the outputs
// equal the float64 interpreter's within 1e-4 of their scale.

const dimsArb = fc.record({ B: fc.integer({ min: 1, max: 2 }), T: fc.integer({ min: 1, max: 6 }), S: fc.integer({ min: 1, max: 6 }) });

const stats = { models: 0, worst: 0 };

describe("tfmc export: random models on onnxruntime-node against the float64 interpreter", () => {
  it("agree on 150 random models", async () => {
    await fc.assert(
      fc.asyncProperty(modelSpec, dimsArb, fc.nat(1000), async (spec, dims, seed) => {
        const text = modelSource(spec);
        const g = buildGraph(text, [], { level: 1 }).graph!;
        const inputs = randomInputs(g, dims, seed);
        const want = interpret(g, new Map(Object.entries(randomWeights(g.meta.params, seed))), inputs).out;
        const bytes = exportOnnx(g, { opset: 17, without: [], weights: randomWeightStream(g.meta.params, seed), file: "random.tfm", producerVersion: "test" });
        const got = (await ortRun(bytes, inputs)).out;
        const scale = Math.max(1, ...want.data.map(Math.abs));
        const err = maxAbsDiff(got.data as Float32Array, want.data) / scale;
        stats.models++;
        stats.worst = Math.max(stats.worst, err);
        expect(err, text).toBeLessThanOrEqual(1e-4);
      }),
      { seed: 1515, numRuns: 150 },
    );
    console.log(`export differential: ${stats.models} models on onnxruntime-node, worst error ${stats.worst.toExponential(2)} of the output's scale`);
    expect(stats.models).toBe(150);
  }, 300_000);
});
