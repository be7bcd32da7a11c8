import type { ElementwiseOp } from "./elementwise.js";
import type { LayoutOp } from "./layout.js";
import type { ReduceOp } from "./reduce.js";
import type { RotaryOp } from "./rotary.js";

// The names of the ops that kernels and fusions are built around (the layers lower to them or the
// recognition passes produce them). Tables of their implementations are keyed by this union, so
// an op missing from any of them does not compile. The primitives' names are listed in their own
// family files, beside their entries.

export const NN_OPS = [
  "input",
  "param",
  "sinusoidal",
  "gather",
  "slice_rows",
  "slice_last",
  "transpose",
  "split_heads",
  "merge_heads",
  "repeat_kv",
  "dense",
  "matmul",
  "add",
  "sub",
  "mul",
  "div",
  "scalar",
  "relu",
  "gelu",
  "gelu_tanh",
  "silu",
  "tanh",
  "sigmoid",
  "softmax",
  "layer_norm",
  "rms_norm",
  "add_layer_norm",
  "add_rms_norm",
] as const;

export const ATTENTION_OPS = ["mask_scores", "masked_softmax", "attention", "linear_attention", "performer_attention", "linformer_attention", "local_attention"] as const;

export type NnOp = (typeof NN_OPS)[number];
/** The tensor primitives: each entry written whole in its family file. */
export type PrimitiveOp = ElementwiseOp | LayoutOp | ReduceOp | RotaryOp;
export type AttentionOp = (typeof ATTENTION_OPS)[number];
/** The ops whose implementations live in tables of their own (interpreter, shape rules, kernels). */
export type KernelOp = NnOp | AttentionOp;
/** Every op of the IR. */
export type Op = KernelOp | PrimitiveOp;
