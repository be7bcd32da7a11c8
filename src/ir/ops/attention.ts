import { KERNELS } from "../../codegen/kernels.js";
import { isConst, type Dim } from "../../semantics/types.js";
import type { NodeLabel } from "../node.js";
import { Poly } from "../poly.js";
import { REFERENCE } from "../reference.js";
import { SHAPE_RULES } from "../shapeRules.js";
import type { AttentionOp } from "./names.js";
import type { FlopRule, OpDef } from "./opDef.js";

// Attention: masks on scores, the fused masked softmax, flash attention and the linear-time
// rewrites. Queries are [B, H, L, D], keys [B, H, S, D], values [B, H, S, Dv]. The FLOP counts are
// what each kernel performs (a multiply-add is two), so `tfmc explain` compares the variants.

const lit = (d: Dim): number => (isConst(d) ? d.value : NaN);
const masked = (n: NodeLabel) => Boolean(n.attrs.roles || n.attrs.causal);

/** Per (batch, head): query rows, key rows and the head widths. */
function sizes(ins: readonly NodeLabel[]) {
  const [q, k, v] = ins;
  return { rowsQ: Poly.dims(q.shape.slice(0, 3)), rowsK: Poly.dims(k.shape.slice(0, 3)), keys: Poly.dims(k.shape.slice(2, 3)), D: lit(q.shape[3]), Dv: lit(v.shape[3]) };
}

/** Softmax attention: scores q·kᵀ, the online softmax, probabilities times values. */
const softmaxFlops: FlopRule = (_n, ins) => {
  const { rowsQ, keys, D, Dv } = sizes(ins);
  return rowsQ.mul(keys).scale(2 * (D + Dv) + 5);
};

/** elu(x) + 1 features of queries and keys; Σ φ(k) vᵀ and Σ φ(k); each query's numerator, denominator and quotient. */
const linearFlops: FlopRule = (_n, ins) => {
  const { rowsQ, rowsK, D, Dv } = sizes(ins);
  return rowsK.scale(2 * D * Dv + 2 * D).add(rowsQ.scale(2 * D * Dv + 3 * D + Dv));
};

/** FAVOR+ features (a D-by-F projection, the norm, exp) of queries and keys, then the sums and products of linear attention over F features. */
const performerFlops: FlopRule = (n, ins) => {
  const { rowsQ, rowsK, D, Dv } = sizes(ins);
  const F = n.attrs.features as number;
  const feature = F * (2 * D + 4) + 3 * D;
  return rowsK.scale(feature + 2 * F * Dv + F).add(rowsQ.scale(feature + 2 * F * Dv + 2 * F + Dv));
};

/** Keys and values projected along the sequence to R rows (E, F: [R, S]), then softmax attention over R keys. */
const linformerFlops: FlopRule = (_n, ins) => {
  const { rowsQ, rowsK, D, Dv } = sizes(ins);
  const R = lit(ins[3].shape[0]);
  return rowsK.scale(2 * R * (D + Dv)).add(rowsQ.scale(R * (2 * (D + Dv) + 5)));
};

/** Softmax attention over a window of 2w + 1 keys (w + 1 when causal) per query. */
const localFlops: FlopRule = (n, ins) => {
  const { rowsQ, D, Dv } = sizes(ins);
  const w = n.attrs.window as number;
  return rowsQ.scale((n.attrs.causal ? w + 1 : 2 * w + 1) * (2 * (D + Dv) + 5));
};

const f32 = () => "f32" as const;
const attentionAttrs = { scale: "float", roles: "string", causal: "bool" } as const;

function entry(op: AttentionOp, def: Omit<OpDef, "infer" | "interpret" | "kernel" | "fused" | "epilogue" | "wasm" | "label"> & Partial<Pick<OpDef, "label" | "fused" | "wasm">>): OpDef {
  return { label: (n) => n.op, fused: () => false, wasm: "none", ...def, epilogue: false, infer: SHAPE_RULES[op], interpret: REFERENCE[op], kernel: KERNELS[op] };
}

const rewritten = (op: AttentionOp, doc: string, arity: readonly [number, number], flops: FlopRule, attrs: OpDef["attrs"]): OpDef =>
  entry(op, { arity, kind: "opaque", doc, attrs, dtype: f32, flops, session: "attention" });

/** Before fusion, a score op mixes the whole sequence: sessions need the fused attention. */
const unfused = (n: NodeLabel) => `'${n.op}' mixes positions of the sequence (compile at -O2 to fuse attention)`;

export const ATTENTION: Record<AttentionOp, OpDef> = {
  mask_scores: entry("mask_scores", {
    arity: [1, 7],
    kind: "broadcast",
    doc: "attention scores [B, H, L, S] with masks applied: blocked positions become -inf, float masks add",
    attrs: { roles: "string", causal: "bool" },
    dtype: f32,
    flops: (n) => Poly.dims(n.shape),
    session: unfused,
  }),
  masked_softmax: entry("masked_softmax", {
    arity: [1, 7],
    kind: "reduction",
    doc: "softmax(scores * scale with masks applied) in one pass over the scores",
    attrs: attentionAttrs,
    label: (n) => `masked_softmax [${["scale", ...(masked(n) ? ["mask"] : []), "softmax"].join(" + ")}]`,
    fused: () => true,
    dtype: f32,
    flops: (n) => Poly.dims(n.shape).scale(5),
    session: unfused,
  }),
  attention: entry("attention", {
    arity: [3, 9],
    kind: "opaque",
    doc: "softmax(q k^T * scale + masks) v with an online softmax: the [L, S] scores are never stored",
    attrs: attentionAttrs,
    label: (n) => `attention [${["q·kᵀ", "scale", ...(masked(n) ? ["mask"] : []), "online softmax", "·v"].join(" + ")}]`,
    fused: () => true,
    dtype: f32,
    flops: softmaxFlops,
    session: "attention",
    wasm: "attention",
  }),
  linear_attention: rewritten("linear_attention", "linear attention with features elu(x) + 1; causal by prefix sums; key masks drop keys", [3, 5], linearFlops, { roles: "string", causal: "bool" }),
  performer_attention: rewritten("performer_attention", "FAVOR+ with seeded orthogonal positive random features estimating softmax attention", [3, 5], performerFlops, { ...attentionAttrs, features: "int", seed: "int" }),
  linformer_attention: rewritten("linformer_attention", "softmax attention against keys and values projected along the sequence to k rows (E, F)", [5, 7], linformerFlops, attentionAttrs),
  local_attention: rewritten("local_attention", "softmax attention within a window of w positions on each side (or behind, when causal)", [3, 9], localFlops, { ...attentionAttrs, window: "int" }),
};
