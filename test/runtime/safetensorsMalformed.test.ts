import { describe, expect, it } from "vitest";
import { MAX_HEADER_SIZE, SafetensorsError, readSafetensors, type SafetensorsErrorCode } from "../../src/runtime/index.js";
import { entry, f32Bytes, file } from "./safetensorsFiles.js";

const A = entry("a", "F32", [2], 0, 8);
const EIGHT = f32Bytes(1, 2);

/** One F32 tensor "a" whose entry body (inside the braces) is given. */
const withA = (body: string, data: ArrayLike<number> = EIGHT) => file(`{"a":{${body}}}`, data);

const cases: [string, Uint8Array, SafetensorsErrorCode][] = [
  ["a file shorter than the 8-byte length", new Uint8Array(5), "truncated"],
  ["a header length larger than 100 MB", file("{}", [], BigInt(MAX_HEADER_SIZE) + 1n), "header-too-large"],
  ["a header length of 2^64 - 1", file("{}", [], 2n ** 64n - 1n), "header-too-large"],
  ["a header length beyond the end of the file", file("{}", [], 100n), "header-out-of-bounds"],
  ["a header that is not UTF-8", file("{}", []).map((b, i) => (i === 9 ? 0xff : b)), "header-not-utf8"],
  ["a header that is not JSON", file(`{${A}`, EIGHT), "invalid-json"],
  ["a header nested absurdly deep", file(`{"a":${"[".repeat(100_000)}`), "invalid-json"],
  ["a \\u escape that leaves a lone surrogate", file(`{"\\ud800":{}}`), "invalid-json"],
  ["a header that is JSON but not an object", file("[1,2,3]"), "header-not-object"],
  ["a header with whitespace before '{'", file(` {${A}}`, EIGHT), "header-start"],
  ["a header with a byte-order mark", file(`\ufeff{${A}}`, EIGHT), "header-start"],
  ["a tensor name given twice", file(`{${A},${entry("a", "F32", [0], 8, 8)}}`, EIGHT), "duplicate-name"],
  ["a tensor name given twice, once escaped", file(`{${entry("b", "F32", [0], 8, 8).replace('"b"', '"\\u0061"')},${A}}`, EIGHT), "duplicate-name"],
  ["a field given twice in one entry", withA(`"dtype":"F32","dtype":"I32","shape":[2],"data_offsets":[0,8]`), "duplicate-key"],
  ["an entry that is not an object", file(`{"a":[0,8]}`), "invalid-entry"],
  ["an entry without data_offsets", withA(`"dtype":"F32","shape":[2]`), "missing-field"],
  ["an entry with an unknown field", withA(`"dtype":"F32","shape":[2],"data_offsets":[0,8],"scale":1`), "unknown-field"],
  ["an unknown dtype", withA(`"dtype":"F33","shape":[2],"data_offsets":[0,8]`), "unknown-dtype"],
  ["a dtype that is not a string", withA(`"dtype":4,"shape":[2],"data_offsets":[0,8]`), "unknown-dtype"],
  ["an unsupported dtype (F64)", withA(`"dtype":"F64","shape":[1],"data_offsets":[0,8]`), "unsupported-dtype"],
  ["a negative dimension", withA(`"dtype":"F32","shape":[-2],"data_offsets":[0,8]`), "invalid-shape"],
  ["a fractional dimension", withA(`"dtype":"F32","shape":[1.5],"data_offsets":[0,8]`), "invalid-shape"],
  ["a dimension written 2.0", withA(`"dtype":"F32","shape":[2.0],"data_offsets":[0,8]`), "invalid-shape"],
  ["a dimension of 2^53", withA(`"dtype":"F32","shape":[9007199254740992],"data_offsets":[0,8]`), "invalid-shape"],
  ["a shape that is not an array", withA(`"dtype":"F32","shape":2,"data_offsets":[0,8]`), "invalid-shape"],
  ["a shape of 2^40 x 2^40", withA(`"dtype":"F32","shape":[${2 ** 40},${2 ** 40}],"data_offsets":[0,8]`), "shape-overflow"],
  ["a shape of 2^52 F32 elements (2^54 bytes)", withA(`"dtype":"F32","shape":[${2 ** 52}],"data_offsets":[0,8]`), "shape-overflow"],
  ["data_offsets with one number", withA(`"dtype":"F32","shape":[2],"data_offsets":[8]`), "invalid-offsets"],
  ["a negative offset", withA(`"dtype":"F32","shape":[2],"data_offsets":[-8,0]`), "invalid-offsets"],
  ["an offset given as a string", withA(`"dtype":"F32","shape":[2],"data_offsets":["0",8]`), "invalid-offsets"],
  ["begin after end", withA(`"dtype":"F32","shape":[2],"data_offsets":[8,0]`), "offsets-reversed"],
  ["a byte count that does not match the shape", withA(`"dtype":"F32","shape":[2],"data_offsets":[0,4]`, EIGHT.slice(0, 4)), "byte-length-mismatch"],
  ["an end offset past the buffer", withA(`"dtype":"F32","shape":[250],"data_offsets":[0,1000]`), "offset-out-of-bounds"],
  ["a 2^42-byte tensor in an 8-byte buffer", withA(`"dtype":"F32","shape":[${2 ** 40}],"data_offsets":[0,${2 ** 42}]`), "offset-out-of-bounds"],
  ["overlapping tensors", file(`{${A},${entry("b", "F32", [2], 4, 12)}}`, f32Bytes(1, 2, 3)), "offsets-overlap"],
  ["a tensor inside another", file(`{${A},${entry("b", "F32", [0], 4, 4)}}`, EIGHT), "offsets-overlap"],
  ["a hole between tensors", file(`{${entry("a", "F32", [1], 0, 4)},${entry("b", "F32", [1], 8, 12)}}`, f32Bytes(1, 2, 3)), "offsets-gap"],
  ["a first tensor not at offset 0", file(`{${entry("a", "F32", [1], 4, 8)}}`, EIGHT), "offsets-gap"],
  ["a trailing byte after the last tensor", file(`{${A}}`, [...EIGHT, 0]), "trailing-bytes"],
  ["bytes but no tensors", file(`{}`, [0]), "trailing-bytes"],
  ["__metadata__ that is not an object", file(`{"__metadata__":["pt"]}`), "metadata-not-object"],
  ["a __metadata__ value that is not a string", file(`{"__metadata__":{"epoch":3}}`), "metadata-value-not-string"],
  ["a BOOL byte of 2", file(`{${entry("m", "BOOL", [3], 0, 3)}}`, [0, 1, 2]), "invalid-bool"],
];

function refusal(bytes: Uint8Array): SafetensorsError {
  try {
    readSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) return e;
    throw e;
  }
  throw new Error("the file was accepted");
}

describe("malformed safetensors files", () => {
  it.each(cases)("refuses %s", (_, bytes, code) => {
    const e = refusal(bytes);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(/^safetensors: /);
  });

  it("gives every case its own message", () => {
    const messages = cases.map(([, bytes]) => refusal(bytes).message);
    expect(new Set(messages).size).toBe(messages.length);
  });

  it("refuses every huge declaration at once, allocating nothing", () => {
    const huge = cases.filter(([, , code]) => ["shape-overflow", "offset-out-of-bounds", "header-too-large"].includes(code));
    const start = performance.now();
    for (const [, bytes] of huge) refusal(bytes);
    expect(performance.now() - start).toBeLessThan(50);
  });

  it("names the offending tensor", () => {
    expect(refusal(file(`{"layer.3.w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`)).message).toContain('"layer.3.w"');
    expect(refusal(file(`{${A},${entry("b", "F32", [2], 4, 12)}}`, f32Bytes(1, 2, 3))).message).toMatch(/"b".*overlaps "a"/);
  });

  it("keeps huge strings out of messages", () => {
    const e = refusal(file(`{"a":{"dtype":"${"X".repeat(10_000)}","shape":[],"data_offsets":[0,0]}}`));
    expect(e.code).toBe("unknown-dtype");
    expect(e.message.length).toBeLessThan(200);
  });
});
