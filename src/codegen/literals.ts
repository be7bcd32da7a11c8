// Literals and type names in generated code: nothing from a .tfm file reaches a module except
// through `str` and `key`.

import type { NodeLabel } from "../ir/node.js";
import type { DType } from "../semantics/types.js";

/** A string literal safe anywhere in a module: U+2028/U+2029 escaped, and no `</` to end an inline script. */
export const str = (s: string): string =>
  JSON.stringify(s).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029").replace(/<\//g, "<\\/");

/** A property key for an object literal; `__proto__` is computed so it defines a property, not the prototype. */
export const key = (k: string): string => (k === "__proto__" ? `[${str(k)}]` : str(k));

/** The array types a module accepts for an input of each dtype. */
export const INPUT_TYPES: Record<DType, string> = {
  f32: "Float32Array",
  i32: "Int32Array | BigInt64Array",
  i64: "BigInt64Array | Int32Array",
  bool: "Uint8Array",
};

/** The array types a caller may pass for an input of each dtype (a bool input also takes integers, read as `!= 0`). */
export const FEED_TYPES: Record<DType, string> = { ...INPUT_TYPES, bool: "Uint8Array | Int32Array | BigInt64Array" };

/** A number as a JavaScript literal. */
export const num = (x: number): string => (!Number.isFinite(x) ? (x !== x ? "NaN" : x > 0 ? "Infinity" : "-Infinity") : Number.isInteger(x) ? String(x) : JSON.stringify(x));

/**
 * Whether a kernel operand may hold bigints: a model input of an integer dtype, which the caller
 * may pass as a BigInt64Array (computed tensors are always Float32Arrays).
 */
export const mayBeBigInt = (x: NodeLabel): boolean => x.op === "input" && (x.dtype === "i32" || x.dtype === "i64");

/** Element `i` of a kernel operand as a number. */
export const readElement = (x: NodeLabel, arr: string, i: string): string => (mayBeBigInt(x) ? `Number(${arr}[${i}])` : `${arr}[${i}]`);
