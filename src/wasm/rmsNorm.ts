import type { WasmFunction } from "./binary.js";
import { rowNormCode } from "./rowNorm.js";

// RMSNorm of rows in WebAssembly SIMD, optionally of a sum (add & norm), with LayerNorm's signature
// so the glue calls both alike: `(out, a, c, w, b, rows, d, eps)` with t = a (+ c) per row of d
// floats (a multiple of 4), out = t/√(mean(t²) + eps) (· w); `b` is ignored. Three passes over a
// row: the largest |t|, the sum of squares, the result (the row loop, and its scaling of finite rows
// past 2^56, in rowNorm.ts).

export interface RmsNormVariant {
  readonly add: boolean;
  readonly scale: boolean;
}

export function rmsNormName(v: RmsNormVariant): string {
  return `rms_norm${v.add ? "_add" : ""}${v.scale ? "_w" : ""}`;
}

export function rmsNormFunction(v: RmsNormVariant): WasmFunction {
  return { name: rmsNormName(v), code: rowNormCode({ ...v, center: false, shift: false }) };
}
