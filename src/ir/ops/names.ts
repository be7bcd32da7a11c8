// The names of the ops that kernels and fusions are built around (the layers lower to them or the
// recognition passes produce them). Tables of their implementations are keyed by this union, so
// an op missing from any of them does not compile.

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
] as const;

export const ATTENTION_OPS = ["mask_scores", "masked_softmax", "attention", "linear_attention", "performer_attention", "linformer_attention", "local_attention"] as const;

export const ELEMENTWISE_OPS = [
  "exp", "log", "sqrt", "rsqrt", "sin", "cos", "abs", "neg", "reciprocal", "floor", "ceil", "erf", "not",
  "pow", "maximum", "minimum", "mod", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor",
  "where", "cast", "constant", "arange",
] as const;

export const LAYOUT_OPS = ["reshape", "permute", "slice", "concat", "expand", "take"] as const;

export const REDUCE_OPS = ["sum", "mean", "max", "min", "argmax", "argmin", "log_softmax"] as const;

export type NnOp = (typeof NN_OPS)[number];
export type ElementwiseOp = (typeof ELEMENTWISE_OPS)[number];
export type LayoutOp = (typeof LAYOUT_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
/** The tensor primitives: each entry written whole in its family file. */
export type PrimitiveOp = ElementwiseOp | LayoutOp | ReduceOp;
export type AttentionOp = (typeof ATTENTION_OPS)[number];
/** The ops whose implementations live in tables of their own (interpreter, shape rules, kernels). */
export type KernelOp = NnOp | AttentionOp;
/** Every op of the IR. */
export type Op = KernelOp | PrimitiveOp;
