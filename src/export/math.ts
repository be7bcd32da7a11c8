import type { NodeLabel } from "../ir/node.js";
import type { DType } from "../semantics/types.js";
import type { ExportCtx } from "./context.js";
import { float, int, intList, tensorProto, type OnnxBuilder } from "./onnxBuilder.js";

// ONNX forms of elementwise math, activations, norms and softmax. Inputs are converted to the
// dtype the IR says a node computes in, as its kernels do.

const isFloat = (d: DType) => d === "f32";

/** A reduction along `axes` (ReduceSum takes them as an input from opset 13, the others from 18). */
export function reduce(b: OnnxBuilder, type: string, x: string, axes: readonly number[], keepdims: boolean): string {
  const keep = { keepdims: int(keepdims ? 1 : 0) };
  if (type === "ReduceSum" ? b.opset >= 13 : b.opset >= 18) return b.op(type, [x, b.i64(axes)], keep);
  return b.op(type, [x], { ...keep, axes: intList(axes) });
}

/** Each input converted to the node's dtype. */
export const inputsAs = (c: ExportCtx, to: DType = c.n.dtype): string[] => c.ins.map((_, k) => c.cast(c.need(k), c.inNodes[k].dtype, to));

/** A math function ONNX defines on floats: integer and boolean inputs go through float32 and back. */
export const floatUnary =
  (type: string, attrs = {}) =>
  (c: ExportCtx): string => {
    const x = c.cast(c.need(0), c.inNodes[0].dtype, "f32");
    return c.cast(c.b.op(type, [x], attrs), "f32", c.n.dtype);
  };

/** A function ONNX defines on numbers of every type (Neg, Abs). */
export const numericUnary =
  (type: string) =>
  (c: ExportCtx): string =>
    c.b.op(type, inputsAs(c));

export const rsqrt = (c: ExportCtx): string => {
  const x = c.cast(c.need(0), c.inNodes[0].dtype, "f32");
  return c.cast(c.b.op("Reciprocal", [c.b.op("Sqrt", [x])]), "f32", c.n.dtype);
};

export const binary =
  (type: string) =>
  (c: ExportCtx): string =>
    c.b.op(type, inputsAs(c));

/** Python's modulo: integers by Mod (fmod = 0); floats by fmod, moved to the divisor's sign. */
export const mod = (c: ExportCtx): string => {
  const b = c.b;
  const [x, y] = inputsAs(c);
  if (!isFloat(c.n.dtype)) return b.op("Mod", [x, y], { fmod: int(0) });
  const r = b.op("Mod", [x, y], { fmod: int(1) });
  const zero = b.scalar(0);
  const signsDiffer = b.op("Xor", [b.op("Less", [r, zero]), b.op("Less", [y, zero])]);
  const fix = b.op("And", [b.op("Not", [b.op("Equal", [r, zero])]), signsDiffer]);
  return b.op("Where", [fix, b.op("Add", [r, y]), r]);
};

/** Comparisons in a type both operands convert to; `negate` for ne. */
export const compare =
  (type: string, negate = false) =>
  (c: ExportCtx): string => {
    const [a, b] = c.inNodes.map((x) => x.dtype);
    const same = a === b && (a !== "bool" || type === "Equal");
    const common: DType = same ? a : a !== "f32" && b !== "f32" && a !== "bool" && b !== "bool" ? "i64" : "f32";
    const r = c.b.op(type, inputsAs(c, common));
    return negate ? c.b.op("Not", [r]) : r;
  };

/** Logical ops on booleans: any other input counts as x != 0. */
export const logical =
  (type: string) =>
  (c: ExportCtx): string =>
    c.b.op(type, inputsAs(c, "bool"));

export const where = (c: ExportCtx): string => {
  const cond = c.cast(c.need(0), c.inNodes[0].dtype, "bool");
  return c.b.op("Where", [cond, c.cast(c.need(1), c.inNodes[1].dtype, c.n.dtype), c.cast(c.need(2), c.inNodes[2].dtype, c.n.dtype)]);
};

export const cast = (c: ExportCtx): string => c.cast(c.need(0), c.inNodes[0].dtype, c.n.dtype);

/** A filled tensor: an initializer when its shape is known, else ConstantOfShape. */
export const constant = (c: ExportCtx): string => {
  const v = c.n.attrs.value as number;
  const dims = c.n.shape.map((d) => ("value" in d ? d.value : -1));
  if (dims.every((d) => d >= 0)) {
    const count = dims.reduce((a, b) => a * b, 1);
    return c.b.constant(c.n.dtype, dims, new Array<number>(count).fill(v));
  }
  return c.b.op("ConstantOfShape", [c.shape(c.n.shape)], { value: { t: tensorProto("value", c.n.dtype, [1], [v]) } });
};

/** start, start + step, ...: integer positions (Range) scaled and shifted in the node's dtype. */
export const arange = (c: ExportCtx): string => {
  const b = c.b;
  const { start, step } = c.n.attrs as { start: number; step: number };
  const len = c.n.shape[0];
  if ("value" in len) return b.constant(c.n.dtype, [len.value], Array.from({ length: len.value }, (_, i) => start + i * step));
  const count = b.op("Reshape", [c.dim(len), b.i64([])]);
  const ids = b.op("Range", [b.scalar(0, "i64"), count, b.scalar(1, "i64")]);
  if (c.n.dtype !== "f32" && Number.isInteger(start) && Number.isInteger(step)) {
    return c.cast(b.op("Add", [b.op("Mul", [ids, b.scalar(step, "i64")]), b.scalar(start, "i64")]), "i64", c.n.dtype);
  }
  const f = b.op("Add", [b.op("Mul", [c.cast(ids, "i64", "f32"), b.scalar(step)]), b.scalar(start)]);
  return c.cast(f, "f32", c.n.dtype);
};

// Activations, by name: also the epilogue of a fused dense product.

const SQRT1_2 = Math.SQRT1_2;
const GELU_TANH_C = Math.sqrt(2 / Math.PI);

export function activation(b: OnnxBuilder, act: string, x: string): string {
  switch (act) {
    case "relu":
      return b.op("Relu", [x]);
    case "tanh":
      return b.op("Tanh", [x]);
    case "sigmoid":
      return b.op("Sigmoid", [x]);
    case "silu":
      return b.op("Mul", [x, b.op("Sigmoid", [x])]);
    case "gelu":
      if (b.opset >= 20) return b.op("Gelu", [x]);
      // x * 0.5 * (1 + erf(x / sqrt 2))
      return b.op("Mul", [b.op("Mul", [x, b.scalar(0.5)]), b.op("Add", [b.op("Erf", [b.op("Mul", [x, b.scalar(SQRT1_2)])]), b.scalar(1)])]);
    case "gelu_tanh": {
      if (b.opset >= 20) return b.op("Gelu", [x], { approximate: { s: "tanh" } });
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const cube = b.op("Mul", [b.op("Mul", [x, x]), x]);
      const inner = b.op("Mul", [b.op("Add", [x, b.op("Mul", [cube, b.scalar(0.044715)])]), b.scalar(GELU_TANH_C)]);
      return b.op("Mul", [b.op("Mul", [x, b.scalar(0.5)]), b.op("Add", [b.op("Tanh", [inner]), b.scalar(1)])]);
    }
    case "none":
      return x;
    default:
      throw new Error(`internal: no ONNX form for the activation '${act}'`);
  }
}

export const activationRule =
  (act: string) =>
  (c: ExportCtx): string =>
    activation(c.b, act, c.cast(c.need(0), c.inNodes[0].dtype, "f32"));

/** x op c (or c op x): the constant as a float32 scalar. */
export const scalarOp = (c: ExportCtx): string => {
  const { op, value, reverse } = c.n.attrs as { op: "+" | "-" | "*" | "/"; value: number; reverse: boolean };
  const x = c.cast(c.need(0), c.inNodes[0].dtype, "f32");
  const k = c.b.scalar(value);
  const type = { "+": "Add", "-": "Sub", "*": "Mul", "/": "Div" }[op];
  return c.b.op(type, reverse ? [k, x] : [x, k]);
};

/**
 * Whether a softmax input may hold a row of only -inf, which ONNX's Softmax turns into NaN where
 * ours gives zeros. Products of finite values, and their scaling, cannot.
 */
export function mayBeAllMasked(n: NodeLabel, producer: (id: string) => NodeLabel): boolean {
  if (n.op === "matmul" || n.op === "dense") return false;
  // A causal mask alone keeps key 0 for every query.
  if (n.op === "mask_scores" && String(n.attrs.roles ?? "") === "") return mayBeAllMasked(producer(n.inputs[0]), producer);
  if (n.op === "scalar" && (n.attrs.op === "*" || n.attrs.op === "/") && Number.isFinite(n.attrs.value as number) && !n.attrs.reverse) return mayBeAllMasked(producer(n.inputs[0]), producer);
  return true;
}

/** Softmax along `axis`, a row of only -inf giving zeros (as in every tfmc kernel). */
export function softmax(b: OnnxBuilder, x: string, axis: number, guard: boolean): string {
  const y = b.op("Softmax", [x], { axis: int(axis) });
  if (!guard) return y;
  const dead = b.op("Equal", [reduce(b, "ReduceMax", x, [axis], true), b.scalar(-Infinity)]);
  return b.op("Where", [dead, b.scalar(0), y]);
}

/** LayerNormalization from opset 17 (the weight made ones when absent); the same arithmetic before. */
export function layerNorm(b: OnnxBuilder, x: string, width: number, eps: number, w?: string, bias?: string): string {
  if (b.opset >= 17) {
    const scale = w ?? b.constant("f32", [width], new Array<number>(width).fill(1));
    return b.op("LayerNormalization", bias ? [x, scale, bias] : [x, scale], { axis: int(-1), epsilon: float(eps) });
  }
  const centred = b.op("Sub", [x, reduce(b, "ReduceMean", x, [-1], true)]);
  const variance = reduce(b, "ReduceMean", b.op("Mul", [centred, centred]), [-1], true);
  let y = b.op("Div", [centred, b.op("Sqrt", [b.op("Add", [variance, b.scalar(eps)])])]);
  if (w) y = b.op("Mul", [y, w]);
  return bias ? b.op("Add", [y, bias]) : y;
}

/** x / sqrt(mean(x^2) + eps), times the weight: RMSNormalization from opset 23. */
export function rmsNorm(b: OnnxBuilder, x: string, eps: number, w?: string, width?: number): string {
  if (b.opset >= 23 && width !== undefined) {
    const scale = w ?? b.constant("f32", [width], new Array<number>(width).fill(1));
    return b.op("RMSNormalization", [x, scale], { axis: int(-1), epsilon: float(eps) });
  }
  const ms = reduce(b, "ReduceMean", b.op("Mul", [x, x]), [-1], true);
  const y = b.op("Mul", [x, b.op("Reciprocal", [b.op("Sqrt", [b.op("Add", [ms, b.scalar(eps)])])])]);
  return w ? b.op("Mul", [y, w]) : y;
}
