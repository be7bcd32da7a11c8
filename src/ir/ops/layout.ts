import { readElement } from "../../codegen/literals.js";
import { checkSlice } from "../../runtime/primitives.js";
import { broadcastShapes, shapesEqual } from "../../semantics/shapes.js";
import { formatDim, isConst, type Dim } from "../../semantics/types.js";
import { Poly } from "../poly.js";
import { broadcaster, permute, sizeOf, stridesOf, unravel, type F64Tensor } from "./f64.js";
import { axisOf, ints, lit, outShapeExpr, positionwise, sameDim, type KernelTemplate, type OpDef, type SessionRule } from "./opDef.js";
import { KernelParams, shapes } from "../../codegen/kernelTypes.js";

/** The ops of this family: each name has its entry below. */
export const LAYOUT_OPS = ["reshape", "permute", "slice", "concat", "expand", "take"] as const;
export type LayoutOp = (typeof LAYOUT_OPS)[number];

// Layout primitives: the values stay, their arrangement changes. reshape (squeeze and unsqueeze
// are reshapes), permute, strided slices, concatenation, broadcasting copies, and rows picked by
// index.

const none = () => new Poly();
const shapeText = (s: readonly Dim[]) => `[${s.map(formatDim).join(", ")}]`;

/** Equal element counts: the same constant factor and the same symbols. */
const sameCount = (a: readonly Dim[], b: readonly Dim[]) => Poly.dims(a).toString() === Poly.dims(b).toString();

const keepsSequence: SessionRule = (n, ins, axes, out) => {
  if (axes[0] < 0) return undefined;
  const before = ins[0].shape.slice(0, axes[0]);
  return out < 0 || !sameCount(before, n.shape.slice(0, out)) ? `'${n.op}' splits or merges the sequence axis` : undefined;
};

function copyKernel(): KernelTemplate {
  return (n, [x], ctx) => {
    const p = new KernelParams(ctx);
    const total = p.size("n", n.shape);
    return { inputs: ["x"], params: p.params, body: `  for (let i = 0; i < ${total}; i++) out[i] = ${readElement(x, "x", "i")};`, extra: p.extra };
  };
}

function slice(x: F64Tensor, starts: readonly number[], steps: readonly number[], shape: number[]): F64Tensor {
  checkSlice(x.shape, starts, steps, shape);
  const st = stridesOf(x.shape);
  const out = new Float64Array(sizeOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let j = 0;
    for (let k = 0; k < shape.length; k++) j += ((starts[k] < 0 ? starts[k] + x.shape[k] : starts[k]) + idx[k] * steps[k]) * st[k];
    out[i] = x.data[j];
  }
  return { data: out, shape };
}

export const LAYOUT: Record<LayoutOp, OpDef> = {
  reshape: {
    arity: [1, 1],
    kind: "injective",
    doc: "the same values in row-major order under a new shape with as many elements",
    attrs: {},
    label: (n) => n.op,
    fused: () => false,
    infer: ([x], n) => (sameCount(x, n.shape) ? n.shape : `cannot reshape ${shapeText(x)} to ${shapeText(n.shape)}: the element counts differ`),
    dtype: ([x]) => x,
    interpret: (_n, [x], shape) => ({ data: x!.data, shape }),
    kernel: copyKernel(),
    wasm: "none",
    epilogue: false,
    flops: none,
    session: keepsSequence,
  },
  permute: {
    arity: [1, 1],
    kind: "injective",
    doc: "reorders the axes: output axis k is input axis perm[k]",
    attrs: { perm: "ints" },
    label: (n) => n.op,
    fused: () => false,
    infer: ([x], n) => {
      const perm = ints(n, "perm");
      const valid = perm.length === x.length && [...perm].sort((a, b) => a - b).every((p, k) => p === k);
      return valid ? perm.map((p) => x[p]) : `perm ${String(n.attrs.perm)} is not an order of ${x.length} axes`;
    },
    dtype: ([x]) => x,
    interpret: (n, [x]) => permute(x!, ints(n, "perm")),
    kernel: (n, _ins, ctx) => ({
      inputs: ["x"],
      params: shapes("shape"),
      body: `  permuteInto(out, x, shape, [${ints(n, "perm").join(", ")}]);`,
      extra: [ctx.shapeOf(0)],
      uses: ["permuteInto"],
    }),
    wasm: "none",
    epilogue: false,
    flops: none,
    session: () => undefined,
  },
  slice: {
    arity: [1, 1],
    kind: "injective",
    doc: "per axis, elements start, start + step, ... (a negative start counts from the end); the shape says how many",
    attrs: { starts: "ints", steps: "ints" },
    label: (n) => n.op,
    fused: () => false,
    infer: ([x], n) => {
      const starts = ints(n, "starts");
      const steps = ints(n, "steps");
      if (starts.length !== x.length || steps.length !== x.length || n.shape.length !== x.length) return "one start and one step per axis";
      for (let k = 0; k < x.length; k++) {
        if (steps[k] < 1) return `axis ${k}: the step must be positive`;
        if (starts[k] === 0 && steps[k] === 1 && sameDim(x[k], n.shape[k])) continue;
        const count = lit(n.shape[k]);
        const size = lit(x[k]);
        if (count === undefined) {
          // `x[0:T]` on an axis of a known length: the checker proved T bounded by it.
          if (size !== undefined && starts[k] === 0 && steps[k] === 1) continue;
          return `axis ${k}: a slice of a symbolic axis is whole or of known length`;
        }
        if (size !== undefined) {
          const start = starts[k] < 0 ? starts[k] + size : starts[k];
          if (start < 0 || (count > 0 && start + (count - 1) * steps[k] >= size)) return `axis ${k}: elements past the ${size} there are`;
        }
      }
      return n.shape;
    },
    dtype: ([x]) => x,
    interpret: (n, [x], shape) => slice(x!, ints(n, "starts"), ints(n, "steps"), shape),
    kernel: (n, _ins, ctx) => ({
      inputs: ["x"],
      params: shapes("shape", "os"),
      body: `  sliceInto(out, x, shape, [${ints(n, "starts").join(", ")}], [${ints(n, "steps").join(", ")}], os);`,
      extra: [ctx.shapeOf(0), outShapeExpr(n, ctx)],
      uses: ["sliceInto"],
    }),
    wasm: "none",
    epilogue: false,
    flops: none,
    session: (n, ins, axes, out) => {
      const a = axes[0];
      // The first T of a fixed axis: each step would need the rows after those already seen.
      if (a < 0) return out < 0 ? undefined : "a slice as long as the sequence of a fixed axis: only the first axis of a matrix, as wpe[0:T], is read at an offset when decoding";
      const whole = ints(n, "starts")[a] === 0 && ints(n, "steps")[a] === 1 && sameDim(ins[0].shape[a], n.shape[a]);
      return whole ? undefined : "a slice picks positions of the sequence";
    },
  },
  concat: {
    arity: [1, 64],
    kind: "injective",
    doc: "the inputs joined along `axis`",
    attrs: { axis: "int" },
    label: (n) => n.op,
    fused: () => false,
    infer: (ins, n) => {
      const rank = ins[0].length;
      const axis = axisOf(n.attrs.axis as number, rank);
      if (axis < 0 || axis >= rank) return `axis ${String(n.attrs.axis)} is outside ${rank} dimensions`;
      for (const x of ins) {
        if (x.length !== rank || x.some((d, k) => k !== axis && !sameDim(d, ins[0][k]))) {
          return `the inputs differ in a dimension other than the one joined (axis ${axis}): ${shapeText(ins[0])} and ${shapeText(x)}`;
        }
      }
      if (ins.length === 1) return ins[0];
      if (!ins.every((x) => isConst(x[axis]))) return "the joined axis must have a known length in each input";
      return ins[0].map((d, k) => (k === axis ? { value: ins.reduce((s, x) => s + lit(x[axis])!, 0) } : d));
    },
    dtype: (ins) => (ins.every((d) => d === ins[0]) ? ins[0] : "f32"),
    interpret: (n, ins, shape) => {
      const axis = axisOf(n.attrs.axis as number, shape.length);
      const out = new Float64Array(sizeOf(shape));
      const outer = sizeOf(shape.slice(0, axis));
      const row = sizeOf(shape.slice(axis));
      let offset = 0;
      for (const x of ins) {
        const width = sizeOf(x!.shape.slice(axis));
        for (let o = 0; o < outer; o++) for (let j = 0; j < width; j++) out[o * row + offset + j] = x!.data[o * width + j];
        offset += width;
      }
      return { data: out, shape };
    },
    kernel: (n, ins, ctx) => {
      const names = ins.map((_, k) => `in${k}`);
      const shapeNames = ins.map((_, k) => `t${k}`);
      return {
        inputs: names,
        params: shapes(...shapeNames, "os"),
        body: `  concatInto(out, ${axisOf(n.attrs.axis as number, n.shape.length)}, os, [${names.map((x, k) => `[${x}, ${shapeNames[k]}]`).join(", ")}]);`,
        extra: [...ins.map((_, k) => ctx.shapeOf(k)), outShapeExpr(n, ctx)],
        uses: ["concatInto"],
      };
    },
    wasm: "none",
    epilogue: false,
    flops: none,
    session: (n, ins, axes, out) => (out >= 0 && axes.some((a, k) => a === axisOf(n.attrs.axis as number, ins[k].shape.length)) ? "a concatenation along the sequence axis" : positionwise(n, ins, axes, out)),
  },
  expand: {
    arity: [1, 1],
    kind: "broadcast",
    doc: "copies the input broadcast to the node's shape",
    attrs: {},
    label: (n) => n.op,
    fused: () => false,
    infer: ([x], n) => {
      const b = broadcastShapes(x, n.shape);
      return b && shapesEqual(b, n.shape) ? n.shape : `${shapeText(x)} does not broadcast to ${shapeText(n.shape)}`;
    },
    dtype: ([x]) => x,
    interpret: (_n, [x], shape) => {
      const at = broadcaster(shape, x!.shape);
      return { data: Float64Array.from({ length: sizeOf(shape) }, (_, i) => x!.data[at(i)]), shape };
    },
    kernel: (n, _ins, ctx) => ({ inputs: ["x"], params: shapes("as", "os"), body: `  expandInto(out, x, as, os);`, extra: [ctx.shapeOf(0), outShapeExpr(n, ctx)], uses: ["expandInto"] }),
    wasm: "none",
    epilogue: false,
    flops: none,
    session: positionwise,
  },
  take: {
    arity: [2, 2],
    kind: "injective",
    doc: "slices of `table` along its first axis picked by integer `ids` (negative ids count from the end): ids.shape + table.shape[1:]",
    attrs: {},
    label: (n) => n.op,
    fused: () => false,
    infer: ([table, ids]) => (table.length >= 1 ? [...ids, ...table.slice(1)] : "the table needs at least one axis"),
    dtype: ([table]) => table,
    interpret: (_n, [table, ids], shape) => {
      const rows = table!.shape[0];
      const width = sizeOf(table!.shape.slice(1));
      const out = new Float64Array(sizeOf(shape));
      ids!.data.forEach((raw, i) => {
        const id = raw < 0 ? raw + rows : raw;
        if (!(id >= 0 && id < rows)) throw new RangeError(`take: index ${raw} is outside the ${rows} rows of the table`);
        out.set(table!.data.subarray(id * width, id * width + width), i * width);
      });
      return { data: out, shape };
    },
    kernel: (n, [, ids], ctx) => {
      const p = new KernelParams(ctx);
      p.add("shape", "shape", ctx.shapeOf(0));
      const count = p.size("count", ids.shape);
      return { inputs: ["table", "ids"], params: p.params, body: `  takeInto(out, table, shape, ids, ${count});`, extra: p.extra, uses: ["takeInto"] };
    },
    wasm: "none",
    epilogue: false,
    flops: none,
    // The ids are positions; the table must not grow with the sequence.
    session: (_n, _ins, axes) => (axes[0] >= 0 ? "rows are taken from a tensor that grows with the sequence" : undefined),
  },
};
