import type { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";
import { OPS } from "../ir/ops.js";
import { Poly } from "../ir/poly.js";

export { Poly };

/** Floating-point operations of one node (a multiply-add counts as two), as its op's entry counts them. */
export function nodeFlops(g: IrGraph, n: NodeLabel): Poly {
  return OPS[n.op].flops(n, n.inputs.map((i) => g.node(i)));
}

/** Bytes of a node's output (float32 or the input's own dtype). */
export function nodeBytes(n: NodeLabel): Poly {
  return Poly.dims(n.shape).scale(n.dtype === "bool" ? 1 : n.dtype === "i64" ? 8 : 4);
}

/** The peak of live intermediate bytes over the node order, evaluated at given symbol values. */
export function peakActivationBytes(g: IrGraph, env: ReadonlyMap<string, number>): number {
  const order = g.order().filter((id) => !["input", "param"].includes(g.node(id).op));
  const position = new Map(order.map((id, i) => [id, i]));
  const lastUse = new Map<string, number>();
  order.forEach((id, i) => g.node(id).inputs.forEach((x) => position.has(x) && lastUse.set(x, i)));
  for (const o of g.outputs) lastUse.set(o.node, Infinity);
  let live = 0;
  let peak = 0;
  const dying = new Map<number, number>();
  order.forEach((id, i) => {
    const bytes = nodeBytes(g.node(id)).at(env);
    live += bytes;
    peak = Math.max(peak, live);
    const end = lastUse.get(id) ?? i;
    if (end !== Infinity) dying.set(end, (dying.get(end) ?? 0) + bytes);
    live -= dying.get(i) ?? 0;
  });
  return peak;
}
