import { gelu, geluTanh, sigmoid, silu } from "./math.js";

// Activations applied in place to columns c0..c1 of a [rows, n] matrix, after a dense kernel has
// written it. One small function per activation, so the engine inlines the scalar function into
// the loop: a number returned from a call that is not inlined is boxed — one heap allocation per
// element when the call sits in a large kernel.

export function geluColumns(out: Float32Array, rows: number, n: number, c0: number, c1: number): void {
  for (let r = 0; r < rows; r++) for (let j = r * n + c0, end = r * n + c1; j < end; j++) out[j] = gelu(out[j]);
}

export function geluTanhColumns(out: Float32Array, rows: number, n: number, c0: number, c1: number): void {
  for (let r = 0; r < rows; r++) for (let j = r * n + c0, end = r * n + c1; j < end; j++) out[j] = geluTanh(out[j]);
}

export function siluColumns(out: Float32Array, rows: number, n: number, c0: number, c1: number): void {
  for (let r = 0; r < rows; r++) for (let j = r * n + c0, end = r * n + c1; j < end; j++) out[j] = silu(out[j]);
}

export function sigmoidColumns(out: Float32Array, rows: number, n: number, c0: number, c1: number): void {
  for (let r = 0; r < rows; r++) for (let j = r * n + c0, end = r * n + c1; j < end; j++) out[j] = sigmoid(out[j]);
}

export function reluColumns(out: Float32Array, rows: number, n: number, c0: number, c1: number): void {
  for (let r = 0; r < rows; r++) for (let j = r * n + c0, end = r * n + c1; j < end; j++) out[j] = out[j] > 0 ? out[j] : 0;
}
