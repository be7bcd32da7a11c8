import { ints } from "../ir/ops/opDef.js";
import { sinusoid } from "../runtime/math.js";
import { isConst, type Dim } from "../semantics/types.js";
import { ExportError, type ExportCtx } from "./context.js";
import { activation, inputsAs, reduce } from "./math.js";
import { int, intList } from "./onnxBuilder.js";

// ONNX forms of the layout ops, products, gathers, reductions and position tables.

/** Past the end of any axis: a Slice end meaning "to the end". */
const END = 2 ** 62;

/** A 1-d int64 tensor of `dims` plus `add` (each a constant or a graph-input dimension). */
function offsetDim(c: ExportCtx, d: Dim, add: number): string {
  if (isConst(d)) return c.b.i64([d.value + add]);
  return add === 0 ? c.dim(d) : c.b.op("Add", [c.dim(d), c.b.i64([add])]);
}

export const reshape = (c: ExportCtx): string => {
  const zero = c.n.shape.some((d) => isConst(d) && d.value === 0);
  return c.b.op("Reshape", [c.need(0), c.shape(c.n.shape)], zero ? { allowzero: int(1) } : {});
};

export const permute = (c: ExportCtx): string => c.b.op("Transpose", [c.need(0)], { perm: intList(ints(c.n, "perm")) });

/** Per axis: start (negative from the end), step, and the count the node's shape says. */
export const slice = (c: ExportCtx): string => {
  const starts = ints(c.n, "starts");
  const steps = ints(c.n, "steps");
  const x = c.inNodes[0];
  const axes: number[] = [];
  const s: number[] = [];
  const e: number[] = [];
  const t: number[] = [];
  c.n.shape.forEach((d, k) => {
    if (starts[k] === 0 && steps[k] === 1 && !isConst(d) && !isConst(x.shape[k])) return; // the whole symbolic axis
    const count = isConst(d) ? d.value : NaN;
    const last = starts[k] + (count - 1) * steps[k];
    axes.push(k);
    s.push(starts[k]);
    t.push(steps[k]);
    // The element after the last one read; a negative start whose run reaches the end has no negative end.
    e.push(count === 0 ? starts[k] : starts[k] < 0 && last + 1 >= 0 ? END : last + 1);
  });
  if (axes.length === 0) return c.b.op("Identity", [c.need(0)]);
  return c.b.op("Slice", [c.need(0), c.b.i64(s), c.b.i64(e), c.b.i64(axes), c.b.i64(t)]);
};

export const concat = (c: ExportCtx): string => c.b.op("Concat", inputsAs(c), { axis: int(c.n.attrs.axis as number) });

export const expand = (c: ExportCtx): string => c.b.op("Expand", [c.need(0), c.shape(c.n.shape)]);

/** Rows of a table by integer ids (negative ids count from the end, as in Gather). */
export const take = (c: ExportCtx): string => {
  const ids = c.inNodes[1].dtype === "i32" || c.inNodes[1].dtype === "i64" ? c.need(1) : c.cast(c.need(1), c.inNodes[1].dtype, "i64");
  return c.b.op("Gather", [c.need(0), ids], { axis: int(0) });
};

export const gather = take;

/** Rows start .. start + length of a matrix (the length may be a symbol). */
export const sliceRows = (c: ExportCtx): string => {
  const start = c.n.attrs.start as number;
  if (c.positionIds !== undefined) {
    // A step of a decoder with past: the rows of each new token's position, [B, T, d].
    const ids = start === 0 ? c.positionIds : c.b.op("Add", [c.positionIds, c.b.scalar(start, "i64")]);
    return c.b.op("Gather", [c.need(0), ids], { axis: int(0) });
  }
  return c.b.op("Slice", [c.need(0), c.b.i64([start]), offsetDim(c, c.n.shape[0], start), c.b.i64([0])]);
};

export const sliceLast = (c: ExportCtx): string => {
  const { start, size } = c.n.attrs as { start: number; size: number };
  return c.b.op("Slice", [c.need(0), c.b.i64([start]), c.b.i64([start + size]), c.b.i64([-1])]);
};

export const transpose = (c: ExportCtx): string => {
  const perm = c.n.shape.map((_, k) => k);
  const [a, b] = [c.n.attrs.dim0 as number, c.n.attrs.dim1 as number].map((d) => (d < 0 ? d + perm.length : d));
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return c.b.op("Transpose", [c.need(0)], { perm: intList(perm) });
};

const lit = (d: Dim | undefined): number => (d && isConst(d) ? d.value : NaN);

/** [B, L, W] -> [B, H, L, D], reading H * D columns from `offset`. */
export const splitHeads = (c: ExportCtx): string => {
  const H = lit(c.n.shape[1]);
  const D = lit(c.n.shape[3]);
  const offset = (c.n.attrs.offset as number | undefined) ?? 0;
  let x = c.need(0);
  if (offset !== 0 || lit(c.inNodes[0].shape[2]) !== H * D) x = c.b.op("Slice", [x, c.b.i64([offset]), c.b.i64([offset + H * D]), c.b.i64([-1])]);
  const split = c.b.op("Reshape", [x, c.b.i64([0, 0, H, D])]);
  return c.b.op("Transpose", [split], { perm: intList([0, 2, 1, 3]) });
};

/** [B, H, L, D] -> [B, L, H * D]. */
export const mergeHeads = (c: ExportCtx): string => {
  const moved = c.b.op("Transpose", [c.need(0)], { perm: intList([0, 2, 1, 3]) });
  return c.b.op("Reshape", [moved, c.b.i64([0, 0, lit(c.n.shape[2])])]);
};

/** x times the transpose of w [N, K] (nn.Linear's layout, kept so initializers keep their names), plus bias, then `act`. */
export const dense = (c: ExportCtx): string => {
  const b = c.b;
  const x = c.cast(c.need(0), c.inNodes[0].dtype, "f32");
  let y = b.op("MatMul", [x, b.op("Transpose", [c.need(1)], { perm: intList([1, 0]) })]);
  if (c.ins.length > 2) y = b.op("Add", [y, c.need(2)]);
  return activation(b, (c.n.attrs.act as string | undefined) ?? "none", y);
};

export const matmul = (c: ExportCtx): string => c.b.op("MatMul", inputsAs(c, "f32"));

/**
 * The sinusoidal table [T, d]: a constant when T is known (or bounded: then sliced), else computed.
 * With past, the rows of each new token's position ([B, T, d]).
 */
export const sinusoidal = (c: ExportCtx): string => {
  const b = c.b;
  const [T, dim] = c.n.shape;
  const d = lit(dim);
  const base = c.n.attrs.base as number;
  const rows = isConst(T) ? T.value : c.maxOf(T);
  if (rows !== undefined) {
    const table = b.table("sinusoidal", "f32", [rows, d], Array.from({ length: rows * d }, (_, i) => sinusoid(Math.floor(i / d), i % d, d, base)));
    if (c.positionIds !== undefined) return b.op("Gather", [table, c.positionIds], { axis: int(0) });
    if (isConst(T)) return table;
    return b.op("Slice", [table, b.i64([0]), c.dim(T), b.i64([0])]);
  }
  // angle[p, j] = p / base^(2 floor(j/2) / d); sin on even columns, cos on odd.
  const ids = c.positionIds ?? b.op("Range", [b.scalar(0, "i64"), b.op("Reshape", [c.dim(T), b.i64([])]), b.scalar(1, "i64")]);
  const pos = b.op("Unsqueeze", [b.op("Cast", [ids], { to: int(1) }), b.i64([-1])]);
  const inv = b.constant("f32", [1, d], Array.from({ length: d }, (_, j) => 1 / Math.pow(base, (j - (j % 2)) / d)));
  const angle = b.op("Mul", [pos, inv]);
  const even = b.constant("bool", [1, d], Array.from({ length: d }, (_, j) => (j % 2 === 0 ? 1 : 0)));
  return b.op("Where", [even, b.op("Sin", [angle]), b.op("Cos", [angle])]);
};

/** sum, mean, max, min over `axes`; booleans counted as numbers. */
export const reduction =
  (type: string) =>
  (c: ExportCtx): string => {
    const x = c.cast(c.need(0), c.inNodes[0].dtype, c.n.dtype);
    return reduce(c.b, type, x, ints(c.n, "axes"), c.n.attrs.keepdim === true);
  };

/** ArgMax / ArgMin along one axis (the first index of the extreme, as ours). */
export const argReduction =
  (type: string) =>
  (c: ExportCtx): string => {
    const axes = ints(c.n, "axes");
    if (axes.length !== 1) throw new ExportError(`'${c.n.op}' over ${axes.length} axes has no ONNX form: ONNX's ${type} works along one axis`, c.n.span);
    const x = c.cast(c.need(0), c.inNodes[0].dtype, "f32");
    return c.b.op(type, [x], { axis: int(axes[0]), keepdims: int(c.n.attrs.keepdim === true ? 1 : 0) });
  };

export const logSoftmax = (c: ExportCtx): string => c.b.op("LogSoftmax", [c.cast(c.need(0), c.inNodes[0].dtype, "f32")], { axis: int(c.n.attrs.axis as number) });
