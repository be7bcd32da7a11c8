/**
 * Reading and writing safetensors files (https://github.com/huggingface/safetensors), in plain
 * typed arrays so that the same code runs in Node and in browsers.
 *
 * Decisions beyond the format's own rules:
 *   - Supported dtypes are F32, F16, BF16, I64, I32, U8 and BOOL. The format's other dtypes (F64,
 *     I8, I16, U16, U32, U64, C64, the F8/F6/F4 families) are refused with "unsupported-dtype"
 *     rather than narrowed: a silent precision change is worse than a clear error.
 *   - An entry with a field besides dtype, shape and data_offsets is refused ("unknown-field").
 *   - Numbers in shapes and offsets must be plain integer literals: `2.0` and `1e2` are refused.
 *   - Duplicate keys are refused at every level of the header, not only among tensor names.
 *   - NaN payloads survive F16/BF16 widening because conversion works on bit patterns.
 */
import { bf16BitsToF32Bits, f16BitsToF32Bits, f32BitsToBf16Bits, f32BitsToF16Bits } from "./float16.js";
import {
  DTYPE_SIZE,
  METADATA_KEY,
  SafetensorsError,
  byteLength,
  checkShape,
  describe,
  isSafeDType,
  readHeader,
  type Header,
  type SafeDType,
} from "./safetensorsHeader.js";
import type { Tensor, TensorData } from "./tensor.js";

export { MAX_HEADER_SIZE, SafetensorsError, type Header, type HeaderEntry, type SafeDType, type SafetensorsErrorCode } from "./safetensorsHeader.js";
export { f16BitsToNumber, numberToF16Bits } from "./float16.js";

export interface SafeTensor extends Tensor {
  /** The dtype stored in the file; F16 and BF16 arrive widened to a Float32Array. */
  readonly dtype: SafeDType;
  readonly shape: number[];
}

export interface Safetensors {
  readonly tensors: Map<string, SafeTensor>;
  readonly metadata: Record<string, string>;
}

export interface TensorInput {
  /** Defaults by array type: Float32Array → F32, Int32Array → I32, BigInt64Array → I64, Uint8Array → BOOL (as in tensor.ts). */
  readonly dtype?: SafeDType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** The array type each dtype is read into and written from. */
const ARRAY_OF: Readonly<Record<SafeDType, Function>> = {
  F32: Float32Array,
  F16: Float32Array,
  BF16: Float32Array,
  I32: Int32Array,
  I64: BigInt64Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
};

// Typed arrays use the platform's byte order; the format is little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function plainBytes(bytes: Uint8Array | ArrayBuffer): Uint8Array {
  // A fresh plain view: Node's Buffer.slice does not copy, and we rely on slice copying.
  return bytes instanceof Uint8Array ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
}

/** Validates the whole file's framing and header without copying any tensor data. */
export function readSafetensorsHeader(bytes: Uint8Array | ArrayBuffer): Header {
  return readHeader(plainBytes(bytes));
}

export function readSafetensors(bytes: Uint8Array | ArrayBuffer): Safetensors {
  const file = plainBytes(bytes);
  const header = readHeader(file);
  const tensors = new Map<string, SafeTensor>();
  for (const e of header.entries) {
    // slice copies into a fresh buffer at offset 0, so every view below is aligned.
    const raw = file.slice(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decode(e.dtype, raw, e.name) });
  }
  return { tensors, metadata: header.metadata };
}

function decode(dtype: SafeDType, raw: Uint8Array, name: string): TensorData {
  if (!LITTLE_ENDIAN) swapBytes(raw, DTYPE_SIZE[dtype]);
  switch (dtype) {
    case "F32":
      return new Float32Array(raw.buffer);
    case "I32":
      return new Int32Array(raw.buffer);
    case "I64":
      return new BigInt64Array(raw.buffer);
    case "U8":
      return raw;
    case "BOOL": {
      const bad = raw.findIndex((b) => b > 1);
      if (bad >= 0) {
        throw new SafetensorsError("invalid-bool", `tensor ${describe(name)}: BOOL element ${bad} is byte ${raw[bad]}, not 0 or 1`);
      }
      return raw;
    }
    case "F16":
    case "BF16": {
      const halves = new Uint16Array(raw.buffer);
      const out = new Float32Array(halves.length);
      const bits = new Uint32Array(out.buffer);
      const widen = dtype === "F16" ? f16BitsToF32Bits : bf16BitsToF32Bits;
      for (let i = 0; i < halves.length; i++) bits[i] = widen(halves[i]);
      return out;
    }
  }
}

function swapBytes(raw: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < raw.length; i += size) raw.subarray(i, i + size).reverse();
}

/**
 * Serialises as the reference implementation does, byte for byte: tensors laid out by dtype
 * (widest first, in the reference's dtype order) then by name in code-point order, so every
 * tensor starts aligned to its element size; `__metadata__` first in the header, its keys sorted
 * (the reference's order there is a hash map's); header padded with spaces to a multiple of 8.
 */
export function writeSafetensors(
  tensors: Record<string, TensorInput> | ReadonlyMap<string, TensorInput>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const prepared = [...(tensors instanceof Map ? tensors : Object.entries(tensors))].map(([name, t]) => prepare(name, t));
  prepared.sort((a, b) => LAYOUT_RANK[a.dtype] - LAYOUT_RANK[b.dtype] || compareBytes(a.key, b.key));

  const parts: string[] = [];
  const metaKeys = Object.keys(metadata);
  if (metaKeys.length > 0) {
    metaKeys.sort((a, b) => compareBytes(utf8(a), utf8(b)));
    const fields = metaKeys.map((k) => {
      const v: unknown = metadata[k];
      if (typeof v !== "string") {
        throw new SafetensorsError("metadata-value-not-string", `${METADATA_KEY} value for ${describe(k)} is ${describe(v)}, not a string`);
      }
      return `${jsonString(k, "metadata key")}:${jsonString(v, "metadata value")}`;
    });
    parts.push(`"${METADATA_KEY}":{${fields.join(",")}}`);
  }
  let offset = 0;
  for (const t of prepared) {
    const end = offset + t.bytes.length;
    parts.push(`${jsonString(t.name, "tensor name")}:{"dtype":"${t.dtype}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = utf8(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of prepared) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

/** Position in the reference's sort: descending by its dtype enum (I64 > F32 > I32 > BF16 > F16 > U8 > BOOL). */
const LAYOUT_RANK: Readonly<Record<SafeDType, number>> = { I64: 0, F32: 1, I32: 2, BF16: 3, F16: 4, U8: 5, BOOL: 6 };

interface Prepared {
  name: string;
  key: Uint8Array;
  dtype: SafeDType;
  shape: readonly number[];
  bytes: Uint8Array;
}

function prepare(name: string, t: TensorInput): Prepared {
  const what = `tensor ${describe(name)}`;
  if (name === METADATA_KEY) throw new SafetensorsError("reserved-name", `${METADATA_KEY} is reserved and cannot name a tensor`);
  const data: unknown = t.data;
  const dtype = t.dtype ?? defaultDType(data, what);
  if (!isSafeDType(dtype)) throw new SafetensorsError("unsupported-dtype", `${what}: cannot write dtype ${describe(dtype)}`);
  if (!(data instanceof ARRAY_OF[dtype])) {
    throw new SafetensorsError("data-type-mismatch", `${what}: dtype ${dtype} is written from a ${ARRAY_OF[dtype].name}, not ${typeName(data)}`);
  }
  const shape = checkShape(t.shape, what);
  const count = byteLength(shape, DTYPE_SIZE[dtype], what) / DTYPE_SIZE[dtype];
  const array = data as TensorData;
  if (count !== array.length) {
    throw new SafetensorsError("shape-mismatch", `${what}: shape ${describe(shape)} has ${count} elements but the data has ${array.length}`);
  }
  if (dtype === "BOOL") {
    const bad = (array as Uint8Array).findIndex((b) => b > 1);
    if (bad >= 0) throw new SafetensorsError("invalid-bool", `${what}: BOOL element ${bad} is ${array[bad]}, not 0 or 1 (use dtype "U8" for bytes)`);
  }
  return { name, key: utf8(name), dtype, shape, bytes: encode(dtype, array) };
}

function defaultDType(data: unknown, what: string): SafeDType {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof Uint8Array) return "BOOL";
  throw new SafetensorsError("data-type-mismatch", `${what}: data is ${typeName(data)}, not a Float32Array, Int32Array, BigInt64Array or Uint8Array`);
}

const typeName = (v: unknown): string =>
  typeof v === "object" && v !== null ? `a ${v.constructor?.name ?? "null-prototype object"}` : describe(v);

function encode(dtype: SafeDType, data: TensorData): Uint8Array {
  let out: Uint8Array;
  if (dtype === "F16" || dtype === "BF16") {
    const f = data as Float32Array;
    const bits = new Uint32Array(f.buffer, f.byteOffset, f.length); // a Float32Array is always 4-aligned
    const halves = new Uint16Array(f.length);
    const narrow = dtype === "F16" ? f32BitsToF16Bits : f32BitsToBf16Bits;
    for (let i = 0; i < halves.length; i++) halves[i] = narrow(bits[i]);
    out = new Uint8Array(halves.buffer);
  } else {
    out = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  if (!LITTLE_ENDIAN) swapBytes(out, DTYPE_SIZE[dtype]);
  return out;
}

const encoder = new TextEncoder();
const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** Byte order of UTF-8 is code-point order, which is how the reference (Rust) compares names. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** JSON.stringify escapes exactly as serde_json does; lone surrogates have no UTF-8 form, so refuse them. */
function jsonString(s: string, what: string): string {
  if (LONE_SURROGATE.test(s)) throw new SafetensorsError("invalid-name", `${what} ${describe(s)} contains a lone surrogate`);
  return JSON.stringify(s);
}

// ---- conversions between what a file holds and what a model takes ----

export function toFloat32(t: Tensor): Tensor<Float32Array> {
  const d = t.data;
  if (d instanceof Float32Array) return { data: d, shape: t.shape };
  if (d instanceof BigInt64Array) return { data: Float32Array.from(d, Number), shape: t.shape };
  return { data: Float32Array.from(d), shape: t.shape };
}

/** I64 is narrowed only if every value fits; floats are refused, since truncating them is rarely meant. */
export function toInt32(t: Tensor): Tensor<Int32Array> {
  const d = t.data;
  if (d instanceof Int32Array) return { data: d, shape: t.shape };
  if (d instanceof Float32Array) throw new SafetensorsError("not-integer", "toInt32: float data is not converted to integers");
  if (d instanceof BigInt64Array) {
    const bad = d.findIndex((v) => v < -0x80000000n || v > 0x7fffffffn);
    if (bad >= 0) throw new SafetensorsError("int32-range", `toInt32: element ${bad} is ${d[bad]}, outside the int32 range`);
    return { data: Int32Array.from(d, Number), shape: t.shape };
  }
  return { data: Int32Array.from(d), shape: t.shape };
}

export function toBigInt64(t: Tensor): Tensor<BigInt64Array> {
  const d = t.data;
  if (d instanceof BigInt64Array) return { data: d, shape: t.shape };
  if (d instanceof Float32Array) throw new SafetensorsError("not-integer", "toBigInt64: float data is not converted to integers");
  return { data: BigInt64Array.from(d, (v) => BigInt(v)), shape: t.shape };
}

