import type { Op } from "../../src/ir/ops.js";
import type { OnnxModel, OnnxNode } from "./loadOnnxCase.js";
import { broadcast, IrBuilder, Skip, size, type Plan } from "./irBuilder.js";

// The `_expanded` twins hold an op's function body as a graph of smaller ONNX ops. This translates
// the ones built from elementwise arithmetic on scalar constants (GELU's tanh form): constants fold
// in float32, as ONNX computes them, and a tensor combined with a constant becomes `scalar`. Any
// other body is skipped, naming the ONNX ops the IR has no counterpart for.

const FOLDABLE = ["Constant", "CastLike", "Identity", "Sqrt"];
const BINARY: Record<string, { ir: Op; sym: "+" | "-" | "*" | "/"; f: (a: number, b: number) => number }> = {
  Add: { ir: "add", sym: "+", f: (a, b) => a + b },
  Sum: { ir: "add", sym: "+", f: (a, b) => a + b },
  Sub: { ir: "sub", sym: "-", f: (a, b) => a - b },
  Mul: { ir: "mul", sym: "*", f: (a, b) => a * b },
  Div: { ir: "div", sym: "/", f: (a, b) => a / b },
};
const UNARY: Record<string, Op> = { Tanh: "tanh", Relu: "relu", Sigmoid: "sigmoid" };
export const EXPANDED_SUPPORTED = new Set([...FOLDABLE, ...Object.keys(BINARY), ...Object.keys(UNARY), "Pow", "MatMul", "Softmax"]);

type Value = { kind: "const"; value: number } | { kind: "tensor"; id: string };

/** Whether a case is a function-body twin: `<op case>_expanded` or `<op case>_expanded_verNN`. */
export const isExpanded = (caseName: string) => /_expanded(_ver\d+)?$/.test(caseName);

export function translateExpanded(caseName: string, model: OnnxModel): Plan {
  const missing = [...new Set(model.nodes.map((n) => n.opType).filter((op) => !EXPANDED_SUPPORTED.has(op)))];
  if (missing.length > 0) throw new Skip(`expanded body uses ONNX ops with no IR counterpart: ${missing.sort().join(", ")}`);
  const b = new IrBuilder(caseName);
  const values = new Map<string, Value>();
  model.inputs.forEach((i, k) => {
    if (i.dtype !== "FLOAT") throw new Skip(`${i.dtype} input ${i.name} (tfmc computes in float32 only)`);
    values.set(i.name, { kind: "tensor", id: b.input(i.name, k, "f32", i.shape) });
  });
  for (const n of model.nodes) {
    const ins = n.inputs.map((name) => {
      const v = values.get(name);
      if (!v) throw new Error(`${caseName}: ${n.opType} reads unknown value '${name}'`);
      return v;
    });
    values.set(n.outputs[0], step(b, n, ins));
  }
  model.outputs.forEach((o, k) => {
    const v = values.get(o.name);
    if (v?.kind !== "tensor") throw new Skip(`output ${o.name} is a constant`);
    b.output(o.name, k, v.id, o.shape);
  });
  return b.plan();
}

const f32 = Math.fround;

function step(b: IrBuilder, n: OnnxNode, ins: Value[]): Value {
  const consts = ins.every((v) => v.kind === "const");
  const tensor = (v: Value) => (v.kind === "tensor" ? v.id : undefined);
  switch (n.opType) {
    case "Constant": {
      const t = n.value;
      const scalar = n.attrs.get("value_float");
      if (typeof scalar === "number") return { kind: "const", value: f32(scalar) };
      if (!t || t.dtype !== "FLOAT" || !(t.data instanceof Float32Array) || size(t.shape) !== 1) throw new Skip("a non-scalar or non-float Constant");
      return { kind: "const", value: t.data[0] };
    }
    case "CastLike":
    case "Identity":
      // Every value here is float32, so casting like another float is the identity.
      return ins[0];
    case "Sqrt":
      if (!consts) throw new Skip("Sqrt of a tensor: the IR has no sqrt");
      return { kind: "const", value: f32(Math.sqrt((ins[0] as { value: number }).value)) };
    case "Pow": {
      const [x, e] = ins;
      if (e.kind !== "const" || !Number.isInteger(e.value) || e.value < 1 || e.value > 4) throw new Skip("Pow with a non-integer or tensor exponent");
      if (x.kind === "const") return { kind: "const", value: f32(x.value ** e.value) };
      // x^n as repeated products: exact for the small integer powers function bodies use.
      let y = x.id;
      for (let k = 1; k < e.value; k++) y = b.op("mul", [y, x.id], b.shapeOf(x.id));
      return { kind: "tensor", id: y };
    }
  }
  if (n.opType === "MatMul" || n.opType === "Softmax") return structured(b, n, ins);
  const un = UNARY[n.opType];
  if (un) {
    const x = tensor(ins[0]);
    if (!x) throw new Skip(`${n.opType} of a constant`);
    return { kind: "tensor", id: b.op(un, [x], b.shapeOf(x)) };
  }
  const bin = BINARY[n.opType];
  if (!bin || ins.length !== 2) throw new Skip(`${n.opType} with ${ins.length} inputs`);
  const [x, y] = ins;
  if (x.kind === "const" && y.kind === "const") return { kind: "const", value: f32(bin.f(x.value, y.value)) };
  if (x.kind === "tensor" && y.kind === "tensor") {
    const shape = broadcast(b.shapeOf(x.id), b.shapeOf(y.id));
    if (!shape) throw new Skip(`${n.opType} of shapes that do not broadcast`);
    return { kind: "tensor", id: b.op(bin.ir, [x.id, y.id], shape) };
  }
  // A tensor and a constant: `scalar` computes x op c, or c op x when reversed.
  const [t, c, reverse] = x.kind === "tensor" ? [x.id, (y as { value: number }).value, false] : [(y as { id: string }).id, x.value, true];
  return { kind: "tensor", id: b.op("scalar", [t], b.shapeOf(t), { op: bin.sym, value: c, reverse }) };
}

/** MatMul of two matrices (or batches of them) and opset-13 Softmax, the IR's own ops. */
function structured(b: IrBuilder, n: OnnxNode, ins: Value[]): Value {
  const ids = ins.map((v) => (v.kind === "tensor" ? v.id : undefined));
  if (ids.some((id) => id === undefined)) throw new Skip(`${n.opType} of a constant`);
  const [x, y] = ids as string[];
  const xs = b.shapeOf(x);
  if (n.opType === "Softmax") {
    const axis = (n.attrs.get("axis") as number | undefined) ?? -1;
    return { kind: "tensor", id: b.op("softmax", [x], xs, { axis: axis < 0 ? axis + xs.length : axis }) };
  }
  const ys = b.shapeOf(y);
  const batch = xs.length >= 2 && ys.length >= 2 ? broadcast(xs.slice(0, -2), ys.slice(0, -2)) : undefined;
  if (!batch || xs[xs.length - 1] !== ys[ys.length - 2]) throw new Skip("MatMul of 1-D or mismatched operands");
  return { kind: "tensor", id: b.op("matmul", [x, y], [...batch, xs[xs.length - 2], ys[ys.length - 1]]) };
}
