import type { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";
import { ints, lit, sameDim } from "../ir/ops/opDef.js";
import { isConst, type Dim } from "../semantics/types.js";
import { rebuild, useCounts, type Pass, type PassContext } from "./pass.js";

// Recognition: a model written in primitives (reshape, permute, @ on transposed weights, where with
// -inf before a softmax) is rewritten into the ops the fusions start from (dense, split_heads,
// merge_heads, mask_scores), the same ops `attention(...)` and `linear(...)` lower to. After these
// passes a hand-written block and a built-in layer meet the same fusions and get the same kernels.


function note(ctx: PassContext, pass: string, n: NodeLabel, message: string): void {
  ctx.notes.push({ pass, kind: "changed", scope: n.scope, message });
}

/** A swap of the last two axes of a matrix (transpose(w) as written). */
const isMatrixTranspose = (t: NodeLabel) => t.op === "transpose" && t.shape.length === 2 && [t.attrs.dim0, t.attrs.dim1].sort().join() === "0,1";

/** Why: `x @ transpose(W)` is nn.Linear; as `dense` it gets the packed GEMM, its epilogue and the QKV fusion. */
export const recognizeDense: Pass = {
  name: "recognize-dense",
  requires: [],
  level: 2,
  why: "rewrites x @ transpose(W) with a matrix W as the dense op linear(...) lowers to",
  run(g, ctx) {
    return rebuild(g, (_id, n, b) => {
      if (n.op !== "matmul") return undefined;
      const [x, t] = n.inputs.map((i) => g.node(i));
      if (!isMatrixTranspose(t) || x.shape.length < 2 || x.dtype !== "f32") return undefined;
      const w = g.node(t.inputs[0]);
      // The dense kernel is specialised to the weight's shape: it must be known when compiling.
      if (!w.shape.every(isConst) || !sameDim(x.shape[x.shape.length - 1], w.shape[1])) return undefined;
      note(ctx, this.name, n, "x @ transpose(W) computed as a dense product");
      return b.add({ ...n, op: "dense", inputs: [b.input(n.inputs[0]), b.input(t.inputs[0])], attrs: {} });
    });
  },
};

/** Why: row blocks of a packed weight (split of in_proj_weight) are what the QKV fusion looks for. */
export const recognizeSlices: Pass = {
  name: "recognize-slices",
  requires: [],
  level: 2,
  why: "rewrites contiguous slices of a matrix's rows or a vector as slice_rows / slice_last",
  run(g, ctx) {
    return rebuild(g, (_id, n, b) => {
      if (n.op !== "slice" || ints(n, "steps").some((s) => s !== 1)) return undefined;
      const x = g.node(n.inputs[0]);
      const starts = ints(n, "starts");
      const rows = lit(x.shape[0]);
      // slice_rows and slice_last are specialised to the sizes: every one must be known when compiling.
      if (!x.shape.every(isConst) || !n.shape.every(isConst)) return undefined;
      if (x.shape.length === 2 && starts[1] === 0 && sameDim(x.shape[1], n.shape[1]) && starts[0] >= 0 && rows !== undefined) {
        note(ctx, this.name, n, "a block of rows as slice_rows");
        return b.add({ ...n, op: "slice_rows", attrs: { start: starts[0] }, inputs: [b.input(n.inputs[0])] });
      }
      if (x.shape.length === 1 && starts[0] >= 0) {
        note(ctx, this.name, n, "a run of a vector as slice_last");
        return b.add({ ...n, op: "slice_last", attrs: { start: starts[0], size: lit(n.shape[0])! }, inputs: [b.input(n.inputs[0])] });
      }
      return undefined;
    });
  },
};

/** Why: heads split and merged by reshape and permute are the layout moves attention's kernels expect. */
export const recognizeHeads: Pass = {
  name: "recognize-heads",
  requires: [],
  level: 2,
  why: "rewrites permute(reshape(x, [B, L, H, D]), [0, 2, 1, 3]) as split_heads and its inverse as merge_heads",
  run(g, ctx) {
    const uses = useCounts(g);
    return rebuild(g, (_id, n, b) => {
      if (n.op === "permute" && ints(n, "perm").join() === "0,2,1,3") {
        const r = g.node(n.inputs[0]);
        if (r.op !== "reshape" || uses.get(n.inputs[0]) !== 1) return undefined;
        const x = g.node(r.inputs[0]);
        const [H, D] = [lit(r.shape[2]), lit(r.shape[3])];
        const ok = x.shape.length === 3 && H !== undefined && D !== undefined && lit(x.shape[2]) === H * D && sameDim(x.shape[0], r.shape[0]) && sameDim(x.shape[1], r.shape[1]);
        if (!ok) return undefined;
        // Heads of one part of a packed projection (q, k, v = split(qkv, 3)): read at an offset of the wide row.
        const offset = columnOffset(g, x);
        if (offset !== undefined && uses.get(r.inputs[0]) === 1) {
          note(ctx, this.name, n, "heads split from a column block of a wider row: split_heads at an offset");
          return b.add({ ...n, op: "split_heads", inputs: [b.input(x.inputs[0])], attrs: { heads: H, offset } });
        }
        note(ctx, this.name, n, "heads split by reshape and permute: split_heads");
        return b.add({ ...n, op: "split_heads", inputs: [b.input(r.inputs[0])], attrs: { heads: H } });
      }
      if (n.op === "reshape" && n.shape.length === 3) {
        const p = g.node(n.inputs[0]);
        if (p.op !== "permute" || ints(p, "perm").join() !== "0,2,1,3" || uses.get(n.inputs[0]) !== 1) return undefined;
        const y = g.node(p.inputs[0]);
        const [H, D] = [lit(y.shape[1]), lit(y.shape[3])];
        const ok = y.shape.length === 4 && H !== undefined && D !== undefined && lit(n.shape[2]) === H * D && sameDim(n.shape[0], y.shape[0]) && sameDim(n.shape[1], y.shape[2]);
        if (!ok) return undefined;
        note(ctx, this.name, n, "heads merged by permute and reshape: merge_heads");
        return b.add({ ...n, op: "merge_heads", inputs: [b.input(p.inputs[0])], attrs: {} });
      }
      return undefined;
    });
  },
};

/** The first column of `x` when it is a block of columns of a [B, L, W] tensor (a part of a split). */
function columnOffset(g: IrGraph, x: NodeLabel): number | undefined {
  if (x.op !== "slice" || x.shape.length !== 3 || ints(x, "steps").some((s) => s !== 1)) return undefined;
  const [s0, s1, s2] = ints(x, "starts");
  const src = g.node(x.inputs[0]);
  if (s0 !== 0 || s1 !== 0 || s2 < 0 || !sameDim(src.shape[0], x.shape[0]) || !sameDim(src.shape[1], x.shape[1])) return undefined;
  return s2;
}

/** The constant value of a node filled with one number, if it is one. */
const constantValue = (n: NodeLabel): number | undefined => (n.op === "constant" ? (n.attrs.value as number) : undefined);

/** `arange(n)` seen through reshapes that only add size-1 axes: its length and the axis it runs along. */
function rangeAlong(g: IrGraph, id: string): { len: Dim; axis: number; rank: number } | undefined {
  const n = g.node(id);
  const src = n.op === "reshape" ? g.node(n.inputs[0]) : n;
  if (src.op !== "arange" || src.attrs.start !== 0 || src.attrs.step !== 1) return undefined;
  const axes = n.shape.map((d, k) => (lit(d) === 1 ? -1 : k)).filter((k) => k >= 0);
  if (axes.length !== 1 || !sameDim(n.shape[axes[0]], src.shape[0])) return undefined;
  return { len: src.shape[0], axis: axes[0], rank: n.shape.length };
}

/**
 * A causal condition over scores [.., L, S]: `i < j` (or `j > i`) blocks a later key; `i >= j`
 * (or `j <= i`) keeps the earlier ones. i runs along the queries, j along the keys.
 */
function causalCondition(g: IrGraph, cond: NodeLabel, scores: NodeLabel): "block" | "keep" | undefined {
  const [a, c] = cond.inputs.map((i) => rangeAlong(g, i));
  if (!a || !c) return undefined;
  const rank = scores.shape.length;
  const rowAxis = (r: { axis: number; rank: number }) => rank - r.rank + r.axis === rank - 2;
  const colAxis = (r: { axis: number; rank: number }) => rank - r.rank + r.axis === rank - 1;
  const [L, S] = [scores.shape[rank - 2], scores.shape[rank - 1]];
  const fits = (row: typeof a, col: typeof a) => rowAxis(row) && colAxis(col) && sameDim(row.len, L) && sameDim(col.len, S) && sameDim(L, S);
  if (fits(a, c)) return cond.op === "lt" ? "block" : cond.op === "ge" ? "keep" : undefined;
  if (fits(c, a)) return cond.op === "gt" ? "block" : cond.op === "le" ? "keep" : undefined;
  return undefined;
}

/**
 * Why: `where(mask, -inf, scores)` before a softmax is a masked softmax; as `mask_scores` (and the
 * scale as a product) it meets the fusions that make one attention kernel of it.
 */
export const recognizeMaskedScores: Pass = {
  name: "recognize-masked-scores",
  requires: [],
  level: 2,
  why: "rewrites where(mask, -inf, scores) feeding a softmax as mask_scores, causal masks built from arange as causal, and scores / c as scores * (1 / c)",
  run(g, ctx) {
    const uses = useCounts(g);
    const feedsSoftmax = new Set<string>();
    for (const id of g.order()) {
      const n = g.node(id);
      if (n.op === "softmax" && n.shape.length === 4 && n.attrs.axis === 3) feedsSoftmax.add(n.inputs[0]);
    }
    const scaled = new Set<string>();
    for (const id of feedsSoftmax) {
      const n = g.node(id);
      const scores = n.op === "where" && uses.get(id) === 1 ? n.inputs[constantValue(g.node(n.inputs[1])) === -Infinity ? 2 : 1] : id;
      const s = g.node(scores);
      if (s.op === "scalar" && s.attrs.op === "/" && !s.attrs.reverse && uses.get(scores) === 1) scaled.add(scores);
    }
    return rebuild(g, (id, n, b) => {
      if (scaled.has(id)) {
        note(ctx, this.name, n, "scores / c as scores * (1 / c)");
        return b.add({ ...n, inputs: [b.input(n.inputs[0])], attrs: { op: "*", value: 1 / (n.attrs.value as number), reverse: false } });
      }
      if (!feedsSoftmax.has(id) || n.op !== "where" || uses.get(id) !== 1 || n.shape.length !== 4) return undefined;
      const [cond, a, c] = n.inputs.map((i) => g.node(i));
      const blocks = constantValue(a) === -Infinity && c.shape.length === 4;
      const keeps = constantValue(c) === -Infinity && a.shape.length === 4;
      if (!blocks && !keeps) return undefined;
      const scoresId = n.inputs[blocks ? 2 : 1];
      const scores = g.node(scoresId);
      const causal = causalCondition(g, cond, scores);
      if (causal !== undefined && causal === (blocks ? "block" : "keep")) {
        note(ctx, this.name, n, "a causal mask built from arange: causal scores");
        return b.add({ ...n, op: "mask_scores", inputs: [b.input(scoresId)], attrs: { roles: "", causal: true } });
      }
      const mask = maskInput(g, n.inputs[0]);
      if (!mask) return undefined;
      const role = `${blocks ? "block" : "keep"}${mask.keys ? "_keys" : ""}`;
      note(ctx, this.name, n, `where(mask, -inf, scores) as scores with a ${role} mask`);
      return b.add({ ...n, op: "mask_scores", inputs: [b.input(scoresId), b.input(mask.id)], attrs: { roles: role, causal: false } });
    });
  },
};

/**
 * A mask the attention kernels read directly: a model input of rank 1, 2 or 4 (right-aligned to the
 * scores), or a key mask [B, S] seen through the reshape that made it [B, 1, 1, S].
 */
function maskInput(g: IrGraph, id: string): { id: string; keys: boolean } | undefined {
  const n = g.node(id);
  const isInput = (x: string) => g.inputs.some((i) => i.node === x && !i.optional);
  if (n.op === "reshape" && n.shape.length === 4 && lit(n.shape[1]) === 1 && lit(n.shape[2]) === 1) {
    // unsqueeze(unsqueeze(m, 1), 1) is two reshapes.
    let srcId = n.inputs[0];
    while (g.node(srcId).op === "reshape") srcId = g.node(srcId).inputs[0];
    const src = g.node(srcId);
    if (isInput(srcId) && src.shape.length === 2 && sameDim(src.shape[0], n.shape[0]) && sameDim(src.shape[1], n.shape[3])) return { id: srcId, keys: true };
  }
  if (isInput(id) && n.dtype === "bool" && [2, 4].includes(n.shape.length)) return { id, keys: false };
  return undefined;
}
