import { beforeAll, describe, expect, it } from "vitest";
import { randomWeights } from "../../src/runtime/random.js";
import { writeSafetensors } from "../../src/runtime/safetensors.js";
// The generated module imports the built runtime, so its error classes come from dist/ too.
import { ShapeError, TfmcRuntimeError, WeightsError } from "../../dist/runtime/errors.js";
import { graphOf, importGenerated, type GeneratedModule } from "../compileHelpers.js";
import { thrown } from "../helpers.js";

let gpt: GeneratedModule;
let mha: GeneratedModule;

beforeAll(async () => {
  gpt = await importGenerated(graphOf("examples/gpt.tfm", "d=16", "heads=2", "layers=1", "ctx=8", "vocab=20"));
  mha = await importGenerated(graphOf("examples/torch/multihead_attention.tfm", "embed_dim=8", "num_heads=2"));
});

describe("createModel reports every weight problem at once", () => {
  it("missing, extra, mis-shaped and mis-typed weights in one error", () => {
    const w: Record<string, { data: Float32Array | Int32Array; shape: number[] }> = randomWeights(gpt.spec.parameters, 1);
    delete w["wpe.weight"];
    w["h.0.attn.in_proj_bias"] = { data: new Float32Array(3), shape: [3] };
    w["ln_f.weight"] = { data: new Int32Array(16), shape: [16] };
    w["lm_head.weight"] = { data: new Float32Array(4), shape: [4] };
    const e = thrown(() => gpt.createModel(w));
    expect(e).toBeInstanceOf(WeightsError);
    const problems = (e as WeightsError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toMatch(/missing 'wpe.weight' \[8, 16\]/);
    expect(problems.join("\n")).toMatch(/'h.0.attn.in_proj_bias' has shape \[3\]; expected \[48\]/);
    expect(problems.join("\n")).toMatch(/'ln_f.weight' has dtype Int32Array/);
    expect(problems.join("\n")).toMatch(/unexpected 'lm_head.weight'/);
    expect((e as WeightsError).code).toBe("TFM5007");
  });

  it("reads safetensors bytes, and refuses unreadable ones with a clear error", () => {
    const bytes = writeSafetensors(randomWeights(mha.spec.parameters, 2));
    expect(() => mha.createModel(bytes)).not.toThrow();
    const e = thrown(() => mha.createModel(bytes.subarray(0, 20)));
    expect(e).toBeInstanceOf(TfmcRuntimeError);
    expect(e.message).toMatch(/cannot be read/);
  });
});

describe("forward checks every input", () => {
  const x = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
  const model = () => mha.createModel(randomWeights(mha.spec.parameters, 3));
  const cases: [string, Record<string, unknown>, RegExp, string, number | undefined][] = [
    ["a missing input", { query: x([1, 2, 8]), key: x([1, 3, 8]) }, /input 'value' is missing/, "value", undefined],
    ["a wrong dtype", { query: { data: new Int32Array(16), shape: [1, 2, 8] }, key: x([1, 3, 8]), value: x([1, 3, 8]) }, /'query' has dtype i32 \(I32\), an Int32Array; expected f32 \(F32\): Float32Array/, "query", undefined],
    ["a wrong rank", { query: x([2, 8]), key: x([1, 3, 8]), value: x([1, 3, 8]) }, /'query' has rank 2; expected rank 3 \(\[B, L, 8\]\)/, "query", undefined],
    ["a wrong fixed dimension", { query: x([1, 2, 9]), key: x([1, 3, 8]), value: x([1, 3, 8]) }, /'query' dimension 2 is 9; expected 8/, "query", 2],
    ["a symbol bound twice", { query: x([1, 2, 8]), key: x([2, 3, 8]), value: x([1, 3, 8]) }, /'key' dimension 0 is 2, but 'B' was bound to 1 by input 'query'/, "key", 0],
    ["keys and values of different lengths", { query: x([1, 2, 8]), key: x([1, 3, 8]), value: x([1, 4, 8]) }, /'value' dimension 1 is 4, but 'S' was bound to 3/, "value", 1],
    ["a mask of the wrong shape", { query: x([1, 2, 8]), key: x([1, 3, 8]), value: x([1, 3, 8]), attn_mask: { data: new Uint8Array(6), shape: [3, 2] } }, /'attn_mask' dimension 0 is 3, but 'L' was bound to 2/, "attn_mask", 0],
    ["an unknown input", { query: x([1, 2, 8]), key: x([1, 3, 8]), value: x([1, 3, 8]), mask: x([1]) }, /unknown input 'mask'/, "mask", undefined],
    ["data shorter than the shape", { query: { data: new Float32Array(3), shape: [1, 2, 8] }, key: x([1, 3, 8]), value: x([1, 3, 8]) }, /'query' holds 3 values/, "query", undefined],
  ];
  it.each(cases)("%s throws a ShapeError naming the input", (_what, feeds, message, input, dim) => {
    const e = thrown(() => model().forward(feeds));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(message);
    expect((e as ShapeError).input).toBe(input);
    expect((e as ShapeError).dim).toBe(dim);
  });

  it("enforces 'where T <= ctx' and token ids in range, naming the input and the table", () => {
    const m = gpt.createModel(randomWeights(gpt.spec.parameters, 4));
    const long = thrown(() => m.forward({ tokens: { data: new Int32Array(9), shape: [1, 9] } }));
    expect(long.message).toMatch(/'T' is 9, above its limit of 8/);
    const bad = thrown(() => m.forward({ tokens: { data: Int32Array.from([1, 20]), shape: [1, 2] } }));
    expect(bad.message).toBe("token id 20 in input 'tokens' is outside the embedding table wte.weight of 20 rows");
    const ok = m.forward({ tokens: { data: BigInt64Array.from([1n, 19n]), shape: [1, 2] } });
    expect(ok.logits.shape).toEqual([1, 2, 20]);
  });
});

describe("hostile weights and ids get clear, printable, bounded errors", () => {
  it("weights as a DataView are read like the bytes they view", () => {
    const bytes = writeSafetensors(randomWeights(mha.spec.parameters, 2));
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes, 8);
    expect(() => mha.createModel(new DataView(padded.buffer, 8, bytes.length))).not.toThrow();
    const e = thrown(() => mha.createModel(new Float32Array(4) as never));
    expect(e).toBeInstanceOf(TfmcRuntimeError);
    expect(e.message).toMatch(/expected safetensors bytes \(a Uint8Array, ArrayBuffer or DataView\) or tensors by name .*; got a Float32Array/);
  });

  it("a Map with null entries and shapes of strings are problems, not TypeErrors", () => {
    const w = new Map<string, unknown>(Object.entries(randomWeights(mha.spec.parameters, 2)));
    const [first, second] = mha.spec.parameters;
    w.set(first.name, null);
    w.set(second.name, { data: new Float32Array(second.shape.reduce((a, b) => a * b, 1)), shape: second.shape.map(String) });
    const e = thrown(() => mha.createModel(w as never));
    expect(e).toBeInstanceOf(WeightsError);
    expect(e.message).toMatch(/^the weights do not fit the model \(2 problems\):/);
    expect(e.message).toContain(`'${first.name}' is null; expected a tensor { data: Float32Array, shape: [${first.shape.join(", ")}] }`);
    expect(e.message).toContain(`'${second.name}' has shape [${second.shape.map((d) => `"${d}"`).join(", ")}]; a shape is an array of non-negative integers`);
  });

  it("says '1 problem', escapes control characters in names, and lists 20 problems then how many more", () => {
    const w: Record<string, unknown> = randomWeights(mha.spec.parameters, 2);
    w["x\n\u001b[2K\rwrote /etc/passwd"] = { data: new Float32Array(1), shape: [1] };
    const one = thrown(() => mha.createModel(w as never));
    expect(one.message).toMatch(/\(1 problem\):\n  - unexpected 'x\\n\\u001b\[2K\\rwrote \/etc\/passwd': the model has no such parameter\n/);
    expect(one.message).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    for (let i = 0; i < 3000; i++) w[`extra.${i}`] = { data: new Float32Array(1), shape: [1] };
    const many = thrown(() => mha.createModel(w as never)) as WeightsError;
    expect(many.problems).toHaveLength(3001);
    const problems = many.message.split("\n").filter((l) => l.startsWith("  - "));
    expect(problems).toHaveLength(21);
    expect(problems[20]).toBe("  - and 2981 more");
    expect(many.message.split("\n").length).toBeLessThanOrEqual(1 + 21 + 21);
    expect(many.message).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it("a BigInt64 id of -2^63 is printed exactly", () => {
    const m = gpt.createModel(randomWeights(gpt.spec.parameters, 4));
    const e = thrown(() => m.forward({ tokens: { data: BigInt64Array.from([1n, -(2n ** 63n)]), shape: [1, 2] } }));
    expect(e.message).toBe("token id -9223372036854775808 in input 'tokens' is outside the embedding table wte.weight of 20 rows");
  });

  it("an unknown input's name is printed with its control characters escaped", () => {
    const e = thrown(() => mha.createModel(randomWeights(mha.spec.parameters, 3)).forward({ "q\u001b]0;owned\u0007": { data: new Float32Array(1), shape: [1] } }));
    expect(e.message).toMatch(/^unknown input 'q\\u001b\]0;owned\\u0007'/);
  });
});
