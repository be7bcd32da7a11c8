import type { Op } from "../ir/ops.js";
import { attention, localAttention, maskedSoftmax, maskScoresRule, repeatKvRule } from "./attention.js";
import type { ExportCtx, OnnxRule } from "./context.js";
import { linearAttention, linformerAttention, performerAttention } from "./featureAttention.js";
import { rope } from "./rotary.js";
import { argReduction, concat, dense, expand, gather, logSoftmax, matmul, mergeHeads, permute, reduction, reshape, sinusoidal, slice, sliceLast, sliceRows, splitHeads, take, transpose } from "./layout.js";
import {
  activationRule,
  arange,
  binary,
  cast,
  compare,
  constant,
  floatUnary,
  inputsAs,
  layerNorm,
  logical,
  mod,
  numericUnary,
  rmsNorm,
  rsqrt,
  scalarOp,
  softmax,
  where,
} from "./math.js";

// The ONNX form of every op of the IR, in one table keyed by op: an op added to the IR without
// an entry here does not compile. An entry `{ none }` says why an op has no ONNX form; exporting
// a graph that holds one fails naming the node and its line in the .tfm.

const source = (c: ExportCtx): string => String(c.n.attrs.name);
const width = (c: ExportCtx): number => {
  const d = c.n.shape[c.n.shape.length - 1];
  return "value" in d ? d.value : NaN;
};

export const ONNX: Readonly<Record<Op, OnnxRule>> = {
  // Sources: inputs and parameters are the graph's inputs and initializers, by their names.
  input: source,
  param: source,
  sinusoidal,
  constant,
  arange,
  // Layout and indexing.
  gather,
  take,
  slice_rows: sliceRows,
  slice_last: sliceLast,
  slice,
  transpose,
  permute,
  reshape,
  expand,
  concat,
  split_heads: splitHeads,
  merge_heads: mergeHeads,
  repeat_kv: repeatKvRule,
  // Products.
  dense,
  matmul,
  // Arithmetic.
  // A residual sum that only feeds a norm is `Sum`, which onnxruntime's SkipLayerNormalization
  // fusion leaves apart: that fused kernel is the slower on the bench's machines (docs/export.md).
  add: (c) => binary(c.feedsNormOnly && c.n.dtype === "f32" ? "Sum" : "Add")(c),
  sub: binary("Sub"),
  mul: binary("Mul"),
  div: binary("Div"),
  scalar: scalarOp,
  pow: binary("Pow"),
  maximum: binary("Max"),
  minimum: binary("Min"),
  mod,
  // Math on one tensor.
  exp: floatUnary("Exp"),
  log: floatUnary("Log"),
  sqrt: floatUnary("Sqrt"),
  rsqrt,
  sin: floatUnary("Sin"),
  cos: floatUnary("Cos"),
  abs: numericUnary("Abs"),
  neg: numericUnary("Neg"),
  reciprocal: floatUnary("Reciprocal"),
  floor: floatUnary("Floor"),
  ceil: floatUnary("Ceil"),
  erf: floatUnary("Erf"),
  softplus: floatUnary("Softplus"),
  // Comparisons and logic.
  eq: compare("Equal"),
  ne: compare("Equal", true),
  lt: compare("Less"),
  le: compare("LessOrEqual"),
  gt: compare("Greater"),
  ge: compare("GreaterOrEqual"),
  not: (c) => c.b.op("Not", inputsAs(c, "bool")),
  and: logical("And"),
  or: logical("Or"),
  xor: logical("Xor"),
  where,
  cast,
  // Activations.
  relu: activationRule("relu"),
  gelu: activationRule("gelu"),
  gelu_tanh: activationRule("gelu_tanh"),
  silu: activationRule("silu"),
  tanh: activationRule("tanh"),
  sigmoid: activationRule("sigmoid"),
  // Softmax and norms.
  softmax: (c) => softmax(c.b, c.need(0), c.n.attrs.axis as number, c.guardSoftmax),
  log_softmax: logSoftmax,
  layer_norm: (c) => layerNorm(c.b, c.need(0), width(c), c.n.attrs.eps as number, c.ins[1], c.ins[2]),
  add_layer_norm: (c) => layerNorm(c.b, c.b.op("Sum", [c.need(0), c.need(1)]), width(c), c.n.attrs.eps as number, c.ins[2], c.ins[3]),
  rms_norm: (c) => rmsNorm(c.b, c.need(0), c.n.attrs.eps as number, c.ins[1], width(c)),
  add_rms_norm: (c) => rmsNorm(c.b, c.b.op("Sum", [c.need(0), c.need(1)]), c.n.attrs.eps as number, c.ins[2], width(c)),
  // Reductions.
  sum: reduction("ReduceSum"),
  mean: reduction("ReduceMean"),
  max: reduction("ReduceMax"),
  min: reduction("ReduceMin"),
  argmax: argReduction("ArgMax"),
  argmin: argReduction("ArgMin"),
  // Rotary positions: tables of cosines and sines, and each feature's partner in its pair.
  rope: (c) => rope(c, c.positionIds),
  // Attention: masks, the fused softmax and attention (written out), and the linear-time rewrites.
  mask_scores: maskScoresRule,
  masked_softmax: maskedSoftmax,
  attention,
  local_attention: localAttention,
  linear_attention: linearAttention,
  performer_attention: performerAttention,
  linformer_attention: linformerAttention,
};
