import { OPS } from "./ops.js";
import type { IrGraph } from "./graph.js";
import { shapesEqual } from "../semantics/shapes.js";
import { formatShape, type Dim } from "../semantics/types.js";
import type { NodeLabel } from "./node.js";

/** Internal consistency of a graph: arities, inputs that exist, shapes that follow the op rules. */
export function verifyGraph(g: IrGraph): string[] {
  const problems: string[] = [];
  const order = g.order();
  const position = new Map(order.map((id, i) => [id, i]));
  for (const id of order) {
    const n = g.node(id);
    const [lo, hi] = OPS[n.op].arity;
    if (n.inputs.length < lo || n.inputs.length > hi) problems.push(`${id} (${n.op}): ${n.inputs.length} inputs, expected ${lo}..${hi}`);
    if (n.inputs.some((i) => !g.has(i) || position.get(i)! >= position.get(id)!)) {
      problems.push(`${id} (${n.op}): an input is missing or comes later`);
      continue;
    }
    const why = checkShape(n, n.inputs.map((i) => g.node(i).shape));
    if (why) problems.push(`${id} (${n.op}) ${formatShape(n.shape)}: ${why}`);
  }
  for (const o of [...g.outputs, ...g.inputs]) if (!g.has(o.node)) problems.push(`'${o.name}' refers to a missing node`);
  return problems;
}

/** Why a node's declared shape does not follow from its inputs by its op's rule, if it does not. */
export function checkShape(n: NodeLabel, ins: readonly (readonly Dim[])[]): string | undefined {
  const r = OPS[n.op].infer(ins, n);
  if (typeof r === "string") return r;
  return shapesEqual(r, n.shape) ? undefined : "the declared shape differs from the inferred one";
}
