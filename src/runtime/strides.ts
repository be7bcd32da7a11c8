// Row-major strides, shared by the runtime's general kernels and the compiler's float64 reference.

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Strides of `shape` right-aligned to `out`, zero on broadcast (size-1 or missing) dimensions. */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const st = stridesOf(shape);
  const off = out.length - shape.length;
  return out.map((_, k) => (k < off || shape[k - off] === 1 ? 0 : st[k - off]));
}
