import type { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";
import { isConst, type Dim } from "../semantics/types.js";

/**
 * A polynomial in the symbolic dimensions with integer coefficients, e.g. 2·B·T² + 768·B·T.
 * Keys are monomials: symbol names sorted and joined by '*' ('' for the constant term).
 */
export class Poly {
  constructor(readonly terms: ReadonlyMap<string, number> = new Map()) {}

  static const(c: number): Poly {
    return new Poly(c === 0 ? new Map() : new Map([["", c]]));
  }

  static dims(dims: readonly Dim[]): Poly {
    const c = dims.filter(isConst).reduce((a, d) => a * d.value, 1);
    const syms = dims.filter((d) => !isConst(d)).map((d) => (d as { sym: string }).sym).sort();
    return new Poly(new Map([[syms.join("*"), c]]));
  }

  add(o: Poly): Poly {
    const t = new Map(this.terms);
    for (const [k, v] of o.terms) t.set(k, (t.get(k) ?? 0) + v);
    return new Poly(t);
  }

  scale(c: number): Poly {
    return new Poly(new Map([...this.terms].map(([k, v]) => [k, v * c])));
  }

  mul(o: Poly): Poly {
    let out = new Poly();
    for (const [ka, va] of this.terms)
      for (const [kb, vb] of o.terms) {
        const key = [...ka.split("*"), ...kb.split("*")].filter(Boolean).sort().join("*");
        out = out.add(new Poly(new Map([[key, va * vb]])));
      }
    return out;
  }

  at(env: ReadonlyMap<string, number>): number {
    let s = 0;
    for (const [k, v] of this.terms) s += v * k.split("*").filter(Boolean).reduce((a, sym) => a * (env.get(sym) ?? 1), 1);
    return s;
  }

  toString(): string {
    const entries = [...this.terms].filter(([, v]) => v !== 0);
    if (entries.length === 0) return "0";
    entries.sort(([a], [b]) => b.split("*").length - a.split("*").length || a.localeCompare(b));
    return entries
      .map(([k, v]) => {
        const mono = monomial(k);
        if (!mono) return v.toLocaleString("en-US");
        return v === 1 ? mono : `${v.toLocaleString("en-US")}·${mono}`;
      })
      .join(" + ");
  }
}

function monomial(key: string): string {
  const counts = new Map<string, number>();
  for (const s of key.split("*").filter(Boolean)) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => (n === 1 ? s : `${s}${n === 2 ? "²" : n === 3 ? "³" : `^${n}`}`)).join("·");
}

const last = (s: readonly Dim[]): Poly => Poly.dims(s.slice(-1));

/** Floating-point operations of one node (a multiply-add counts as two). */
export function nodeFlops(g: IrGraph, n: NodeLabel): Poly {
  const ins = n.inputs.map((i) => g.node(i));
  const out = Poly.dims(n.shape);
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
