import { stridesOf } from "../../runtime/strides.js";

// Plain float64 tensors and the index arithmetic the reference interpreter is written in: plain
// loops, no cleverness.

export { stridesOf };

export interface F64Tensor {
  readonly data: Float64Array;
  readonly shape: readonly number[];
}

export const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The multi-index of flat index `i` in a tensor of `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = i % shape[k];
    i = Math.floor(i / shape[k]);
  }
  return idx;
}

/** Maps flat indices of `out` to flat indices of a tensor of `shape` broadcast to it (right-aligned). */
export function broadcaster(out: readonly number[], shape: readonly number[]): (i: number) => number {
  const off = out.length - shape.length;
  const inStrides = stridesOf(shape).map((s, k) => (shape[k] === 1 ? 0 : s));
  const outStrides = stridesOf(out);
  return (i) => {
    let j = 0;
    for (let k = 0; k < shape.length; k++) j += (Math.floor(i / outStrides[k + off]) % out[k + off]) * inStrides[k];
    return j;
  };
}

export function mapTensors(ins: readonly F64Tensor[], shape: number[], f: (...xs: number[]) => number): F64Tensor {
  const at = ins.map((t) => broadcaster(shape, t.shape));
  const out = new Float64Array(sizeOf(shape));
  const xs = new Array<number>(ins.length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < ins.length; k++) xs[k] = ins[k].data[at[k](i)];
    out[i] = f(...xs);
  }
  return { data: out, shape };
}

/** out[idx] = x[perm-permuted idx]: output axis k is input axis perm[k]. */
export function permute(x: F64Tensor, perm: readonly number[]): F64Tensor {
  const shape = perm.map((p) => x.shape[p]);
  const inS = stridesOf(x.shape);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let j = 0;
    for (let k = 0; k < shape.length; k++) j += idx[k] * inS[perm[k]];
    out[i] = x.data[j];
  }
  return { data: out, shape };
}

/** Calls `f` on every line of `x` along `axis` (values copied out, in order) and collects what it returns per line. */
export function lines(x: F64Tensor, axis: number, f: (line: Float64Array) => Float64Array | number): { outer: number; inner: number; results: (Float64Array | number)[] } {
  const n = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const results: (Float64Array | number)[] = [];
  const line = new Float64Array(n);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      for (let k = 0; k < n; k++) line[k] = x.data[(o * n + k) * inner + i];
      results.push(f(line.slice()));
    }
  return { outer, inner, results };
}
