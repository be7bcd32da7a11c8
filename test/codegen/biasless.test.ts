import { describe, expect, it } from "vitest";
import { interpret } from "../../src/ir/interpret.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

// Projections and norms without biases (test/models/biasless.tfm): attention's proj_bias = false in
// each layout, layer_norm(bias = false), add_norm(bias = false), linear(bias = false), and the norms
// without weights, at -O0, -O2 and on the wasm target against the float64 interpreter.
// (ffn(bias = false) and linear(layout = conv1d, bias = false) are in projections.test.ts.)

const MODEL = "test/models/biasless.tfm";
const TARGETS = [
  ["-O0", "ts"],
  ["-O2", "ts"],
  ["-O2", "wasm"],
] as const;
const VARIANTS = [["layout=packed"], ["layout=separate"], ["layout=split"], ["layout=split", "affine=false"]];

describe("bias = false everywhere", () => {
  it("declares no bias at all", () => {
    const g = graphOf(MODEL, "layout=split");
    const params = g.meta.params.map((p) => p.name);
    expect(params).toEqual(["attn.q_proj.weight", "attn.k_proj.weight", "attn.v_proj.weight", "attn.out_proj.weight", "norm.weight", "post.weight", "proj.weight", "rms.weight"]);
    expect(graphOf(MODEL, "affine=false").meta.params.map((p) => p.name)).toEqual(["attn.in_proj_weight", "attn.out_proj.weight", "post.weight", "proj.weight"]);
  });

  const cases = TARGETS.flatMap(([level, target]) => VARIANTS.map((sets) => [level, target, sets] as const));
  it.each(cases)("%s (%s) %j agrees with the interpreter", async (level, target, sets) => {
    const g = graphOf(MODEL, level, ...sets);
    expect(verifyGraph(g)).toEqual([]);
    const mod = await importGenerated(g, { target });
    const weights = randomWeights(mod.spec.parameters, 11);
    const model = mod.createModel(weights);
    for (const [seed, T] of [[1, 5], [2, 9]]) {
      const inputs = randomInputs(g, { B: 2, T }, seed);
      const got = model.forward(inputs).y;
      const want = interpret(g, new Map(Object.entries(weights)), inputs).y;
      expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-4);
    }
  });
});
