import { ELEMENTWISE } from "./ops/elementwise.js";
import { LAYOUT } from "./ops/layout.js";
import type { OpDef } from "./ops/opDef.js";
import { REDUCE } from "./ops/reduce.js";

/**
 * The tensor primitives, each one entry holding everything the compiler knows of it (see
 * ops/opDef.ts): shape inference, dtype, the float64 reference, the kernel, cost, session rule.
 */
export const PRIMITIVES = { ...ELEMENTWISE, ...LAYOUT, ...REDUCE } as const satisfies Record<string, OpDef>;
export type PrimitiveOp = keyof typeof PRIMITIVES;

/** The primitive entry of an op, if it is one. */
export const primitive = (op: string): OpDef | undefined => (Object.hasOwn(PRIMITIVES, op) ? PRIMITIVES[op as PrimitiveOp] : undefined);

/** One field of every primitive entry, as a table keyed by op. */
export function fromPrimitives<T>(field: (d: OpDef) => T): Record<PrimitiveOp, T> {
  return Object.fromEntries(Object.entries(PRIMITIVES).map(([k, d]) => [k, field(d)])) as Record<PrimitiveOp, T>;
}

/**
 * The one op table. `kind` is the op's fusion kind (as TVM Relay's pattern kinds): passes decide
 * what may fuse from the kind, never from the op's name. `arity` is [min, max] inputs.
 */
import type { FusionKind } from "./ops/opDef.js";

export type { FusionKind };

export interface OpInfo {
  readonly arity: readonly [number, number];
  readonly kind: FusionKind;
  readonly doc: string;
}

export const OPS = {
  input: { arity: [0, 0], kind: "source", doc: "a model input, by name" },
  param: { arity: [0, 0], kind: "source", doc: "a parameter tensor, by name" },
  sinusoidal: { arity: [0, 0], kind: "source", doc: "the sinusoidal position table [length, dim]" },
  gather: { arity: [2, 2], kind: "injective", doc: "rows of a table [V, d] picked by integer ids [...] -> [..., d]" },
  slice_rows: { arity: [1, 1], kind: "injective", doc: "rows start..start+length of a matrix" },
  slice_last: { arity: [1, 1], kind: "injective", doc: "columns start..start+size of the last dimension" },
  transpose: { arity: [1, 1], kind: "injective", doc: "swaps two dimensions" },
  split_heads: { arity: [1, 1], kind: "injective", doc: "[B, L, H*D] -> [B, H, L, D]" },
  merge_heads: { arity: [1, 1], kind: "injective", doc: "[B, H, L, D] -> [B, L, H*D]" },
  dense: { arity: [2, 3], kind: "outFusable", doc: "x [..., K] times the transpose of w [N, K], plus bias [N], then `act` -> [..., N]" },
  matmul: { arity: [2, 2], kind: "outFusable", doc: "batched matrix product with broadcast batch dimensions" },
  add: { arity: [2, 2], kind: "broadcast", doc: "a + b" },
  sub: { arity: [2, 2], kind: "broadcast", doc: "a - b" },
  mul: { arity: [2, 2], kind: "broadcast", doc: "a * b" },
  div: { arity: [2, 2], kind: "broadcast", doc: "a / b" },
  scalar: { arity: [1, 1], kind: "elementwise", doc: "x op c (or c op x when reversed) for a constant c" },
  relu: { arity: [1, 1], kind: "elementwise", doc: "max(x, 0)" },
  gelu: { arity: [1, 1], kind: "elementwise", doc: "x * Phi(x), exact (erf)" },
  gelu_tanh: { arity: [1, 1], kind: "elementwise", doc: "GELU, tanh approximation" },
  silu: { arity: [1, 1], kind: "elementwise", doc: "x * sigmoid(x)" },
  tanh: { arity: [1, 1], kind: "elementwise", doc: "tanh(x)" },
  sigmoid: { arity: [1, 1], kind: "elementwise", doc: "1 / (1 + exp(-x))" },
  softmax: { arity: [1, 1], kind: "reduction", doc: "softmax along an axis; a row of only -inf gives zeros" },
  layer_norm: { arity: [1, 3], kind: "reduction", doc: "normalise the last dimension, then weight and bias" },
  rms_norm: { arity: [1, 2], kind: "reduction", doc: "divide the last dimension by its root mean square, then weight" },
  add_layer_norm: { arity: [2, 4], kind: "reduction", doc: "layer_norm(a + b): the residual add fused into the norm" },
  masked_softmax: {
    arity: [1, 7],
    kind: "reduction",
    doc: "softmax(scores * scale with masks applied) in one pass over the scores",
  },
  attention: {
    arity: [3, 9],
    kind: "opaque",
    doc: "softmax(q k^T * scale + masks) v with an online softmax: the [L, S] scores are never stored",
  },
  linear_attention: {
    arity: [3, 5],
    kind: "opaque",
    doc: "linear attention with features elu(x) + 1; causal by prefix sums; key masks drop keys",
  },
  performer_attention: {
    arity: [3, 5],
    kind: "opaque",
    doc: "FAVOR+ with seeded orthogonal positive random features estimating softmax attention",
  },
  linformer_attention: {
    arity: [5, 7],
    kind: "opaque",
    doc: "softmax attention against keys and values projected along the sequence to k rows (E, F)",
  },
  local_attention: {
    arity: [3, 9],
    kind: "opaque",
    doc: "softmax attention within a window of w positions on each side (or behind, when causal)",
  },
  mask_scores: {
    arity: [1, 7],
    kind: "broadcast",
    doc: "attention scores [B, H, L, S] with masks applied: blocked positions become -inf, float masks add",
  },
  ...PRIMITIVES,
} as const satisfies Record<string, OpInfo>;

export type Op = keyof typeof OPS;

export const ALL_OPS = Object.keys(OPS) as Op[];

/** The roles of mask inputs of `mask_scores`, in the order of its inputs after the scores. */
export const MASK_ROLES = ["block", "keep", "bias", "block_keys", "keep_keys", "bias_keys"] as const;
export type MaskRole = (typeof MASK_ROLES)[number];
