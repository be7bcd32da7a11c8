import { describe, expect, it } from "vitest";
import { CheckpointError, TfmcRuntimeError, WeightsError } from "../../src/runtime/errors.js";
import { readSafetensors, writeSafetensors } from "../../src/runtime/safetensors.js";
import { readShardedSafetensors, shardFiles } from "../../src/runtime/sharded.js";
import { globToRegExp, loadWeights } from "../../src/runtime/weights.js";
import { thrown } from "../helpers.js";

const t = (shape: number[], fill = 0) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill), shape });
const PARAMS = [
  { name: "transformer.wte.weight", shape: [4, 2] },
  { name: "transformer.h.0.attn.w", shape: [2, 2] },
  { name: "transformer.h.1.attn.w", shape: [2, 2] },
];

describe("ignore globs", () => {
  it("* stays within one dot-separated part, ** crosses parts, everything else is literal", () => {
    const one = globToRegExp("h.*.attn.bias");
    expect(["h.0.attn.bias", "h.11.attn.bias", "h..attn.bias"].every((n) => one.test(n))).toBe(true);
    expect(["h.0.1.attn.bias", "h.0.attn.bias2", "xh.0.attn.bias", "h_0_attn_bias"].some((n) => one.test(n))).toBe(false);
    const any = globToRegExp("**.bias");
    expect(any.test("a.b.c.bias")).toBe(true);
    expect(any.test("bias")).toBe(false);
    expect(globToRegExp("a(b)+[c]$").test("a(b)+[c]$")).toBe(true);
    expect(globToRegExp("a(b)+[c]$").test("abbc")).toBe(false);
  });
});

describe("loadWeights options", () => {
  const file = { "wte.weight": t([4, 2], 1), "h.0.attn.w": t([2, 2], 2), "h.1.attn.w": t([2, 2], 3), "h.0.attn.bias": t([1, 1, 4, 4]), "h.1.attn.bias": t([1, 1, 4, 4]), "lm_head.weight": t([4, 2], 1) };

  it("adds a prefix and ignores entries by glob and by RegExp", () => {
    const w = loadWeights(PARAMS, file, { prefix: { add: "transformer." }, ignore: ["h.*.attn.bias", /^lm_head\./] });
    expect(Object.keys(w).sort()).toEqual(PARAMS.map((p) => p.name).sort());
    expect([...w["transformer.h.1.attn.w"]]).toEqual([3, 3, 3, 3]);
  });

  it("strips a prefix from the names that carry it, then adds one to every name", () => {
    const params = [{ name: "m.a", shape: [1] }, { name: "m.head", shape: [1] }];
    const w = loadWeights(params, { "transformer.a": t([1], 5), head: t([1], 6) }, { prefix: { strip: "transformer.", add: "m." } });
    expect([w["m.a"][0], w["m.head"][0]]).toEqual([5, 6]);
  });

  it("without options, reports every problem and the options that would help", () => {
    const e = thrown(() => loadWeights(PARAMS, file)) as WeightsError;
    expect(e).toBeInstanceOf(WeightsError);
    expect(e.problems).toHaveLength(3 + 6);
    expect(e.hints[0]).toBe(`3 missing parameters are in the file without the prefix 'transformer.': add it with prefix: { add: "transformer." } (--weights-prefix-add transformer.)`);
    expect(e.hints.slice(1)).toEqual([
      `if the file's 2 entries such as 'h.0.attn.bias' are not needed (a tied duplicate, a buffer), ignore them with ignore: ["h.*.attn.bias"] (--weights-ignore 'h.*.attn.bias')`,
      `if the file's 'lm_head.weight' is not needed (a tied duplicate, a buffer), ignore it with ignore: ["lm_head.weight"] (--weights-ignore 'lm_head.weight')`,
    ]);
    expect(e.message).toContain("  hint: 3 missing parameters");
  });

  it("suggests the file's own prefix when the prefix options given do not fit ('bert' for 'bert.')", () => {
    const params = [{ name: "a.w", shape: [1] }, { name: "b.w", shape: [1] }];
    const file2 = { "bert.a.w": t([1]), "bert.b.w": t([1]) };
    const e = thrown(() => loadWeights(params, file2, { prefix: { strip: "bert" } })) as WeightsError;
    expect(e.hints).toEqual([
      `2 unexpected names are parameters once the file's prefix 'bert.' is stripped: strip it with prefix: { strip: "bert." } in place of the prefix options given (--weights-prefix-strip bert.)`,
    ]);
    const added = thrown(() => loadWeights(params, file2, { prefix: { add: "x." } })) as WeightsError;
    expect(added.hints[0]).toMatch(/once the file's prefix 'bert\.' is stripped: .*\(--weights-prefix-strip bert\.\)$/);
  });

  it("suggests stripping when the file's names carry a prefix the model's do not", () => {
    const params = [{ name: "a.w", shape: [1] }, { name: "b.w", shape: [1] }];
    const e = thrown(() => loadWeights(params, { "transformer.a.w": t([1]), "transformer.b.w": t([1]) })) as WeightsError;
    expect(e.hints).toEqual([`2 unexpected names are parameters without the prefix 'transformer.': strip it with prefix: { strip: "transformer." } (--weights-prefix-strip transformer.)`]);
  });

  it("reports a pattern or a prefix that matches nothing, an ignored parameter and names that collide", () => {
    const params = [{ name: "a", shape: [1] }, { name: "b", shape: [1] }];
    const e = thrown(() => loadWeights(params, { a: t([1]), "x.a": t([1]), b: t([1]) }, { prefix: { strip: "x." }, ignore: ["b", "lm_head.weight", /nothing/] })) as WeightsError;
    expect(e.problems).toEqual([
      "the file's 'a' and 'x.a' both become 'a'",
      "the ignore pattern 'lm_head.weight' matches no entry of the file",
      "the ignore pattern '/nothing/' matches no entry of the file",
      "missing 'b' [1]: the file's 'b' is ignored by 'b'",
    ]);
    const none = thrown(() => loadWeights(params, { a: t([1]), b: t([1]) }, { prefix: { strip: "transformer." } })) as WeightsError;
    expect(none.problems).toEqual(["no name in the file starts with 'transformer.', the prefix to strip"]);
  });

  it("names the file's own name when a renamed entry has the wrong shape", () => {
    const e = thrown(() => loadWeights([{ name: "m.a", shape: [2] }], { a: t([3]) }, { prefix: { add: "m." } })) as WeightsError;
    expect(e.problems).toEqual(["'m.a' (the file's 'a') has shape [3]; expected [2]"]);
  });

  it.each([
    [{ prefixes: {} }, /unknown option 'prefixes' \(the options are prefix, ignore\)/],
    [{ prefix: "transformer." }, /prefix must be an object/],
    [{ prefix: { strip: "" } }, /prefix.strip must be a non-empty string/],
    [{ prefix: { remove: "a" } }, /unknown prefix option 'remove'/],
    [{ ignore: "lm_head.weight" }, /ignore must be an array/],
    [{ ignore: [""] }, /non-empty glob string or a RegExp/],
    [{ threads: 2 }, /unknown option 'threads'/],
    [7, /options must be an object/],
  ])("refuses the options %j", (options, message) => {
    const e = thrown(() => loadWeights(PARAMS, file, options));
    expect(e).toBeInstanceOf(TfmcRuntimeError);
    expect((e as TfmcRuntimeError).code).toBe("TFM5018");
    expect(e.message).toMatch(message);
  });

  it("takes the caller's own options when told to", () => {
    expect(() => loadWeights([{ name: "a", shape: [1] }], { a: t([1]) }, { threads: 2 }, ["threads"])).not.toThrow();
  });
});

describe("F16 and BF16 tensors load as float32", () => {
  const f16 = (bits: number[]) => {
    // A file written by hand: the F16 bit patterns as they are, little-endian.
    const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: "F16", shape: [bits.length], data_offsets: [0, bits.length * 2] } }).padEnd(64, " "));
    const out = new Uint8Array(8 + header.length + bits.length * 2);
    new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
    out.set(header, 8);
    bits.forEach((b, i) => new DataView(out.buffer).setUint16(8 + header.length + 2 * i, b, true));
    return out;
  };

  it("converts subnormals, infinities, signed zeros and NaN exactly", () => {
    const bits = [0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x7e00, 0x8001];
    const w = loadWeights([{ name: "w", shape: [bits.length] }], f16(bits))["w"];
    const want = [2 ** -24, 1023 * 2 ** -24, 2 ** -14, 1, 65504, Infinity, -Infinity, -0, NaN, -(2 ** -24)];
    want.forEach((v, i) => expect(Object.is(w[i], v), `F16 0x${bits[i].toString(16)} read as ${w[i]}, expected ${v}`).toBe(true));
  });

  it("every BF16 bit pattern is the upper half of its float32", () => {
    const all = new Float32Array(65536);
    const allBits = new Uint32Array(all.buffer);
    for (let b = 0; b < 65536; b++) allBits[b] = (b << 16) >>> 0;
    const bytes = writeSafetensors({ w: { dtype: "BF16", shape: [65536], data: all } });
    const w = loadWeights([{ name: "w", shape: [65536] }], bytes)["w"];
    const got = new Uint32Array(w.buffer, w.byteOffset, w.length);
    for (let b = 0; b < 65536; b++) {
      const nan = (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
      if (nan ? !Number.isNaN(w[b]) : got[b] !== (b << 16) >>> 0) expect.fail(`BF16 0x${b.toString(16)} read as 0x${got[b].toString(16)}`);
    }
  });
});

describe("sharded checkpoints", () => {
  const shardA = writeSafetensors({ a: { dtype: "F16", ...t([2], 1) }, b: t([1], 2) });
  const shardB = writeSafetensors({ c: { dtype: "BF16", ...t([3], 3) } });
  const index = (map: Record<string, unknown>) => JSON.stringify({ metadata: { total_size: 14 }, weight_map: map });
  const good = index({ a: "one.safetensors", b: "one.safetensors", c: "two.safetensors" });

  it("reads every shard as one map", () => {
    expect(shardFiles(good)).toEqual(["one.safetensors", "two.safetensors"]);
    const m = readShardedSafetensors(good, { "one.safetensors": shardA, "two.safetensors": shardB });
    expect([...m.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(m.get("a")!.dtype).toBe("F16");
    expect([...m.get("c")!.data]).toEqual([3, 3, 3]);
    const byFunction = readShardedSafetensors(new TextEncoder().encode(good), (f) => (f === "one.safetensors" ? shardA : shardB));
    expect(byFunction.size).toBe(3);
  });

  it("reports every disagreement between the index and the shards at once", () => {
    const e = thrown(() => readShardedSafetensors(index({ a: "one.safetensors", b: "two.safetensors", d: "one.safetensors", c: "three.safetensors" }), { "one.safetensors": shardA, "two.safetensors": shardB })) as CheckpointError;
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.code).toBe("TFM5019");
    expect(e.problems).toEqual([
      "the shard 'one.safetensors' holds 'b', which the index puts in 'two.safetensors'",
      "the shard 'three.safetensors' was not given",
      "the shard 'two.safetensors' holds 'c', which the index puts in 'three.safetensors'",
      "the index puts 'b' in 'two.safetensors', which does not hold it",
      "the index puts 'd' in 'one.safetensors', which does not hold it",
    ]);
    const unlisted = thrown(() => readShardedSafetensors(index({ a: "one.safetensors" }), { "one.safetensors": shardA })) as CheckpointError;
    expect(unlisted.problems).toEqual(["the shard 'one.safetensors' holds 'b', which the index does not list"]);
    const broken = thrown(() => readShardedSafetensors(good, { "one.safetensors": shardA.subarray(0, 9), "two.safetensors": shardB })) as CheckpointError;
    expect(broken.problems).toEqual([expect.stringMatching(/^the shard 'one.safetensors': safetensors: header length \d+ runs past the end/)]);
  });

  it.each([
    ["not JSON", "{", /the index is not valid JSON/],
    ["no weight_map", "{}", /no "weight_map" object/],
    ["an empty weight_map", index({}), /weight_map is empty/],
    ["a number for a file", index({ a: 3 }), /maps 'a' to 3, not a file name/],
    ["a path outside the folder", index({ a: "../x.safetensors" }), /maps 'a' to '..\/x.safetensors', which is not a file inside/],
    ["an absolute path", index({ a: "/etc/x" }), /not a file inside/],
    ["a duplicate key", `{"weight_map": {"a": "x", "a": "y"}}`, /not valid JSON: .*duplicate/i],
  ])("refuses an index with %s", (_what, text, message) => {
    const e = thrown(() => shardFiles(text));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toMatch(message);
  });

  it("keeps F16 widened exactly when read through readSafetensors too", () => {
    expect(readSafetensors(shardA).tensors.get("a")!.dtype).toBe("F16");
  });
});
