import { broadcastShapes, shapesEqual } from "../semantics/shapes.js";
import { dimEquals, isConst, type Dim } from "../semantics/types.js";
import type { KernelOp } from "./ops/names.js";
import type { ShapeRule } from "./ops/opDef.js";


const same: ShapeRule = (ins) => ins[0];
const c = (value: number): Dim => ({ value });
const declared: ShapeRule = (_ins, n) => n.shape;
const num = (d: Dim | undefined) => (d && isConst(d) ? d.value : NaN);

const broadcast: ShapeRule = (ins) => broadcastShapes(ins[0], ins[1]) ?? "operands do not broadcast";

/** Query heads per key/value head: H / Hk when Hk divides H, else undefined. */
export function groupsOf(H: Dim, Hk: Dim): number | undefined {
  if (dimEquals(H, Hk)) return 1;
  return isConst(H) && isConst(Hk) && Hk.value > 0 && H.value % Hk.value === 0 ? H.value / Hk.value : undefined;
}

/** The linear-time attention kernels read keys and values per query head. */
const sameHeads: ShapeRule = (ins, n) => (ins[1].length === 4 && dimEquals(ins[0][1], ins[1][1]) ? SHAPE_RULES.attention(ins, n) : "q, k, v must be [B, H, L, D], [B, H, S, D], [B, H, S, Dv]");

export const SHAPE_RULES: Record<KernelOp, ShapeRule> = {
  input: declared,
  param: declared,
  sinusoidal: declared,
  // The kernels of gather, slice_rows, slice_last and dense are specialised to these sizes: known when compiling.
  gather: ([table, ids]) => (table.length !== 2 ? "the table must be a matrix" : !table.every(isConst) ? "the table's shape must be known when compiling" : [...ids, table[1]]),
  slice_rows: ([m], n) => {
    const rows = n.shape[0];
    const start = n.attrs.start as number;
    if (m.length !== 2) return "slice_rows takes a matrix";
    if (!isConst(m[1])) return "the matrix's columns must be known when compiling";
    if (isConst(rows) && start + rows.value > num(m[0])) return "rows out of range";
    return [rows, m[1]];
  },
  slice_last: ([x], n) => {
    const start = n.attrs.start as number;
    const size = n.attrs.size as number;
    if (!isConst(x[x.length - 1])) return "the sliced axis must have a length known when compiling";
    if (start + size > num(x[x.length - 1])) return "columns out of range";
    return [...x.slice(0, -1), c(size)];
  },
  transpose: ([x], n) => {
    const s = [...x];
    const [d0, d1] = [n.attrs.dim0 as number, n.attrs.dim1 as number];
    if (d0 >= s.length || d1 >= s.length) return "dimension out of range";
    [s[d0], s[d1]] = [s[d1], s[d0]];
    return s;
  },
  split_heads: ([x], n) => {
    // `offset` picks heads out of a wider row, as when q, k and v come from one packed product.
    const H = n.attrs.heads as number;
    const D = num(n.shape[3]);
    const offset = n.attrs.offset as number | undefined;
    const fits = offset === undefined ? num(x[2]) === H * D : offset + H * D <= num(x[2]);
    if (x.length !== 3 || !fits) return "split_heads takes [B, L, H*D] (or a wider row with an offset)";
    return [x[0], c(H), x[1], c(D)];
  },
  repeat_kv: ([x], n) => {
    const g = n.attrs.groups as number;
    return x.length === 4 && Number.isInteger(g) && g >= 1 && isConst(x[1]) ? [x[0], c(x[1].value * g), x[2], x[3]] : "repeat_kv takes [B, Hkv, S, D] and a whole number of groups";
  },
  merge_heads: ([x]) => (x.length === 4 ? [x[0], x[2], c(num(x[1]) * num(x[3]))] : "merge_heads takes [B, H, L, D]"),
  dense: ([x, w, b]) => {
    if (w.length !== 2 || !dimEquals(x[x.length - 1], w[1])) return "inner dimensions differ";
    if (!w.every(isConst)) return "the weight's shape must be known when compiling";
    if (b && (b.length !== 1 || !dimEquals(b[0], w[0]))) return "the bias must match the output width";
    return [...x.slice(0, -1), w[0]];
  },
  matmul: ([a, b]) => {
    if (a.length < 2 || b.length < 2 || !dimEquals(a[a.length - 1], b[b.length - 2])) return "inner dimensions differ";
    const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
    return batch ? [...batch, a[a.length - 2], b[b.length - 1]] : "batch dimensions do not broadcast";
  },
  add: broadcast,
  sub: broadcast,
  mul: broadcast,
  div: broadcast,
  scalar: same,
  relu: same,
  gelu: same,
  gelu_tanh: same,
  silu: same,
  tanh: same,
  sigmoid: same,
  softmax: same,
  layer_norm: (ins) => (ins.slice(1).every((w) => w.length === 1 && dimEquals(w[0], ins[0][ins[0].length - 1])) ? ins[0] : "weight and bias must match the last dimension"),
  rms_norm: (ins) => (ins.slice(1).every((w) => w.length === 1 && dimEquals(w[0], ins[0][ins[0].length - 1])) ? ins[0] : "weight must match the last dimension"),
  add_layer_norm: (ins) =>
    shapesEqual(ins[0], ins[1]) && ins.slice(2).every((w) => w.length === 1 && dimEquals(w[0], ins[0][ins[0].length - 1]))
      ? ins[0]
      : "operands must have one shape; weight and bias must match the last dimension",
  add_rms_norm: (ins) =>
    shapesEqual(ins[0], ins[1]) && ins.slice(2).every((w) => w.length === 1 && dimEquals(w[0], ins[0][ins[0].length - 1]))
      ? ins[0]
      : "operands must have one shape; weight must match the last dimension",
  masked_softmax: (ins) => (ins[0].length === 4 ? ins[0] : "scores must be [B, H, L, S]"),
  // Keys and values may have fewer heads (grouped-query attention): Hk dividing H, query head h reading key head h / (H / Hk).
  attention: ([q, k, v]) =>
    q.length === 4 && k.length === 4 && v.length === 4 && dimEquals(q[3], k[3]) && dimEquals(k[2], v[2]) && dimEquals(k[1], v[1]) && groupsOf(q[1], k[1]) !== undefined
      ? [q[0], q[1], q[2], v[3]]
      : "q, k, v must be [B, H, L, D], [B, Hk, S, D], [B, Hk, S, Dv] with Hk dividing H",
  linear_attention: (ins, n) => sameHeads(ins, n),
  performer_attention: (ins, n) => sameHeads(ins, n),
  linformer_attention: (ins, n) => sameHeads(ins, n),
  local_attention: (ins, n) => sameHeads(ins, n),
  mask_scores: (ins) => (ins[0].length === 4 ? ins[0] : "scores must be [B, H, L, S]"),
};
