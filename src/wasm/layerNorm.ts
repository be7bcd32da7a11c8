import type { WasmFunction } from "./binary.js";
import { rowNormCode } from "./rowNorm.js";

// LayerNorm of rows in WebAssembly SIMD, optionally of a sum (add & norm):
// `(out, a, c, w, b, rows, d, eps)` with t = a (+ c) per row of d floats (a multiple of 4):
// out = (t − mean)/√(var + eps) (· w) (+ b). Four passes over a row: the largest |t|, the sum, the
// squared deviations from the mean, the result (the row loop, and its scaling of rows past 2^56,
// in rowNorm.ts). A variant without c, w or b ignores those pointers.

export interface LayerNormVariant {
  readonly add: boolean;
  readonly scale: boolean;
  readonly shift: boolean;
}

export function layerNormName(v: LayerNormVariant): string {
  return `layer_norm${v.add ? "_add" : ""}${v.scale ? "_w" : ""}${v.shift ? "_b" : ""}`;
}

export function layerNormFunction(v: LayerNormVariant): WasmFunction {
  return { name: layerNormName(v), code: rowNormCode({ ...v, center: true }) };
}
