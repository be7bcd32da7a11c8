import { describe, expect, it } from "vitest";
import { constantNodes } from "../../src/ir/incremental.js";
import { interpret } from "../../src/ir/interpret.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { randomWeights } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { checkSource } from "../../src/semantics/check.js";
import { checkFile } from "../helpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

// Projections in both weight layouts and without biases (test/models/projections.tfm), compiled at
// -O0, -O2 and for the wasm target, against the float64 interpreter.

const MODEL = "test/models/projections.tfm";
const TARGETS = [
  ["-O0", "ts"],
  ["-O2", "ts"],
  ["-O2", "wasm"],
] as const;

/** [r, c] -> [c, r]. */
function transposed(t: Tensor<Float32Array>): Tensor<Float32Array> {
  const [r, c] = t.shape;
  const data = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = t.data[i * c + j];
  return { data, shape: [c, r] };
}

describe("linear(x, out, layout = conv1d)", () => {
  it("declares the weight [in, out] as GPT-2's Conv1D", () => {
    const r = checkFile(MODEL, "layout=conv1d");
    expect(r.diagnostics.errorCount).toBe(0);
    const shapes = Object.fromEntries(r.model!.params.map((p) => [p.name, p.shape]));
    expect(shapes).toEqual({ "input.proj.weight": [24, 40], "input.proj.bias": [40], "output.dense.weight": [40, 24], "output.dense.bias": [24], "model.norm.weight": [24], "model.norm.bias": [24] });
  });

  it("at -O2 runs the dense kernel on a weight transposed once, when the model is created", () => {
    const g = graphOf(MODEL, "-O2", "layout=conv1d");
    const constants = constantNodes(g);
    const dense = g.order().filter((id) => g.node(id).op === "dense");
    expect(dense.length).toBe(2);
    for (const id of dense) {
      const w = g.node(g.node(id).inputs[1]);
      expect(w.op).toBe("transpose");
      expect(g.node(w.inputs[0]).op).toBe("param");
      expect(constants.has(g.node(id).inputs[1])).toBe(true);
    }
    // The activation still fuses into the first product, the residual into the norm.
    expect(g.order().map((id) => g.node(id).op).filter((op) => op !== "param" && op !== "transpose" && op !== "input")).toEqual(["dense", "dense", "add_layer_norm"]);
    expect(g.node(dense[0]).attrs.act).toBe("gelu");
  });

  it.each(TARGETS)("gives what nn.Linear gives with the transposed weight, at %s (%s)", async (level, target) => {
    const conv = await importGenerated(graphOf(MODEL, level, "layout=conv1d"), { target });
    const lin = await importGenerated(graphOf(MODEL, level), { target });
    const weights = randomWeights(lin.spec.parameters, 5);
    const convWeights = { ...weights, "input.proj.weight": transposed(weights["input.proj.weight"]), "output.dense.weight": transposed(weights["output.dense.weight"]) };
    const inputs = randomInputs(graphOf(MODEL), { B: 2, T: 5 }, 1);
    const want = lin.createModel(weights).forward(inputs).y;
    const got = conv.createModel(convWeights).forward(inputs).y;
    expect(got.shape).toEqual(want.shape);
    expect(maxAbsDiff(got.data, want.data)).toBe(0);
  });

  it("is refused for a tied head, whose table is [num, dim], with the argument located", () => {
    const text = "model m {\n  input ids: i32[B, T]\n  h = wte: embedding(ids, 10, 8)\n  output y = linear(h, 10, tied = wte, layout = conv1d)\n}\n";
    const d = checkSource(text).diagnostics.sorted();
    expect(d.map((x) => `${x.span.line}:${x.span.col} ${x.message}`)).toEqual(["4:40 the layout of a tied head must be linear (the embedding's table is [num, dim])"]);
  });
});

describe("projections agree with the float64 interpreter", () => {
  const cases = TARGETS.flatMap(([level, target]) =>
    [["layout=linear", "bias=true"], ["layout=conv1d", "bias=true"], ["layout=linear", "bias=false"], ["layout=conv1d", "bias=false"]].map((sets) => [level, target, sets] as const),
  );
  it.each(cases)("%s (%s) %j", async (level, target, sets) => {
    const g = graphOf(MODEL, level, ...sets);
    expect(verifyGraph(g)).toEqual([]);
    const mod = await importGenerated(g, { target });
    const weights = randomWeights(mod.spec.parameters, 7);
    if (sets.includes("bias=false")) expect(mod.spec.parameters.map((p) => p.name)).toEqual(["input.proj.weight", "output.dense.weight", "model.norm.weight"]);
    const model = mod.createModel(weights);
    for (const seed of [1, 2]) {
      const inputs = randomInputs(g, { B: 2, T: 3 + seed }, seed);
      const got = model.forward(inputs).y;
      const want = interpret(g, new Map(Object.entries(weights)), inputs).y;
      expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-4);
    }
  });
});
