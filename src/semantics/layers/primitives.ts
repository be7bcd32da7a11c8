import { Diagnostics } from "../../diagnostics/messages.js";
import type { Span } from "../../diagnostics/diagnostic.js";
import { primitive, type PrimitiveOp } from "../../ir/ops.js";
import type { NodeLabel } from "../../ir/node.js";
import { intList } from "../../ir/ops/opDef.js";
import { formatShape, isConst, type Attr, type Dim, type DType, type TensorType } from "../types.js";
import { describeValue, ERROR, isNumeric, type TensorValue, type Value } from "../values.js";
import type { ArgSpec } from "../args.js";
import type { ElaborationState, LayerDef } from "../elaborator.js";
import { ROTARY_ARGS, rotaryAttrs } from "./rotary.js";

// The tensor primitives as functions of the language. Each checks its arguments, asks the op
// table for the output shape and dtype, and adds one `prim` node that lowers to that op.

/** Adds a primitive node: the op table infers the shape (unless `shape` is given) and the dtype. */
export function addPrimitive(st: ElaborationState, op: PrimitiveOp, ins: readonly TensorValue[], attrs: Record<string, Attr>, span: Span, shape?: readonly Dim[]): Value {
  const def = primitive(op)!;
  const probe: NodeLabel = { op, inputs: [], shape: shape ?? [], dtype: "f32", attrs, span, scope: "" };
  const inferred = def.infer(
    ins.map((x) => x.type.shape),
    probe,
  );
  if (typeof inferred === "string") return st.error(Diagnostics.Value_0_must_be_1, span, [`the operands of '${op}'`, `compatible: ${inferred}`]);
  const type: TensorType = { dtype: def.dtype(ins.map((x) => x.type.dtype), probe), shape: inferred };
  const inputs = Object.fromEntries(ins.map((x, k) => [`in${k}`, x.node]));
  return st.addNode("prim", inputs, { op, ...attrs }, {}, type, span);
}

/** A tensor operand, or a number made into a constant of shape []. */
function operand(st: ElaborationState, v: Value | undefined, span: Span, what: string): TensorValue | undefined {
  if (v === undefined || v.kind === "error") return undefined;
  if (v.kind === "tensor") {
    if (v.optional) {
      st.error(Diagnostics.Optional_0_used_as_value, span, [v.name ?? what]);
      return undefined;
    }
    return v;
  }
  if (isNumeric(v) || v.kind === "bool") {
    const value = v.kind === "bool" ? Number(v.value) : v.value;
    const dtype: DType = v.kind === "bool" ? "bool" : v.kind === "int" ? "i32" : "f32";
    const c = st.addNode("prim", {}, { op: "constant", value }, {}, { dtype, shape: [] }, span);
    return c;
  }
  st.error(Diagnostics.Expected_0_got_1, span, [`a tensor or a number for ${what}`, describeValue(v)]);
  return undefined;
}

const X = "the input tensor";
const tensorArg = (name: string, doc = X): ArgSpec => ({ name, kind: "any", required: true, doc });

/** An axis in [-rank, rank), normalised; reports and returns undefined otherwise. */
function axis(st: ElaborationState, v: Value | undefined, rank: number, span: Span): number | undefined {
  if (v === undefined || v.kind === "error") return undefined;
  const a = v.kind === "int" ? v.value : NaN;
  const ax = a < 0 ? a + rank : a;
  if (!Number.isInteger(a) || ax < 0 || ax >= rank) {
    st.error(Diagnostics.Value_0_must_be_1, span, ["the dimension", `an integer between ${-rank} and ${rank - 1}, got ${describeValue(v)}`]);
    return undefined;
  }
  return ax;
}

/** The items of a list argument (a single value is a list of one). */
const items = (v: Value | undefined): Value[] | undefined => (v === undefined ? undefined : v.kind === "list" ? [...v.items] : [v]);

/** Dimensions of a list like `[B, T, heads, -1]`: -1 is returned as undefined (to be inferred). */
function dimsOf(st: ElaborationState, v: Value | undefined, span: Span, allowInfer: boolean): (Dim | undefined)[] | undefined {
  const xs = items(v);
  if (!xs) return undefined;
  const out: (Dim | undefined)[] = [];
  for (const x of xs) {
    if (x.kind === "error") return undefined;
    if (allowInfer && x.kind === "int" && x.value === -1) out.push(undefined);
    else if (x.kind === "dim") out.push({ sym: x.sym });
    else if (x.kind === "int" && x.value >= 0) out.push({ value: x.value });
    else {
      st.error(Diagnostics.Expected_0_got_1, span, [`dimensions${allowInfer ? " (or -1 for one to infer)" : ""}`, describeValue(x)]);
      return undefined;
    }
  }
  return out;
}

/** Elements of a shape as a constant factor and a sorted list of symbols. */
function count(shape: readonly Dim[]): { c: number; syms: string[] } {
  return { c: shape.filter(isConst).reduce((a, d) => a * d.value, 1), syms: shape.filter((d) => !isConst(d)).map((d) => (d as { sym: string }).sym).sort() };
}

function reshapeTo(st: ElaborationState, x: TensorValue, dims: (Dim | undefined)[], span: Span): Value {
  const holes = dims.filter((d) => d === undefined).length;
  if (holes > 1) return st.error(Diagnostics.Value_0_must_be_1, span, ["the new shape", "given with at most one -1"]);
  const total = count(x.type.shape);
  const known = count(dims.filter((d): d is Dim => d !== undefined));
  const rest = [...total.syms];
  for (const s of known.syms) {
    const i = rest.indexOf(s);
    if (i < 0) return st.error(Diagnostics.Value_0_must_be_1, span, [`a reshape of ${formatShape(x.type.shape)}`, `to a shape of as many elements (there is no '${s}' to spare)`]);
    rest.splice(i, 1);
  }
  let hole: Dim | undefined;
  if (holes === 1) {
    if (rest.length === 1 && known.c > 0 && total.c === known.c) hole = { sym: rest[0] };
    else if (rest.length === 0 && known.c > 0 && total.c % known.c === 0) hole = { value: total.c / known.c };
    else return st.error(Diagnostics.Value_0_must_be_1, span, [`the -1 in a reshape of ${formatShape(x.type.shape)}`, "one dimension that can be inferred"]);
  } else if (rest.length > 0 || total.c !== known.c) {
    return st.error(Diagnostics.Value_0_must_be_1, span, [`a reshape of ${formatShape(x.type.shape)}`, `to a shape of as many elements, got ${formatShape(dims as Dim[])}`]);
  }
  const shape = dims.map((d) => d ?? hole!);
  return addPrimitive(st, "reshape", [x], {}, span, shape);
}

const UNARY_DOCS: Partial<Record<PrimitiveOp, string>> = {
  exp: "e^x, elementwise",
  log: "natural logarithm, elementwise",
  sqrt: "square root, elementwise (on numbers, at compile time)",
  rsqrt: "1 / sqrt(x), elementwise",
  sin: "sine, elementwise",
  cos: "cosine, elementwise",
  abs: "absolute value, elementwise",
  erf: "the error function, elementwise",
  softplus: "log(1 + e^x), elementwise",
  floor: "floor, elementwise (on numbers, at compile time)",
  ceil: "ceiling, elementwise (on numbers, at compile time)",
};

const unary = (op: PrimitiveOp): LayerDef => ({
  doc: UNARY_DOCS[op]!,
  args: [tensorArg("x", "a tensor (sqrt, floor and ceil of numbers are computed at compile time)")],
  elaborate(st, a) {
    const x = operand(st, a.get("x"), a.span("x"), op);
    return x ? addPrimitive(st, op, [x], {}, a.span("x")) : ERROR;
  },
});

const binary = (op: PrimitiveOp, doc: string): LayerDef => ({
  doc,
  args: [tensorArg("a", "a tensor or a number"), tensorArg("b", "a tensor or a number; both broadcast")],
  elaborate(st, a, site) {
    const l = operand(st, a.get("a"), a.span("a"), op);
    const r = operand(st, a.get("b"), a.span("b"), op);
    return l && r ? addPrimitive(st, op, [l, r], {}, site.span) : ERROR;
  },
});

function reduction(op: PrimitiveOp, doc: string): LayerDef {
  const single = op === "argmax" || op === "argmin";
  return {
    doc,
    args: [
      tensorArg("x", "a tensor (max and min of numbers are computed at compile time)"),
      { name: "dim", kind: "any", doc: single ? "the axis" : "an axis or a list of axes (all when left out)" },
      { name: "keepdim", kind: "bool", doc: "keep the reduced axes as size 1 (default false)" },
    ],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), op);
      if (!x || a.anyError()) return ERROR;
      const rank = x.type.shape.length;
      const given = items(a.get("dim"));
      if (single && given && given.length !== 1) return st.error(Diagnostics.Value_0_must_be_1, a.span("dim"), [`the dim of ${op}`, "one axis"]);
      const axes = given ? given.map((v) => axis(st, v, rank, a.span("dim"))) : x.type.shape.map((_, k) => k);
      if (axes.some((ax) => ax === undefined) || axes.length === 0) return axes.length === 0 ? st.error(Diagnostics.Value_0_must_be_1, site.span, [`the operand of ${op}`, "a tensor of rank 1 or more"]) : ERROR;
      return addPrimitive(st, op, [x], { axes: intList(axes as number[]), keepdim: a.bool("keepdim", false) }, site.span);
    },
  };
}

/** Splits `x` along `axis` into parts of the given sizes (each a `slice`). */
export function splitTensor(st: ElaborationState, x: TensorValue, axis: number, sizes: readonly number[], span: Span): Value {
  const rank = x.type.shape.length;
  const parts: Value[] = [];
  let offset = 0;
  for (const size of sizes) {
    const starts = x.type.shape.map((_, k) => (k === axis ? offset : 0));
    const shape = x.type.shape.map((d, k) => (k === axis ? { value: size } : d));
    parts.push(addPrimitive(st, "slice", [x], { starts: intList(starts), steps: intList(new Array<number>(rank).fill(1)) }, span, shape));
    offset += size;
  }
  return { kind: "list", items: parts };
}

function splitLike(kind: "split" | "chunk"): LayerDef {
  return {
    doc:
      kind === "split"
        ? "split(x, n, dim = -1): n equal parts (or parts of the sizes in a list), to bind as `q, k, v = split(qkv, 3)`"
        : "chunk(x, n, dim = -1): n parts of ceil(length / n), the last one smaller, as torch.chunk",
    args: [
      tensorArg("x"),
      { name: "n", kind: "any", required: true, doc: kind === "split" ? "the number of equal parts, or a list of their sizes" : "the number of parts (the last may be smaller)" },
      { name: "dim", kind: "int", doc: "the axis to split (default the last)" },
    ],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), kind);
      if (!x || a.anyError()) return ERROR;
      const rank = x.type.shape.length;
      const at = a.has("dim") ? axis(st, a.get("dim"), rank, a.span("dim")) : rank - 1;
      if (at === undefined) return ERROR;
      const len = x.type.shape[at];
      if (!isConst(len)) return st.error(Diagnostics.Value_0_must_be_1, a.span("x"), [`the axis ${kind} divides`, `of a known length, got '${len.sym}'`]);
      const n = a.get("n")!;
      let sizes: number[];
      if (n.kind === "list" && kind === "split") {
        sizes = n.items.map((v) => (v.kind === "int" && v.value > 0 ? v.value : NaN));
        if (sizes.some(Number.isNaN) || sizes.reduce((s, v) => s + v, 0) !== len.value)
          return st.error(Diagnostics.Value_0_must_be_1, a.span("n"), ["the sizes of the parts", `positive integers adding up to ${len.value}`]);
      } else {
        const parts = st.asPositiveInt(n, a.span("n"), `the number of parts of ${kind}`);
        if (parts === undefined) return ERROR;
        if (kind === "split" && len.value % parts !== 0) return st.error(Diagnostics.Value_0_must_be_1, a.span("n"), [`the number of parts of an axis of ${len.value}`, `a divisor of it, got ${parts}`]);
        const size = Math.ceil(len.value / parts);
        sizes = [];
        for (let left = len.value; left > 0; left -= size) sizes.push(Math.min(size, left));
      }
      return splitTensor(st, x, at, sizes, site.span);
    },
  };
}

export const PRIMITIVE_FUNCTIONS: Readonly<Record<string, LayerDef>> = {
  ...Object.fromEntries((["exp", "log", "sqrt", "rsqrt", "sin", "cos", "abs", "erf", "softplus", "floor", "ceil"] as const).map((op) => [op, unary(op)])),
  maximum: binary("maximum", "the larger of a and b, elementwise with broadcasting"),
  minimum: binary("minimum", "the smaller of a and b, elementwise with broadcasting"),
  where: {
    doc: "where(cond, a, b): a where the boolean cond is true, else b (numbers such as -inf allowed; all broadcast)",
    args: [tensorArg("cond", "a bool tensor: where true take a, else b"), tensorArg("a", "a tensor or a number such as -inf"), tensorArg("b", "a tensor or a number")],
    elaborate(st, a, site) {
      const c = operand(st, a.get("cond"), a.span("cond"), "where");
      const x = operand(st, a.get("a"), a.span("a"), "where");
      const y = operand(st, a.get("b"), a.span("b"), "where");
      if (!c || !x || !y) return ERROR;
      if (!st.expectDtype(c, ["bool"], a.span("cond"))) return ERROR;
      return addPrimitive(st, "where", [c, x, y], {}, site.span);
    },
  },
  reshape: {
    doc: "the same values under a new shape, e.g. reshape(x, [B, T, heads, -1]); one -1 is inferred",
    args: [tensorArg("x"), { name: "shape", kind: "any", required: true, doc: "the new shape as a list, e.g. [B, T, heads, -1]; one -1 is inferred" }],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), "reshape");
      const dims = dimsOf(st, a.get("shape"), a.span("shape"), true);
      return x && dims ? reshapeTo(st, x, dims, site.span) : ERROR;
    },
  },
  permute: {
    doc: "reorders the axes: permute(x, [0, 2, 1, 3])",
    args: [tensorArg("x"), { name: "dims", kind: "any", required: true, doc: "the new order of the axes, e.g. [0, 2, 1, 3]" }],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), "permute");
      const xs = items(a.get("dims"));
      if (!x || !xs) return ERROR;
      const perm = xs.map((v) => axis(st, v, x.type.shape.length, a.span("dims")));
      if (perm.some((p) => p === undefined)) return ERROR;
      return addPrimitive(st, "permute", [x], { perm: intList(perm as number[]) }, site.span);
    },
  },
  unsqueeze: {
    doc: "inserts an axis of size 1 at `dim`",
    args: [tensorArg("x"), { name: "dim", kind: "int", required: true, doc: "where the new axis of size 1 goes" }],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), "unsqueeze");
      if (!x || a.anyError()) return ERROR;
      const at = axis(st, a.get("dim"), x.type.shape.length + 1, a.span("dim"));
      if (at === undefined) return ERROR;
      const shape = [...x.type.shape];
      shape.splice(at, 0, { value: 1 });
      return addPrimitive(st, "reshape", [x], {}, site.span, shape);
    },
  },
  squeeze: {
    doc: "removes the axis `dim`, which must have size 1",
    args: [tensorArg("x"), { name: "dim", kind: "int", required: true, doc: "the axis of size 1 to remove" }],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), "squeeze");
      if (!x || a.anyError()) return ERROR;
      const at = axis(st, a.get("dim"), x.type.shape.length, a.span("dim"));
      if (at === undefined) return ERROR;
      const d = x.type.shape[at];
      if (!isConst(d) || d.value !== 1) return st.error(Diagnostics.Value_0_must_be_1, a.span("dim"), [`dimension ${at} of ${formatShape(x.type.shape)}`, "1 to be squeezed"]);
      return addPrimitive(st, "reshape", [x], {}, site.span, x.type.shape.filter((_, k) => k !== at));
    },
  },
  expand: {
    doc: "broadcasts to a shape: expand(x, [B, heads, T, -1]) (-1 keeps a dimension)",
    args: [tensorArg("x"), { name: "shape", kind: "any", required: true, doc: "the shape to broadcast to; -1 keeps a dimension" }],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), "expand");
      const dims = dimsOf(st, a.get("shape"), a.span("shape"), true);
      if (!x || !dims) return ERROR;
      const off = dims.length - x.type.shape.length;
      if (off < 0) return st.error(Diagnostics.Value_0_must_be_1, a.span("shape"), ["the shape to expand to", `of rank ${x.type.shape.length} or more`]);
      const shape = dims.map((d, k) => d ?? x.type.shape[k - off] ?? { value: 1 });
      return addPrimitive(st, "expand", [x], {}, site.span, shape);
    },
  },
  concat: {
    doc: "joins tensors along `dim`: concat([a, b], dim = -1)",
    args: [
      { name: "xs", kind: "any", required: true, doc: "the tensors to join, as a list [a, b, ...]" },
      { name: "dim", kind: "int", doc: "the axis to join along (default the last)" },
    ],
    elaborate(st, a, site) {
      const xs = items(a.get("xs"))?.map((v) => operand(st, v, a.span("xs"), "concat"));
      if (!xs || xs.some((x) => !x) || xs.length === 0) return ERROR;
      const rank = xs[0]!.type.shape.length;
      const at = a.has("dim") ? axis(st, a.get("dim"), rank, a.span("dim")) : rank - 1;
      if (at === undefined) return ERROR;
      return addPrimitive(st, "concat", xs as TensorValue[], { axis: at }, site.span);
    },
  },
  split: splitLike("split"),
  chunk: splitLike("chunk"),
  sum: reduction("sum", "the sum over `dim` (an axis or a list; all when left out), `keepdim` keeps them as size 1"),
  mean: reduction("mean", "the mean over `dim` (an axis or a list; all when left out)"),
  max: reduction("max", "the largest value over `dim` (on numbers: the largest number)"),
  min: reduction("min", "the smallest value over `dim` (on numbers: the smallest number)"),
  argmax: reduction("argmax", "the index of the largest value along `dim`"),
  argmin: reduction("argmin", "the index of the smallest value along `dim`"),
  log_softmax: {
    doc: "log(softmax(x)) along `dim` (default the last)",
    args: [tensorArg("x"), { name: "dim", kind: "int", doc: "the axis (default the last)" }],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), "log_softmax");
      if (!x || a.anyError()) return ERROR;
      const at = a.has("dim") ? axis(st, a.get("dim"), x.type.shape.length, a.span("dim")) : x.type.shape.length - 1;
      return at === undefined ? ERROR : addPrimitive(st, "log_softmax", [x], { axis: at }, site.span);
    },
  },
  arange: {
    doc: "0, 1, ..., n - 1 (i64); n may be a length such as T",
    args: [{ name: "n", kind: "dim", required: true, doc: "how many: a number or a length such as T" }],
    elaborate(st, a, site) {
      const v = a.get("n");
      if (!v || v.kind === "error") return ERROR;
      const n = st.asDim(v, a.span("n"), "arange");
      return n ? st.addNode("prim", {}, { op: "arange", start: 0, step: 1 }, {}, { dtype: "i64", shape: [n] }, site.span) : ERROR;
    },
  },
  cast: {
    doc: "converts to a dtype: cast(x, f32); integers truncate, bool is x != 0",
    args: [tensorArg("x"), { name: "dtype", kind: "choice", required: true, choices: ["f32", "i32", "i64", "bool"], doc: "the dtype to convert to" }],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), "cast");
      if (!x || a.anyError()) return ERROR;
      return addPrimitive(st, "cast", [x], { to: a.choice("dtype", "f32") }, site.span);
    },
  },
  rope: {
    doc: "rotary position embedding of [B, heads, T, D] at positions 0..T-1: rope(x, theta = 10000, dim = D, interleaved = false)",
    args: [tensorArg("x", "queries or keys [B, heads, T, D]"), ...ROTARY_ARGS],
    elaborate(st, a, site) {
      const x = operand(st, a.get("x"), a.span("x"), "rope");
      if (!x || a.anyError() || !st.expectDtype(x, ["f32"], a.span("x")) || !st.expectRank(x, [4], a.span("x"), "x")) return ERROR;
      const D = st.lastDimConst(x, a.span("x"), "x");
      if (D === undefined) return ERROR;
      const dim = a.get("dim");
      const r = rotaryAttrs(st, { theta: a.number("theta", 10000), ...(dim?.kind === "int" ? { dim: dim.value } : {}), interleaved: a.bool("interleaved", false) }, D, a.span("dim"), a.span("theta"));
      return r ? addPrimitive(st, "rope", [x], r, site.span) : ERROR;
    },
  },
  take: {
    doc: "rows of a table picked by integer ids: take(table, ids) has shape ids.shape + table.shape[1:]",
    args: [tensorArg("table", "the tensor whose slices along its first axis are picked"), tensorArg("ids", "integer indices (negative ones count from the end)")],
    elaborate(st, a, site) {
      const t = operand(st, a.get("table"), a.span("table"), "take");
      const ids = operand(st, a.get("ids"), a.span("ids"), "take");
      if (!t || !ids || !st.expectDtype(ids, ["i32", "i64"], a.span("ids"))) return ERROR;
      return addPrimitive(st, "take", [t, ids], {}, site.span);
    },
  },
};

/** Primitives for the operators of the language on tensors: comparisons, `and`, `or`, `not`, `**`, `%`. */
export const OPERATOR_PRIMITIVES: Readonly<Record<string, PrimitiveOp>> = {
  "==": "eq",
  "!=": "ne",
  "<": "lt",
  "<=": "le",
  ">": "gt",
  ">=": "ge",
  and: "and",
  or: "or",
  "**": "pow",
  "%": "mod",
};

export { operand as primitiveOperand };
