import { describe, expect, it } from "vitest";
import { buildGraph } from "../../src/cli/pipeline.js";
import { NO_SPAN } from "../../src/diagnostics/diagnostic.js";
import { interpret } from "../../src/ir/interpret.js";
import { OPS } from "../../src/ir/ops.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

// Rotary embeddings (both pairings, partial widths, other bases) and grouped-query attention,
// compiled at -O0, -O2 and for the wasm target, against the float64 interpreter.

const MODEL = "test/models/rotary_attention.tfm";

const CONFIGS: string[][] = [
  ["rdim=8"],
  ["rdim=8", "interleaved=true"],
  ["rdim=4", "theta=500"],
  ["rdim=6", "interleaved=true", "theta=100", "causal=false"],
  // Grouped-query and multi-query attention, with each projection layout.
  ["kv_heads=2"],
  ["kv_heads=1", "causal=false", "layout=split"],
  ["kv_heads=2", "layout=separate", "proj_bias=false"],
  ["kv_heads=2", "layout=conv1d", "interleaved=true"],
  ["kv_heads=1", "layout=conv1d", "causal=false", "proj_bias=false"],
  ["kv_heads=4", "layout=split", "proj_bias=false"],
];

describe("rotary embeddings and grouped-query attention agree with the float64 interpreter", () => {
  const cases = CONFIGS.flatMap((sets) => (["-O0", "-O2", "wasm"] as const).map((how) => [sets.join(" "), how] as const));
  it.each(cases)("%s %s", async (sets, how) => {
    const g = graphOf(MODEL, how === "-O0" ? "-O0" : "-O2", ...sets.split(" "));
    expect(verifyGraph(g)).toEqual([]);
    const mod = await importGenerated(g, how === "wasm" ? { target: "wasm" } : {});
    const weights = randomWeights(mod.spec.parameters, 3);
    const model = mod.createModel(weights);
    for (const [seed, omitOptional] of [[1, false], [2, true]] as const) {
      const inputs = randomInputs(g, { B: 2, T: 7 }, seed, { omitOptional });
      const got = model.forward(inputs);
      const want = interpret(g, new Map(Object.entries(weights)), inputs);
      for (const o of g.outputs) expect(maxAbsDiff(got[o.name].data, want[o.name].data), o.name).toBeLessThan(5e-5);
    }
  });
});

describe("rope's float64 reference", () => {
  const node = (dim: number, interleaved: boolean) => ({ op: "rope", inputs: [], shape: [], dtype: "f32", attrs: { theta: 100, dim, interleaved }, span: NO_SPAN, scope: "" }) as const;
  // One (batch, head), positions 0 and 1, features 0..5 (the last two pass through when dim = 4); theta 100 gives
  // the frequencies 1 and 1/10.
  const x = Float64Array.from({ length: 12 }, (_, i) => 1 + i);
  const turn = (a: number, b: number, angle: number) => [a * Math.cos(angle) - b * Math.sin(angle), b * Math.cos(angle) + a * Math.sin(angle)];

  it("rotate-half pairs feature i with i + dim/2 (Llama, GPT-NeoX)", () => {
    const out = OPS.rope.interpret(node(4, false) as never, [{ data: x, shape: [1, 1, 2, 6] }], [1, 1, 2, 6]).data;
    expect([...out.subarray(0, 6)]).toEqual([...x.subarray(0, 6)]);
    const row = x.subarray(6);
    const [a0, b0] = turn(row[0], row[2], 1);
    const [a1, b1] = turn(row[1], row[3], 1 / 10);
    [a0, a1, b0, b1, row[4], row[5]].forEach((v, i) => expect(out[6 + i]).toBeCloseTo(v, 12));
  });

  it("interleaved pairs features 2i and 2i + 1 (GPT-J)", () => {
    const out = OPS.rope.interpret(node(4, true) as never, [{ data: x, shape: [1, 1, 2, 6] }], [1, 1, 2, 6]).data;
    const row = x.subarray(6);
    const [a0, b0] = turn(row[0], row[1], 1);
    const [a1, b1] = turn(row[2], row[3], 1 / 10);
    [a0, b0, a1, b1, row[4], row[5]].forEach((v, i) => expect(out[6 + i]).toBeCloseTo(v, 12));
  });
});

describe("rotary arguments are checked where they are written", () => {
  const errorsOf = (line: string) => {
    const text = `model m {\n  input x: f32[B, T, 16]\n  ${line}\n}\n`;
    return buildGraph(text, [], { level: 0 }).diagnostics.items.map((d) => `${d.span.line}:${d.span.col} ${d.message}`);
  };
  it.each([
    ["output y = attention(x, 2, rotary = rope(dim = 5))", /3:\d+ .*rotated width 'dim' must be even, at least 2 and at most the head width 8, got 5/],
    ["output y = attention(x, 2, rotary = rope(dim = 10))", /at most the head width 8, got 10$/],
    // An odd head width cannot be rotated whole: the message says the width came from the default.
    ["output y = attention(x[:, :, :15], 3, rotary = rope())", /at most the head width 5, got 5 \(by default the whole head: give dim = an even width\)/],
    ["output y = rope(reshape(x, [B, T, 2, 8])[:, :, :, :7])", /at most the head width 7, got 7 \(by default the whole head/],
    ["output y = attention(x, 2, rotary = rope(theta = 0))", /'theta' must be positive, got 0/],
    ["output y = attention(x, 2, rotary = 3)", /expected rope\(theta = \.\.\., dim = \.\.\., interleaved = \.\.\.\) for 'rotary'/],
    ["output y = attention(x, 2, rotary = rope(base = 3))", /unknown argument 'base'/],
    ["output y = rope(x)", /rank|dimensions/],
    ["output y = rope(reshape(x, [B, T, 2, 8]), dim = 3)", /even, at least 2 and at most the head width 8, got 3/],
  ])("%s", (line, want) => {
    const errs = errorsOf(line);
    expect(errs.join("\n")).toMatch(want);
  });
});

describe("grouped-query attention on threads", () => {
  it.each([["ts"], ["wasm"]] as const)("gives the numbers of createModel on 2 threads, with and without a mask (%s)", async (target) => {
    const g = graphOf(MODEL, "-O2", "kv_heads=2", "layout=conv1d");
    const mod = await importGenerated(g, { target });
    const weights = randomWeights(mod.spec.parameters, 4);
    const single = mod.createModel(weights);
    const model = await mod.createThreadedModel(weights, { threads: 2 });
    try {
      for (const [seed, omitOptional] of [[1, false], [2, true]] as const) {
        const inputs = randomInputs(g, { B: 2, T: 9 }, seed, { omitOptional });
        const [want, got] = [single.forward(inputs), await model.forward(inputs)];
        for (const o of g.outputs) expect(maxAbsDiff(got[o.name].data, want[o.name].data), o.name).toBe(0);
      }
    } finally {
      await model.close();
    }
  });
});

describe("kv_heads, names and layouts are checked where they are written", () => {
  const errorsOf = (line: string) => {
    const text = `model m {\n  input x: f32[B, T, 16]\n  input m: f32[B, T, 12]\n  ${line}\n}\n`;
    return buildGraph(text, [], { level: 0 }).diagnostics.items.map((d) => `${d.span.line}:${d.span.col} ${d.message}`);
  };
  it.each([
    ["output y = attention(x, 4, kv_heads = 3)", /4:30 kv_heads must be a divisor of heads = 4 .*got 3/],
    ["output y = attention(x, 4, kv_heads = 0)", /4:30 .*key\/value heads/],
    ["output y = attention(x, 4, kv_heads = 2, kernel = linear)", /4:30 attention kernel 'linear' cannot honour grouped keys and values \(kv_heads = 2 of 4 heads; only kernel = softmax\)/],
    ["output y = attention(x, 4, layout = split, names = [\"q\", \"k\", \"v\"])", /4:46 expected a list of 4 names for layout = split, such as \["q_proj", "k_proj", "v_proj", "out_proj"\], got a list of 3/],
    ["output y = attention(x, 4, layout = conv1d, names = \"c_attn\")", /expected a list of 2 names for layout = conv1d, such as \["c_attn", "c_proj"\]/],
    ["output y = attention(x, 4, names = [\"a\", \"b\", \"c\", \"d\"])", /'names' must be given with layout = split or conv1d/],
    ["output y = attention(x, 4, memory = m, layout = conv1d)", /the conv1d layout needs equal widths; use layout = separate/],
    // A wrong entry is reported where it is, as ffn's are, and names that could never match a checkpoint's are refused.
    ["output y = attention(x, 4, layout = split, names = [\"\", \"k\", \"v\", \"o\"])", /^4:55 expected a name in quotes whose .*, got an empty string$/],
    ["output y = attention(x, 4, layout = split, names = [\"q\", \"k\", \"v\", 4])", /^4:70 expected a name in quotes whose .*, got integer 4$/],
    ["output y = attention(x, 4, layout = conv1d, names = [\"c_attn\", \"c_proj.\"])", /^4:66 expected a name in quotes .*, got 'c_proj\.', which has an empty part between dots$/],
    ["output y = attention(x, 4, layout = split, names = [\"self..query\", \"k\", \"v\", \"o\"])", /^4:55 .*got 'self\.\.query', which has an empty part between dots$/],
  ])("%s", (line, want) => {
    expect(errorsOf(line).join("\n")).toMatch(want);
  });

  it("names the parameters as checkpoints do: Llama's o_proj, BERT's self.query, GPT-2's Conv1D [in, out]", () => {
    const params = (line: string) => {
      const built = buildGraph(`model m {\n  input x: f32[B, T, 16]\n  ${line}\n}\n`, [], { level: 0 });
      expect(built.diagnostics.items).toEqual([]);
      return built.graph!.meta.params.map((p) => `${p.name} [${p.shape.join(", ")}]`);
    };
    expect(params(`output y = a: attention(x, 4, kv_heads = 2, layout = split, names = ["q_proj", "k_proj", "v_proj", "o_proj"], proj_bias = false)`)).toEqual([
      "a.q_proj.weight [16, 16]",
      "a.k_proj.weight [8, 16]",
      "a.v_proj.weight [8, 16]",
      "a.o_proj.weight [16, 16]",
    ]);
    expect(params(`output y = attention: attention(x, 4, layout = split, names = ["self.query", "self.key", "self.value", "output.dense"])`)).toEqual([
      "attention.self.query.weight [16, 16]",
      "attention.self.query.bias [16]",
      "attention.self.key.weight [16, 16]",
      "attention.self.key.bias [16]",
      "attention.self.value.weight [16, 16]",
      "attention.self.value.bias [16]",
      "attention.output.dense.weight [16, 16]",
      "attention.output.dense.bias [16]",
    ]);
    expect(params(`output y = attn: attention(x, 4, layout = conv1d)`)).toEqual(["attn.c_attn.weight [16, 48]", "attn.c_attn.bias [48]", "attn.c_proj.weight [16, 16]", "attn.c_proj.bias [16]"]);
    expect(params(`output y = attn: attention(x, 4, kv_heads = 1, layout = conv1d)`)).toEqual(["attn.c_attn.weight [16, 24]", "attn.c_attn.bias [24]", "attn.c_proj.weight [16, 16]", "attn.c_proj.bias [16]"]);
    expect(params(`output y = attn: attention(x, 4, kv_heads = 2)`)).toEqual(["attn.in_proj_weight [32, 16]", "attn.in_proj_bias [32]", "attn.out_proj.weight [16, 16]", "attn.out_proj.bias [16]"]);
  });
});
