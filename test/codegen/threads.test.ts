import { describe, expect, it } from "vitest";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

describe("createThreadedModel", () => {
  it.each([
    ["examples/torch/encoder_layer.tfm", ["d_model=32", "nhead=4", "dim_feedforward=48"], { B: 2, S: 9 }],
    ["examples/torch/transformer.tfm", ["d_model=16", "nhead=2", "num_encoder_layers=1", "num_decoder_layers=1", "dim_feedforward=24"], { B: 1, S: 6, T: 5 }],
    ["examples/gpt.tfm", ["d=32", "heads=4", "layers=2", "ctx=32", "vocab=40"], { B: 1, T: 11 }],
  ] as const)("gives the same numbers as createModel on 2 and 3 threads: %s", async (path, sets, dims) => {
    const g = graphOf(path, "-O2", ...sets);
    const mod = await importGenerated(g);
    const weights = randomWeights(mod.spec.parameters, 3);
    const single = mod.createModel(weights);
    for (const threads of [2, 3]) {
      const model = await mod.createThreadedModel(weights, { threads });
      try {
        for (const seed of [1, 2]) {
          const inputs = randomInputs(g, dims, seed);
          const want = single.forward(inputs);
          const got = await model.forward(inputs);
          for (const o of g.outputs) {
            expect(got[o.name].shape).toEqual(want[o.name].shape);
            // The same kernels on the same data: splitting rows or heads changes no sum's order.
            expect(maxAbsDiff(got[o.name].data, want[o.name].data)).toBe(0);
          }
        }
      } finally {
        await model.close();
      }
    }
  });
});
