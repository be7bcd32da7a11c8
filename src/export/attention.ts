import { isConst, type Dim } from "../semantics/types.js";
import type { ExportCtx } from "./context.js";
import { softmax } from "./math.js";
import { int, intList, type OnnxBuilder } from "./onnxBuilder.js";

// Masks on attention scores [B, H, L, S] and the attention ops in ONNX. A blocked score becomes
// -inf; a query row with every key blocked gives zeros (see math.ts softmax), never NaN.

/** A length: known, a symbol, or an int64 [1] value computed in the graph (the keys of a cache). */
type Length = Dim | string;

/** Row and column indices [L, 1] and [1, S] (int64), for masks made of positions. */
function positions(c: ExportCtx, L: Length, S: Length): { rows: string; cols: string } {
  const b = c.b;
  const range = (d: Length) =>
    typeof d !== "string" && isConst(d)
      ? b.constant("i64", [d.value], Array.from({ length: d.value }, (_, i) => i))
      : b.op("Range", [b.scalar(0, "i64"), b.op("Reshape", [typeof d === "string" ? d : c.dim(d), b.i64([])]), b.scalar(1, "i64")]);
  return { rows: b.op("Unsqueeze", [range(L), b.i64([1])]), cols: b.op("Unsqueeze", [range(S), b.i64([0])]) };
}

const and = (b: OnnxBuilder, x: string | undefined, y: string): string => (x === undefined ? y : b.op("And", [x, y]));

/** A mask as [B, 1, L, S] or [L, S] (broadcasting over heads); key masks [B, S] as [B, 1, 1, S]. */
function aligned(c: ExportCtx, k: number, keys: boolean): string {
  const m = c.ins[k]!;
  const rank = c.inNodes[k].shape.length;
  if (keys) return rank === 2 ? c.b.op("Unsqueeze", [m, c.b.i64([1, 2])]) : m;
  return rank === 3 ? c.b.op("Unsqueeze", [m, c.b.i64([1])]) : m;
}

/**
 * The scores with the node's masks applied: `roles` name the mask inputs from `first` on
 * (block/keep: boolean, bias: added; `_keys` for [B, S] key masks); `causal` blocks keys after
 * the query. `window` (local attention) keeps keys within w of the query. `keys` (bool, broadcasting
 * to the scores) blocks the keys where it is false for every query: a decoder's attention_mask.
 */
export function maskScores(c: ExportCtx, scores: string, first: number, [L, S]: readonly Length[], window?: number, causalOffset?: string, keys?: string): string {
  const b = c.b;
  const roles = String(c.n.attrs.roles ?? "").split(",").filter(Boolean);
  let allowed: string | undefined = keys;
  let bias: string | undefined;
  roles.forEach((role, i) => {
    const k = first + i;
    if (c.ins[k] === undefined) return; // an optional mask left out: it blocks nothing
    const m = aligned(c, k, role.endsWith("_keys"));
    const dtype = c.inNodes[k].dtype;
    if (role.startsWith("bias")) bias = bias === undefined ? c.cast(m, dtype, "f32") : b.op("Add", [bias, c.cast(m, dtype, "f32")]);
    else {
      const set = c.cast(m, dtype, "bool");
      allowed = and(b, allowed, role.startsWith("block") ? b.op("Not", [set]) : set);
    }
  });
  if (c.n.attrs.causal || window !== undefined) {
    const p = positions(c, L, S);
    const { cols } = p;
    // With a cache, query i is the token at position offset + i: causal is aligned bottom-right.
    const rows = causalOffset === undefined ? p.rows : b.op("Add", [p.rows, causalOffset]);
    if (c.n.attrs.causal) allowed = and(b, allowed, b.op("LessOrEqual", [cols, rows]));
    if (window !== undefined) {
      const gap = b.op("Sub", [rows, cols]);
      allowed = and(b, allowed, b.op("LessOrEqual", [gap, b.scalar(window, "i64")]));
      if (!c.n.attrs.causal) allowed = and(b, allowed, b.op("GreaterOrEqual", [gap, b.scalar(-window, "i64")]));
    }
  }
  let out = bias === undefined ? scores : b.op("Add", [scores, bias]);
  if (allowed !== undefined) out = b.op("Where", [allowed, out, b.scalar(-Infinity)]);
  return out;
}

const scaled = (c: ExportCtx, x: string) => c.b.op("Mul", [x, c.b.scalar(c.n.attrs.scale as number)]);

/** Whether a node's scores may have a row of only -inf: any mask may block a whole row (a causal mask alone keeps key 0). */
const masked = (c: ExportCtx, first: number) => String(c.n.attrs.roles ?? "") !== "" || c.ins.length > first;

const scoreDims = (c: ExportCtx) => c.n.shape.slice(2);

export const maskScoresRule = (c: ExportCtx): string => maskScores(c, c.need(0), 1, scoreDims(c));

export const maskedSoftmax = (c: ExportCtx): string => softmax(c.b, maskScores(c, scaled(c, c.need(0)), 1, scoreDims(c)), -1, masked(c, 1));

/**
/**
 * Keys or values [B, Hk, S, D] repeated for the `groups` query heads that share each of them, as
 * Hugging Face's repeat_kv: [B, Hk, 1, S, D] expanded to [B, Hk, groups, S, D], then [B, Hk·groups, S, D].
 * The expansion broadcasts against [1, 1, groups, 1, 1] and the reshape keeps B and infers S, so
 * it holds for a cache whose length is only known when the graph runs.
 */
export function repeatKv(c: ExportCtx, x: string, [, Hk, , D]: readonly Dim[], groups: number): string {
  if (groups === 1) return x;
  const b = c.b;
  const wide = b.op("Expand", [b.op("Unsqueeze", [x, b.i64([2])]), b.i64([1, 1, groups, 1, 1])]);
  return b.op("Reshape", [wide, b.i64([0, (isConst(Hk) ? Hk.value : NaN) * groups, -1, isConst(D) ? D.value : NaN])]);
}

export const repeatKvRule = (c: ExportCtx): string => repeatKv(c, c.need(0), c.inNodes[0].shape, c.n.attrs.groups as number);

/**
 * softmax(q kᵀ * scale + masks) v, written out: ONNX runs it as MatMul, Softmax, MatMul. Grouped
 * keys and values are repeated for their query heads. With a cache, the past keys and values come
 * first and the whole of them is kept as the present (before the repetition, as Hugging Face's
 * caches hold them).
 */
function attend(c: ExportCtx, window?: number): string {
  const b = c.b;
  let [k, v] = [c.need(1), c.need(2)];
  let S: Length = c.inNodes[1].shape[2];
  if (c.cache) {
    k = b.op("Concat", [c.cache.key, k], { axis: int(2) });
    v = b.op("Concat", [c.cache.value, v], { axis: int(2) });
    c.cache.keep(k, v);
    S = b.opset >= 15 ? b.op("Shape", [k], { start: int(2), end: int(3) }) : b.op("Slice", [b.op("Shape", [k]), b.i64([2]), b.i64([3])]);
  }
  const heads = (i: number) => (isConst(c.inNodes[i].shape[1]) ? (c.inNodes[i].shape[1] as { value: number }).value : NaN);
  const groups = heads(0) / heads(1);
  k = repeatKv(c, k, c.inNodes[1].shape, groups);
  v = repeatKv(c, v, c.inNodes[2].shape, groups);
  const kt = b.op("Transpose", [k], { perm: intList([0, 1, 3, 2]) });
  const scores = scaled(c, b.op("MatMul", [c.need(0), kt]));
  // With a cache, attention_mask may block every key of a query (a left pad's): the softmax is guarded.
  const masks = maskScores(c, scores, 3, [c.n.shape[2], S], window, c.cache ? c.positionOffset : undefined, c.cache?.keys);
  const probs = softmax(b, masks, -1, masked(c, 3) || window !== undefined || c.cache !== undefined);
  return b.op("MatMul", [probs, v]);
}

export const attention = (c: ExportCtx): string => attend(c);

export const localAttention = (c: ExportCtx): string => attend(c, c.n.attrs.window as number);
