import { erf } from "../runtime/math.js";
import { isConst, type Dim } from "../semantics/types.js";
import type { IrGraph } from "./graph.js";
import type { F64Tensor } from "./ops/f64.js";
import { OPS } from "./ops.js";
import { f32 } from "./reference.js";

// The float64 reference interpreter: plain loops, no cleverness, every value in a Float64Array.
// It is the oracle that lowering, every pass and every generated kernel are tested against.
// Numerics it defines: each op computes in float64, and its result is stored as float32, as every
// generated module stores it (a value past float32's range becomes ±Infinity there). A fused op
// rounds what the ops it replaces would have stored, so every -O level gives the same values,
// Infinities and NaNs on the same inputs: the graph as lowered decides.

export type { F64Tensor };

/** Anything with numbers and a shape: typed arrays of any kind (BigInt64Array is converted). */
export interface LooseTensor {
  readonly data: ArrayLike<number> | BigInt64Array;
  readonly shape: readonly number[];
}

function toF64(t: LooseTensor): F64Tensor {
  const d = t.data;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return { data: out, shape: [...t.shape] };
}

/** Binds each symbolic dimension from the inputs' shapes. */
export function bindSymbols(g: IrGraph, feeds: Readonly<Record<string, LooseTensor | undefined>>): Map<string, number> {
  const env = new Map<string, number>();
  for (const i of g.inputs) {
    const t = feeds[i.name];
    if (!t) continue;
    i.type.shape.forEach((d, k) => {
      if (!isConst(d)) env.set(d.sym, t.shape[k]);
    });
  }
  return env;
}

export const resolveShape = (shape: readonly Dim[], env: ReadonlyMap<string, number>): number[] =>
  shape.map((d) => (isConst(d) ? d.value : env.get(d.sym) ?? NaN));

/** Runs the graph in float64 on the given parameters and inputs; returns every output by name. */
export function interpret(
  g: IrGraph,
  params: ReadonlyMap<string, LooseTensor>,
  feeds: Readonly<Record<string, LooseTensor | undefined>>,
): Record<string, F64Tensor> {
  const env = bindSymbols(g, feeds);
  const values = new Map<string, F64Tensor | null>();
  for (const id of g.order()) {
    const n = g.node(id);
    if (n.op === "input") {
      const t = feeds[n.attrs.name as string];
      values.set(id, t ? toF64(t) : null);
      continue;
    }
    if (n.op === "param") {
      const p = params.get(n.attrs.name as string);
      if (!p) throw new Error(`missing parameter ${n.attrs.name}`);
      values.set(id, toF64(p));
      continue;
    }
    values.set(id, f32(OPS[n.op].interpret(n, n.inputs.map((i) => values.get(i)!), resolveShape(n.shape, env))));
  }
  const out: Record<string, F64Tensor> = {};
  for (const o of g.outputs) out[o.name] = values.get(o.node)!;
  return out;
}

export { erf };
