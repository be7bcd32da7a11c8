import type { Reduction } from "../../runtime/primitives.js";
import type { Dim } from "../../semantics/types.js";
import type { NodeLabel } from "../node.js";
import { Poly } from "../poly.js";
import { lines, sizeOf, type F64Tensor } from "./f64.js";
import { alongAxes, axisOf, ints, type OpDef } from "./opDef.js";
import { shapes } from "../../codegen/kernelTypes.js";

/** The ops of this family: each name has its entry below. */
export const REDUCE_OPS = ["sum", "mean", "max", "min", "argmax", "argmin", "log_softmax"] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

// Reductions over listed axes (kept as size 1 with `keepdim`), and log-softmax along an axis.

const axesOf = (n: NodeLabel, rank: number) => [...new Set(ints(n, "axes").map((a) => axisOf(a, rank)))].sort((a, b) => a - b);

function reducedShape(x: readonly Dim[], n: NodeLabel): readonly Dim[] | string {
  const axes = axesOf(n, x.length);
  if (axes.length === 0 || axes.some((a) => a < 0 || a >= x.length)) return `axes ${String(n.attrs.axes)} do not fit ${x.length} dimensions`;
  const keep = n.attrs.keepdim === true;
  return x.flatMap((d, k) => (!axes.includes(k) ? [d] : keep ? [{ value: 1 }] : []));
}

/** Moves the reduced axes last and reduces each run of them with `f`. */
function reduce64(n: NodeLabel, x: F64Tensor, shape: number[], f: (xs: Float64Array) => number): F64Tensor {
  const axes = axesOf(n, x.shape.length);
  const kept = x.shape.map((_, k) => k).filter((k) => !axes.includes(k));
  const order = [...kept, ...axes];
  const st = order.map((k) => sizeOf(x.shape.slice(k + 1)));
  const inner = sizeOf(axes.map((a) => x.shape[a]));
  const out = new Float64Array(sizeOf(shape));
  const keptShape = kept.map((k) => x.shape[k]);
  const innerShape = axes.map((a) => x.shape[a]);
  const run = new Float64Array(inner);
  for (let o = 0; o < out.length; o++) {
    let base = 0;
    let rest = o;
    for (let k = kept.length - 1; k >= 0; k--) {
      base += (rest % keptShape[k]) * st[k];
      rest = Math.floor(rest / keptShape[k]);
    }
    for (let j = 0; j < inner; j++) {
      let off = 0;
      let r = j;
      for (let k = axes.length - 1; k >= 0; k--) {
        off += (r % innerShape[k]) * st[kept.length + k];
        r = Math.floor(r / innerShape[k]);
      }
      run[j] = x.data[base + off];
    }
    out[o] = f(run);
  }
  return { data: out, shape };
}

const firstNaN = (xs: Float64Array) => xs.findIndex((v) => v !== v);

const F64: Record<Reduction, (xs: Float64Array) => number> = {
  sum: (xs) => xs.reduce((a, b) => a + b, 0),
  mean: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
  max: (xs) => (firstNaN(xs) >= 0 ? NaN : xs.reduce((a, b) => Math.max(a, b), -Infinity)),
  min: (xs) => (firstNaN(xs) >= 0 ? NaN : xs.reduce((a, b) => Math.min(a, b), Infinity)),
  argmax: (xs) => (firstNaN(xs) >= 0 ? firstNaN(xs) : xs.indexOf(xs.reduce((a, b) => Math.max(a, b), -Infinity))),
  argmin: (xs) => (firstNaN(xs) >= 0 ? firstNaN(xs) : xs.indexOf(xs.reduce((a, b) => Math.min(a, b), Infinity))),
};

function reduction(kind: Reduction, doc: string): OpDef {
  const index = kind === "argmax" || kind === "argmin";
  return {
    arity: [1, 1],
    kind: "reduction",
    doc,
    attrs: { axes: "ints", keepdim: "bool" },
    label: (n) => n.op,
    fused: () => false,
    infer: ([x], n) => {
      if (index && ints(n, "axes").length !== 1) return `${kind} takes one axis`;
      return reducedShape(x, n);
    },
    dtype: ([x]) => (index ? "i64" : x === "bool" ? "f32" : x),
    interpret: (n, [x], shape) => reduce64(n, x!, shape, F64[kind]),
    kernel: (n, [x], ctx) => ({
      inputs: ["x"],
      params: shapes("shape"),
      body: `  reduceInto(out, x, shape, [${axesOf(n, x.shape.length).join(", ")}], ${JSON.stringify(kind)});`,
      extra: [ctx.shapeOf(0)],
      uses: ["reduceInto"],
    }),
    wasm: "none",
    epilogue: false,
    flops: (_n, [x]) => Poly.dims(x.shape),
    session: alongAxes("axes"),
  };
}

export const REDUCE: Record<ReduceOp, OpDef> = {
  sum: reduction("sum", "the sum over `axes`"),
  mean: reduction("mean", "the mean over `axes`"),
  max: reduction("max", "the largest value over `axes` (NaN if any is)"),
  min: reduction("min", "the smallest value over `axes` (NaN if any is)"),
  argmax: reduction("argmax", "the index of the first largest value along one axis (of the first NaN if any)"),
  argmin: reduction("argmin", "the index of the first smallest value along one axis (of the first NaN if any)"),
  log_softmax: {
    arity: [1, 1],
    kind: "reduction",
    doc: "log(softmax(x)) along `axis`, computed as x - max - log(sum(exp(x - max)))",
    attrs: { axis: "int" },
    label: (n) => n.op,
    fused: () => false,
    infer: ([x], n) => {
      const a = axisOf(n.attrs.axis as number, x.length);
      return a >= 0 && a < x.length ? x : `axis ${String(n.attrs.axis)} is outside ${x.length} dimensions`;
    },
    dtype: () => "f32",
    interpret: (n, [x], shape) => {
      const axis = axisOf(n.attrs.axis as number, shape.length);
      const { outer, inner, results } = lines(x!, axis, (line) => {
        const max = line.reduce((a, b) => Math.max(a, b), -Infinity);
        const log = Math.log(line.reduce((s, v) => s + Math.exp(v - max), 0));
        return line.map((v) => v - max - log);
      });
      const len = shape[axis];
      const out = new Float64Array(sizeOf(shape));
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          const line = results[o * inner + i] as Float64Array;
          for (let k = 0; k < len; k++) out[(o * len + k) * inner + i] = line[k];
        }
      return { data: out, shape };
    },
    kernel: (n, _ins, ctx) => ({
      inputs: ["x"],
      params: shapes("shape"),
      body: `  logSoftmaxAxis(out, x, shape, ${axisOf(n.attrs.axis as number, n.shape.length)});`,
      extra: [ctx.shapeOf(0)],
      uses: ["logSoftmaxAxis"],
    }),
    wasm: "none",
    epilogue: false,
    flops: (n) => Poly.dims(n.shape).scale(5),
    session: (n, ins, axes) => (axes[0] >= 0 && axes[0] === axisOf(n.attrs.axis as number, ins[0].shape.length) ? "log_softmax runs along the sequence axis" : undefined),
  },
};
