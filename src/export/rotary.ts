import { isConst } from "../semantics/types.js";
import type { ExportCtx } from "./context.js";
import { int } from "./onnxBuilder.js";

// Rotary position embeddings (ir/ops/rotary.ts) in ONNX: out = x · C + x[partner] · S, where
// per position p and feature j, C is cos(angle) (1 for the features that pass through) and S is
// ±sin(angle) (0 there), and partner(j) is the other feature of j's pair. The tables are made in
// float64 and stored as float32, for every position up to the sequence's bound, then sliced.

export interface RopeTables {
  readonly partner: number[];
  /** Per feature: -1 or 1 for the two of a pair, 0 for a feature that passes through. */
  readonly sign: number[];
  readonly freq: number[];
  readonly cos: Float64Array;
  readonly sin: Float64Array;
}

/** Tables [rows, D] for positions 0 .. rows - 1. */
export function ropeTables(theta: number, dim: number, interleaved: boolean, D: number, rows: number): RopeTables {
  const partner = Array.from({ length: D }, (_, j) => j);
  const sign = new Array<number>(D).fill(0);
  const freq = new Array<number>(D).fill(0);
  for (let i = 0; i < dim / 2; i++) {
    const [a, b] = interleaved ? [2 * i, 2 * i + 1] : [i, i + dim / 2];
    partner[a] = b;
    partner[b] = a;
    sign[a] = -1;
    sign[b] = 1;
    freq[a] = freq[b] = Math.pow(theta, (-2 * i) / dim);
  }
  const cos = new Float64Array(rows * D);
  const sin = new Float64Array(rows * D);
  for (let p = 0; p < rows; p++)
    for (let j = 0; j < D; j++) {
      cos[p * D + j] = sign[j] === 0 ? 1 : Math.cos(p * freq[j]);
      sin[p * D + j] = sign[j] * Math.sin(p * freq[j]);
    }
  return { partner, sign, freq, cos, sin };
}

/**
 * The rope node over [..., T, D]. `positions` (int64 [B, T], a decoder's position_ids) gives each
 * row's own positions: the tables are then [B, T, D], with an axis of 1 added for each axis of x
 * between the batch and the sequence (the heads).
 */
export function rope(c: ExportCtx, positions?: string): string {
  const b = c.b;
  const { theta, dim, interleaved } = c.n.attrs as { theta: number; dim: number; interleaved?: boolean };
  const rank = c.n.shape.length;
  const [T, Dd] = c.n.shape.slice(rank - 2);
  const D = isConst(Dd) ? Dd.value : NaN;
  const bound = isConst(T) ? T.value : c.maxOf(T);
  const t = ropeTables(theta, dim, interleaved === true, D, bound ?? 0);
  let cos: string;
  let sin: string;
  if (bound !== undefined) {
    cos = b.table("rope_cos", "f32", [bound, D], t.cos);
    sin = b.table("rope_sin", "f32", [bound, D], t.sin);
    if (positions !== undefined) {
      cos = b.op("Gather", [cos, positions], { axis: int(0) });
      sin = b.op("Gather", [sin, positions], { axis: int(0) });
    } else if (!isConst(T)) {
      const start = b.i64([0]);
      const end = b.op("Add", [start, c.dim(T)]);
      cos = b.op("Slice", [cos, start, end, b.i64([0])]);
      sin = b.op("Slice", [sin, start, end, b.i64([0])]);
    }
  } else {
    // No bound to tabulate up to: angles computed in float32 (p · frequency), exact for positions
    // to a few hundred, within 1e-4 to about a thousand. Features that pass through have frequency 0.
    const ids = positions ?? b.op("Range", [b.scalar(0, "i64"), b.op("Reshape", [c.dim(T), b.i64([])]), b.scalar(1, "i64")]);
    const pos = b.op("Unsqueeze", [c.cast(ids, "i64", "f32"), b.i64([-1])]);
    const angle = b.op("Mul", [pos, b.constant("f32", [1, D], t.freq)]);
    cos = b.op("Cos", [angle]);
    sin = b.op("Mul", [b.op("Sin", [angle]), b.constant("f32", [1, D], t.sign)]);
  }
  if (positions !== undefined && rank > 3) {
    const heads = Array.from({ length: rank - 3 }, (_, k) => k + 1);
    cos = b.op("Unsqueeze", [cos, b.i64(heads)]);
    sin = b.op("Unsqueeze", [sin, b.i64(heads)]);
  }
  const x = c.need(0);
  const turned = b.op("Gather", [x, b.i64(t.partner)], { axis: int(rank - 1) });
  return b.op("Add", [b.op("Mul", [x, cos]), b.op("Mul", [turned, sin])]);
}
