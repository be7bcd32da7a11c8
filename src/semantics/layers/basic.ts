import { Diagnostics } from "../../diagnostics/messages.js";
import { formatShape, isConst, type Dim } from "../types.js";
import { ERROR, type TensorValue, type Value } from "../values.js";
import type { CallSite, ElaborationState, EvaluatedArgs, LayerDef } from "../elaborator.js";

export const ACTIVATIONS = ["relu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid"] as const;

/** The f32 tensor argument `x` of a layer, checked; undefined after a reported problem. */
export function floatInput(st: ElaborationState, a: EvaluatedArgs, name = "x"): TensorValue | undefined {
  const t = a.tensor(name);
  if (!t || !st.expectDtype(t, ["f32"], a.span(name))) return undefined;
  return t;
}

export function withLastDim(shape: readonly Dim[], d: number): Dim[] {
  return [...shape.slice(0, -1), { value: d }];
}

const unary = (fn: string, doc: string): LayerDef => ({
  doc,
  args: [{ name: "x", kind: "tensor", required: true }],
  elaborate(st, a, site) {
    const x = floatInput(st, a);
    if (!x) return ERROR;
    return st.addNode("activation", { x: x.node }, { fn }, {}, x.type, site.span);
  },
});

export const embedding: LayerDef = {
  doc: "Token embedding, as nn.Embedding: parameter `weight` [num, dim]; `tied = label` shares another embedding's table.",
  args: [
    { name: "ids", kind: "tensor", required: true },
    { name: "num", kind: "int" },
    { name: "dim", kind: "int" },
    { name: "padding_idx", kind: "int", keywordOnly: true },
    { name: "tied", kind: "label", keywordOnly: true },
  ],
  elaborate(st, a, site) {
    const ids = a.tensor("ids");
    if (!ids || a.anyError() || !st.expectDtype(ids, ["i32", "i64"], a.span("ids"))) return ERROR;
    let weight: string;
    let shape: readonly number[];
    const tied = a.get("tied");
    if (tied?.kind === "string") {
      const label = st.resolveLabel(tied.value)!;
      if (label.layer !== "embedding") return st.error(Diagnostics.Tied_0_is_1, a.span("tied"), [tied.value, `a '${label.layer}' layer`]);
      // The tied layer failed and was reported; its weight does not exist.
      if (label.params.weight === undefined) return ERROR;
      weight = label.params.weight;
      shape = st.params.get(weight)!.shape;
      for (const [arg, i] of [["num", 0], ["dim", 1]] as const) {
        const v = a.get(arg);
        if (v?.kind === "int" && v.value !== shape[i]) return st.error(Diagnostics.Value_0_must_be_1, a.span(arg), [arg, `${shape[i]} as in the tied embedding, got ${v.value}`]);
      }
    } else {
      for (const arg of ["num", "dim"]) if (!a.has(arg)) return st.error(Diagnostics.Missing_argument_0_for_1, site.calleeSpan, [arg, site.name]);
      const num = st.asPositiveInt(a.get("num")!, a.span("num"), "the number of embeddings");
      const dim = st.asPositiveInt(a.get("dim")!, a.span("dim"), "the embedding width");
      if (num === undefined || dim === undefined) return ERROR;
      shape = [num, dim];
      weight = st.addParam("weight", [num, dim], site.span);
    }
    const [num, dim] = shape;
    return st.addNode("embedding", { ids: ids.node }, { num, dim }, { weight }, { dtype: "f32", shape: [...ids.type.shape, { value: dim }] }, site.span);
  },
};

/** How a projection's weight is stored: nn.Linear's [out, in], or GPT-2's Conv1D [in, out] (y = x W + b). */
export const LAYOUTS = ["linear", "conv1d"] as const;

export const linear: LayerDef = {
  doc: "y = x W^T + b, as nn.Linear: `weight` [out, in], `bias` [out]; `layout = conv1d`: `weight` [in, out] (y = x W + b, as GPT-2's Conv1D). `tied = label` reuses an embedding's weight.",
  args: [
    { name: "x", kind: "tensor", required: true },
    { name: "out", kind: "int" },
    { name: "bias", kind: "bool", keywordOnly: true },
    { name: "tied", kind: "label", keywordOnly: true },
    { name: "layout", kind: "choice", choices: LAYOUTS, keywordOnly: true },
  ],
  elaborate(st, a, site) {
    const x = floatInput(st, a);
    if (!x || a.anyError()) return ERROR;
    const inDim = st.lastDimConst(x, a.span("x"), "the input of linear");
    if (inDim === undefined) return ERROR;
    const tiedName = a.get("tied");
    const layout = a.choice("layout", "linear");
    let out: number | undefined;
    let weight: string;
    if (tiedName?.kind === "string" && layout !== "linear") {
      return st.error(Diagnostics.Value_0_must_be_1, a.span("layout"), ["the layout of a tied head", "linear (the embedding's table is [num, dim])"]);
    } else if (tiedName?.kind === "string") {
      const label = st.resolveLabel(tiedName.value);
      if (!label) return ERROR; // reported when the label was read
      if (label.layer !== "embedding") return st.error(Diagnostics.Tied_0_is_1, a.span("tied"), [tiedName.value, `a '${label.layer}' layer`]);
      if (label.params.weight === undefined) return ERROR; // the tied layer failed and was reported
      const shape = st.params.get(label.params.weight)!.shape;
      if (shape[1] !== inDim) return st.error(Diagnostics.Inner_dims_0_and_1, a.span("x"), [`input width ${inDim}`, `the tied embedding's width ${shape[1]}`]);
      if (a.has("out")) {
        const o = st.asPositiveInt(a.get("out")!, a.span("out"), "the output width");
        if (o !== undefined && o !== shape[0]) return st.error(Diagnostics.Value_0_must_be_1, a.span("out"), ["the output width of a tied head", `${shape[0]} (the embedding's rows), got ${o}`]);
      }
      out = shape[0];
      weight = label.params.weight;
    } else {
      if (!a.has("out")) return st.error(Diagnostics.Missing_argument_0_for_1, site.calleeSpan, ["out", site.name]);
      out = st.asPositiveInt(a.get("out")!, a.span("out"), "the output width");
      if (out === undefined) return ERROR;
      weight = st.addParam("weight", layout === "conv1d" ? [inDim, out] : [out, inDim], site.span);
    }
    const params: Record<string, string> = { weight };
    if (a.bool("bias", tiedName === undefined)) params.bias = st.addParam("bias", [out], site.span);
    return st.addNode("linear", { x: x.node }, { in: inDim, out, ...(layout === "linear" ? {} : { layout }) }, params, { dtype: "f32", shape: withLastDim(x.type.shape, out) }, site.span);
  },
};

const normArgs = (defaultEps: string) => [
  { name: "x", kind: "tensor" as const, required: true },
  { name: "eps", kind: "number" as const, keywordOnly: true },
  { name: "affine", kind: "bool" as const, keywordOnly: true },
  ...(defaultEps === "layer" ? [{ name: "bias", kind: "bool" as const, keywordOnly: true }] : []),
];

function norm(kind: "layer_norm" | "rms_norm", st: ElaborationState, a: EvaluatedArgs, site: CallSite): Value {
  const x = floatInput(st, a);
  if (!x || a.anyError()) return ERROR;
  const d = st.lastDimConst(x, a.span("x"), kind);
  if (d === undefined) return ERROR;
  const eps = a.number("eps", kind === "layer_norm" ? 1e-5 : 1e-6);
  if (!(eps > 0)) return st.error(Diagnostics.Value_0_must_be_1, a.span("eps"), ["eps", `positive, got ${eps}`]);
  const params: Record<string, string> = {};
  if (a.bool("affine", true)) {
    params.weight = st.addParam("weight", [d], site.span);
    if (kind === "layer_norm" && a.bool("bias", true)) params.bias = st.addParam("bias", [d], site.span);
  }
  return st.addNode(kind, { x: x.node }, { eps, dim: d }, params, x.type, site.span);
}

export const layer_norm: LayerDef = {
  doc: "LayerNorm over the last dimension (biased variance, eps inside the root): `weight`, `bias` [d].",
  args: normArgs("layer"),
  elaborate: (st, a, site) => norm("layer_norm", st, a, site),
};

export const rms_norm: LayerDef = {
  doc: "RMSNorm over the last dimension: `weight` [d].",
  args: normArgs("rms"),
  elaborate: (st, a, site) => norm("rms_norm", st, a, site),
};

export const relu = unary("relu", "max(x, 0)");
export const gelu_tanh = unary("gelu_tanh", "GELU, tanh approximation: the same as gelu(x, approximate = tanh)");
export const silu = unary("silu", "x * sigmoid(x)");
export const tanh = unary("tanh", "tanh(x)");
export const sigmoid = unary("sigmoid", "1 / (1 + exp(-x))");

export const gelu: LayerDef = {
  doc: "GELU, exact (erf) or with `approximate = tanh`.",
  args: [
    { name: "x", kind: "tensor", required: true },
    { name: "approximate", kind: "choice", choices: ["none", "tanh"], keywordOnly: true },
  ],
  elaborate(st, a, site) {
    const x = floatInput(st, a);
    if (!x || a.anyError()) return ERROR;
    const fn = a.choice("approximate", "none") === "tanh" ? "gelu_tanh" : "gelu";
    return st.addNode("activation", { x: x.node }, { fn }, {}, x.type, site.span);
  },
};

export const dropout: LayerDef = {
  doc: "Dropout: the identity at inference.",
  args: [
    { name: "x", kind: "tensor", required: true },
    { name: "p", kind: "number" },
  ],
  elaborate(st, a) {
    const x = a.tensor("x");
    if (!x) return ERROR;
    const p = a.number("p", 0);
    if (!(p >= 0 && p < 1)) return st.error(Diagnostics.Value_0_must_be_1, a.span("p"), ["dropout probability", `in [0, 1), got ${p}`]);
    return x;
  },
};

function normaliseAxis(st: ElaborationState, axis: number, rank: number, span: CallSite["span"]): number | undefined {
  const ax = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || ax < 0 || ax >= rank) {
    st.error(Diagnostics.Value_0_must_be_1, span, ["the dimension", `between ${-rank} and ${rank - 1}, got ${axis}`]);
    return undefined;
  }
  return ax;
}

export const softmax: LayerDef = {
  doc: "Softmax along `dim` (default the last), subtracting the maximum.",
  args: [
    { name: "x", kind: "tensor", required: true },
    { name: "dim", kind: "int" },
  ],
  elaborate(st, a, site) {
    const x = floatInput(st, a);
    if (!x || a.anyError()) return ERROR;
    const axis = normaliseAxis(st, a.number("dim", -1), x.type.shape.length, a.span("dim"));
    if (axis === undefined) return ERROR;
    return st.addNode("softmax", { x: x.node }, { axis }, {}, x.type, site.span);
  },
};

export const transpose: LayerDef = {
  doc: "Swaps two dimensions (default the last two).",
  args: [
    { name: "x", kind: "tensor", required: true },
    { name: "dim0", kind: "int" },
    { name: "dim1", kind: "int" },
  ],
  elaborate(st, a, site) {
    const x = a.tensor("x");
    if (!x || a.anyError()) return ERROR;
    const rank = x.type.shape.length;
    if (rank < 2) return st.error(Diagnostics.Rank_0_expected_1_for_2, a.span("x"), [rank, "at least 2", "transpose"]);
    const d0 = normaliseAxis(st, a.number("dim0", -2), rank, a.span("dim0"));
    const d1 = normaliseAxis(st, a.number("dim1", -1), rank, a.span("dim1"));
    if (d0 === undefined || d1 === undefined) return ERROR;
    const shape = [...x.type.shape];
    [shape[d0], shape[d1]] = [shape[d1], shape[d0]];
    return st.addNode("transpose", { x: x.node }, { dim0: d0, dim1: d1 }, {}, { dtype: x.type.dtype, shape }, site.span);
  },
};

export const add_norm: LayerDef = {
  doc: "Post-norm residual: layer_norm(x + y), with the norm's `weight` and `bias` (`bias = false`: none).",
  args: [
    { name: "x", kind: "tensor", required: true },
    { name: "y", kind: "tensor", required: true },
    { name: "eps", kind: "number", keywordOnly: true },
    { name: "bias", kind: "bool", keywordOnly: true },
  ],
  elaborate(st, a, site) {
    const x = floatInput(st, a);
    const y = floatInput(st, a, "y");
    if (!x || !y || a.anyError()) return ERROR;
    if (formatShape(x.type.shape) !== formatShape(y.type.shape)) {
      return st.error(Diagnostics.Cannot_broadcast_0_and_1, a.span("y"), [formatShape(x.type.shape), formatShape(y.type.shape)]);
    }
    const d = st.lastDimConst(x, a.span("x"), "add_norm");
    if (d === undefined) return ERROR;
    const eps = a.number("eps", 1e-5);
    const params: Record<string, string> = { weight: st.addParam("weight", [d], site.span) };
    if (a.bool("bias", true)) params.bias = st.addParam("bias", [d], site.span);
    return st.addNode("add_norm", { x: x.node, y: y.node }, { eps, dim: d }, params, x.type, site.span);
  },
};

/** The positions of a table of `max` rows need the length bounded by `max`. */
function checkLengthBound(st: ElaborationState, length: Dim, max: number, span: CallSite["span"], what: string): boolean {
  if (isConst(length)) {
    if (length.value > max) {
      st.error(Diagnostics.Value_0_must_be_1, span, ["the length", `at most ${max} for ${what}, got ${length.value}`]);
      return false;
    }
    return true;
  }
  const bound = st.symbols.get(length.sym)?.max;
  if (bound === undefined || bound > max) {
    st.error(Diagnostics.Positions_need_bound_0_1, span, [what, max, length.sym]);
    return false;
  }
  return true;
}

export const learned_positions: LayerDef = {
  doc: "Learned positions 0..length-1 from a table `weight` [max, dim]; the result is [length, dim].",
  args: [
    { name: "length", kind: "dim", required: true },
    { name: "max", kind: "int", required: true },
    { name: "dim", kind: "int", required: true },
  ],
  elaborate(st, a, site) {
    if (a.anyError()) return ERROR;
    const length = st.asDim(a.get("length")!, a.span("length"), "the length");
    const max = st.asPositiveInt(a.get("max")!, a.span("max"), "the number of positions");
    const dim = st.asPositiveInt(a.get("dim")!, a.span("dim"), "the width");
    if (!length || max === undefined || dim === undefined) return ERROR;
    if (!checkLengthBound(st, length, max, a.span("length"), "learned_positions")) return ERROR;
    const weight = st.addParam("weight", [max, dim], site.span);
    return st.addNode("learned_positions", {}, { max, dim, length: isConst(length) ? length.value : length.sym }, { weight }, { dtype: "f32", shape: [length, { value: dim }] }, site.span);
  },
};

export const sinusoidal_positions: LayerDef = {
  doc: "Sinusoidal positions of Vaswani et al.: sin on even, cos on odd columns; the result is [length, dim].",
  args: [
    { name: "length", kind: "dim", required: true },
    { name: "dim", kind: "int", required: true },
    { name: "base", kind: "number", keywordOnly: true },
  ],
  elaborate(st, a, site) {
    if (a.anyError()) return ERROR;
    const length = st.asDim(a.get("length")!, a.span("length"), "the length");
    const dim = st.asPositiveInt(a.get("dim")!, a.span("dim"), "the width");
    if (!length || dim === undefined) return ERROR;
    if (dim % 2 !== 0) return st.error(Diagnostics.Value_0_must_be_1, a.span("dim"), ["the width of sinusoidal positions", `even, got ${dim}`]);
    const base = a.number("base", 10000);
    if (!(base > 1)) return st.error(Diagnostics.Value_0_must_be_1, a.span("base"), ["base", `greater than 1, got ${base}`]);
    return st.addNode("sinusoidal_positions", {}, { dim, base, length: isConst(length) ? length.value : length.sym }, {}, { dtype: "f32", shape: [length, { value: dim }] }, site.span);
  },
};
