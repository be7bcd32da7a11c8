import { num, readElement } from "../../codegen/literals.js";
import { erf } from "../../runtime/math.js";
import { broadcastShapes, shapesEqual } from "../../semantics/shapes.js";
import type { DType } from "../../semantics/types.js";
import type { NodeLabel } from "../node.js";
import { Poly } from "../poly.js";
import { mapTensors, sizeOf } from "./f64.js";
import { fixed, outShapeExpr, positionwise, type KernelTemplate, type OpDef } from "./opDef.js";
import { KernelParams, shapes } from "../../codegen/kernelTypes.js";

/** The ops of this family: each name has its entry below. */
export const ELEMENTWISE_OPS = [
  "exp", "log", "sqrt", "rsqrt", "sin", "cos", "abs", "neg", "reciprocal", "floor", "ceil", "erf", "softplus", "not",
  "pow", "maximum", "minimum", "mod", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor",
  "where", "cast", "constant", "arange",
] as const;
export type ElementwiseOp = (typeof ELEMENTWISE_OPS)[number];

// Elementwise primitives: math on one tensor, arithmetic and comparisons on two (broadcast as
// numpy does), `where`, `cast`, and the constant and range sources. Every dtype travels as numbers
// in the kernels; booleans are 0 and 1.

/** Reads element `i` of an input as a number (64-bit integer inputs arrive as BigInt64Array). */

const outputSize = (n: NodeLabel) => Poly.dims(n.shape);

function unaryKernel(expr: (v: string) => string, uses: string[]): KernelTemplate {
  return (n, [x], ctx) => {
    const p = new KernelParams(ctx);
    const total = p.size("n", n.shape);
    const body = `  for (let i = 0; i < ${total}; i++) { const v = ${readElement(x, "x", "i")}; out[i] = ${expr("v")}; }`;
    return { inputs: ["x"], params: p.params, body, extra: p.extra, uses };
  };
}

function unary(doc: string, f: (v: number) => number, expr: (v: string) => string, uses: string[] = [], dtype?: DType): OpDef {
  return {
    arity: [1, 1],
    kind: "elementwise",
    doc,
    attrs: {},
    label: (n) => n.op,
    fused: () => false,
    infer: ([x]) => x,
    dtype: dtype ? () => dtype : ([x]) => (x === "bool" ? "f32" : x),
    interpret: (_n, [x]) => ({ data: x!.data.map(f), shape: x!.shape }),
    kernel: unaryKernel(expr, uses),
    wasm: "none",
    epilogue: false,
    flops: outputSize,
    session: positionwise,
  };
}

function binaryKernel(f: string): KernelTemplate {
  return (n, [a, b], ctx) => {
    if (shapesEqual(a.shape, n.shape) && shapesEqual(b.shape, n.shape)) {
      const p = new KernelParams(ctx);
      const total = p.size("n", n.shape);
      return {
        inputs: ["a", "b"],
        params: p.params,
        body: `  for (let i = 0; i < ${total}; i++) { const x = ${readElement(a, "a", "i")}; const y = ${readElement(b, "b", "i")}; out[i] = ${f}; }`,
        extra: p.extra,
      };
    }
    return {
      inputs: ["a", "b"],
      params: shapes("as", "bs", "os"),
      body: `  broadcastMap(out, a, as, b, bs, os, (x, y) => ${f});`,
      extra: [ctx.shapeOf(0), ctx.shapeOf(1), outShapeExpr(n, ctx)],
      uses: ["broadcastMap"],
    };
  };
}

const arithmeticDtype = (ins: readonly DType[]): DType => (ins.every((d) => d === "i32" || d === "i64") ? ins[0] : "f32");

function binary(doc: string, f: (x: number, y: number) => number, expr: string, dtype: (ins: readonly DType[]) => DType, kind: "broadcast" = "broadcast"): OpDef {
  return {
    arity: [2, 2],
    kind,
    doc,
    attrs: {},
    label: (n) => n.op,
    fused: () => false,
    infer: ([a, b]) => broadcastShapes(a, b) ?? "operands do not broadcast",
    dtype,
    interpret: (_n, [a, b], shape) => mapTensors([a!, b!], shape, f),
    kernel: binaryKernel(expr),
    wasm: "none",
    epilogue: false,
    flops: outputSize,
    session: positionwise,
  };
}

const bool = () => "bool" as const;
const truth = (c: boolean) => (c ? 1 : 0);

/** Python's modulo: the result takes the divisor's sign (as torch.remainder and ONNX Mod with fmod = 0). */
const pyMod = (x: number, y: number) => {
  const r = x % y;
  return r !== 0 && r < 0 !== y < 0 ? r + y : r;
};

export const ELEMENTWISE: Record<ElementwiseOp, OpDef> = {
  exp: unary("e to the x", Math.exp, (v) => `Math.exp(${v})`),
  log: unary("natural logarithm", Math.log, (v) => `Math.log(${v})`),
  sqrt: unary("square root", Math.sqrt, (v) => `Math.sqrt(${v})`),
  rsqrt: unary("1 / sqrt(x)", (v) => 1 / Math.sqrt(v), (v) => `1 / Math.sqrt(${v})`),
  sin: unary("sine", Math.sin, (v) => `Math.sin(${v})`),
  cos: unary("cosine", Math.cos, (v) => `Math.cos(${v})`),
  abs: unary("absolute value", Math.abs, (v) => `Math.abs(${v})`),
  neg: unary("-x", (v) => -v, (v) => `-${v}`),
  reciprocal: unary("1 / x", (v) => 1 / v, (v) => `1 / ${v}`),
  floor: unary("largest integer <= x", Math.floor, (v) => `Math.floor(${v})`),
  ceil: unary("smallest integer >= x", Math.ceil, (v) => `Math.ceil(${v})`),
  erf: unary("the error function, accurate to float32", erf, (v) => `erf(${v})`, ["erf"]),
  softplus: unary("log(1 + e^x), without overflow for large x", (v) => (v > 20 ? v : Math.log1p(Math.exp(v))), (v) => `${v} > 20 ? ${v} : Math.log1p(Math.exp(${v}))`),
  not: unary("logical not of a boolean tensor", (v) => truth(v === 0), (v) => `${v} !== 0 ? 0 : 1`, [], "bool"),
  pow: binary("x to the power y", (x, y) => x ** y, "x ** y", arithmeticDtype),
  maximum: binary("the larger of x and y (NaN if either is)", Math.max, "Math.max(x, y)", arithmeticDtype),
  minimum: binary("the smaller of x and y (NaN if either is)", Math.min, "Math.min(x, y)", arithmeticDtype),
  mod: binary("x modulo y, with the sign of y", pyMod, "((r) => (r !== 0 && r < 0 !== y < 0 ? r + y : r))(x % y)", arithmeticDtype),
  eq: binary("x == y", (x, y) => truth(x === y), "x === y ? 1 : 0", bool),
  ne: binary("x != y", (x, y) => truth(x !== y), "x !== y ? 1 : 0", bool),
  lt: binary("x < y", (x, y) => truth(x < y), "x < y ? 1 : 0", bool),
  le: binary("x <= y", (x, y) => truth(x <= y), "x <= y ? 1 : 0", bool),
  gt: binary("x > y", (x, y) => truth(x > y), "x > y ? 1 : 0", bool),
  ge: binary("x >= y", (x, y) => truth(x >= y), "x >= y ? 1 : 0", bool),
  and: binary("logical and of boolean tensors", (x, y) => truth(x !== 0 && y !== 0), "x !== 0 && y !== 0 ? 1 : 0", bool),
  or: binary("logical or of boolean tensors", (x, y) => truth(x !== 0 || y !== 0), "x !== 0 || y !== 0 ? 1 : 0", bool),
  xor: binary("logical exclusive or of boolean tensors", (x, y) => truth(x !== 0 !== (y !== 0)), "x !== 0 !== (y !== 0) ? 1 : 0", bool),
  where: {
    arity: [3, 3],
    kind: "broadcast",
    doc: "where(c, a, b): a where c is true, else b (all three broadcast)",
    attrs: {},
    label: (n) => n.op,
    fused: () => false,
    infer: ([c, a, b]) => {
      const ab = broadcastShapes(a, b);
      return (ab && broadcastShapes(c, ab)) ?? "operands do not broadcast";
    },
    dtype: ([, a, b]) => (a === b ? a : "f32"),
    interpret: (_n, [c, a, b], shape) => mapTensors([c!, a!, b!], shape, (m, x, y) => (m !== 0 ? x : y)),
    kernel: (n, [c, a, b], ctx) => {
      if ([c, a, b].every((x) => shapesEqual(x.shape, n.shape))) {
        const p = new KernelParams(ctx);
        const total = p.size("n", n.shape);
        return { inputs: ["c", "a", "b"], params: p.params, body: `  for (let i = 0; i < ${total}; i++) out[i] = ${readElement(c, "c", "i")} !== 0 ? ${readElement(a, "a", "i")} : ${readElement(b, "b", "i")};`, extra: p.extra };
      }
      return {
        inputs: ["c", "a", "b"],
        params: shapes("t0", "as", "bs", "os"),
        body: `  whereInto(out, c, t0, a, as, b, bs, os);`,
        extra: [ctx.shapeOf(0), ctx.shapeOf(1), ctx.shapeOf(2), outShapeExpr(n, ctx)],
        uses: ["whereInto"],
      };
    },
    wasm: "none",
    epilogue: false,
    flops: () => new Poly(),
    session: positionwise,
  },
  cast: {
    arity: [1, 1],
    kind: "elementwise",
    doc: "converts to dtype `to`: integers truncate towards zero, bool is x != 0",
    attrs: { to: "dtype" },
    label: (n) => n.op,
    fused: () => false,
    infer: ([x]) => x,
    dtype: (_ins, n) => n.attrs.to as DType,
    interpret: (n, [x]) => ({ data: x!.data.map(castTo(n.attrs.to as DType)), shape: x!.shape }),
    kernel: (n, [x], ctx) => {
      const to = n.attrs.to as DType;
      const expr = to === "bool" ? "v !== 0 ? 1 : 0" : to === "f32" ? "v" : "Math.trunc(v)";
      return unaryKernel(() => expr, [])(n, [x], ctx);
    },
    wasm: "none",
    epilogue: false,
    flops: () => new Poly(),
    session: positionwise,
  },
  constant: {
    arity: [0, 0],
    kind: "source",
    doc: "a tensor of its shape filled with `value` (an infinity included)",
    attrs: { value: "float" },
    label: (n) => n.op,
    fused: () => false,
    infer: (_ins, n) => n.shape,
    dtype: (_ins, n) => n.dtype,
    interpret: (n, _ins, shape) => ({ data: new Float64Array(sizeOf(shape)).fill(n.attrs.value as number), shape }),
    kernel: (n, _ins, ctx) => {
      const p = new KernelParams(ctx);
      const total = p.size("n", n.shape);
      return { inputs: [], params: p.params, body: `  out.fill(${num(n.attrs.value as number)}, 0, ${total});`, extra: p.extra };
    },
    wasm: "none",
    epilogue: false,
    flops: () => new Poly(),
    session: fixed,
  },
  arange: {
    arity: [0, 0],
    kind: "source",
    doc: "start, start + step, ... : as many as its one dimension",
    attrs: { start: "float", step: "float" },
    label: (n) => n.op,
    fused: () => false,
    infer: (_ins, n) => (n.shape.length === 1 ? n.shape : "arange makes a vector"),
    dtype: (_ins, n) => n.dtype,
    interpret: (n, _ins, shape) => ({ data: Float64Array.from({ length: shape[0] }, (_, i) => (n.attrs.start as number) + i * (n.attrs.step as number)), shape }),
    kernel: (n, _ins, ctx) => {
      const p = new KernelParams(ctx);
      const total = p.size("n", n.shape);
      return { inputs: [], params: p.params, body: `  for (let i = 0; i < ${total}; i++) out[i] = ${num(n.attrs.start as number)} + i * ${num(n.attrs.step as number)};`, extra: p.extra };
    },
    wasm: "none",
    epilogue: false,
    flops: () => new Poly(),
    session: fixed,
  },
};

function castTo(to: DType): (v: number) => number {
  if (to === "bool") return (v) => (v !== 0 ? 1 : 0);
  if (to === "f32") return Math.fround;
  return Math.trunc;
}
