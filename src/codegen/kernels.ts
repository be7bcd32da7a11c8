import { mayBeBigInt, num, readElement, str } from "./literals.js";
import type { NodeLabel } from "../ir/node.js";
import type { KernelOp } from "../ir/ops/names.js";
import { isConst, type Dim } from "../semantics/types.js";
import { denseBody } from "./gemm.js";
import { ATTENTION_KERNELS } from "./attentionKernels.js";
import type { KernelTemplate } from "../ir/ops/opDef.js";
import { KernelParams, numbers, shapes } from "./kernelTypes.js";

// The kernels of the ops that layers lower to and fusions produce (see kernelTypes.ts for what a
// template returns); the attention family's are in attentionKernels.ts.

const lit = (d: Dim | undefined): number | undefined => (d && isConst(d) ? d.value : undefined);

/** Element `i` of an input as a number: 64-bit integer inputs arrive as BigInt64Array. */

function elementwise(expr: (v: string) => string, uses: string[] = []): KernelTemplate {
  return (n, ins, ctx) => {
    const p = new KernelParams(ctx);
    const total = p.size("n", n.shape);
    const body = `  for (let i = 0; i < ${total}; i++) { const v = ${readElement(ins[0], "x", "i")}; out[i] = ${expr("v")}; }`;
    return { inputs: ["x"], params: p.params, body, extra: p.extra, uses };
  };
}

const sameDims = (a: readonly Dim[], b: readonly Dim[]) =>
  a.length === b.length && a.every((d, i) => (isConst(d) ? lit(b[i]) === d.value : !isConst(b[i]) && (b[i] as { sym: string }).sym === d.sym));

function arithmetic(op: string): KernelTemplate {
  return (n, [a, b], ctx) => {
    const p = new KernelParams(ctx);
    const total = p.size("n", n.shape);
    const tail = (x: NodeLabel) => sameDims(x.shape, n.shape.slice(n.shape.length - x.shape.length)) && x.shape.every((d) => lit(d) !== 1);
    let body: string;
    if (sameDims(a.shape, n.shape) && sameDims(b.shape, n.shape)) {
      body = `for (let i = 0; i < ${total}; i++) out[i] = ${readElement(a, "a", "i")} ${op} ${readElement(b, "b", "i")};`;
    } else if (sameDims(a.shape, n.shape) && tail(b)) {
      const m = p.size("m", b.shape);
      body = `for (let i = 0, j = 0; i < ${total}; i++, j = j + 1 === ${m} ? 0 : j + 1) out[i] = ${readElement(a, "a", "i")} ${op} ${readElement(b, "b", "j")};`;
    } else if (sameDims(b.shape, n.shape) && tail(a)) {
      const m = p.size("m", a.shape);
      body = `for (let i = 0, j = 0; i < ${total}; i++, j = j + 1 === ${m} ? 0 : j + 1) out[i] = ${readElement(a, "a", "j")} ${op} ${readElement(b, "b", "i")};`;
    } else {
      p.add("as", "shape", ctx.shapeOf(0));
      p.add("bs", "shape", ctx.shapeOf(1));
      p.add("os", "shape", `[${n.shape.map((d) => ctx.dim(d)).join(", ")}]`);
      if (mayBeBigInt(a) || mayBeBigInt(b)) {
        // broadcastMap reads any typed array through Number().
        return { inputs: ["a", "b"], params: p.params, body: `  broadcastMap(out, a, as, b, bs, os, (x, y) => x ${op} y);`, extra: p.extra, uses: ["broadcastMap"] };
      }
      const name = { "+": "add", "-": "sub", "*": "mul", "/": "div" }[op];
      return { inputs: ["a", "b"], params: p.params, body: `  broadcastBinary(out, a, as, b, bs, os, ${JSON.stringify(name)});`, extra: p.extra, uses: ["broadcastBinary"] };
    }
    return { inputs: ["a", "b"], params: p.params, body: `  ${body}`, extra: p.extra };
  };
}

/** Activations as expressions, for fused epilogues. */
const ACTIVATION_EXPR: Record<string, { expr: (v: string) => string; uses: string[] }> = {
  none: { expr: (v) => v, uses: [] },
  relu: { expr: (v) => `${v} > 0 ? ${v} : 0`, uses: [] },
  gelu: { expr: (v) => `gelu(${v})`, uses: ["gelu"] },
  gelu_tanh: { expr: (v) => `geluTanh(${v})`, uses: ["geluTanh"] },
  silu: { expr: (v) => `silu(${v})`, uses: ["silu"] },
  tanh: { expr: (v) => `Math.tanh(${v})`, uses: [] },
  sigmoid: { expr: (v) => `sigmoid(${v})`, uses: ["sigmoid"] },
};

/**
 * Activations that call a runtime function: a dense kernel writes its sums, then applies them in
 * one pass (see src/runtime/activations.ts), so no number is boxed per element.
 */
const ACTIVATION_AFTER: Record<string, string | undefined> = { gelu: "geluColumns", gelu_tanh: "geluTanhColumns", silu: "siluColumns", sigmoid: "sigmoidColumns" };

/** The names of a node's inputs when the last ones (a bias, a norm's weight and shift) may be absent. */
const firstNames = (names: readonly string[], count: number) => names.slice(0, count);

export const KERNELS: Record<KernelOp, KernelTemplate> = {
  input: () => {
    throw new Error("inputs have no kernel");
  },
  param: () => {
    throw new Error("parameters have no kernel");
  },
  sinusoidal: (n, _ins, ctx) => {
    const d = lit(n.shape[1])!;
    const p = new KernelParams(ctx);
    const len = p.size("len", [n.shape[0]]);
    const at = ctx.rowOffset === undefined ? "p" : "p + off";
    if (ctx.rowOffset !== undefined) p.add("off", "number", ctx.rowOffset);
    return {
      inputs: [],
      params: p.params,
      body: `  for (let p = 0; p < ${len}; p++) for (let c = 0; c < ${d}; c++) out[p * ${d} + c] = sinusoid(${at}, c, ${d}, ${num(n.attrs.base as number)});`,
      extra: p.extra,
      uses: ["sinusoid"],
    };
  },
  gather: (n, [table, ids], ctx) => {
    const V = lit(table.shape[0])!;
    const d = lit(table.shape[1])!;
    const p = new KernelParams(ctx);
    const count = p.size("count", n.shape.slice(0, -1));
    // Where the ids and the table come from, for the error: arguments, so embeddings of one shape
    // still share a kernel.
    const from = ids.op === "input" ? `input '${ids.attrs.name as string}'` : n.scope ? `the ids of '${n.scope}'` : "the ids";
    p.add("from", "string", str(from));
    p.add("tableName", "string", str(table.op === "param" ? (table.attrs.name as string) : "table"));
    return {
      inputs: ["table", "ids"],
      params: p.params,
      body: `  for (let i = 0; i < ${count}; i++) {
    const id = Number(ids[i]);
    if (!(id >= 0 && id < ${V})) throw idOutOfRange(ids[i], ${V}, from, tableName);
    for (let c = 0, src = id * ${d}, dst = i * ${d}; c < ${d}; c++) out[dst + c] = table[src + c];
  }`,
      extra: p.extra,
      uses: ["idOutOfRange"],
    };
  },
  slice_rows: (n, [m], ctx) => {
    const cols = lit(m.shape[1])!;
    const p = new KernelParams(ctx);
    const count = p.size("count", [n.shape[0]]);
    const start = n.attrs.start as number;
    if (ctx.rowOffset !== undefined) {
      // In a decoding session: the rows of the new positions, after the ones already seen.
      p.add("off", "number", ctx.rowOffset);
      return { inputs: ["m"], params: p.params, body: `  for (let i = 0, src = (${start} + off) * ${cols}, end = ${count} * ${cols}; i < end; i++) out[i] = m[src + i];`, extra: p.extra };
    }
    return { inputs: ["m"], params: p.params, body: `  out.set(m.subarray(${start * cols}, ${start * cols} + ${count} * ${cols}));`, extra: p.extra };
  },
  slice_last: (n, [x], ctx) => {
    const w = lit(x.shape[x.shape.length - 1])!;
    const { start, size } = n.attrs as { start: number; size: number };
    const p = new KernelParams(ctx);
    const rows = p.size("rows", n.shape.slice(0, -1));
    return { inputs: ["x"], params: p.params, body: `  for (let r = 0; r < ${rows}; r++) for (let c = 0; c < ${size}; c++) out[r * ${size} + c] = x[r * ${w} + ${start} + c];`, extra: p.extra };
  },
  transpose: (n, _ins, ctx) => ({
    inputs: ["x"],
    params: shapes("shape"),
    body: `  transposeInto(out, x, shape, ${n.attrs.dim0 as number}, ${n.attrs.dim1 as number});`,
    extra: [ctx.shapeOf(0)],
    uses: ["transposeInto"],
  }),
  split_heads: (n, [x], ctx) => {
    const [, H, , D] = n.shape.map(lit);
    const W = lit(x.shape[2])!;
    const offset = (n.attrs.offset as number | undefined) ?? 0;
    const p = new KernelParams(ctx);
    const B = p.size("B", [n.shape[0]]);
    const L = p.size("L", [n.shape[2]]);
    return {
      inputs: ["x"],
      params: p.params,
      body: `  for (let b = 0; b < ${B}; b++) for (let l = 0; l < ${L}; l++) for (let h = 0; h < ${H}; h++) {
    const src = (b * ${L} + l) * ${W} + ${offset} + h * ${D};
    const dst = ((b * ${H} + h) * ${L} + l) * ${D};
    for (let d = 0; d < ${D}; d++) out[dst + d] = x[src + d];
  }`,
      extra: p.extra,
    };
  },
  repeat_kv: (n, [x], ctx) => {
    const Hk = lit(x.shape[1])!;
    const g = n.attrs.groups as number;
    const p = new KernelParams(ctx);
    const B = p.size("B", [x.shape[0]]);
    const row = p.size("row", x.shape.slice(2));
    return {
      inputs: ["x"],
      params: p.params,
      body: `  for (let b = 0; b < ${B}; b++) for (let h = 0; h < ${Hk * g}; h++) {
    const src = (b * ${Hk} + Math.floor(h / ${g})) * ${row};
    out.set(x.subarray(src, src + ${row}), (b * ${Hk * g} + h) * ${row});
  }`,
      extra: p.extra,
    };
  },
  merge_heads: (_n, [x], ctx) => {
    const [, H, , D] = x.shape.map(lit);
    const p = new KernelParams(ctx);
    const B = p.size("B", [x.shape[0]]);
    const L = p.size("L", [x.shape[2]]);
    return {
      inputs: ["x"],
      params: p.params,
      body: `  for (let b = 0; b < ${B}; b++) for (let h = 0; h < ${H}; h++) for (let l = 0; l < ${L}; l++) {
    const src = ((b * ${H} + h) * ${L} + l) * ${D};
    const dst = (b * ${L} + l) * ${H! * D!} + h * ${D};
    for (let d = 0; d < ${D}; d++) out[dst + d] = x[src + d];
  }`,
      extra: p.extra,
    };
  },
  dense: (n, ins, ctx) => {
    const [N, K] = ins[1].shape.map(lit) as [number, number];
    const hasBias = ins.length > 2;
    // The row count is always a parameter, so threads can each take a range of rows.
    const actName = (n.attrs.act as string | undefined) ?? "none";
    const after = ACTIVATION_AFTER[actName];
    const act = after ? ACTIVATION_EXPR.none : ACTIVATION_EXPR[actName];
    const inputs = hasBias ? 3 : 2;
    return {
      inputs: firstNames(["x", "w", "b"], inputs),
      params: numbers("rows", "c0", "c1"),
      body: `${denseBody("rows", K, N, hasBias, act.expr)}${after ? `\n${after}(out, rows, ${N}, c0, c1);` : ""}`,
      extra: [ctx.size(n.shape.slice(0, -1)), "0", String(N)],
      uses: after ? [after] : act.uses,
      split: { kind: "rows", countAt: inputs + 1, strides: [N, K, ...new Array<number>(inputs).fill(0)], columns: N },
    };
  },
  matmul: (n, [a, b], ctx) => {
    const M = ctx.dim(a.shape[a.shape.length - 2]);
    const K = ctx.dim(a.shape[a.shape.length - 1]);
    const N = ctx.dim(b.shape[b.shape.length - 1]);
    const batch = n.shape.slice(0, -2);
    return {
      inputs: ["a", "b"],
      params: [...numbers("M", "K", "N"), { name: "aOff", type: "i32" }, { name: "bOff", type: "i32" }],
      body: `  const mk = M * K, kn = K * N, mn = M * N;
  for (let t = 0; t < aOff.length; t++) {
    const ao = aOff[t] * mk, bo = bOff[t] * kn, oo = t * mn;
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[ao + i * K + k] * b[bo + k * N + j];
      out[oo + i * N + j] = s;
    }
  }`,
      extra: [M, K, N, `batchOffsets([${batch.map((d) => ctx.dim(d)).join(", ")}], ${ctx.shapeOf(0)}.slice(0, -2))`, `batchOffsets([${batch.map((d) => ctx.dim(d)).join(", ")}], ${ctx.shapeOf(1)}.slice(0, -2))`],
      uses: ["batchOffsets"],
    };
  },
  add: arithmetic("+"),
  sub: arithmetic("-"),
  mul: arithmetic("*"),
  div: arithmetic("/"),
  scalar: (n, ins, ctx) => {
    const c = num(n.attrs.value as number);
    const op = n.attrs.op as string;
    return elementwise((v) => (n.attrs.reverse ? `${c} ${op} ${v}` : `${v} ${op} ${c}`))(n, ins, ctx);
  },
  relu: elementwise(ACTIVATION_EXPR.relu.expr),
  gelu: elementwise(ACTIVATION_EXPR.gelu.expr, ACTIVATION_EXPR.gelu.uses),
  gelu_tanh: elementwise(ACTIVATION_EXPR.gelu_tanh.expr, ACTIVATION_EXPR.gelu_tanh.uses),
  silu: elementwise(ACTIVATION_EXPR.silu.expr, ACTIVATION_EXPR.silu.uses),
  tanh: elementwise(ACTIVATION_EXPR.tanh.expr),
  sigmoid: elementwise(ACTIVATION_EXPR.sigmoid.expr, ACTIVATION_EXPR.sigmoid.uses),
  softmax: (n, _ins, ctx) => {
    if ((n.attrs.axis as number) !== n.shape.length - 1) {
      return { inputs: ["x"], params: shapes("shape"), body: `  softmaxAxis(out, x, shape, ${n.attrs.axis as number});`, extra: [ctx.shapeOf(0)], uses: ["softmaxAxis"] };
    }
    const p = new KernelParams(ctx);
    const last = n.shape[n.shape.length - 1];
    const d = isConst(last) ? String(last.value) : p.add("d", "number", ctx.dim(last));
    const rows = p.size("rows", n.shape.slice(0, -1));
    return {
      inputs: ["x"],
      params: p.params,
      body: `  for (let r = 0; r < ${rows}; r++) {
    const o = r * ${d};
    let max = -Infinity;
    for (let i = 0; i < ${d}; i++) if (x[o + i] > max) max = x[o + i];
    if (max === -Infinity) { out.fill(0, o, o + ${d}); continue; }
    let sum = 0;
    for (let i = 0; i < ${d}; i++) { const e = Math.exp(x[o + i] - max); out[o + i] = e; sum += e; }
    const inv = 1 / sum;
    for (let i = 0; i < ${d}; i++) out[o + i] *= inv;
  }`,
      extra: p.extra,
    };
  },
  layer_norm: (n, ins, ctx) => {
    const p = new KernelParams(ctx);
    const d = lit(n.shape[n.shape.length - 1])!;
    const rows = p.size("rows", n.shape.slice(0, -1));
    const hasW = ins.length > 1;
    const hasB = ins.length > 2;
    const scale = hasW ? " * w[i]" : "";
    const shift = hasB ? " + b[i]" : "";
    return {
      inputs: firstNames(["x", "w", "b"], ins.length),
      params: p.params,
      body: `  for (let r = 0; r < ${rows}; r++) {
    const o = r * ${d};
    let mean = 0;
    for (let i = 0; i < ${d}; i++) mean += x[o + i];
    mean /= ${d};
    let v = 0;
    for (let i = 0; i < ${d}; i++) { const t = x[o + i] - mean; v += t * t; }
    const inv = 1 / Math.sqrt(v / ${d} + ${num(n.attrs.eps as number)});
    for (let i = 0; i < ${d}; i++) out[o + i] = (x[o + i] - mean) * inv${scale}${shift};
  }`,
      extra: p.extra,
    };
  },
  rms_norm: (n, ins, ctx) => {
    const p = new KernelParams(ctx);
    const d = lit(n.shape[n.shape.length - 1])!;
    const rows = p.size("rows", n.shape.slice(0, -1));
    const hasW = ins.length > 1;
    return {
      inputs: firstNames(["x", "w"], ins.length),
      params: p.params,
      body: `  for (let r = 0; r < ${rows}; r++) {
    const o = r * ${d};
    let ms = 0;
    for (let i = 0; i < ${d}; i++) ms += x[o + i] * x[o + i];
    const inv = 1 / Math.sqrt(ms / ${d} + ${num(n.attrs.eps as number)});
    for (let i = 0; i < ${d}; i++) out[o + i] = x[o + i] * inv${hasW ? " * w[i]" : ""};
  }`,
      extra: p.extra,
    };
  },
  add_layer_norm: (n, ins, ctx) => {
    const p = new KernelParams(ctx);
    const d = lit(n.shape[n.shape.length - 1])!;
    const rows = p.size("rows", n.shape.slice(0, -1));
    const hasW = ins.length > 2;
    const hasB = ins.length > 3;
    return {
      inputs: firstNames(["a", "c", "w", "b"], ins.length),
      params: p.params,
      scratch: `const $K_row = new Float64Array(${d});`,
      body: `  const t = $K_row;
  for (let r = 0; r < ${rows}; r++) {
    const o = r * ${d};
    let mean = 0;
    for (let i = 0; i < ${d}; i++) { const v = Math.fround(a[o + i] + c[o + i]); t[i] = v; mean += v; }
    mean /= ${d};
    let v = 0;
    for (let i = 0; i < ${d}; i++) { const u = t[i] - mean; v += u * u; }
    const inv = 1 / Math.sqrt(v / ${d} + ${num(n.attrs.eps as number)});
    for (let i = 0; i < ${d}; i++) out[o + i] = (t[i] - mean) * inv${hasW ? " * w[i]" : ""}${hasB ? " + b[i]" : ""};
  }`,
      extra: p.extra,
    };
  },
  add_rms_norm: (n, ins, ctx) => {
    const p = new KernelParams(ctx);
    const d = lit(n.shape[n.shape.length - 1])!;
    const rows = p.size("rows", n.shape.slice(0, -1));
    const hasW = ins.length > 2;
    return {
      inputs: firstNames(["a", "c", "w"], ins.length),
      params: p.params,
      scratch: `const $K_row = new Float64Array(${d});`,
      body: `  const t = $K_row;
  for (let r = 0; r < ${rows}; r++) {
    const o = r * ${d};
    let ms = 0;
    for (let i = 0; i < ${d}; i++) { const v = Math.fround(a[o + i] + c[o + i]); t[i] = v; ms += v * v; }
    const inv = 1 / Math.sqrt(ms / ${d} + ${num(n.attrs.eps as number)});
    for (let i = 0; i < ${d}; i++) out[o + i] = t[i] * inv${hasW ? " * w[i]" : ""};
  }`,
      extra: p.extra,
    };
  },
  ...ATTENTION_KERNELS,
};
