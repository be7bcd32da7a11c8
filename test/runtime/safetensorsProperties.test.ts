import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  SafetensorsError,
  f16BitsToNumber,
  readSafetensors,
  writeSafetensors,
  type SafeDType,
  type TensorInput,
} from "../../src/runtime/index.js";
import { bytesOf } from "./safetensorsFiles.js";

const DTYPES: SafeDType[] = ["F32", "F16", "BF16", "I64", "I32", "U8", "BOOL"];
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const text = fc.string({ unit: "binary", maxLength: 6 }).filter((s) => !LONE_SURROGATE.test(s));
const name = text.filter((s) => s !== "__metadata__");

const isNanHalf = (bits: number, expMask: number) => (bits & expMask) === expMask && (bits & ~expMask & 0x7fff) !== 0;
const u16 = (expMask: number) => fc.integer({ min: 0, max: 0xffff }).filter((b) => !isNanHalf(b, expMask));

function values(dtype: SafeDType, n: number): fc.Arbitrary<TensorInput["data"]> {
  const of = <T>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: n, maxLength: n });
  switch (dtype) {
    case "F32":
      return of(fc.float()).map((xs) => new Float32Array(xs));
    case "F16": // only values F16 holds, so the narrowing on write is exact; NaNs are tested elsewhere
      return of(u16(0x7c00)).map((bits) => new Float32Array(bits.map(f16BitsToNumber)));
    case "BF16":
      return of(u16(0x7f80)).map((bits) => new Float32Array(new Uint32Array(bits.map((b) => b << 16)).buffer));
    case "I64":
      return of(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map((xs) => new BigInt64Array(xs));
    case "I32":
      return of(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).map((xs) => new Int32Array(xs));
    case "U8":
      return of(fc.integer({ min: 0, max: 255 })).map((xs) => new Uint8Array(xs));
    case "BOOL":
      return of(fc.integer({ min: 0, max: 1 })).map((xs) => new Uint8Array(xs));
  }
}

const tensor: fc.Arbitrary<TensorInput> = fc
  .tuple(fc.constantFrom(...DTYPES), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => values(dtype, shape.reduce((a, b) => a * b, 1)).map((data) => ({ dtype, shape, data })));

const tensorSet = fc.dictionary(name, tensor, { maxKeys: 6 }).map((d) => new Map(Object.entries(d)));
const metadata = fc.dictionary(text, text, { maxKeys: 3 }).map((d) => Object.fromEntries(Object.entries(d)));

type Mutation =
  | { kind: "set" | "insert" | "data"; at: number; value: number }
  | { kind: "header"; at: number; ch: string }
  | { kind: "delete" | "truncate"; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Weighted so that a good share of files stay readable, exercising the data paths too.
  { arbitrary: fc.record({ kind: fc.constant("data" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), weight: 6 },
  fc.record({ kind: fc.constantFrom("set" as const, "insert" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("header" as const), at: fc.nat(), ch: fc.constantFrom(...'{}[]",:0123456789-.eE _a\\u'.split("")) }),
  fc.record({ kind: fc.constantFrom("delete" as const, "truncate" as const), at: fc.nat() }),
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const out = [...bytes];
  const at = m.at % Math.max(out.length, 1);
  const headerLength = bytes.length >= 8 ? Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) : 0;
  switch (m.kind) {
    case "set":
      out[at] = m.value;
      break;
    case "insert":
      out.splice(at, 0, m.value);
      break;
    case "delete":
      out.splice(at, 1);
      break;
    case "truncate":
      out.length = at;
      break;
    case "data": {
      const start = 8 + headerLength;
      if (start < out.length) out[start + (m.at % (out.length - start))] = m.value;
      break;
    }
    case "header": {
      // Aimed at the JSON, where most of the validation lives.
      const span = Math.min(headerLength, out.length - 8);
      if (span > 0) out[8 + (m.at % span)] = m.ch.charCodeAt(0);
      break;
    }
  }
  return new Uint8Array(out);
}

const ARRAY_OF: Record<SafeDType, Function> = {
  F32: Float32Array, F16: Float32Array, BF16: Float32Array, I64: BigInt64Array, I32: Int32Array, U8: Uint8Array, BOOL: Uint8Array,
};

describe("safetensors properties", () => {
  it("random tensor sets round-trip exactly", () => {
    fc.assert(
      fc.property(tensorSet, metadata, (tensors, meta) => {
        const back = readSafetensors(writeSafetensors(tensors, meta));
        expect([...back.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
        expect(back.metadata).toEqual(meta);
        for (const [n, t] of tensors) {
          const b = back.tensors.get(n)!;
          expect(b.dtype).toBe(t.dtype);
          expect(b.shape).toEqual(t.shape);
          expect(bytesOf(b.data)).toEqual(bytesOf(t.data));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("writing does not depend on insertion order", () => {
    fc.assert(
      fc.property(tensorSet, metadata, (tensors, meta) => {
        const reversed = new Map([...tensors].reverse());
        const metaReversed = Object.fromEntries(Object.entries(meta).reverse());
        expect(writeSafetensors(reversed, metaReversed)).toEqual(writeSafetensors(tensors, meta));
      }),
      { numRuns: 100 },
    );
  });

  it("a mutated file is either read consistently or refused with a SafetensorsError", () => {
    let refused = 0;
    let read = 0;
    fc.assert(
      fc.property(tensorSet, metadata, fc.array(mutation, { minLength: 1, maxLength: 4 }), (tensors, meta, mutations) => {
        const bytes = mutations.reduce(mutate, writeSafetensors(tensors, meta));
        let back;
        try {
          back = readSafetensors(bytes);
        } catch (e) {
          if (!(e instanceof SafetensorsError)) throw e;
          refused++;
          return;
        }
        read++;
        for (const t of back.tensors.values()) {
          expect(t.data).toBeInstanceOf(ARRAY_OF[t.dtype]);
          expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        }
        // Whatever was accepted is valid enough to write and read again unchanged.
        const again = readSafetensors(writeSafetensors(back.tensors, back.metadata));
        expect(again.metadata).toEqual(back.metadata);
        for (const [n, t] of back.tensors) expect(again.tensors.get(n)!.shape).toEqual(t.shape);
      }),
      { numRuns: 2000 },
    );
    // Both outcomes must actually occur, or the property says nothing.
    expect(refused).toBeGreaterThan(100);
    expect(read).toBeGreaterThan(100);
  });
});
