import { RuntimeMessages as M, ShapeError } from "./errors.js";
import { describeValue } from "./printable.js";
import type { DType, Tensor } from "./tensor.js";

/** How a generated module describes one input: dims are numbers or symbol names. */
export interface InputSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly (number | string)[];
  readonly optional: boolean;
  /** Left out, the input is this value everywhere (its symbols are bound by the other inputs). */
  readonly default?: number;
}

export interface SymbolSpec {
  readonly name: string;
  readonly max?: number;
}

// Integer inputs take either integer array: token ids come as Int32Array from JavaScript and as
// BigInt64Array from PyTorch's int64 tensors. A bool input also takes an integer array, read as
// `x != 0` (a tokenizer's attention_mask is int64, 1 = a real token); the model sees a Uint8Array.
/** The array types as tfmc and safetensors name their element types. */
const DTYPE_NAMES: Readonly<Record<string, string>> = { Float32Array: "f32 (F32)", Int32Array: "i32 (I32)", BigInt64Array: "i64 (I64)", Uint8Array: "bool (BOOL or U8)" };

/** "Float32Array, f32 (F32)": a tensor's data type in JavaScript's, tfmc's and safetensors' terms. */
export function describeArrayType(data: unknown): string {
  const kind = (data as object | undefined)?.constructor?.name ?? typeof data;
  return Object.hasOwn(DTYPE_NAMES, kind) ? `${DTYPE_NAMES[kind]}, ${/^[AEIOU]/.test(kind) ? "an" : "a"} ${kind}` : kind;
}

/** "i32 (I32) or i64 (I64): Int32Array or BigInt64Array". */
export const describeArrayTypes = (types: readonly { name: string }[]): string =>
  `${types.map((C) => DTYPE_NAMES[C.name] ?? C.name).join(" or ")}: ${types.map((C) => C.name).join(" or ")}`;

const ACCEPTED: Record<DType, readonly (abstract new (...a: never[]) => unknown)[]> = {
  f32: [Float32Array],
  i32: [Int32Array, BigInt64Array],
  i64: [BigInt64Array, Int32Array],
  bool: [Uint8Array, Int32Array, BigInt64Array],
};

/** An integer array as booleans: 1 where the value is not 0. */
function nonZero(data: Int32Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  return out;
}

const describeShape = (s: readonly (number | string)[]) => `[${s.join(", ")}]`;

export interface CheckedInputs {
  /** Each symbol's value. */
  readonly dims: Readonly<Record<string, number>>;
  /** Each input's data in the order of the specs; null for an optional input left out. */
  readonly data: readonly (Tensor["data"] | null)[];
}

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Checks every input against the spec: presence, dtype, rank, each dimension, symbols bound
 * consistently across inputs and within their limits. Inputs are read as own properties only, so
 * a name such as `__proto__` cannot reach the prototype. An input left out that has a default is
 * filled in the sizes the inputs bound, or else those `known` gives (a decoding session's batch).
 */
export function checkInputs(
  specs: readonly InputSpec[],
  symbols: readonly SymbolSpec[],
  feeds: Readonly<Record<string, Tensor | undefined>>,
  known: Readonly<Record<string, number>> = {},
): CheckedInputs {
  if (feeds === null || typeof feeds !== "object") throw new ShapeError(M.Missing_input_0, [specs[0]?.name ?? "inputs"], specs[0]?.name ?? "");
  for (const key of Object.keys(feeds)) {
    if (!specs.some((s) => s.name === key)) throw new ShapeError(M.Unknown_input_0, [key, specs.map((s) => s.name).join(", ")], key);
  }
  const bound: Record<string, number> = Object.create(null);
  const boundBy: Record<string, [string, number]> = Object.create(null);
  const data: (Tensor["data"] | null)[] = [];
  for (const spec of specs) {
    const t = own(feeds, spec.name) ? feeds[spec.name] : undefined;
    if (t === undefined || t === null) {
      data.push(null);
      if (spec.optional || spec.default !== undefined) continue;
      throw new ShapeError(M.Missing_input_0, [spec.name], spec.name);
    }
    if (!ACCEPTED[spec.dtype].some((C) => t.data instanceof C)) {
      throw new ShapeError(M.Input_0_dtype_1_expected_2, [spec.name, describeArrayType(t.data), describeArrayTypes(ACCEPTED[spec.dtype])], spec.name);
    }
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length !== spec.shape.length) {
      throw new ShapeError(M.Input_0_rank_1_expected_2, [spec.name, Array.isArray(shape) ? shape.length : "unknown", spec.shape.length, describeShape(spec.shape)], spec.name);
    }
    shape.forEach((actual, k) => {
      const want = spec.shape[k];
      if (!Number.isSafeInteger(actual) || actual < 0) throw new ShapeError(M.Input_0_dim_1_is_2_expected_3, [spec.name, k, describeValue(actual), "a non-negative integer"], spec.name, k);
      if (typeof want === "number") {
        if (actual !== want) throw new ShapeError(M.Input_0_dim_1_is_2_expected_3, [spec.name, k, actual, want], spec.name, k);
        return;
      }
      if (want in bound) {
        if (bound[want] !== actual) throw new ShapeError(M.Input_0_dim_1_is_2_but_3_is_4, [spec.name, k, actual, want, bound[want], boundBy[want][0]], spec.name, k);
        return;
      }
      const max = symbols.find((s) => s.name === want)?.max;
      if (max !== undefined && actual > max) throw new ShapeError(M.Dim_0_is_1_above_2, [want, actual, max, spec.name, k], spec.name, k);
      bound[want] = actual;
      boundBy[want] = [spec.name, k];
    });
    const needed = shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== needed) throw new ShapeError(M.Input_0_data_length_1_expected_2, [spec.name, t.data.length, describeShape(shape), needed], spec.name);
    data.push(spec.dtype === "bool" && (t.data instanceof Int32Array || t.data instanceof BigInt64Array) ? nonZero(t.data) : t.data);
  }
  specs.forEach((spec, i) => {
    if (data[i] === null && spec.default !== undefined) data[i] = filled(spec, Object.assign(Object.create(null) as Record<string, number>, known, bound));
  });
  return { dims: bound, data };
}

/** An input left out that has a default: its shape from the symbols the other inputs bound. */
function filled(spec: InputSpec, bound: Readonly<Record<string, number>>): Tensor["data"] {
  const shape = spec.shape.map((d) => {
    if (typeof d === "number") return d;
    if (!(d in bound)) throw new ShapeError(M.Missing_input_0, [spec.name], spec.name);
    return bound[d];
  });
  const n = shape.reduce((a, b) => a * b, 1);
  const v = spec.default!;
  switch (spec.dtype) {
    case "f32":
      return new Float32Array(n).fill(v);
    case "i32":
      return new Int32Array(n).fill(v);
    case "i64":
      return new BigInt64Array(n).fill(BigInt(v));
    case "bool":
      return new Uint8Array(n).fill(v ? 1 : 0);
  }
}
