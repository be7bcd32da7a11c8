import { describe, expect, it } from "vitest";
import type { DType } from "../../src/ir/node.js";
import { Skip } from "./irBuilder.js";
import type { Attr, OnnxNode } from "./loadOnnxCase.js";
import { LOWER } from "./onnxLower.js";
import { fold, known, type Value } from "./onnxValues.js";

// The ONNX-to-primitive translations on known inputs, folded through the IR interpreter, against
// values worked out by hand from ONNX's operator definitions (numpy semantics). The conformance
// test covers the ones the node tests use; these pin the index rules it reaches only in part.

const node = (opType: string, attrs: Record<string, Attr> = {}): OnnxNode => ({ opType, domain: "", inputs: [], outputs: ["y"], attrs: new Map(Object.entries(attrs)) });
const t = (shape: number[], data: number[], dtype: DType = "i64"): Value => known(dtype, shape, data);
const vec = (...xs: number[]) => t([xs.length], xs);

function run(opType: string, ins: (Value | undefined)[], attrs: Record<string, Attr> = {}) {
  const v = fold((cx) => LOWER[opType](cx, node(opType, attrs), ins, 18));
  if (v.kind !== "const") throw new Error("not folded");
  return { shape: v.c.shape, data: v.c.data };
}

const arange = (n: number, dtype: DType = "i64") => t([n], [...Array(n).keys()], dtype);
const grid = (shape: number[]) => t(shape, [...Array(shape.reduce((a, b) => a * b, 1)).keys()], "f32");

describe("ONNX ops as IR primitives, folded", () => {
  it("Gather picks along any axis, negative indices from the end", () => {
    expect(run("Gather", [grid([2, 3]), t([1, 2], [2, 0])], { axis: 1 })).toEqual({ shape: [2, 1, 2], data: [2, 0, 5, 3] });
    expect(run("Gather", [vec(10, 20, 30), t([], [-1])])).toEqual({ shape: [], data: [30] });
  });

  it("Slice clamps starts and ends, counts from the end, steps forward only", () => {
    expect(run("Slice", [arange(10), vec(-3), vec(2 ** 63), vec(0), vec(2)])).toEqual({ shape: [2], data: [7, 9] });
    expect(run("Slice", [arange(10), vec(1), vec(-1)]).data).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(run("Slice", [grid([2, 3]), vec(1), vec(5), vec(-1)])).toEqual({ shape: [2, 2], data: [1, 2, 4, 5] });
    expect(run("Slice", [arange(4), vec(3), vec(3)])).toEqual({ shape: [0], data: [] });
    expect(() => run("Slice", [arange(4), vec(3), vec(0), vec(0), vec(-1)])).toThrow(Skip);
  });

  it("Reshape copies 0s and infers -1; Flatten, Squeeze and Unsqueeze are reshapes", () => {
    expect(run("Reshape", [grid([2, 3, 4]), vec(0, -1)]).shape).toEqual([2, 12]);
    expect(run("Flatten", [grid([2, 3, 4])], { axis: -1 }).shape).toEqual([6, 4]);
    expect(run("Unsqueeze", [arange(3), vec(-1, 0)]).shape).toEqual([1, 3, 1]);
    expect(run("Squeeze", [t([1, 3, 1], [4, 5, 6])])).toEqual({ shape: [3], data: [4, 5, 6] });
    expect(run("Squeeze", [t([1, 3, 1], [4, 5, 6]), vec(0)]).shape).toEqual([3, 1]);
  });

  it("Expand broadcasts both ways; Transpose defaults to reversing the axes", () => {
    expect(run("Expand", [t([3, 1], [1, 2, 3]), vec(2, 1, 4)]).shape).toEqual([2, 3, 4]);
    expect(run("Transpose", [grid([2, 3])])).toEqual({ shape: [3, 2], data: [0, 3, 1, 4, 2, 5] });
  });

  it("Pad (constant) and Concat", () => {
    expect(run("Pad", [t([1, 2], [1, 2], "f32"), vec(0, 1, 0, 2), t([], [9], "f32")])).toEqual({ shape: [1, 5], data: [9, 1, 2, 9, 9] });
    expect(run("Pad", [t([1, 2], [1, 2], "f32"), vec(1, 0), t([], [-Infinity], "f32"), vec(-1)]).data).toEqual([-Infinity, 1, 2]);
    expect(run("Concat", [vec(2), vec(), vec(3, 4)], { axis: 0 })).toEqual({ shape: [3], data: [2, 3, 4] });
  });

  it("Range, Shape, Size and ConstantOfShape", () => {
    expect(run("Range", [t([], [1]), t([], [8]), t([], [3])]).data).toEqual([1, 4, 7]);
    expect(run("Range", [t([], [5]), t([], [1]), t([], [-2])]).data).toEqual([5, 3]);
    expect(run("Shape", [grid([2, 3, 4])], { start: -2 })).toEqual({ shape: [2], data: [3, 4] });
    expect(run("Size", [grid([2, 3, 4])])).toEqual({ shape: [], data: [24] });
    expect(run("ConstantOfShape", [vec(2, 2)])).toEqual({ shape: [2, 2], data: [0, 0, 0, 0] });
  });

  it("integer Div truncates, Mod takes the divisor's sign, Cast to an integer truncates", () => {
    expect(run("Div", [vec(7, -7), vec(-2, 2)]).data).toEqual([-3, -3]);
    expect(run("Mod", [vec(-7, 7), vec(3, -3)]).data).toEqual([2, -2]);
    expect(() => run("Mod", [vec(1), vec(1)], { fmod: 1 })).toThrow(Skip);
    expect(run("Cast", [t([2], [-2.7, 2.7], "f32")], { to: 7 }).data).toEqual([-2, 2]);
  });

  it("reductions keep dims by default and reduce everything without axes", () => {
    expect(run("ReduceMax", [grid([2, 3]), vec(-1)])).toEqual({ shape: [2, 1], data: [2, 5] });
    expect(run("ReduceSum", [grid([2, 3])], { keepdims: 0 })).toEqual({ shape: [], data: [15] });
  });
});
