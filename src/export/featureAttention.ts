import { orthogonalFeatures } from "../runtime/features.js";
import { isConst, type Dim } from "../semantics/types.js";
import type { ExportCtx } from "./context.js";
import { reduce, softmax } from "./math.js";
import { intList, type OnnxBuilder } from "./onnxBuilder.js";

// tfmc's linear-time attention rewrites (ir/interpretAttention.ts) in ONNX. Linear attention and
// Performer are attention through feature maps φ: out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j),
// 0 where the denominator is 0. Without a causal mask the sums are formed once ([D, Dv] per head:
// linear in the length); causal, query i sums keys j <= i, written as the masked product of the
// features (onnxruntime has no prefix sum over matrices). Key masks drop keys. Linformer projects
// keys and values along the sequence, then runs softmax attention over the projected rows.

const lit = (d: Dim | undefined): number => (d && isConst(d) ? d.value : NaN);

/** 1 for the keys the node's key masks keep, 0 for the others: [B, S] (float), or undefined without key masks. */
function keptKeys(c: ExportCtx, first: number): string | undefined {
  const b = c.b;
  const roles = String(c.n.attrs.roles ?? "").split(",").filter(Boolean);
  let keep: string | undefined;
  roles.forEach((role, i) => {
    const k = first + i;
    if (c.ins[k] === undefined || !role.endsWith("_keys") || role.startsWith("bias")) return;
    const set = c.cast(c.ins[k]!, c.inNodes[k].dtype, "bool");
    const m = c.cast(role.startsWith("block") ? b.op("Not", [set]) : set, "bool", "f32");
    keep = keep === undefined ? m : b.op("Mul", [keep, m]);
  });
  return keep;
}

/** Keys [B, H, S, D] with dropped keys zeroed. */
const dropKeys = (b: OnnxBuilder, x: string, keep: string | undefined) => (keep === undefined ? x : b.op("Mul", [x, b.op("Unsqueeze", [keep, b.i64([1, 3])])]));

/** φ(q)ᵀ Σ φ(k) vᵀ / φ(q)ᵀ Σ φ(k), over all kept keys, or causally. */
function throughFeatures(c: ExportCtx, fq: string, fk: string, keep: string | undefined): string {
  const b = c.b;
  const v = c.need(2);
  let num: string;
  let den: string;
  if (!c.n.attrs.causal) {
    const kept = dropKeys(b, fk, keep);
    const kv = b.op("MatMul", [b.op("Transpose", [kept], { perm: intList([0, 1, 3, 2]) }), v]);
    const z = reduce(b, "ReduceSum", kept, [2], true);
    num = b.op("MatMul", [fq, kv]);
    den = reduce(b, "ReduceSum", b.op("Mul", [fq, z]), [3], true);
  } else {
    const L = c.n.shape[2];
    const S = c.inNodes[1].shape[2];
    const range = (d: Dim) => (isConst(d) ? b.constant("i64", [d.value], Array.from({ length: d.value }, (_, i) => i)) : b.op("Range", [b.scalar(0, "i64"), b.op("Reshape", [c.dim(d), b.i64([])]), b.scalar(1, "i64")]));
    const causal = b.op("LessOrEqual", [b.op("Unsqueeze", [range(S), b.i64([0])]), b.op("Unsqueeze", [range(L), b.i64([1])])]);
    let weights = b.op("Where", [causal, b.op("MatMul", [fq, b.op("Transpose", [fk], { perm: intList([0, 1, 3, 2]) })]), b.scalar(0)]);
    if (keep !== undefined) weights = b.op("Mul", [weights, b.op("Unsqueeze", [keep, b.i64([1, 2])])]);
    num = b.op("MatMul", [weights, v]);
    den = reduce(b, "ReduceSum", weights, [3], true);
  }
  const positive = b.op("Greater", [den, b.scalar(0)]);
  return b.op("Where", [positive, b.op("Div", [num, b.op("Where", [positive, den, b.scalar(1)])]), b.scalar(0)]);
}

/** Katharopoulos et al.: φ(x) = elu(x) + 1. */
export const linearAttention = (c: ExportCtx): string => {
  const b = c.b;
  const phi = (x: string) => b.op("Add", [b.op("Elu", [x], { alpha: { f: 1 } }), b.scalar(1)]);
  return throughFeatures(c, phi(c.need(0)), phi(c.need(1)), keptKeys(c, 3));
};

/**
 * FAVOR+ with the node's seeded orthogonal features ω [m, D]: φ(x) = exp(ωᵀx' − |x'|²/2 − c) / √m
 * with x' = x·√scale, c a query's own maximum, or one maximum over all keys of a head.
 */
export const performerAttention = (c: ExportCtx): string => {
  const b = c.b;
  const D = lit(c.inNodes[0].shape[3]);
  const m = c.n.attrs.features as number;
  const w = orthogonalFeatures(m, D, c.n.attrs.seed as number);
  const wt = b.constant("f32", [D, m], Array.from({ length: D * m }, (_, i) => w[(i % m) * D + Math.floor(i / m)]));
  const root = Math.sqrt(c.n.attrs.scale as number);
  const phi = (x: string, query: boolean) => {
    const xs = b.op("Mul", [x, b.scalar(root)]);
    const t = b.op("Sub", [b.op("MatMul", [xs, wt]), b.op("Mul", [reduce(b, "ReduceSum", b.op("Mul", [xs, xs]), [3], true), b.scalar(0.5)])]);
    const top = reduce(b, "ReduceMax", t, query ? [3] : [2, 3], true);
    return b.op("Mul", [b.op("Exp", [b.op("Sub", [t, top])]), b.scalar(1 / Math.sqrt(m))]);
  };
  return throughFeatures(c, phi(c.need(0), true), phi(c.need(1), false), keptKeys(c, 3));
};

/** Wang et al.: K' = E[:, :S] K and V' = F[:, :S] V (dropped keys left out), then softmax attention over the R rows. */
export const linformerAttention = (c: ExportCtx): string => {
  const b = c.b;
  const keep = keptKeys(c, 5);
  const S = c.inNodes[1].shape[2];
  const upTo = isConst(S) ? b.i64([S.value]) : c.dim(S);
  const project = (x: string, p: string) => b.op("MatMul", [b.op("Slice", [p, b.i64([0]), upTo, b.i64([1])]), dropKeys(b, x, keep)]);
  const [k, v] = [project(c.need(1), c.need(3)), project(c.need(2), c.need(4))];
  const scores = b.op("Mul", [b.op("MatMul", [c.need(0), b.op("Transpose", [k], { perm: intList([0, 1, 3, 2]) })]), b.scalar(c.n.attrs.scale as number)]);
  return b.op("MatMul", [softmax(b, scores, -1, false), v]);
};
