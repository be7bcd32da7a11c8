import type { IrGraph } from "../src/ir/graph.js";
import { seededRandom } from "../src/runtime/random.js";
import type { Tensor } from "../src/runtime/tensor.js";
import { isConst } from "../src/semantics/types.js";

/** The smallest table an integer input indexes, so random ids stay in range. */
function idBound(g: IrGraph, inputNode: string): number {
  let bound = Infinity;
  for (const id of g.order()) {
    const n = g.node(id);
    if (n.op === "gather" && n.inputs[1] === inputNode) {
      const rows = g.node(n.inputs[0]).shape[0];
      if (isConst(rows)) bound = Math.min(bound, rows.value);
    }
  }
  return Number.isFinite(bound) ? bound : 10;
}

/**
 * Random inputs for a graph with the symbols given: floats in [-2, 2), ids in range, booleans
 * with the given probability of true. Optional inputs are included unless `omitOptional`.
 */
export function randomInputs(g: IrGraph, dims: Record<string, number>, seed: number, opts: { omitOptional?: boolean; pTrue?: number } = {}): Record<string, Tensor> {
  const rand = seededRandom(seed);
  const out: Record<string, Tensor> = {};
  for (const i of g.inputs) {
    if (i.optional && opts.omitOptional) continue;
    const shape = i.type.shape.map((d) => (isConst(d) ? d.value : dims[d.sym]));
    if (shape.some((d) => d === undefined)) throw new Error(`no value for a dimension of ${i.name}`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (i.type.dtype === "f32") out[i.name] = { data: Float32Array.from({ length: n }, () => 4 * rand() - 2), shape };
    else if (i.type.dtype === "bool") out[i.name] = { data: Uint8Array.from({ length: n }, () => (rand() < (opts.pTrue ?? 0.3) ? 1 : 0)), shape };
    else {
      const bound = idBound(g, i.node);
      const ids = Array.from({ length: n }, () => Math.floor(rand() * bound));
      out[i.name] = i.type.dtype === "i64" ? { data: BigInt64Array.from(ids.map(BigInt)), shape } : { data: Int32Array.from(ids), shape };
    }
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(Number(a[i]) - Number(b[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
