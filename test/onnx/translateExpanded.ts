import type { OnnxModel } from "./loadOnnxCase.js";
import { IrBuilder, Skip, type Plan } from "./irBuilder.js";
import { irDtype, LOWER } from "./onnxLower.js";
import { Cx, fold, type Value } from "./onnxValues.js";

// The `_expanded` twins hold an op's function body as a graph of smaller ONNX ops. Each node is
// translated into IR primitives by onnxLower.ts; a node whose inputs are all known (shape
// arithmetic, masks built from sizes) is folded at translation time and re-made from primitives
// in the graph only where a tensor op consumes it.

/** Whether a case is a function-body twin: `<op case>_expanded` or `<op case>_expanded_verNN`. */
export const isExpanded = (caseName: string) => /_expanded(_ver\d+)?$/.test(caseName);

export function translateExpanded(caseName: string, model: OnnxModel): Plan {
  const missing = [...new Set(model.nodes.map((n) => n.opType).filter((op) => !LOWER[op]))];
  if (missing.length > 0) throw new Skip(`expanded body uses ONNX ops with no translation: ${missing.sort().join(", ")}`);
  const half = model.inputs.filter((i) => i.dtype === "FLOAT16").map((i) => i.name);
  if (half.length > 0) throw new Skip(`FLOAT16 inputs: ${half.join(", ")} (tfmc computes in float32; the test decodes no FLOAT16 data)`);
  const b = new IrBuilder(caseName);
  const cx = new Cx(b);
  const values = new Map<string, Value>();
  model.inputs.forEach((i, k) => {
    const dtype = irDtype(i.dtype);
    values.set(i.name, { kind: "tensor", id: b.input(i.name, k, dtype, i.shape), dtype });
  });
  for (const n of model.nodes) {
    if (n.domain !== "") throw new Skip(`a node of domain ${n.domain}`);
    if (n.outputs.filter(Boolean).length !== 1) throw new Skip(`${n.opType} with ${n.outputs.length} outputs`);
    const ins = n.inputs.map((name) => {
      if (!name) return undefined;
      const v = values.get(name);
      if (!v) throw new Error(`${caseName}: ${n.opType} reads unknown value '${name}'`);
      return v;
    });
    const lower = (c: Cx) => LOWER[n.opType](c, n, ins, model.opset);
    values.set(n.outputs[0], ins.every((v) => !v || v.kind === "const") ? fold(lower) : lower(cx));
  }
  model.outputs.forEach((o, k) => {
    const v = values.get(o.name)!;
    const shape = cx.shape(v);
    if (shape.join() !== o.shape.join()) throw new Error(`${caseName}: output ${o.name} is [${shape.join(", ")}], ONNX says [${o.shape.join(", ")}]`);
    b.output(o.name, k, cx.tensor(v), o.shape);
  });
  return b.plan();
}
