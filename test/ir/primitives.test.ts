import { describe, expect, it } from "vitest";
import { NO_SPAN } from "../../src/diagnostics/diagnostic.js";
import { IrGraph } from "../../src/ir/graph.js";
import { interpret } from "../../src/ir/interpret.js";
import type { Attr, DType } from "../../src/ir/node.js";
import { PRIMITIVES, type PrimitiveOp } from "../../src/ir/ops.js";
import { verifyGraph } from "../../src/ir/verify.js";
import type { Dim } from "../../src/semantics/types.js";
import { graphOf as graphOfSource, importGenerated } from "../compileHelpers.js";

// Every primitive's generated kernel against the float64 interpreter, on the TypeScript and wasm
// targets, with broadcasting, symbolic lengths and integer or boolean operands where the op takes
// them. The interpreter itself is held to ONNX's expectations by test/onnx.

interface Operand {
  readonly shape: readonly (number | string)[];
  readonly dtype?: DType;
  /** Integer values in [lo, hi), for ids, booleans and exact comparisons. */
  readonly ints?: readonly [number, number];
}

interface Case {
  readonly op: PrimitiveOp | "add" | "sub" | "mul" | "div" | "scalar" | "tanh";
  readonly ins: readonly Operand[];
  readonly out: readonly (number | string)[];
  readonly attrs?: Record<string, Attr>;
  readonly dtype?: DType;
  /** Positive inputs (log, sqrt). */
  readonly positive?: boolean;
}

const B = "B";
const T = "T";
const f = (...shape: (number | string)[]): Operand => ({ shape });
const bool = (...shape: (number | string)[]): Operand => ({ shape, dtype: "bool", ints: [0, 2] });
const small = (...shape: (number | string)[]): Operand => ({ shape, ints: [-3, 4] });

const unary = (op: PrimitiveOp, positive = false): Case => ({ op, ins: [f(B, T, 6)], out: [B, T, 6], positive });
const binary = (op: PrimitiveOp, a: Operand = f(B, T, 6), b: Operand = f(6)): Case[] => [
  { op, ins: [a, b], out: [B, T, 6] },
  { op, ins: [f(B, T, 6), f(B, T, 6)], out: [B, T, 6] },
];
const compare = (op: PrimitiveOp): Case[] => [
  { op, ins: [small(B, T, 6), small(6)], out: [B, T, 6], dtype: "bool" },
  { op, ins: [small(2, 1, 3), small(4, 1)], out: [2, 4, 3], dtype: "bool" },
];

const CASES: Case[] = [
  ...(["exp", "sin", "cos", "abs", "neg", "floor", "ceil", "erf", "softplus"] as const).map((op) => unary(op)),
  ...(["log", "sqrt", "rsqrt", "reciprocal"] as const).map((op) => unary(op, true)),
  { op: "not", ins: [bool(B, T)], out: [B, T], dtype: "bool" },
  { op: "pow", ins: [f(B, T, 6), small(6)], out: [B, T, 6], positive: true },
  ...binary("maximum"),
  ...binary("minimum"),
  ...binary("mod", small(B, T, 6), { shape: [6], ints: [1, 5] }),
  ...(["eq", "ne", "lt", "le", "gt", "ge"] as const).flatMap(compare),
  ...(["and", "or", "xor"] as const).map((op): Case => ({ op, ins: [bool(B, T, 6), bool(6)], out: [B, T, 6], dtype: "bool" })),
  { op: "where", ins: [bool(B, 1, T), f(B, T, T), f(1)], out: [B, T, T] },
  { op: "where", ins: [bool(2, 3), f(2, 3), f(2, 3)], out: [2, 3] },
  { op: "cast", ins: [f(B, T, 6)], out: [B, T, 6], attrs: { to: "i32" }, dtype: "i32" },
  { op: "cast", ins: [small(B, T)], out: [B, T], attrs: { to: "bool" }, dtype: "bool" },
  { op: "constant", ins: [], out: [2, 3], attrs: { value: -Infinity } },
  { op: "constant", ins: [], out: [], attrs: { value: 0.25 } },
  { op: "arange", ins: [], out: [7], attrs: { start: 2, step: 3 } },
  { op: "reshape", ins: [f(B, T, 6)], out: [B, T, 2, 3] },
  { op: "reshape", ins: [f(2, 3, 4)], out: [4, 6] },
  { op: "permute", ins: [f(B, T, 2, 3)], out: [B, 2, T, 3], attrs: { perm: "0,2,1,3" } },
  { op: "permute", ins: [f(2, 3, 4)], out: [4, 2, 3], attrs: { perm: "2,0,1" } },
  { op: "slice", ins: [f(B, T, 8)], out: [B, T, 3], attrs: { starts: "0,0,-6", steps: "1,1,2" } },
  { op: "slice", ins: [f(B, T, 8)], out: [B, 1, 8], attrs: { starts: "0,-1,0", steps: "1,1,1" } },
  { op: "concat", ins: [f(B, T, 2), f(B, T, 3), f(B, T, 1)], out: [B, T, 6], attrs: { axis: -1 } },
  { op: "concat", ins: [f(2, 3), f(1, 3)], out: [3, 3], attrs: { axis: 0 } },
  { op: "expand", ins: [f(1, T, 1)], out: [3, T, 4] },
  { op: "take", ins: [f(5, 2, 3), { shape: [B, T], dtype: "i64", ints: [-5, 5] }], out: [B, T, 2, 3] },
  { op: "take", ins: [f(7, 4), { shape: [B, T], dtype: "i32", ints: [0, 7] }], out: [B, T, 4] },
  ...(["sum", "mean", "max", "min"] as const).flatMap((op): Case[] => [
    { op, ins: [f(B, T, 6)], out: [B, T], attrs: { axes: "-1", keepdim: false } },
    { op, ins: [f(B, T, 6)], out: [B, 1, 6], attrs: { axes: "1", keepdim: true } },
    { op, ins: [f(2, 3, 4)], out: [3], attrs: { axes: "0,2", keepdim: false } },
  ]),
  ...(["argmax", "argmin"] as const).map((op): Case => ({ op, ins: [f(B, T, 6)], out: [B, T], attrs: { axes: "2", keepdim: false }, dtype: "i64" })),
  { op: "log_softmax", ins: [f(B, T, 6)], out: [B, T, 6], attrs: { axis: -1 } },
  { op: "log_softmax", ins: [f(B, 3, T)], out: [B, 3, T], attrs: { axis: 1 } },
  { op: "rope", ins: [f(B, 3, T, 8)], out: [B, 3, T, 8], attrs: { theta: 10000, dim: 8, interleaved: false } },
  { op: "rope", ins: [f(B, 2, T, 10)], out: [B, 2, T, 10], attrs: { theta: 50, dim: 6, interleaved: true } },
];

/**
 * The arithmetic ops that predate the primitives, on 64-bit integer operands (as an ONNX int64
 * input minus a size): their kernels read BigInt64Array elements as BigInts and threw.
 */
const int64 = (...shape: (number | string)[]): Operand => ({ shape, dtype: "i64", ints: [1, 9] });
const I64_ARITHMETIC: Case[] = (["add", "sub", "mul", "div"] as const).flatMap((op): Case[] => [
  { op, ins: [int64(B, T), int64(B, T)], out: [B, T] },
  { op, ins: [int64(B, T), f(T)], out: [B, T] },
  { op, ins: [f(B, 1), int64(T)], out: [B, T] },
  { op, ins: [int64(B, 1, 3), f(T, 1)], out: [B, T, 3] },
]);
/** The same for the one-input ops of before: a constant operand (`scalar`), an activation. */
const I64_ELEMENTWISE: Case[] = [
  { op: "scalar", ins: [int64(B, T)], out: [B, T], attrs: { op: "-", value: 2, reverse: true } },
  { op: "tanh", ins: [int64(B, T)], out: [B, T] },
];

const dim = (d: number | string): Dim => (typeof d === "number" ? { value: d } : { sym: d });
const BINDINGS: Record<string, number> = { B: 2, T: 5 };
const concrete = (s: readonly (number | string)[]) => s.map((d) => (typeof d === "number" ? d : BINDINGS[d]));

function graphOf(c: Case, k: number): IrGraph {
  const g = new IrGraph({ name: `prim_${c.op}_${k}`, config: new Map(), symbols: [{ name: "B" }, { name: "T" }] as never, params: [] });
  const ins = c.ins.map((x, i) => {
    const dtype = x.dtype ?? (x.ints ? "i32" : "f32");
    const id = g.addNode({ op: "input", inputs: [], shape: x.shape.map(dim), dtype, attrs: { name: `x${i}` }, span: NO_SPAN, scope: "" });
    g.inputs.push({ name: `x${i}`, node: id, type: { dtype, shape: x.shape.map(dim) }, optional: false });
    return id;
  });
  const out = g.addNode({ op: c.op, inputs: ins, shape: c.out.map(dim), dtype: c.dtype ?? "f32", attrs: c.attrs ?? {}, span: NO_SPAN, scope: "" });
  g.outputs.push({ name: "y", node: out, type: { dtype: c.dtype ?? "f32", shape: c.out.map(dim) } });
  return g;
}

/** A small deterministic generator, so every run sees the same numbers. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function feedsOf(c: Case, k: number) {
  const next = lcg(1000 + k);
  return Object.fromEntries(
    c.ins.map((x, i) => {
      const shape = concrete(x.shape);
      const n = shape.reduce((a, b) => a * b, 1);
      const dtype = x.dtype ?? (x.ints ? "i32" : "f32");
      const value = () => (x.ints ? x.ints[0] + Math.floor(next() * (x.ints[1] - x.ints[0])) : c.positive ? 0.1 + next() * 3 : (next() - 0.5) * 6);
      const data =
        dtype === "i64" ? BigInt64Array.from({ length: n }, () => BigInt(value())) : dtype === "bool" ? Uint8Array.from({ length: n }, value) : dtype === "i32" ? Int32Array.from({ length: n }, value) : Float32Array.from({ length: n }, value);
      return [`x${i}`, { data, shape }];
    }),
  );
}

async function againstInterpreter(c: Case, k: number): Promise<void> {
  const g = graphOf(c, k);
  expect(verifyGraph(g)).toEqual([]);
  const feeds = feedsOf(c, k);
  const want = interpret(g, new Map(), feeds).y;
  expect(want.shape).toEqual(concrete(c.out));
  for (const target of ["ts", "wasm"] as const) {
    const got = (await importGenerated(g, { target })).createModel({}).forward(feeds).y;
    expect(got.shape, target).toEqual(concrete(c.out));
    // Integer and boolean outputs come in their dtype's array (BigInt64Array for i64).
    expect(got.data.constructor.name, target).toBe({ f32: "Float32Array", i32: "Int32Array", i64: "BigInt64Array", bool: "Uint8Array" }[c.dtype ?? "f32"]);
    const values = Array.from(got.data as ArrayLike<number | bigint>, Number);
    const off = values.findIndex((v, i) => !(Object.is(v, Math.fround(want.data[i])) || Math.abs(v - want.data[i]) <= 1e-6 * Math.max(1, Math.abs(want.data[i]))));
    expect(off, `${target}: element ${off} is ${values[off]}, expected ${want.data[off]}`).toBe(-1);
  }
}

describe("tensor primitives: generated kernels equal the float64 interpreter", () => {
  it("every primitive has a case", () => {
    const covered = new Set(CASES.map((c) => c.op));
    expect(Object.keys(PRIMITIVES).filter((op) => !covered.has(op as PrimitiveOp))).toEqual([]);
  });

  it.each(CASES.map((c, k) => [`${c.op} ${c.ins.map((x) => `[${x.shape.join(",")}]`).join(" ")} -> [${c.out.join(",")}]`, c, k] as const))("%s", (_name, c, k) => againstInterpreter(c, k));

  it.each([...I64_ARITHMETIC, ...I64_ELEMENTWISE].map((c, k) => [`${c.op} ${c.ins.map((x) => `${x.dtype ?? "f32"}[${x.shape.join(",")}]`).join(" ")}`, c, k] as const))("64-bit integer operands: %s", (_name, c, k) => againstInterpreter(c, 200 + k));

  it("refuses shapes that do not fit, saying why", () => {
    const bad: Case[] = [
      { op: "reshape", ins: [f(2, 3)], out: [4, 2] },
      { op: "permute", ins: [f(2, 3)], out: [3, 2], attrs: { perm: "1,1" } },
      { op: "slice", ins: [f(2, 3)], out: [2, 3], attrs: { starts: "0,1", steps: "1,1" } },
      { op: "concat", ins: [f(2, 3), f(3, 3)], out: [5, 3], attrs: { axis: 1 } },
      { op: "expand", ins: [f(2, 3)], out: [4, 3] },
      { op: "sum", ins: [f(2, 3)], out: [2], attrs: { axes: "2", keepdim: false } },
    ];
    for (const [k, c] of bad.entries()) expect(verifyGraph(graphOf(c, 100 + k)), c.op).toHaveLength(1);
  });
});

describe("constants that JSON cannot spell", () => {
  it("common-subexpression elimination keeps +inf, -inf and NaN constants apart, and the IR printer names them", async () => {
    const g = new IrGraph({ name: "infinities", config: new Map(), symbols: [], params: [] });
    const c = (value: number) => g.addNode({ op: "constant", inputs: [], shape: [{ value: 2 }], dtype: "f32", attrs: { value }, span: NO_SPAN, scope: "" });
    const [pos, neg, nan] = [c(Infinity), c(-Infinity), c(NaN)];
    const both = g.addNode({ op: "concat", inputs: [pos, neg, nan], shape: [{ value: 6 }], dtype: "f32", attrs: { axis: 0 }, span: NO_SPAN, scope: "" });
    g.outputs.push({ name: "y", node: both, type: { dtype: "f32", shape: [{ value: 6 }] } });
    const { optimize } = await import("../../src/passes/pipeline.js");
    const { printGraph } = await import("../../src/ir/print.js");
    const o2 = optimize(g, { level: 2, verify: true }).graph;
    expect([...interpret(o2, new Map(), {}).y.data]).toEqual([Infinity, Infinity, -Infinity, -Infinity, NaN, NaN]);
    expect(printGraph(g)).toMatch(/value=Infinity[\s\S]*value=-Infinity[\s\S]*value=NaN/);
  });
});

describe("slices of a run-time length", () => {
  it("refuse an input too short for them (TFM5020) instead of reading past the axis, on both targets and in the interpreter", async () => {
    for (const [starts, count] of [["0,1,0", 2], ["0,-3,0", 3]] as const) {
      const c: Case = { op: "slice", ins: [f(B, T, 4)], out: [B, count, 4], attrs: { starts, steps: "1,1,1" } };
      const g = graphOf(c, 200 + count);
      const short = { x0: { data: new Float32Array(2 * 2 * 4), shape: [2, 2, 4] } };
      const long = { x0: { data: Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i), shape: [2, 3, 4] } };
      expect(() => interpret(g, new Map(), short)).toThrow(/TFM5020|a slice takes elements/);
      for (const target of ["ts", "wasm"] as const) {
        const model = (await importGenerated(g, { target })).createModel({});
        expect(() => model.forward(short), `${target} ${starts}`).toThrow(/a slice takes elements .* of axis 1, which has 2/);
        expect([...model.forward(long).y.data]).toEqual([...interpret(g, new Map(), long).y.data]);
      }
    }
  });
});

describe("integer inputs and outputs", () => {
  it("reads an i32 input passed as BigInt64Array, and returns integer and boolean results in their own arrays", async () => {
    const g = graphOfSource("test/models/integer_outputs.tfm");
    for (const target of ["ts", "wasm"] as const) {
      const out = (await importGenerated(g, { target })).createModel({}).forward({ ids: { data: BigInt64Array.from([4n, -2n, 7n]), shape: [1, 3] } });
      expect(out.a.data).toEqual(BigInt64Array.from([4n, -2n, 7n]));
      expect(out.b.data).toEqual(Int32Array.from([4]));
      expect(out.c.data).toEqual(Int32Array.from([1, 1, 1]));
      expect(out.d.data).toEqual(BigInt64Array.from([2n]));
      expect(out.e.data).toEqual(Uint8Array.from([1, 0, 1]));
    }
  });
});
