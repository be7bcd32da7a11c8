import { describe, expect, it } from "vitest";
import {
  SafetensorsError,
  readSafetensors,
  readSafetensorsHeader,
  toBigInt64,
  toFloat32,
  toInt32,
  writeSafetensors,
  type SafeDType,
  type TensorInput,
} from "../../src/runtime/index.js";
import { ascii, bytesOf, entry, f32Bytes, file } from "./safetensorsFiles.js";

const roundTrip = (tensors: Record<string, TensorInput>, metadata?: Record<string, string>) =>
  readSafetensors(writeSafetensors(tensors, metadata));

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof SafetensorsError) return e.code;
    throw e;
  }
  throw new Error("expected a SafetensorsError");
};

describe("safetensors round trips", () => {
  const cases: [SafeDType, TensorInput][] = [
    ["F32", { dtype: "F32", shape: [2, 3], data: new Float32Array([0, -0, 1.5, -3.25e-30, Infinity, 3.4028234663852886e38]) }],
    ["F16", { dtype: "F16", shape: [4], data: new Float32Array([1, -2, 65504, 2 ** -24]) }],
    ["BF16", { dtype: "BF16", shape: [2, 2], data: new Float32Array([1, -2, 3.3895313892515355e38, -Infinity]) }],
    ["I64", { dtype: "I64", shape: [3], data: new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]) }],
    ["I32", { dtype: "I32", shape: [1, 3], data: new Int32Array([-(2 ** 31), 7, 2 ** 31 - 1]) }],
    ["U8", { dtype: "U8", shape: [3], data: new Uint8Array([0, 128, 255]) }],
    ["BOOL", { dtype: "BOOL", shape: [2, 1], data: new Uint8Array([1, 0]) }],
  ];

  it.each(cases)("%s keeps dtype, shape and values", (dtype, t) => {
    const back = roundTrip({ t }).tensors.get("t")!;
    expect(back.dtype).toBe(dtype);
    expect(back.shape).toEqual(t.shape);
    expect(back.data.constructor).toBe(t.data.constructor);
    expect(bytesOf(back.data)).toEqual(bytesOf(t.data));
  });

  it.each(cases)("%s works for empty tensors and scalars", (dtype, t) => {
    const one = t.data.slice(0, 1);
    const back = roundTrip({
      empty: { dtype, shape: [0], data: t.data.slice(0, 0) },
      hollow: { dtype, shape: [2, 0, 3], data: t.data.slice(0, 0) },
      scalar: { dtype, shape: [], data: one },
    }).tensors;
    expect(back.get("empty")).toMatchObject({ dtype, shape: [0] });
    expect(back.get("hollow")).toMatchObject({ dtype, shape: [2, 0, 3] });
    expect(back.get("empty")!.data.length + back.get("hollow")!.data.length).toBe(0);
    expect(back.get("scalar")).toMatchObject({ dtype, shape: [] });
    expect(bytesOf(back.get("scalar")!.data)).toEqual(bytesOf(one));
  });

  it("keeps metadata, unusual names and an empty file", () => {
    const names = ["", "__proto__", "constructor", 'a"b\\c\n', "é", "😀", "\uffff"];
    const tensors = Object.fromEntries(names.map((n, i) => [n, { shape: [1], data: new Int32Array([i]) }]));
    const metadata: Record<string, string> = { format: "pt", ключ: "значение" };
    Object.defineProperty(metadata, "__proto__", { value: "x", enumerable: true });
    const back = roundTrip(tensors, metadata);
    expect([...back.tensors.keys()].sort()).toEqual([...names].sort());
    names.forEach((n, i) => expect(back.tensors.get(n)!.data).toEqual(new Int32Array([i])));
    expect(Object.entries(back.metadata).sort()).toEqual(Object.entries(metadata).sort());
    expect(roundTrip({})).toEqual({ tensors: new Map(), metadata: {} });
  });

  it("defaults the dtype from the array type, Uint8Array meaning BOOL as in tensor.ts", () => {
    const back = roundTrip({
      f: { shape: [1], data: new Float32Array([1]) },
      i: { shape: [1], data: new Int32Array([1]) },
      l: { shape: [1], data: new BigInt64Array([1n]) },
      b: { shape: [1], data: new Uint8Array([1]) },
    }).tensors;
    expect(["f", "i", "l", "b"].map((n) => back.get(n)!.dtype)).toEqual(["F32", "I32", "I64", "BOOL"]);
  });

  it("reads from an ArrayBuffer, a misaligned view and an unpadded header", () => {
    const bytes = writeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
    expect(readSafetensors(bytes.slice().buffer).tensors.get("w")!.data).toEqual(new Float32Array([1, 2]));
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(readSafetensors(shifted.subarray(3)).tensors.get("w")!.data).toEqual(new Float32Array([1, 2]));
    // A 59-byte header puts the data at file offset 67, misaligned for every multi-byte dtype.
    const odd = file(`{${entry("w", "F32", [2], 0, 8)}, ${entry("i", "I64", [1], 8, 16)}}`, [...f32Bytes(1, 2), 9, 0, 0, 0, 0, 0, 0, 0]);
    expect(readSafetensorsHeader(odd).dataStart % 4).not.toBe(0);
    const back = readSafetensors(odd).tensors;
    expect(back.get("w")!.data).toEqual(new Float32Array([1, 2]));
    expect(back.get("i")!.data).toEqual(new BigInt64Array([9n]));
  });

  it("copies the data, so the result does not alias the input (also for a Node Buffer)", () => {
    const bytes = Buffer.from(writeSafetensors({ w: { shape: [1], data: new Float32Array([1]) }, b: { dtype: "U8", shape: [1], data: new Uint8Array([5]) } }));
    const back = readSafetensors(bytes).tensors;
    bytes.fill(0);
    expect(back.get("w")!.data).toEqual(new Float32Array([1]));
    expect(back.get("b")!.data).toEqual(new Uint8Array([5]));
  });

  it("accepts entries in any order in the header, with whitespace and empty tensors anywhere", () => {
    const header = `{ ${entry("b", "F32", [1], 4, 8)} , "__metadata__" : { } , ${entry("e", "U8", [0], 4, 4)}, ${entry("a", "F32", [1], 0, 4)} }`;
    const back = readSafetensors(file(header, f32Bytes(1, 2)));
    expect([...back.tensors.keys()]).toEqual(["a", "e", "b"]);
    expect(back.tensors.get("b")!.data).toEqual(new Float32Array([2]));
    expect(readSafetensorsHeader(file(header, f32Bytes(1, 2))).entries.map((e) => [e.name, e.begin, e.end])).toEqual([
      ["a", 0, 4],
      ["e", 4, 4],
      ["b", 4, 8],
    ]);
  });
});

describe("F16 and BF16", () => {
  const f16 = (bits: number) => readSafetensors(file(`{${entry("h", "F16", [1], 0, 2)}}`, [bits & 0xff, bits >> 8])).tensors.get("h")!.data[0];
  const bf16 = (bits: number) => readSafetensors(file(`{${entry("h", "BF16", [1], 0, 2)}}`, [bits & 0xff, bits >> 8])).tensors.get("h")!.data[0];
  const written = (dtype: "F16" | "BF16", x: number) => {
    const bytes = writeSafetensors({ h: { dtype, shape: [], data: new Float32Array([x]) } });
    return bytes[bytes.length - 2] | (bytes[bytes.length - 1] << 8);
  };

  it.each([
    ["0x3c00", 1],
    ["0xc000", -2],
    ["0x7c00", Infinity],
    ["0xfc00", -Infinity],
    ["0x0001", 2 ** -24],
    ["0x03ff", 1023 * 2 ** -24],
    ["0x0400", 2 ** -14],
    ["0x7bff", 65504],
    ["0x3555", 0.333251953125],
    ["0x8000", -0],
  ])("F16 %s reads as %s", (bits, value) => expect(Object.is(f16(Number(bits)), value)).toBe(true));

  it("F16 NaNs stay NaN", () => {
    for (const bits of [0x7e00, 0x7c01, 0xffff]) expect(f16(bits)).toBeNaN();
  });

  it.each([
    ["0x3f80", 1],
    ["0xc000", -2],
    ["0x7f80", Infinity],
    ["0x0001", 2 ** -133],
    ["0x7f7f", 3.3895313892515355e38],
  ])("BF16 %s reads as %s", (bits, value) => expect(bf16(Number(bits))).toBe(value));

  it("writes F16 rounding to nearest, ties to even", () => {
    expect(written("F16", 1)).toBe(0x3c00);
    expect(written("F16", 1 + 2 ** -11)).toBe(0x3c00);
    expect(written("F16", 1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(written("F16", 65519)).toBe(0x7bff);
    expect(written("F16", 65520)).toBe(0x7c00);
    expect(written("F16", 2 ** -25)).toBe(0x0000);
    expect(written("F16", 1.5 * 2 ** -25)).toBe(0x0001);
    expect(written("F16", 3 * 2 ** -25)).toBe(0x0002);
    expect(written("F16", -(2 ** -14) + 2 ** -26)).toBe(0x8400);
    expect(written("F16", NaN) & 0x7e00).toBe(0x7e00);
  });

  it("writes BF16 rounding to nearest, ties to even", () => {
    expect(written("BF16", 1 + 2 ** -8)).toBe(0x3f80);
    expect(written("BF16", 1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(written("BF16", 3.4028234663852886e38)).toBe(0x7f80);
    expect(written("BF16", NaN) & 0x7fc0).toBe(0x7fc0);
  });

  it("every F16 bit pattern widens exactly and narrows back to itself", () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    const h = file(`{${entry("h", "F16", [65536], 0, 131072)}}`, bytesOf(bits));
    const wide = readSafetensors(h).tensors.get("h")!.data as Float32Array;
    for (let i = 0; i < 65536; i++) {
      const exp = (i >> 10) & 0x1f;
      const mant = i & 0x3ff;
      const sign = i & 0x8000 ? -1 : 1;
      const want = exp === 31 ? (mant ? NaN : sign * Infinity) : sign * (exp ? (1 + mant / 1024) * 2 ** (exp - 15) : mant * 2 ** -24);
      if (!Object.is(wide[i], want)) expect.fail(`F16 0x${i.toString(16)} read as ${wide[i]}, expected ${want}`);
    }
    const out = writeSafetensors({ h: { dtype: "F16", shape: [65536], data: wide } });
    const narrow = new Uint16Array(out.slice(readSafetensorsHeader(out).dataStart).buffer);
    for (let i = 0; i < 65536; i++) {
      const nan = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (!nan && narrow[i] !== i) expect.fail(`F16 0x${i.toString(16)} came back as 0x${narrow[i].toString(16)}`);
    }
  });
});

describe("writing", () => {
  it("matches the reference writer's bytes for one F32 tensor", () => {
    // {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 54 bytes; padded with 2 spaces to 56.
    const expected = [56, 0, 0, 0, 0, 0, 0, 0, ...ascii('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  '), 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0];
    const bytes = writeSafetensors({ a: { dtype: "F32", shape: [2], data: new Float32Array([1, -2]) } });
    expect([...bytes]).toEqual(expected);
    expect(readSafetensors(new Uint8Array(expected)).tensors.get("a")!.data).toEqual(new Float32Array([1, -2]));
  });

  it("matches the reference writer's bytes for the empty file, metadata and an exact-fit header", () => {
    expect([...writeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...ascii("{}      ")]);
    expect([...writeSafetensors({}, { framework: "pt" })]).toEqual([40, 0, 0, 0, 0, 0, 0, 0, ...ascii('{"__metadata__":{"framework":"pt"}}     ')]);
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const exact = writeSafetensors({ "attn.0": { shape: [1, 2, 3], data } });
    expect([...exact.subarray(0, 72)]).toEqual([64, 0, 0, 0, 0, 0, 0, 0, ...ascii('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}')]);
  });

  it("lays tensors out widest dtype first, then by name in code-point order, so each is aligned", () => {
    const bytes = writeSafetensors(
      new Map<string, TensorInput>([
        ["mask", { dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) }],
        ["w", { dtype: "F16", shape: [1], data: new Float32Array([1]) }],
        ["ids", { dtype: "I64", shape: [1], data: new BigInt64Array([-1n]) }],
        ["\uffff", { dtype: "U8", shape: [1], data: new Uint8Array([7]) }],
        ["😀", { dtype: "U8", shape: [1], data: new Uint8Array([8]) }],
      ]),
      { b: "2", a: "1" },
    );
    const header =
      '{"__metadata__":{"a":"1","b":"2"},' +
      [entry("ids", "I64", [1], 0, 8), entry("w", "F16", [1], 8, 10), entry("\uffff", "U8", [1], 10, 11), entry("😀", "U8", [1], 11, 12), entry("mask", "BOOL", [3], 12, 15)].join(",") +
      "}";
    const padded = header + " ".repeat((8 - (new TextEncoder().encode(header).length % 8)) % 8);
    const data = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x3c, 7, 8, 1, 0, 1];
    expect(bytes).toEqual(file(padded, data));
  });

  it("is deterministic whatever the insertion order", () => {
    const a = { shape: [1], data: new Float32Array([1]) };
    const b = { shape: [2], data: new Int32Array([2, 3]) };
    expect(writeSafetensors({ a, b }, { x: "1", y: "2" })).toEqual(writeSafetensors(new Map<string, TensorInput>([["b", b], ["a", a]]), { y: "2", x: "1" }));
  });

  it("refuses inconsistent tensors", () => {
    const w = (t: Record<string, unknown>, meta?: Record<string, unknown>) => () =>
      writeSafetensors(t as Record<string, TensorInput>, meta as Record<string, string>);
    expect(codeOf(w({ a: { shape: [3], data: new Float32Array(2) } }))).toBe("shape-mismatch");
    expect(codeOf(w({ a: { shape: [-1], data: new Float32Array(0) } }))).toBe("invalid-shape");
    expect(codeOf(w({ a: { shape: [2 ** 40, 2 ** 40], data: new Float32Array(0) } }))).toBe("shape-overflow");
    expect(codeOf(w({ a: { dtype: "F32", shape: [1], data: new Int32Array(1) } }))).toBe("data-type-mismatch");
    expect(codeOf(w({ a: { shape: [1], data: [1] } }))).toBe("data-type-mismatch");
    expect(codeOf(w({ a: { dtype: "F64", shape: [1], data: new Float32Array(1) } }))).toBe("unsupported-dtype");
    expect(codeOf(w({ a: { shape: [1], data: new Uint8Array([2]) } }))).toBe("invalid-bool");
    expect(codeOf(w({ __metadata__: { shape: [1], data: new Float32Array(1) } }))).toBe("reserved-name");
    expect(codeOf(w({ "\ud800": { shape: [1], data: new Float32Array(1) } }))).toBe("invalid-name");
    expect(codeOf(w({}, { a: 1 }))).toBe("metadata-value-not-string");
  });
});

describe("conversions", () => {
  it("toFloat32 widens every dtype and keeps float data as is", () => {
    const f = new Float32Array([1.5]);
    expect(toFloat32({ data: f, shape: [1] }).data).toBe(f);
    expect(toFloat32({ data: new BigInt64Array([-3n]), shape: [1] }).data).toEqual(new Float32Array([-3]));
    expect(toFloat32({ data: new Uint8Array([255]), shape: [1] }).data).toEqual(new Float32Array([255]));
  });

  it("toInt32 narrows I64 only when every value fits", () => {
    expect(toInt32({ data: new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n]), shape: [2] }).data).toEqual(new Int32Array([-(2 ** 31), 2 ** 31 - 1]));
    expect(codeOf(() => toInt32({ data: new BigInt64Array([0n, 2n ** 31n]), shape: [2] }))).toBe("int32-range");
    expect(codeOf(() => toInt32({ data: new Float32Array([1]), shape: [1] }))).toBe("not-integer");
    expect(toInt32({ data: new Uint8Array([1, 0]), shape: [2] }).data).toEqual(new Int32Array([1, 0]));
  });

  it("toBigInt64 widens integers", () => {
    expect(toBigInt64({ data: new Int32Array([-7]), shape: [1] }).data).toEqual(new BigInt64Array([-7n]));
    expect(codeOf(() => toBigInt64({ data: new Float32Array([1]), shape: [1] }))).toBe("not-integer");
  });
});
