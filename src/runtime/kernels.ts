import { broadcastStrides, stridesOf } from "./strides.js";

// General-purpose kernels that generated modules call where a specialised loop is not worth
// emitting: broadcasting with arbitrary shapes, transposes of any rank, softmax on inner axes.

type Numeric = Float32Array | Float64Array | Int32Array | Uint8Array;

const OPS = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
} as const;

export function broadcastBinary(out: Float32Array, a: Numeric, as: readonly number[], b: Numeric, bs: readonly number[], os: readonly number[], op: keyof typeof OPS): void {
  const f = OPS[op];
  const sa = broadcastStrides(as, os);
  const sb = broadcastStrides(bs, os);
  const idx = new Array<number>(os.length).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = f(a[ia], b[ib]);
    for (let k = os.length - 1; k >= 0; k--) {
      idx[k]++;
      ia += sa[k];
      ib += sb[k];
      if (idx[k] < os[k]) break;
      ia -= sa[k] * os[k];
      ib -= sb[k] * os[k];
      idx[k] = 0;
    }
  }
}

/** For each batch index of `out`, the matrix index in an operand of batch shape `shape`. */
export function batchOffsets(out: readonly number[], shape: readonly number[]): Int32Array {
  const n = out.reduce((a, b) => a * b, 1);
  const st = broadcastStrides(shape, out);
  const outSt = stridesOf(out);
  const offs = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    let j = 0;
    for (let k = 0; k < out.length; k++) j += (Math.floor(t / outSt[k]) % out[k]) * st[k];
    offs[t] = j;
  }
  return offs;
}

export function transposeInto(out: Float32Array, x: Float32Array, shape: readonly number[], d0: number, d1: number): void {
  const outShape = [...shape];
  [outShape[d0], outShape[d1]] = [outShape[d1], outShape[d0]];
  const inSt = stridesOf(shape);
  const src = outShape.map((_, k) => inSt[k === d0 ? d1 : k === d1 ? d0 : k]);
  const idx = new Array<number>(outShape.length).fill(0);
  let j = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = x[j];
    for (let k = outShape.length - 1; k >= 0; k--) {
      idx[k]++;
      j += src[k];
      if (idx[k] < outShape[k]) break;
      j -= src[k] * outShape[k];
      idx[k] = 0;
    }
  }
}

/** Softmax along an inner axis; a slice of only -inf gives zeros, as on the last axis. */
export function softmaxAxis(out: Float32Array, x: Float32Array, shape: readonly number[], axis: number): void {
  const n = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let max = -Infinity;
      for (let k = 0; k < n; k++) max = Math.max(max, x[base + k * inner]);
      if (max === -Infinity) {
        for (let k = 0; k < n; k++) out[base + k * inner] = 0;
        continue;
      }
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(x[base + k * inner] - max);
      for (let k = 0; k < n; k++) out[base + k * inner] = Math.exp(x[base + k * inner] - max) / sum;
    }
}

/**
 * Strides to read a mask as [B, H, L, S]: [L, S] as [1, 1, L, S], [B, L, S] as [B, 1, L, S] (as
 * the language defines it), key masks [B, S] as [B, 1, 1, S]. An absent mask gets zero strides.
 */
export function maskStrides(shape: readonly number[] | null, keys: boolean): [number, number, number, number] {
  if (shape === null) return [0, 0, 0, 0];
  const aligned = keys ? [shape[0], 1, 1, shape[1]] : shape.length === 3 ? [shape[0], 1, shape[1], shape[2]] : [...new Array<number>(4 - shape.length).fill(1), ...shape];
  const st = stridesOf(aligned);
  return aligned.map((d, k) => (d === 1 ? 0 : st[k])) as [number, number, number, number];
}
