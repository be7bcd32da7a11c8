import type { DType } from "../../src/ir/node.js";
import type { Op } from "../../src/ir/ops.js";
import { broadcast, size, Skip } from "./irBuilder.js";
import type { OnnxNode, Tensor } from "./loadOnnxCase.js";
import { constOf, intsOf, known, type Cx, type Value } from "./onnxValues.js";

// ONNX ops as IR primitives, one function per op. Inputs that fix a shape (Reshape's shape,
// Slice's starts, axes, pads, ...) must be known; everything else may be a tensor. The functions
// never look at whether a value is known otherwise: a node of known inputs is folded by running
// the same function on a scratch graph (see onnxValues.ts).

type In = Value | undefined;
type Lower = (cx: Cx, n: OnnxNode, ins: readonly In[]) => Value;

const attr = (n: OnnxNode, name: string): number | undefined => {
  const v = n.attrs.get(name);
  return typeof v === "number" ? v : undefined;
};
const intsAttr = (n: OnnxNode, name: string): number[] | undefined => {
  const v = n.attrs.get(name);
  return Array.isArray(v) ? v : undefined;
};
const axisOf = (a: number, rank: number): number => {
  const k = a < 0 ? a + rank : a;
  if (k < 0 || k >= rank) throw new Error(`axis ${a} outside ${rank} dimensions`);
  return k;
};
const req = (v: In, n: OnnxNode, slot: number): Value => {
  if (!v) throw new Error(`${n.opType}: input ${slot} missing`);
  return v;
};

/** TensorProto.DataType codes of the types the IR holds. */
const DTYPE_OF: Record<number, DType> = { 1: "f32", 6: "i32", 7: "i64", 9: "bool" };
const ONNX_DTYPE: Record<string, DType> = { FLOAT: "f32", INT32: "i32", INT64: "i64", BOOL: "bool" };

export function irDtype(onnx: string): DType {
  const d = ONNX_DTYPE[onnx];
  if (!d) throw new Skip(`${onnx} tensors (tfmc computes in float32; integers and booleans travel as numbers)`);
  return d;
}

export function tensorConst(t: Tensor): Value {
  if (!t.data) throw new Skip(`a ${t.dtype} Constant`);
  return known(irDtype(t.dtype), t.shape, Array.from(t.data as ArrayLike<number | bigint>, Number));
}

const reshape = (cx: Cx, x: Value, shape: readonly number[]): Value => {
  if (size(shape) !== size(cx.shape(x))) throw new Error(`reshape of [${cx.shape(x).join(", ")}] to [${shape.join(", ")}]`);
  return cx.shape(x).join() === shape.join() ? x : cx.op("reshape", [cx.tensor(x)], {}, { shape });
};

const unary =
  (op: Op): Lower =>
  (cx, n, [x]) =>
    cx.op(op, [cx.tensor(req(x, n, 0))]);

/** Elementwise on two or more inputs, folded left (Sum, Max, Min take any number). */
const binary =
  (op: Op, dtype?: "same"): Lower =>
  (cx, n, ins) => {
    const [first, ...rest] = ins.map((v, k) => req(v, n, k));
    return rest.reduce<Value>((acc, y) => cx.op(op, [cx.tensor(acc), cx.tensor(y)], {}, dtype ? { dtype: cx.dtype(acc) } : {}), first);
  };

const INTEGER = new Set<DType>(["i32", "i64"]);

/** add/sub/mul/div keep ONNX's operand type; integer Div truncates, as ONNX's reference does. */
const arithmetic =
  (op: "add" | "sub" | "mul" | "div"): Lower =>
  (cx, n, ins) => {
    const y = binary(op, "same")(cx, n, ins);
    return op === "div" && INTEGER.has(cx.dtype(y)) ? cx.op("cast", [cx.tensor(y)], { to: cx.dtype(y) }) : y;
  };

const cast = (cx: Cx, x: Value, to: DType): Value => (cx.dtype(x) === to ? x : cx.op("cast", [cx.tensor(x)], { to }));

/** Axes from the input `slot` (newer opsets) or the `axes` attribute (older ones). */
const axesOf = (n: OnnxNode, ins: readonly In[], slot: number): number[] | undefined => (ins[slot] ? intsOf(ins[slot], `${n.opType} axes`) : intsAttr(n, "axes"));

const reduction =
  (op: "sum" | "mean" | "max" | "min"): Lower =>
  (cx, n, ins) => {
    const x = req(ins[0], n, 0);
    const rank = cx.shape(x).length;
    let axes = axesOf(n, ins, 1) ?? [];
    if (axes.length === 0) {
      if (attr(n, "noop_with_empty_axes")) return x;
      axes = cx.shape(x).map((_, k) => k);
    }
    if (rank === 0) return x;
    return cx.op(op, [cx.tensor(x)], { axes: axes.map((a) => axisOf(a, rank)).join(","), keepdim: (attr(n, "keepdims") ?? 1) !== 0 });
  };

function unsqueeze(cx: Cx, n: OnnxNode, ins: readonly In[]): Value {
  const x = req(ins[0], n, 0);
  const shape = [...cx.shape(x)];
  const rank = shape.length + (axesOf(n, ins, 1) ?? []).length;
  const axes = (axesOf(n, ins, 1) ?? []).map((a) => axisOf(a, rank)).sort((a, b) => a - b);
  for (const a of axes) shape.splice(a, 0, 1);
  return reshape(cx, x, shape);
}

function squeeze(cx: Cx, n: OnnxNode, ins: readonly In[]): Value {
  const x = req(ins[0], n, 0);
  const shape = cx.shape(x);
  const axes = axesOf(n, ins, 1)?.map((a) => axisOf(a, shape.length));
  return reshape(
    cx,
    x,
    shape.filter((d, k) => (axes ? !axes.includes(k) : d !== 1)),
  );
}

function reshapeOp(cx: Cx, n: OnnxNode, [x, s]: readonly In[]): Value {
  const from = cx.shape(req(x, n, 0));
  const want = intsOf(s, "Reshape's shape");
  const allowZero = attr(n, "allowzero") === 1;
  const shape = want.map((d, k) => (d === 0 && !allowZero ? from[k] : d));
  const free = shape.indexOf(-1);
  if (free >= 0) shape[free] = size(from) / size(shape.filter((_, k) => k !== free));
  return reshape(cx, x!, shape);
}

function flatten(cx: Cx, n: OnnxNode, [x]: readonly In[]): Value {
  const shape = cx.shape(req(x, n, 0));
  const a = attr(n, "axis") ?? 1;
  const axis = a < 0 ? a + shape.length : a;
  return reshape(cx, x!, [size(shape.slice(0, axis)), size(shape.slice(axis))]);
}

function transpose(cx: Cx, n: OnnxNode, [x]: readonly In[]): Value {
  const rank = cx.shape(req(x, n, 0)).length;
  const perm = intsAttr(n, "perm") ?? [...Array(rank).keys()].reverse();
  return perm.every((p, k) => p === k) ? x! : cx.op("permute", [cx.tensor(x!)], { perm: perm.join(",") });
}

function expand(cx: Cx, n: OnnxNode, [x, s]: readonly In[]): Value {
  const from = cx.shape(req(x, n, 0));
  const shape = broadcast(from, intsOf(s, "Expand's shape"));
  if (!shape) throw new Error(`Expand of [${from.join(", ")}] to ${String(constOf(s, "shape").data)}`);
  return shape.join() === from.join() ? x! : cx.op("expand", [cx.tensor(x!)], {}, { shape });
}

function concat(cx: Cx, n: OnnxNode, ins: readonly In[]): Value {
  const xs = ins.map((v, k) => req(v, n, k));
  if (xs.length === 1) return xs[0];
  return cx.op(
    "concat",
    xs.map((v) => cx.tensor(v)),
    { axis: axisOf(attr(n, "axis") ?? 0, cx.shape(xs[0]).length) },
  );
}

/** Slice with positive steps: per axis a start (clamped as ONNX does) and a count. */
function sliceOp(cx: Cx, n: OnnxNode, ins: readonly In[]): Value {
  const x = req(ins[0], n, 0);
  const shape = cx.shape(x);
  const fromInputs = ins.length > 1;
  const starts = fromInputs ? intsOf(ins[1], "Slice starts") : intsAttr(n, "starts")!;
  const ends = fromInputs ? intsOf(ins[2], "Slice ends") : intsAttr(n, "ends")!;
  const axes = (fromInputs ? (ins[3] ? intsOf(ins[3], "Slice axes") : undefined) : intsAttr(n, "axes")) ?? starts.map((_, k) => k);
  const steps = fromInputs && ins[4] ? intsOf(ins[4], "Slice steps") : starts.map(() => 1);
  const begin = shape.map(() => 0);
  const step = shape.map(() => 1);
  const out = [...shape];
  axes.forEach((a, k) => {
    const axis = axisOf(a, shape.length);
    const d = shape[axis];
    if (steps[k] < 1) throw new Skip(`Slice with step ${steps[k]}: the IR's slice steps forward`);
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const [s, e] = [clamp(starts[k]), clamp(ends[k])];
    begin[axis] = s;
    step[axis] = steps[k];
    out[axis] = Math.max(0, Math.ceil((e - s) / steps[k]));
  });
  if (out.join() === shape.join()) return x;
  return cx.op("slice", [cx.tensor(x)], { starts: begin.join(","), steps: step.join(",") }, { shape: out });
}

/** Gather: `take` along axis 0; another axis is moved first and back by permute. */
function gather(cx: Cx, n: OnnxNode, [x, ids]: readonly In[]): Value {
  const shape = cx.shape(req(x, n, 0));
  const idShape = cx.shape(req(ids, n, 1));
  const axis = axisOf(attr(n, "axis") ?? 0, shape.length);
  const order = [axis, ...shape.map((_, k) => k).filter((k) => k !== axis)];
  const table = axis === 0 ? cx.tensor(x!) : cx.op("permute", [cx.tensor(x!)], { perm: order.join(",") }).id;
  const taken = cx.op("take", [table, cx.tensor(ids!)]);
  if (axis === 0) return taken;
  // take gives [ids..., other axes in order]; ONNX wants [axes before, ids..., axes after].
  const q = idShape.length;
  const back = [...Array(axis).keys()].map((k) => q + k);
  return cx.op("permute", [taken.id], { perm: [...back, ...idShape.map((_, k) => k), ...[...Array(shape.length - 1 - axis).keys()].map((k) => q + axis + k)].join(",") });
}

/** Pad (mode constant): positive pads join constant blocks, negative ones slice. */
function pad(cx: Cx, n: OnnxNode, ins: readonly In[]): Value {
  const mode = n.attrs.get("mode") ?? "constant";
  if (mode !== "constant") throw new Skip(`Pad mode ${String(mode)}`);
  let x = req(ins[0], n, 0);
  const rank = cx.shape(x).length;
  const pads = intsOf(ins[1], "Pad's pads");
  const value = ins[2] ? constOf(ins[2], "Pad's value").data[0] : 0;
  const axes = (ins[3] ? intsOf(ins[3], "Pad's axes") : [...Array(rank).keys()]).map((a) => axisOf(a, rank));
  axes.forEach((axis, k) => {
    const [before, after] = [pads[k], pads[k + axes.length]];
    if (before < 0 || after < 0) throw new Skip("Pad with negative pads");
    if (before === 0 && after === 0) return;
    const block = (len: number) => cx.op("constant", [], { value }, { shape: cx.shape(x).map((d, j) => (j === axis ? len : d)), dtype: cx.dtype(x) }).id;
    const parts = [...(before > 0 ? [block(before)] : []), cx.tensor(x), ...(after > 0 ? [block(after)] : [])];
    x = cx.op("concat", parts, { axis });
  });
  return x;
}

function range(cx: Cx, n: OnnxNode, [start, limit, delta]: readonly In[]): Value {
  const [s, l, d] = [start, limit, delta].map((v, k) => constOf(v, `Range input ${k}`).data[0]);
  const count = Math.max(Math.ceil((l - s) / d), 0);
  return cx.op("arange", [], { start: s, step: d }, { shape: [count], dtype: cx.dtype(start!) });
}

function shapeOp(cx: Cx, n: OnnxNode, [x]: readonly In[]): Value {
  const shape = cx.shape(req(x, n, 0));
  const at = (v: number | undefined, dflt: number) => Math.min(Math.max(v === undefined ? dflt : v < 0 ? v + shape.length : v, 0), shape.length);
  const dimsOut = shape.slice(at(attr(n, "start"), 0), at(attr(n, "end"), shape.length));
  return known("i64", [dimsOut.length], dimsOut);
}

function constantOp(_cx: Cx, n: OnnxNode): Value {
  if (n.value) return tensorConst(n.value);
  const f = n.attrs.get("value_float") ?? n.attrs.get("value_floats");
  const i = n.attrs.get("value_int") ?? n.attrs.get("value_ints");
  const v = f ?? i;
  if (v === undefined || v === null || typeof v === "string") throw new Skip(`a Constant of attribute ${[...n.attrs.keys()].join(", ")}`);
  const data = typeof v === "number" ? [v] : v;
  return known(f !== undefined ? "f32" : "i64", typeof v === "number" ? [] : [data.length], f !== undefined ? data.map(Math.fround) : data);
}

function constantOfShape(_cx: Cx, n: OnnxNode, [s]: readonly In[]): Value {
  const shape = intsOf(s, "ConstantOfShape's shape");
  const v = n.value ? constOf(tensorConst(n.value), "value") : { dtype: "f32" as const, data: [0] };
  return known(v.dtype, shape, new Array<number>(size(shape)).fill(v.data[0]));
}

/** MatMul, with numpy's promotion of 1-D operands (a row on the left, a column on the right). */
function matMul(cx: Cx, n: OnnxNode, [a, b]: readonly In[]): Value {
  const [as, bs] = [cx.shape(req(a, n, 0)), cx.shape(req(b, n, 1))];
  const y = cx.op("matmul", [cx.tensor(as.length === 1 ? reshape(cx, a!, [1, as[0]]) : a!), cx.tensor(bs.length === 1 ? reshape(cx, b!, [bs[0], 1]) : b!)]);
  const out = cx.shape(y).filter((_, k, s) => !(bs.length === 1 && k === s.length - 1) && !(as.length === 1 && k === s.length - 2));
  return reshape(cx, y, out);
}

function softmax(cx: Cx, n: OnnxNode, [x]: readonly In[], opset: number): Value {
  if (opset < 13) throw new Skip(`Softmax opset ${opset} (2-D coercion semantics)`);
  const rank = cx.shape(req(x, n, 0)).length;
  return cx.op("softmax", [cx.tensor(x!)], { axis: axisOf(attr(n, "axis") ?? -1, rank) });
}

function castOp(cx: Cx, n: OnnxNode, [x]: readonly In[]): Value {
  const to = DTYPE_OF[attr(n, "to") ?? 0];
  if (!to) throw new Skip(`Cast to ONNX type ${attr(n, "to")}`);
  return cast(cx, req(x, n, 0), to);
}

function mod(cx: Cx, n: OnnxNode, ins: readonly In[]): Value {
  if (attr(n, "fmod")) throw new Skip("Mod with fmod = 1 (C's fmod)");
  return binary("mod")(cx, n, ins);
}

function gelu(cx: Cx, n: OnnxNode, [x]: readonly In[]): Value {
  const approx = n.attrs.get("approximate") ?? "none";
  return cx.op(approx === "tanh" ? "gelu_tanh" : "gelu", [cx.tensor(req(x, n, 0))]);
}

export const LOWER: Record<string, (cx: Cx, n: OnnxNode, ins: readonly In[], opset: number) => Value> = {
  Identity: (_cx, n, [x]) => req(x, n, 0),
  Constant: constantOp,
  ConstantOfShape: constantOfShape,
  Shape: shapeOp,
  Size: (cx, n, [x]) => known("i64", [], [size(cx.shape(req(x, n, 0)))]),
  Range: range,
  Cast: castOp,
  CastLike: (cx, n, [x, like]) => cast(cx, req(x, n, 0), cx.dtype(req(like, n, 1))),
  Reshape: reshapeOp,
  Flatten: flatten,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Expand: expand,
  Concat: concat,
  Slice: sliceOp,
  Gather: gather,
  Pad: pad,
  MatMul: matMul,
  Softmax: softmax,
  ReduceSum: reduction("sum"),
  ReduceMean: reduction("mean"),
  ReduceMax: reduction("max"),
  ReduceMin: reduction("min"),
  Add: arithmetic("add"),
  Sum: arithmetic("add"),
  Sub: arithmetic("sub"),
  Mul: arithmetic("mul"),
  Div: arithmetic("div"),
  Pow: binary("pow"),
  Mod: mod,
  Max: binary("maximum"),
  Min: binary("minimum"),
  Equal: binary("eq"),
  Less: binary("lt"),
  LessOrEqual: binary("le"),
  Greater: binary("gt"),
  GreaterOrEqual: binary("ge"),
  And: binary("and"),
  Or: binary("or"),
  Xor: binary("xor"),
  Where: (cx, n, ins) => cx.op("where", ins.map((v, k) => cx.tensor(req(v, n, k)))),
  Not: unary("not"),
  Sqrt: unary("sqrt"),
  Exp: unary("exp"),
  Log: unary("log"),
  Neg: unary("neg"),
  Abs: unary("abs"),
  Reciprocal: unary("reciprocal"),
  Floor: unary("floor"),
  Ceil: unary("ceil"),
  Erf: unary("erf"),
  Sin: unary("sin"),
  Cos: unary("cos"),
  Tanh: unary("tanh"),
  Relu: unary("relu"),
  Sigmoid: unary("sigmoid"),
  Gelu: gelu,
};
