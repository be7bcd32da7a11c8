import { RuntimeMessages, TfmcRuntimeError } from "./errors.js";
import { broadcastStrides, stridesOf } from "./strides.js";

// General kernels for the tensor primitives (layout changes, broadcasting, reductions) that
// generated modules call with run-time shapes. Values of every dtype travel as numbers; 64-bit
// integer inputs are read through Number().

type Readable = ArrayLike<number> | BigInt64Array;

const prod = (s: readonly number[], from = 0, to = s.length): number => {
  let p = 1;
  for (let k = from; k < to; k++) p *= s[k];
  return p;
};

/**
 * Walks every index of `os` in order, keeping one flat offset per operand whose strides are given;
 * calls `visit(i, offsets)` with the flat output index.
 */
function walk(os: readonly number[], strides: readonly (readonly number[])[], visit: (i: number, at: Int32Array | number[]) => void): void {
  const n = prod(os);
  const at = new Array<number>(strides.length).fill(0);
  const idx = new Array<number>(os.length).fill(0);
  for (let i = 0; i < n; i++) {
    visit(i, at);
    for (let k = os.length - 1; k >= 0; k--) {
      idx[k]++;
      for (let m = 0; m < strides.length; m++) at[m] += strides[m][k];
      if (idx[k] < os[k]) break;
      for (let m = 0; m < strides.length; m++) at[m] -= strides[m][k] * os[k];
      idx[k] = 0;
    }
  }
}

/** out = f(a, b) with both operands broadcast to `os`. */
export function broadcastMap(out: Float32Array, a: Readable, as: readonly number[], b: Readable, bs: readonly number[], os: readonly number[], f: (x: number, y: number) => number): void {
  walk(os, [broadcastStrides(as, os), broadcastStrides(bs, os)], (i, at) => {
    out[i] = f(Number(a[at[0]]), Number(b[at[1]]));
  });
}

/** out = c ? a : b with all three broadcast to `os`. */
export function whereInto(out: Float32Array, c: Readable, cs: readonly number[], a: Readable, as: readonly number[], b: Readable, bs: readonly number[], os: readonly number[]): void {
  walk(os, [broadcastStrides(cs, os), broadcastStrides(as, os), broadcastStrides(bs, os)], (i, at) => {
    out[i] = Number(c[at[0]]) !== 0 ? Number(a[at[1]]) : Number(b[at[2]]);
  });
}

/** Copies `x` broadcast to `os`. */
export function expandInto(out: Float32Array, x: Readable, xs: readonly number[], os: readonly number[]): void {
  walk(os, [broadcastStrides(xs, os)], (i, at) => {
    out[i] = Number(x[at[0]]);
  });
}

/** Output axis k is input axis perm[k]. */
export function permuteInto(out: Float32Array, x: Readable, shape: readonly number[], perm: readonly number[]): void {
  const st = stridesOf(shape);
  walk(
    perm.map((p) => shape[p]),
    [perm.map((p) => st[p])],
    (i, at) => {
      out[i] = Number(x[at[0]]);
    },
  );
}

/** Elements start, start + step, ... of every axis (a negative start counts from the end), `os` of them. */
export function sliceInto(out: Float32Array, x: Readable, shape: readonly number[], starts: readonly number[], steps: readonly number[], os: readonly number[]): void {
  // A slice of a run-time length (x[:, 1:3] of T) fits only when the input is long enough: refuse, never read past it.
  checkSlice(shape, starts, steps, os);
  const st = stridesOf(shape);
  let base = 0;
  starts.forEach((s, k) => (base += (s < 0 ? s + shape[k] : s) * st[k]));
  walk(os, [st.map((s, k) => s * steps[k])], (i, at) => {
    out[i] = Number(x[base + at[0]]);
  });
}

/** Throws when a slice would take elements past either end of an axis. */
export function checkSlice(shape: readonly number[], starts: readonly number[], steps: readonly number[], os: readonly number[]): void {
  for (let k = 0; k < shape.length; k++) {
    if (os[k] === 0) continue;
    const first = starts[k] < 0 ? starts[k] + shape[k] : starts[k];
    const last = first + (os[k] - 1) * steps[k];
    if (first < 0 || last >= shape[k]) {
      const taken = steps[k] === 1 ? `${starts[k]} to ${starts[k] + os[k] - 1}` : `${starts[k]} to ${starts[k] + (os[k] - 1) * steps[k]} by ${steps[k]}`;
      throw new TfmcRuntimeError(RuntimeMessages.Slice_takes_0_of_axis_1_of_2, [taken, k, shape[k]]);
    }
  }
}

/** The parts, each [data, shape], joined along `axis`. */
export function concatInto(out: Float32Array, axis: number, os: readonly number[], parts: readonly (readonly [Readable, readonly number[]])[]): void {
  const outer = prod(os, 0, axis);
  const row = prod(os, axis);
  let offset = 0;
  for (const [x, xs] of parts) {
    const width = prod(xs, axis);
    for (let o = 0; o < outer; o++) for (let j = 0; j < width; j++) out[o * row + offset + j] = Number(x[o * width + j]);
    offset += width;
  }
}

export type Reduction = "sum" | "mean" | "max" | "min" | "argmax" | "argmin";

/** Reduces the axes listed (sorted) of `x`; the output keeps the other axes in order. */
export function reduceInto(out: Float32Array, x: Readable, shape: readonly number[], axes: readonly number[], kind: Reduction): void {
  const kept = shape.map((_, k) => k).filter((k) => !axes.includes(k));
  const st = stridesOf(shape);
  const count = prod(axes.map((a) => shape[a]));
  const inner = axes.map((a) => shape[a]);
  const innerStrides = axes.map((a) => st[a]);
  walk(
    kept.map((k) => shape[k]),
    [kept.map((k) => st[k])],
    (i, at) => {
      const base = at[0];
      let acc = kind === "max" || kind === "argmax" ? -Infinity : kind === "min" || kind === "argmin" ? Infinity : 0;
      let best = 0;
      let nanAt = -1;
      walk(inner, [innerStrides], (j, off) => {
        const v = Number(x[base + off[0]]);
        if (v !== v && nanAt < 0) nanAt = j;
        if (kind === "sum" || kind === "mean") acc += v;
        else if (kind === "max" || kind === "argmax") {
          if (v > acc) [acc, best] = [v, j];
        } else if (v < acc) [acc, best] = [v, j];
      });
      if (kind === "argmax" || kind === "argmin") out[i] = nanAt >= 0 ? nanAt : best;
      else if (nanAt >= 0 && kind !== "sum" && kind !== "mean") out[i] = NaN;
      else out[i] = kind === "mean" ? acc / count : acc;
    },
  );
}

/** log(softmax(x)) along `axis`: x - max - log(sum(exp(x - max))). */
export function logSoftmaxAxis(out: Float32Array, x: Readable, shape: readonly number[], axis: number): void {
  const n = shape[axis];
  const inner = prod(shape, axis + 1);
  const outer = prod(shape, 0, axis);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let max = -Infinity;
      for (let k = 0; k < n; k++) max = Math.max(max, Number(x[base + k * inner]));
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(Number(x[base + k * inner]) - max);
      const log = Math.log(sum);
      for (let k = 0; k < n; k++) out[base + k * inner] = Number(x[base + k * inner]) - max - log;
    }
}

/** Slices of `table` along its first axis picked by `ids` (negative ids count from the end). */
export function takeInto(out: Float32Array, table: Readable, ts: readonly number[], ids: Readable, count: number): void {
  const rows = ts[0];
  const width = prod(ts, 1);
  for (let i = 0; i < count; i++) {
    let id = Number(ids[i]);
    if (id < 0) id += rows;
    if (!(id >= 0 && id < rows)) throw new TfmcRuntimeError(RuntimeMessages.Take_index_0_outside_1, [ids[i], rows]);
    for (let c = 0; c < width; c++) out[i * width + c] = Number(table[id * width + c]);
  }
}

/**
 * A computed integer or boolean output (held as float32 values) into its own dtype's array:
 * integers truncate toward zero; a value that is not finite becomes 0, as Int32Array stores it.
 */
export function storeOutput(out: Int32Array | BigInt64Array | Uint8Array, src: ArrayLike<number>): void {
  if (out instanceof BigInt64Array) {
    for (let i = 0; i < out.length; i++) out[i] = BigInt(Number.isFinite(src[i]) ? Math.trunc(src[i]) : 0);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = src[i];
  }
}
