import { describe, expect, it } from "vitest";
import { isIncremental, planIncremental, constantNodes } from "../../src/ir/incremental.js";
import type { IrGraph } from "../../src/ir/graph.js";
import { interpret } from "../../src/ir/interpret.js";
import { optimize, PIPELINE } from "../../src/passes/pipeline.js";
import { randomWeights, seededRandom } from "../../src/runtime/random.js";
import { buildGraph } from "../../src/cli/pipeline.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

// Models written in primitives meet the same fused kernels as the built-in layers: the recognition
// passes rewrite their patterns into the ops `attention(...)` and `linear(...)` lower to.

const opsOf = (g: IrGraph) =>
  g
    .order()
    .map((id) => g.node(id))
    .filter((n) => n.op !== "input" && n.op !== "param")
    .map((n) => n.op)
    .sort();

/** A model (a path, or its text) optimised at -O2: what each pass noted. */
function notesOf(source: string) {
  if (!source.startsWith("model")) return optimize(graphOf(source), { level: 2, verify: true }).notes;
  const built = buildGraph(source, [], { level: 0 });
  return optimize(built.graph!, { level: 2, verify: true }).notes;
}

/** A value computed and never used. */
const DEAD_CODE = "model dead {\n  input x: f32[B, 4]\n  unused = exp(x)\n  output y = x * 2\n}\n";

describe("recognition passes", () => {
  it("nn.MultiheadAttention in primitives optimises to the graph attention(...) gives: the same fused attention node", () => {
    const written = graphOf("test/models/mha_primitives.tfm", "-O2");
    const builtIn = graphOf("examples/torch/multihead_attention.tfm", "-O2", "embed_dim=40", "num_heads=5");
    expect(opsOf(written)).toEqual(opsOf(builtIn));
    const attention = (g: IrGraph) => g.order().map((id) => g.node(id)).find((n) => n.op === "attention")!;
    expect(attention(written).attrs).toMatchObject({ roles: "block_keys", causal: false });
    expect(attention(written).attrs.scale).toBeCloseTo(attention(builtIn).attrs.scale as number, 12);
  });

  const FIRES: [string, string, RegExp][] = [
    ["eliminate-common-subexpressions", "test/models/primitives.tfm", /merged \d+ repeated computations/],
    ["eliminate-dead-code", DEAD_CODE, /removed \d+ unused nodes/],
    ["fuse-dense-epilogue", "examples/gpt.tfm", /bias add fused/],
    ["fuse-dense-epilogue", "examples/gpt.tfm", /gelu_tanh fused into the matrix product's epilogue|gelu fused/],
    ["fuse-qkv-projection", "examples/gpt.tfm", /projections of one input computed as one matrix product/],
    ["fuse-residual-layer-norm", "examples/torch/encoder_layer.tfm", /residual add fused into the layer norm/],
    ["fuse-masked-softmax", "examples/gpt.tfm", /scale and masks fused into the softmax/],
    ["recognize-slices", "test/models/mha_primitives.tfm", /slice_rows/],
    ["recognize-dense", "test/models/mha_primitives.tfm", /dense/],
    ["recognize-heads", "test/models/mha_primitives.tfm", /split_heads/],
    ["recognize-heads", "test/models/mha_primitives.tfm", /merge_heads/],
    ["recognize-heads", "test/models/causal_primitives.tfm", /at an offset/],
    ["recognize-masked-scores", "test/models/mha_primitives.tfm", /block_keys mask/],
    ["recognize-masked-scores", "test/models/causal_primitives.tfm", /causal/],
    ["fuse-attention", "test/models/causal_primitives.tfm", /attention fused/],
  ];

  it("every pass of the pipeline has a model it fires on below", () => {
    expect([...new Set(PIPELINE.map((p) => p.name))].filter((name) => !FIRES.some(([pass]) => pass === name))).toEqual([]);
  });

  it.each(FIRES)("%s fires on %s (%s)", (pass, path, message) => {
    const fired = notesOf(path).filter((n) => n.pass === pass && n.kind === "changed");
    expect(fired.map((n) => n.message).join("\n")).toMatch(message);
  });

  it("a causal mask built from arange becomes causal attention, and the model decodes through a session", async () => {
    const g = graphOf("test/models/causal_primitives.tfm", "-O2");
    const att = g.order().map((id) => g.node(id)).filter((n) => n.op === "attention");
    expect(att.map((n) => n.attrs.causal)).toEqual([true]);
    expect(opsOf(g)).not.toContain("arange");
    expect(isIncremental(planIncremental(g, constantNodes(g)))).toBe(true);
    const mod = await importGenerated(g);
    const model = mod.createModel(randomWeights(mod.spec.parameters, 3)) as unknown as {
      forward(i: Record<string, unknown>): Record<string, { data: Float32Array; shape: number[] }>;
      startSession(): { append(t: { data: Int32Array; shape: number[] }): Record<string, { data: Float32Array }> };
    };
    const r = seededRandom(4);
    const seq = Array.from({ length: 12 }, () => Math.floor(r() * 40));
    const session = model.startSession();
    let worst = 0;
    for (const [from, to] of [[0, 5], [5, 6], [6, 7], [7, 10], [10, 11], [11, 12]]) {
      const got = session.append({ data: Int32Array.from(seq.slice(from, to)), shape: [1, to - from] }).logits.data;
      const full = model.forward({ tokens: { data: Int32Array.from(seq.slice(0, to)), shape: [1, to] } }).logits.data;
      worst = Math.max(worst, maxAbsDiff(got, full.subarray(from * 40, to * 40)));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it("a mask the kernels cannot read directly is left to where and softmax, with the same numbers", async () => {
    // mask computed from the scores themselves: not an input, so not rewritten.
    const g0 = graphOf("test/models/primitives.tfm");
    const g2 = optimize(g0, { level: 2, verify: true }).graph;
    const mod = await importGenerated(g2);
    const weights = randomWeights(mod.spec.parameters, 5);
    const inputs = randomInputs(g0, { B: 2, T: 4 }, 6);
    const want = interpret(g0, new Map(Object.entries(weights)), inputs).y;
    expect(maxAbsDiff(mod.createModel(weights).forward(inputs).y.data, want.data)).toBeLessThan(5e-5);
  });

  it.each([
    ["a weight of a run-time size", "model m {\n  input x: f32[B, T, 8]\n  input w: f32[N, 8]\n  output c = x @ transpose(w)\n}\n", { B: 2, T: 3, N: 5 }],
    ["rows of a matrix with run-time columns", "model m {\n  input w: f32[4, K]\n  output j = w[1:3]\n}\n", { K: 3 }],
    ["a run of a vector of run-time length", "model m {\n  input x: f32[B, T, 8]\n  output y = sum(x, dim = [0, 2])[0]\n  output z = arange(T)[0:2]\n}\n", { B: 2, T: 3 }],
  ])("leaves %s to the general kernels: -O2 on both targets equals the interpreter", async (_what, text, dims) => {
    const g0 = buildGraph(text, [], { level: 0 }).graph!;
    const g2 = optimize(g0, { level: 2, verify: true }).graph;
    const inputs = randomInputs(g0, dims, 3);
    const want = interpret(g0, new Map(), inputs);
    for (const target of ["ts", "wasm"] as const) {
      const got = (await importGenerated(g2, { target })).createModel({}).forward(inputs);
      for (const o of g0.outputs) {
        expect(got[o.name].shape, `${target} ${o.name}`).toEqual([...want[o.name].shape]);
        expect(maxAbsDiff(got[o.name].data, want[o.name].data), `${target} ${o.name}`).toBeLessThan(1e-5);
      }
    }
  });
});

