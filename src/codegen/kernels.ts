import { num, str } from "./literals.js";
import type { NodeLabel } from "../ir/node.js";
import type { KernelOp } from "../ir/ops/names.js";
import { isConst, type Dim } from "../semantics/types.js";
import { denseBody } from "./gemm.js";
import { flashAttentionBody, flashAttentionScratch } from "./flashAttention.js";
import { REWRITE_KERNELS } from "./attentionKernels.js";
import { maskParams, maskTests } from "./masks.js";

/**
 * A kernel template returns the source of one function named `$K` whose parameters are
 * `(out, in0, in1, ..., extra...)`, and the expressions for its extra arguments. Every dimension
 * known at compile time is a literal in the source; symbolic ones arrive as arguments. Identical
 * sources are emitted once, so layers of the same shape share their kernels.
 */
export interface KernelSource {
  readonly fn: string;
  readonly extra: readonly string[];
  /**
   * How the work splits over threads: by rows (the argument at `countAt` of [out, ...inputs,
   * ...extra] counts them; each argument with a stride advances by rows × stride), or by heads (the
   * kernel takes a head range as its two last parameters).
   */
  readonly split?:
    | {
        readonly kind: "rows";
        readonly countAt: number;
        readonly strides: readonly number[];
        /** Dense kernels: the output width; `c0, c1` follow the row count, so threads may split columns instead. */
        readonly columns?: number;
      }
    | { readonly kind: "heads"; readonly heads: number };
  /** Runtime helpers the function calls, imported from the runtime. */
  readonly uses?: readonly string[];
}

export interface KernelCtx {
  /** An expression for a dimension: a literal, or the variable holding a symbol's value. */
  dim(d: Dim): string;
  /** An expression for the product of dimensions, constants folded. */
  size(dims: readonly Dim[]): string;
  /** An expression for the runtime shape array of input `i`. */
  shapeOf(i: number): string;
  /** In a decoding session, for position tables: the number of positions already seen. */
  readonly rowOffset?: string;
}

type KernelTemplate = (n: NodeLabel, ins: readonly NodeLabel[], ctx: KernelCtx) => KernelSource;

const lit = (d: Dim | undefined): number | undefined => (d && isConst(d) ? d.value : undefined);

/** A literal when known, else a parameter of the kernel filled from `ctx`. */
function sizeParam(name: string, dims: readonly Dim[], ctx: KernelCtx, params: string[], extra: string[]): string {
  if (dims.every(isConst)) return ctx.size(dims);
  params.push(name);
  extra.push(ctx.size(dims));
  return name;
}

/** Element `i` of an input as a number: 64-bit integer inputs arrive as BigInt64Array. */
const read = (x: NodeLabel, arr: string, i: string) => (x.dtype === "i64" ? `Number(${arr}[${i}])` : `${arr}[${i}]`);

function elementwise(expr: (v: string) => string, uses: string[] = []): KernelTemplate {
  return (n, ins, ctx) => {
    const params: string[] = [];
    const extra: string[] = [];
    const total = sizeParam("n", n.shape, ctx, params, extra);
    const fn = `function $K(out, x${params.map((p) => ", " + p).join("")}) {
  for (let i = 0; i < ${total}; i++) { const v = ${read(ins[0], "x", "i")}; out[i] = ${expr("v")}; }
}`;
    return { fn, extra, uses };
  };
}

const sameDims = (a: readonly Dim[], b: readonly Dim[]) =>
  a.length === b.length && a.every((d, i) => (isConst(d) ? lit(b[i]) === d.value : !isConst(b[i]) && (b[i] as { sym: string }).sym === d.sym));

function arithmetic(op: string): KernelTemplate {
  return (n, [a, b], ctx) => {
    const params: string[] = [];
    const extra: string[] = [];
    const total = sizeParam("n", n.shape, ctx, params, extra);
    const tail = (x: NodeLabel) => sameDims(x.shape, n.shape.slice(n.shape.length - x.shape.length)) && x.shape.every((d) => lit(d) !== 1);
    let body: string;
    if (sameDims(a.shape, n.shape) && sameDims(b.shape, n.shape)) {
      body = `for (let i = 0; i < ${total}; i++) out[i] = ${read(a, "a", "i")} ${op} ${read(b, "b", "i")};`;
    } else if (sameDims(a.shape, n.shape) && tail(b)) {
      const m = sizeParam("m", b.shape, ctx, params, extra);
      body = `for (let i = 0, j = 0; i < ${total}; i++, j = j + 1 === ${m} ? 0 : j + 1) out[i] = ${read(a, "a", "i")} ${op} ${read(b, "b", "j")};`;
    } else if (sameDims(b.shape, n.shape) && tail(a)) {
      const m = sizeParam("m", a.shape, ctx, params, extra);
      body = `for (let i = 0, j = 0; i < ${total}; i++, j = j + 1 === ${m} ? 0 : j + 1) out[i] = ${read(a, "a", "j")} ${op} ${read(b, "b", "i")};`;
    } else {
      params.push("as", "bs", "os");
      extra.push(ctx.shapeOf(0), ctx.shapeOf(1), `[${n.shape.map((d) => ctx.dim(d)).join(", ")}]`);
      if (a.dtype === "i64" || b.dtype === "i64") {
        // broadcastMap reads any typed array through Number().
        return { fn: `function $K(out, a, b, ${params.join(", ")}) {\n  broadcastMap(out, a, as, b, bs, os, (x, y) => x ${op} y);\n}`, extra, uses: ["broadcastMap"] };
      }
      const name = { "+": "add", "-": "sub", "*": "mul", "/": "div" }[op];
      return { fn: `function $K(out, a, b, ${params.join(", ")}) {\n  broadcastBinary(out, a, as, b, bs, os, ${JSON.stringify(name)});\n}`, extra, uses: ["broadcastBinary"] };
    }
    return { fn: `function $K(out, a, b${params.map((p) => ", " + p).join("")}) {\n  ${body}\n}`, extra };
  };
}

function rowsKernel(n: NodeLabel, ctx: KernelCtx, params: string[], extra: string[]): { rows: string; d: number } {
  const d = lit(n.shape[n.shape.length - 1])!;
  const rows = sizeParam("rows", n.shape.slice(0, -1), ctx, params, extra);
  return { rows, d };
}

const plist = (p: string[]) => p.map((x) => ", " + x).join("");

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

export const KERNELS: Record<KernelOp, KernelTemplate> = {
  input: () => {
    throw new Error("inputs have no kernel");
  },
  param: () => {
    throw new Error("parameters have no kernel");
  },
  sinusoidal: (n, _ins, ctx) => {
    const d = lit(n.shape[1])!;
    const params: string[] = [];
    const extra: string[] = [];
    const len = sizeParam("len", [n.shape[0]], ctx, params, extra);
    const at = ctx.rowOffset === undefined ? "p" : "p + off";
    if (ctx.rowOffset !== undefined) params.push("off"), extra.push(ctx.rowOffset);
    return {
      fn: `function $K(out${plist(params)}) {
  for (let p = 0; p < ${len}; p++) for (let c = 0; c < ${d}; c++) out[p * ${d} + c] = sinusoid(${at}, c, ${d}, ${num(n.attrs.base as number)});
}`,
      extra,
      uses: ["sinusoid"],
    };
  },
  gather: (n, [table, ids], ctx) => {
    const V = lit(table.shape[0])!;
    const d = lit(table.shape[1])!;
    const params: string[] = [];
    const extra: string[] = [];
    const count = sizeParam("count", n.shape.slice(0, -1), ctx, params, extra);
    // Where the ids and the table come from, for the error: arguments, so embeddings of one shape
    // still share a kernel.
    const from = ids.op === "input" ? `input '${ids.attrs.name as string}'` : n.scope ? `the ids of '${n.scope}'` : "the ids";
    params.push("from", "tableName");
    extra.push(str(from), str(table.op === "param" ? (table.attrs.name as string) : "table"));
    return {
      fn: `function $K(out, table, ids${plist(params)}) {
  for (let i = 0; i < ${count}; i++) {
    const id = Number(ids[i]);
    if (!(id >= 0 && id < ${V})) throw idOutOfRange(ids[i], ${V}, from, tableName);
    for (let c = 0, src = id * ${d}, dst = i * ${d}; c < ${d}; c++) out[dst + c] = table[src + c];
  }
}`,
      extra,
      uses: ["idOutOfRange"],
    };
  },
  slice_rows: (n, [m], ctx) => {
    const cols = lit(m.shape[1])!;
    const params: string[] = [];
    const extra: string[] = [];
    const count = sizeParam("count", [n.shape[0]], ctx, params, extra);
    const start = n.attrs.start as number;
    if (ctx.rowOffset !== undefined) {
      // In a decoding session: the rows of the new positions, after the ones already seen.
      params.push("off");
      extra.push(ctx.rowOffset);
      return { fn: `function $K(out, m${plist(params)}) {\n  for (let i = 0, src = (${start} + off) * ${cols}, end = ${count} * ${cols}; i < end; i++) out[i] = m[src + i];\n}`, extra };
    }
    return { fn: `function $K(out, m${plist(params)}) {\n  out.set(m.subarray(${start * cols}, ${start * cols} + ${count} * ${cols}));\n}`, extra };
  },
  slice_last: (n, [x], ctx) => {
    const w = lit(x.shape[x.shape.length - 1])!;
    const { start, size } = n.attrs as { start: number; size: number };
    const params: string[] = [];
    const extra: string[] = [];
    const rows = sizeParam("rows", n.shape.slice(0, -1), ctx, params, extra);
    return { fn: `function $K(out, x${plist(params)}) {\n  for (let r = 0; r < ${rows}; r++) for (let c = 0; c < ${size}; c++) out[r * ${size} + c] = x[r * ${w} + ${start} + c];\n}`, extra };
  },
  transpose: (n, _ins, ctx) => ({
    fn: `function $K(out, x, shape) {\n  transposeInto(out, x, shape, ${n.attrs.dim0 as number}, ${n.attrs.dim1 as number});\n}`,
    extra: [ctx.shapeOf(0)],
    uses: ["transposeInto"],
  }),
  split_heads: (n, [x], ctx) => {
    const [, H, , D] = n.shape.map(lit);
    const W = lit(x.shape[2])!;
    const offset = (n.attrs.offset as number | undefined) ?? 0;
    const params: string[] = [];
    const extra: string[] = [];
    const B = sizeParam("B", [n.shape[0]], ctx, params, extra);
    const L = sizeParam("L", [n.shape[2]], ctx, params, extra);
    return {
      fn: `function $K(out, x${plist(params)}) {
  for (let b = 0; b < ${B}; b++) for (let l = 0; l < ${L}; l++) for (let h = 0; h < ${H}; h++) {
    const src = (b * ${L} + l) * ${W} + ${offset} + h * ${D};
    const dst = ((b * ${H} + h) * ${L} + l) * ${D};
    for (let d = 0; d < ${D}; d++) out[dst + d] = x[src + d];
  }
}`,
      extra,
    };
  },
  merge_heads: (_n, [x], ctx) => {
    const [, H, , D] = x.shape.map(lit);
    const params: string[] = [];
    const extra: string[] = [];
    const B = sizeParam("B", [x.shape[0]], ctx, params, extra);
    const L = sizeParam("L", [x.shape[2]], ctx, params, extra);
    return {
      fn: `function $K(out, x${plist(params)}) {
  for (let b = 0; b < ${B}; b++) for (let h = 0; h < ${H}; h++) for (let l = 0; l < ${L}; l++) {
    const src = ((b * ${H} + h) * ${L} + l) * ${D};
    const dst = (b * ${L} + l) * ${H! * D!} + h * ${D};
    for (let d = 0; d < ${D}; d++) out[dst + d] = x[src + d];
  }
}`,
      extra,
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
      fn: `function $K(out, x, w${hasBias ? ", b" : ""}, rows, c0, c1) {\n${denseBody("rows", K, N, hasBias, act.expr)}${after ? `\n${after}(out, rows, ${N}, c0, c1);` : ""}\n}`,
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
      fn: `function $K(out, a, b, M, K, N, aOff, bOff) {
  const mk = M * K, kn = K * N, mn = M * N;
  for (let t = 0; t < aOff.length; t++) {
    const ao = aOff[t] * mk, bo = bOff[t] * kn, oo = t * mn;
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[ao + i * K + k] * b[bo + k * N + j];
      out[oo + i * N + j] = s;
    }
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
      return { fn: `function $K(out, x, shape) {\n  softmaxAxis(out, x, shape, ${n.attrs.axis as number});\n}`, extra: [ctx.shapeOf(0)], uses: ["softmaxAxis"] };
    }
    const params: string[] = [];
    const extra: string[] = [];
    const last = n.shape[n.shape.length - 1];
    const d = isConst(last) ? String(last.value) : "d";
    if (!isConst(last)) {
      params.push("d");
      extra.push(ctx.dim(last));
    }
    const rows = sizeParam("rows", n.shape.slice(0, -1), ctx, params, extra);
    return {
      fn: `function $K(out, x${plist(params)}) {
  for (let r = 0; r < ${rows}; r++) {
    const o = r * ${d};
    let max = -Infinity;
    for (let i = 0; i < ${d}; i++) if (x[o + i] > max) max = x[o + i];
    if (max === -Infinity) { out.fill(0, o, o + ${d}); continue; }
    let sum = 0;
    for (let i = 0; i < ${d}; i++) { const e = Math.exp(x[o + i] - max); out[o + i] = e; sum += e; }
    const inv = 1 / sum;
    for (let i = 0; i < ${d}; i++) out[o + i] *= inv;
  }
}`,
      extra,
    };
  },
  layer_norm: (n, ins, ctx) => {
    const params: string[] = [];
    const extra: string[] = [];
    const { rows, d } = rowsKernel(n, ctx, params, extra);
    const hasW = ins.length > 1;
    const hasB = ins.length > 2;
    const scale = hasW ? " * w[i]" : "";
    const shift = hasB ? " + b[i]" : "";
    return {
      fn: `function $K(out, x${hasW ? ", w" : ""}${hasB ? ", b" : ""}${plist(params)}) {
  for (let r = 0; r < ${rows}; r++) {
    const o = r * ${d};
    let mean = 0;
    for (let i = 0; i < ${d}; i++) mean += x[o + i];
    mean /= ${d};
    let v = 0;
    for (let i = 0; i < ${d}; i++) { const t = x[o + i] - mean; v += t * t; }
    const inv = 1 / Math.sqrt(v / ${d} + ${num(n.attrs.eps as number)});
    for (let i = 0; i < ${d}; i++) out[o + i] = (x[o + i] - mean) * inv${scale}${shift};
  }
}`,
      extra,
    };
  },
  rms_norm: (n, ins, ctx) => {
    const params: string[] = [];
    const extra: string[] = [];
    const { rows, d } = rowsKernel(n, ctx, params, extra);
    const hasW = ins.length > 1;
    return {
      fn: `function $K(out, x${hasW ? ", w" : ""}${plist(params)}) {
  for (let r = 0; r < ${rows}; r++) {
    const o = r * ${d};
    let ms = 0;
    for (let i = 0; i < ${d}; i++) ms += x[o + i] * x[o + i];
    const inv = 1 / Math.sqrt(ms / ${d} + ${num(n.attrs.eps as number)});
    for (let i = 0; i < ${d}; i++) out[o + i] = x[o + i] * inv${hasW ? " * w[i]" : ""};
  }
}`,
      extra,
    };
  },
  mask_scores: maskScoresKernel,
  add_layer_norm: (n, ins, ctx) => {
    const params: string[] = [];
    const extra: string[] = [];
    const { rows, d } = rowsKernel(n, ctx, params, extra);
    const hasW = ins.length > 2;
    const hasB = ins.length > 3;
    return {
      fn: `const $K_row = new Float64Array(${d});
function $K(out, a, c${hasW ? ", w" : ""}${hasB ? ", b" : ""}${plist(params)}) {
  const t = $K_row;
  for (let r = 0; r < ${rows}; r++) {
    const o = r * ${d};
    let mean = 0;
    for (let i = 0; i < ${d}; i++) { const v = Math.fround(a[o + i] + c[o + i]); t[i] = v; mean += v; }
    mean /= ${d};
    let v = 0;
    for (let i = 0; i < ${d}; i++) { const u = t[i] - mean; v += u * u; }
    const inv = 1 / Math.sqrt(v / ${d} + ${num(n.attrs.eps as number)});
    for (let i = 0; i < ${d}; i++) out[o + i] = (t[i] - mean) * inv${hasW ? " * w[i]" : ""}${hasB ? " + b[i]" : ""};
  }
}`,
      extra,
    };
  },
  masked_softmax: maskedSoftmaxKernel,
  attention: flashAttentionKernel,
  ...REWRITE_KERNELS,
};

/** Scale, masks and softmax of each score row in one pass; a row with every key masked gives zeros. */
function maskedSoftmaxKernel(n: NodeLabel, _ins: readonly NodeLabel[], ctx: KernelCtx): KernelSource {
  const m = maskParams(n, 1, ctx);
  const H = lit(n.shape[1])!;
  return {
    fn: `function $K(out, scores${m.names}, B, L, S${m.strideNames}) {
  for (let b = 0; b < B; b++) for (let h = 0; h < ${H}; h++) for (let i = 0; i < L; i++) {
    const row = ((b * ${H} + h) * L + i) * S;
    let max = -Infinity;
    for (let j = 0; j < S; j++) {
      let ok = ${n.attrs.causal ? "j <= i" : "true"};
      let add = 0;
      ${maskTests(m.roles)}
      const s = ok ? Math.fround(Math.fround(scores[row + j] * ${num(n.attrs.scale as number)}) + add) : -Infinity;
      out[row + j] = s;
      if (s > max) max = s;
    }
    if (max === -Infinity) { out.fill(0, row, row + S); continue; }
    let sum = 0;
    for (let j = 0; j < S; j++) { const e = Math.exp(out[row + j] - max); out[row + j] = e; sum += e; }
    const inv = 1 / sum;
    for (let j = 0; j < S; j++) out[row + j] *= inv;
  }
}`,
    extra: [ctx.dim(n.shape[0]), ctx.dim(n.shape[2]), ctx.dim(n.shape[3]), ...m.strideArgs],
    uses: m.uses,
  };
}

/** Fused attention: see flashAttention.ts for the tiling and the online softmax. */
function flashAttentionKernel(n: NodeLabel, [q, k, v]: readonly NodeLabel[], ctx: KernelCtx): KernelSource {
  const m = maskParams(n, 3, ctx);
  const Dv = lit(v.shape[3])!;
  const body = flashAttentionBody({
    H: lit(q.shape[1])!,
    D: lit(q.shape[3])!,
    Dv,
    scale: num(n.attrs.scale as number),
    causal: Boolean(n.attrs.causal),
    maskTests: maskTests(m.roles),
    hasMasks: m.roles.length > 0,
  });
  return {
    fn: `${flashAttentionScratch(Dv)}\nfunction $K(out, q, k, v${m.names}, B, L, S${m.strideNames}, hStart, hEnd) {\n${body}\n}`,
    extra: [ctx.dim(q.shape[0]), ctx.dim(q.shape[2]), ctx.dim(k.shape[2]), ...m.strideArgs],
    uses: m.uses,
    split: { kind: "heads", heads: lit(q.shape[1])! },
  };
}

/** Masks right-aligned to [B, H, L, S] (key masks [B, S] to [B, 1, 1, S]) and read through strides. */
function maskScoresKernel(n: NodeLabel, _ins: readonly NodeLabel[], ctx: KernelCtx): KernelSource {
  const m = maskParams(n, 1, ctx);
  const H = lit(n.shape[1])!;
  return {
    fn: `function $K(out, scores${m.names}, B, L, S${m.strideNames}) {
  for (let b = 0; b < B; b++) for (let h = 0; h < ${H}; h++) for (let i = 0; i < L; i++) {
    const row = ((b * ${H} + h) * L + i) * S;
    for (let j = 0; j < S; j++) {
      let ok = ${n.attrs.causal ? "j <= i" : "true"};
      let add = 0;
      ${maskTests(m.roles)}
      out[row + j] = ok ? scores[row + j] + add : -Infinity;
    }
  }
}`,
    extra: [ctx.dim(n.shape[0]), ctx.dim(n.shape[2]), ctx.dim(n.shape[3]), ...m.strideArgs],
    uses: m.uses,
  };
}
