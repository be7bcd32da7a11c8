import type { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";
import { primitive } from "../ir/ops.js";
import { Poly } from "../ir/poly.js";
import type { Dim } from "../semantics/types.js";

export { Poly };

const last = (s: readonly Dim[]): Poly => Poly.dims(s.slice(-1));

/** Floating-point operations of one node (a multiply-add counts as two). */
export function nodeFlops(g: IrGraph, n: NodeLabel): Poly {
  const ins = n.inputs.map((i) => g.node(i));
  const out = Poly.dims(n.shape);
  const def = primitive(n.op);
  if (def) return def.flops(n, ins);
  switch (n.op) {
    case "input":
    case "param":
    case "gather":
    case "slice_rows":
    case "slice_last":
    case "transpose":
    case "split_heads":
    case "merge_heads":
      return new Poly();
    case "dense":
      return out.mul(last(ins[0].shape)).scale(2).add(ins.length > 2 ? out : new Poly());
    case "matmul":
      return out.mul(last(ins[0].shape)).scale(2);
    case "attention": {
      const [q, k, v] = ins;
      const rows = Poly.dims(q.shape.slice(0, 3));
      const keys = Poly.dims(k.shape.slice(2, 3));
      return rows.mul(keys).mul(last(q.shape).add(last(v.shape))).scale(2).add(rows.mul(keys).scale(5));
    }
    case "softmax":
    case "masked_softmax":
      return out.scale(5);
    case "layer_norm":
    case "rms_norm":
    case "add_layer_norm":
      return out.scale(8);
    default:
      return out;
  }
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
