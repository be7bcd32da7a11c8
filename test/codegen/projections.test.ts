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
    expect(shapes).toEqual({
      "input.proj.weight": [24, 40],
      "input.proj.bias": [40],
      "output.dense.weight": [40, 24],
      "output.dense.bias": [24],
      "model.norm.weight": [24],
      "model.norm.bias": [24],
      "mlp.linear1.weight": [24, 40],
      "mlp.linear1.bias": [40],
      "mlp.linear2.weight": [40, 24],
      "mlp.linear2.bias": [24],
    });
  });

  it("at -O2 runs the dense kernel on a weight transposed once, when the model is created", () => {
    const g = graphOf(MODEL, "-O2", "layout=conv1d");
    const constants = constantNodes(g);
    const dense = g.order().filter((id) => g.node(id).op === "dense");
    expect(dense.length).toBe(4);
    for (const id of dense) {
      const w = g.node(g.node(id).inputs[1]);
      expect(w.op).toBe("transpose");
      expect(g.node(w.inputs[0]).op).toBe("param");
      expect(constants.has(g.node(id).inputs[1])).toBe(true);
    }
    // The activation still fuses into the first product, the residual into the norm.
    expect(g.order().map((id) => g.node(id).op).filter((op) => op !== "param" && op !== "transpose" && op !== "input")).toEqual(["dense", "dense", "add_layer_norm", "dense", "dense"]);
    expect(dense.map((id) => g.node(id).attrs.act)).toEqual(["gelu", undefined, "gelu", undefined]);
    expect(dense.map((id) => g.node(id).inputs.length)).toEqual([3, 3, 3, 3]);
  });

  it.each(TARGETS)("gives what nn.Linear gives with the transposed weight, at %s (%s)", async (level, target) => {
    const conv = await importGenerated(graphOf(MODEL, level, "layout=conv1d"), { target });
    const lin = await importGenerated(graphOf(MODEL, level), { target });
    const weights = randomWeights(lin.spec.parameters, 5);
    const convWeights = Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, w.shape.length === 2 ? transposed(w) : w]));
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

describe("ffn(x, hidden, gated = true)", () => {
  it("at -O2 fuses the activation into the gate's product; the up product and the gate meet in one multiply", () => {
    const g = graphOf(MODEL, "-O2", "gated=true", "act=silu", "bias=false");
    const ops = g.order().map((id) => g.node(id));
    const mlp = ops.filter((n) => n.scope === "mlp" && n.op !== "param");
    expect(mlp.map((n) => `${n.op}${n.attrs.act ? `+${n.attrs.act}` : ""}`)).toEqual(["dense+silu", "dense", "mul", "dense"]);
  });

  it("takes the projections' names, and reports a wrong list where it is written", () => {
    const at = (args: string) => {
      const text = `model m {\n  input x: f32[B, T, 8]\n  output y = mlp: ffn(x, 16, ${args})\n}\n`;
      const r = checkSource(text);
      return r.diagnostics.errorCount ? r.diagnostics.sorted().map((d) => `${d.span.line}:${d.span.col} ${d.message}`) : r.model!.params.map((p) => `${p.name} [${p.shape.join(", ")}]`);
    };
    expect(at('gated = true, names = ["w1", "w3", "w2"]')).toEqual(["mlp.w1.weight [16, 8]", "mlp.w3.weight [16, 8]", "mlp.w2.weight [8, 16]"]);
    expect(at('act = gelu_tanh, layout = conv1d, names = ["c_fc", "c_proj"]')).toEqual(["mlp.c_fc.weight [8, 16]", "mlp.c_fc.bias [16]", "mlp.c_proj.weight [16, 8]", "mlp.c_proj.bias [8]"]);
    expect(at('gated = true, names = ["a", "b"]')).toEqual([
      '3:44 expected a list of 3 names for a gated ffn (gate, up, down), such as ["gate_proj", "up_proj", "down_proj"], got a list of 2',
    ]);
    expect(at('names = "fc"')).toEqual(['3:30 expected a list of 2 names for an ffn, such as ["linear1", "linear2"], got string "fc"']);
    expect(at('names = ["fc", "fc"]')).toEqual(["3:45 'names' must be distinct names, got 'fc' twice"]);
    expect(at('names = ["fc", 3]')).toEqual(["3:45 expected a name in quotes whose dot-separated parts are non-empty (such as \"self.query\"), got integer 3"]);
    expect(at('names = ["fc", ""]')).toEqual(["3:45 expected a name in quotes whose dot-separated parts are non-empty (such as \"self.query\"), got an empty string"]);
    // A name with an empty dotted part could never match a checkpoint's (PyTorch refuses empty module names).
    expect(at('names = ["fc.", "proj"]')).toEqual(["3:39 expected a name in quotes whose dot-separated parts are non-empty (such as \"self.query\"), got 'fc.', which has an empty part between dots"]);
    expect(at('names = ["fc", "a..b"]')).toEqual(["3:45 expected a name in quotes whose dot-separated parts are non-empty (such as \"self.query\"), got 'a..b', which has an empty part between dots"]);
    expect(at('names = [".fc", "proj"]')).toEqual(["3:39 expected a name in quotes whose dot-separated parts are non-empty (such as \"self.query\"), got '.fc', which has an empty part between dots"]);
    // PyTorch allows a space in a module name, so a name may have one.
    expect(at('names = ["fc", "c proj"]')).toEqual(["mlp.fc.weight [16, 8]", "mlp.fc.bias [16]", "mlp.c proj.weight [8, 16]", "mlp.c proj.bias [8]"]);
    // A bare word is an unknown name, reported once, where it is.
    expect(at('names = ["fc", proj]')).toEqual(["3:45 unknown name 'proj'"]);
  });
});

describe("projections agree with the float64 interpreter", () => {
  const cases = TARGETS.flatMap(([level, target]) =>
    [
      ["layout=linear", "bias=true"],
      ["layout=conv1d", "bias=true"],
      ["layout=linear", "bias=false"],
      ["layout=conv1d", "bias=false"],
      ["gated=true", "act=silu", "bias=false"],
      ["gated=true", "act=gelu", "bias=true", "layout=conv1d"],
    ].map((sets) => [level, target, sets] as const),
  );
  it.each(cases)("%s (%s) %j", async (level, target, sets) => {
    const g = graphOf(MODEL, level, ...sets);
    expect(verifyGraph(g)).toEqual([]);
    const mod = await importGenerated(g, { target });
    const weights = randomWeights(mod.spec.parameters, 7);
    const names = mod.spec.parameters.map((p) => p.name);
    const mlp = sets.includes("gated=true") ? ["gate_proj", "up_proj", "down_proj"] : ["linear1", "linear2"];
    const weightsOnly = ["input.proj.weight", "output.dense.weight", "model.norm.weight", ...mlp.map((m) => `mlp.${m}.weight`)];
    if (sets.includes("bias=false")) expect(names).toEqual(weightsOnly);
    else expect(names.filter((n) => n.endsWith(".bias")).length).toBe(weightsOnly.length);
    const model = mod.createModel(weights);
    for (const seed of [1, 2]) {
      const inputs = randomInputs(g, { B: 2, T: 3 + seed }, seed);
      const got = model.forward(inputs).y;
      const want = interpret(g, new Map(Object.entries(weights)), inputs).y;
      expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-4);
    }
  });
});
