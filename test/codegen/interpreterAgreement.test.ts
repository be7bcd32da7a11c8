import { describe, expect, it } from "vitest";
import { interpret } from "../../src/ir/interpret.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

// Every example, compiled with small configs, against the float64 interpreter on random weights
// and inputs. Outputs are LayerNorm-scale or logits of a few units; float32 storage between ops
// leaves differences of order 1e-6.
const CASES: [string, string[], Record<string, number>][] = [
  ["examples/gpt.tfm", ["d=32", "heads=4", "layers=2", "ctx=16", "vocab=50"], { B: 2, T: 7 }],
  ["examples/bert.tfm", ["d=32", "heads=4", "layers=2", "intermediate=64", "vocab=60", "max_positions=16"], { B: 2, T: 6 }],
  ["examples/translator.tfm", ["d_model=32", "heads=4", "layers=2", "d_ff=48", "vocab=40"], { B: 2, S: 5, T: 4 }],
  ["examples/torch/multihead_attention.tfm", ["embed_dim=40", "num_heads=5"], { B: 2, L: 3, S: 6 }],
  ["examples/torch/encoder_layer.tfm", ["d_model=40", "nhead=5", "dim_feedforward=24"], { B: 2, S: 5 }],
  ["examples/torch/encoder_layer.tfm", ["d_model=16", "nhead=2", "dim_feedforward=24", "activation=gelu", "norm_first=true"], { B: 3, S: 4 }],
  ["examples/torch/decoder_layer.tfm", ["d_model=24", "nhead=3", "dim_feedforward=32", "norm_first=true"], { B: 2, T: 4, S: 6 }],
  ["test/models/primitives.tfm", [], { B: 2, T: 5 }],
  ["examples/torch/transformer.tfm", ["d_model=16", "nhead=4", "num_encoder_layers=2", "num_decoder_layers=2", "dim_feedforward=32"], { B: 2, S: 5, T: 3 }],
];

describe("generated modules agree with the float64 interpreter", () => {
  const levels = CASES.flatMap(([path, sets, dims]) => [0, 2].map((level) => [path, level, sets, dims] as const));
  it.each(levels)("%s at -O%d %j", async (path, level, sets, dims) => {
    const g = graphOf(path, `-O${level}`, ...sets);
    expect(verifyGraph(g)).toEqual([]);
    const mod = await importGenerated(g);
    const weights = randomWeights(mod.spec.parameters, 7);
    const model = mod.createModel(weights);
    for (const [seed, omitOptional] of [[1, false], [2, true]] as const) {
      const inputs = randomInputs(g, dims, seed, { omitOptional });
      const got = model.forward(inputs);
      const want = interpret(g, new Map(Object.entries(weights)), inputs);
      for (const o of g.outputs) {
        expect(got[o.name].shape).toEqual([...want[o.name].shape]);
        expect(maxAbsDiff(got[o.name].data, want[o.name].data)).toBeLessThan(5e-5);
      }
    }
  });
});
