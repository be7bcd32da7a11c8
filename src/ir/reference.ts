import { gelu, geluTanh, relu, sigmoid, silu, sinusoid } from "../runtime/math.js";
import type { NodeLabel } from "./node.js";
import type { Eval } from "./ops/opDef.js";
import { broadcaster, sizeOf, stridesOf, type F64Tensor } from "./ops/f64.js";
import type { KernelOp } from "./ops/names.js";
import { linearAttention, linformerAttention, performerAttention, windowOf } from "./interpretAttention.js";

// The float64 reference of the kernel ops: plain loops, no cleverness, every value in a
// Float64Array. Each op's entry in the op table points here for its `interpret`.

/** A tensor as float32 storage would hold it. */
export function f32(x: F64Tensor): F64Tensor {
  return { data: x.data.map(Math.fround), shape: x.shape };
}

function unary(x: F64Tensor, f: (v: number) => number): F64Tensor {
  return { data: x.data.map(f), shape: x.shape };
}

function binary(a: F64Tensor, b: F64Tensor, shape: number[], f: (x: number, y: number) => number): F64Tensor {
  const ia = broadcaster(shape, a.shape);
  const ib = broadcaster(shape, b.shape);
  const out = new Float64Array(sizeOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[ia(i)], b.data[ib(i)]);
  return { data: out, shape };
}

function matmul(a: F64Tensor, b: F64Tensor, shape: number[]): F64Tensor {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.shape.length - 1];
  const batch = shape.slice(0, -2);
  const ia = broadcaster(batch, a.shape.slice(0, -2));
  const ib = broadcaster(batch, b.shape.slice(0, -2));
  const out = new Float64Array(sizeOf(shape));
  for (let t = 0; t < sizeOf(batch); t++) {
    const ao = ia(t) * M * K;
    const bo = ib(t) * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[ao + i * K + k] * b.data[bo + k * N + j];
        out[t * M * N + i * N + j] = s;
      }
  }
  return { data: out, shape };
}

function transpose(x: F64Tensor, d0: number, d1: number, shape: number[]): F64Tensor {
  const inS = stridesOf(x.shape);
  const outS = stridesOf(shape);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    let j = 0;
    for (let k = 0; k < shape.length; k++) {
      const idx = Math.floor(i / outS[k]) % shape[k];
      const src = k === d0 ? d1 : k === d1 ? d0 : k;
      j += idx * inS[src];
    }
    out[i] = x.data[j];
  }
  return { data: out, shape };
}

function rows(x: F64Tensor, f: (row: Float64Array, out: Float64Array) => void): F64Tensor {
  const n = x.shape[x.shape.length - 1];
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < x.data.length; o += n) f(x.data.subarray(o, o + n), out.subarray(o, o + n));
  return { data: out, shape: x.shape };
}

function softmaxRow(row: Float64Array, out: Float64Array): void {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  if (max === -Infinity) return out.fill(0) as unknown as void;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += out[i] = Math.exp(row[i] - max);
  for (let i = 0; i < row.length; i++) out[i] /= sum;
}

function maskScores(n: NodeLabel, ins: readonly (F64Tensor | null)[], shape: number[]): F64Tensor {
  const [B, H, L, S] = shape;
  const roles = String(n.attrs.roles).split(",").filter(Boolean);
  const scores = ins[0]!;
  const out = new Float64Array(scores.data);
  // A 3-d mask is [B, L, S]: it broadcasts over the heads.
  const aligned = (s: readonly number[]) => (s.length === 3 ? [s[0], 1, s[1], s[2]] : s);
  const masks = roles.map((r, k) => ({ role: r, t: ins[k + 1], at: ins[k + 1] ? broadcaster(r.endsWith("_keys") ? [B, S] : shape, aligned(ins[k + 1]!.shape)) : undefined }));
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < L; i++)
        for (let j = 0; j < S; j++) {
          const o = ((b * H + h) * L + i) * S + j;
          let allowed = !n.attrs.causal || j <= i;
          let add = 0;
          for (const m of masks) {
            if (!m.t) continue;
            const v = m.t.data[m.at!(m.role.endsWith("_keys") ? b * S + j : o)];
            if (m.role.startsWith("block")) allowed &&= v === 0;
            else if (m.role.startsWith("keep")) allowed &&= v !== 0;
            else add += v;
          }
          out[o] = allowed ? out[o] + add : -Infinity;
        }
  return { data: out, shape };
}


const arith = (f: (x: number, y: number) => number): Eval => (_n, [a, b], shape) => binary(a!, b!, shape, f);
const elementwise = (f: (v: number) => number): Eval => (_n, [x]) => unary(x!, f);

export const REFERENCE: Record<KernelOp, Eval> = {
  input: () => {
    throw new Error("inputs are fed, not evaluated");
  },
  param: () => {
    throw new Error("parameters are fed, not evaluated");
  },
  sinusoidal: (n, _ins, [T, d]) => {
    const out = new Float64Array(T * d);
    for (let p = 0; p < T; p++) for (let c = 0; c < d; c++) out[p * d + c] = sinusoid(p, c, d, n.attrs.base as number);
    return { data: out, shape: [T, d] };
  },
  gather: (_n, [table, ids], shape) => {
    const [V, d] = table!.shape;
    const out = new Float64Array(sizeOf(shape));
    ids!.data.forEach((id, i) => {
      if (!(id >= 0 && id < V)) throw new RangeError(`id ${id} is outside the table of ${V} rows`);
      out.set(table!.data.subarray(id * d, id * d + d), i * d);
    });
    return { data: out, shape };
  },
  slice_rows: (n, [m], shape) => {
    const cols = m!.shape[1];
    const start = n.attrs.start as number;
    return { data: m!.data.slice(start * cols, (start + shape[0]) * cols), shape };
  },
  slice_last: (n, [x], shape) => {
    const w = x!.shape[x!.shape.length - 1];
    const { start, size: k } = n.attrs as { start: number; size: number };
    const out = new Float64Array(sizeOf(shape));
    for (let r = 0; r < out.length / k; r++) out.set(x!.data.subarray(r * w + start, r * w + start + k), r * k);
    return { data: out, shape };
  },
  transpose: (n, [x], shape) => transpose(x!, n.attrs.dim0 as number, n.attrs.dim1 as number, shape),
  split_heads: (n, [x], shape) => {
    const [B, H, L, D] = shape;
    const W = x!.shape[2];
    const offset = (n.attrs.offset as number | undefined) ?? 0;
    const out = new Float64Array(sizeOf(shape));
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let l = 0; l < L; l++)
          for (let d = 0; d < D; d++) out[((b * H + h) * L + l) * D + d] = x!.data[(b * L + l) * W + offset + h * D + d];
    return { data: out, shape };
  },
  repeat_kv: (n, [x], shape) => {
    const [B, Hk, S, D] = x!.shape;
    const g = n.attrs.groups as number;
    const out = new Float64Array(sizeOf(shape));
    const row = S * D;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < Hk * g; h++) out.set(x!.data.subarray((b * Hk + Math.floor(h / g)) * row, (b * Hk + Math.floor(h / g) + 1) * row), (b * Hk * g + h) * row);
    return { data: out, shape };
  },
  merge_heads: (_n, [x], shape) => {
    const [B, H, L, D] = x!.shape;
    return { data: transpose(x!, 1, 2, [B, L, H, D]).data, shape };
  },
  dense: (n, [x, w, b], shape) => {
    const [N, K] = w!.shape;
    const act = ACTIVATIONS[(n.attrs.act as string | undefined) ?? "none"];
    const out = new Float64Array(sizeOf(shape));
    for (let r = 0; r < out.length / N; r++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += x!.data[r * K + k] * w!.data[j * K + k];
        // A fused bias and activation apply to the product as its own node would have stored it.
        if (b) s = Math.fround(Math.fround(s) + b.data[j]);
        out[r * N + j] = act(n.attrs.act === undefined ? s : Math.fround(s));
      }
    return { data: out, shape };
  },
  matmul: (_n, [a, b], shape) => matmul(a!, b!, shape),
  add: arith((x, y) => x + y),
  sub: arith((x, y) => x - y),
  mul: arith((x, y) => x * y),
  div: arith((x, y) => x / y),
  scalar: (n, [x]) => {
    const c = n.attrs.value as number;
    const rev = n.attrs.reverse as boolean;
    const f = { "+": (v: number) => v + c, "-": (v: number) => (rev ? c - v : v - c), "*": (v: number) => v * c, "/": (v: number) => (rev ? c / v : v / c) }[n.attrs.op as "+"];
    return unary(x!, f);
  },
  relu: elementwise(relu),
  gelu: elementwise(gelu),
  gelu_tanh: elementwise(geluTanh),
  silu: elementwise(silu),
  tanh: elementwise(Math.tanh),
  sigmoid: elementwise(sigmoid),
  softmax: (n, [x]) => {
    const axis = n.attrs.axis as number;
    const last = x!.shape.length - 1;
    if (axis === last) return rows(x!, softmaxRow);
    const t = transpose(x!, axis, last, swap(x!.shape, axis, last));
    const s = rows(t, softmaxRow);
    return transpose(s, axis, last, [...x!.shape]);
  },
  layer_norm: (n, [x, w, b]) =>
    rows(x!, (row, out) => {
      const d = row.length;
      let mean = 0;
      for (const v of row) mean += v;
      mean /= d;
      let varSum = 0;
      for (const v of row) varSum += (v - mean) ** 2;
      const inv = 1 / Math.sqrt(varSum / d + (n.attrs.eps as number));
      for (let i = 0; i < d; i++) out[i] = (row[i] - mean) * inv * (w ? w.data[i] : 1) + (b ? b.data[i] : 0);
    }),
  rms_norm: (n, [x, w]) =>
    rows(x!, (row, out) => {
      let ms = 0;
      for (const v of row) ms += v * v;
      const inv = 1 / Math.sqrt(ms / row.length + (n.attrs.eps as number));
      for (let i = 0; i < row.length; i++) out[i] = row[i] * inv * (w ? w.data[i] : 1);
    }),
  mask_scores: maskScores,
  add_layer_norm: (n, [a, b, w, bias], shape) => REFERENCE.layer_norm(n, [f32(binary(a!, b!, shape, (x, y) => x + y)), w, bias], shape),
  add_rms_norm: (n, [a, b, w], shape) => REFERENCE.rms_norm(n, [f32(binary(a!, b!, shape, (x, y) => x + y)), w], shape),
  masked_softmax: (n, [scores, ...masks], shape) => {
    const scaled = f32(unary(scores!, (v) => v * (n.attrs.scale as number)));
    const masked = f32(maskScores(n, [scaled, ...masks], shape));
    return rows(masked, softmaxRow);
  },
  linear_attention: (n, ins) => linearAttention(n, ins),
  performer_attention: (n, ins) => performerAttention(n, ins),
  linformer_attention: (n, ins) => linformerAttention(n, ins),
  local_attention: localAttention,
  attention: (n, [q, k0, v0, ...masks], shape) => {
    const [B, H, L] = q!.shape;
    // Grouped keys and values: repeated for the query heads that share them.
    const repeat = (x: F64Tensor) => (x.shape[1] === H ? x : REFERENCE.repeat_kv({ ...n, attrs: { groups: H / x.shape[1] } }, [x], [B, H, x.shape[2], x.shape[3]]));
    const [k, v] = [repeat(k0!), repeat(v0!)];
    const S = k.shape[2];
    const kt = transpose(k, 2, 3, [B, H, k.shape[3], S]);
    const scores = f32(matmul(q!, kt, [B, H, L, S]));
    const probs = f32(REFERENCE.masked_softmax(n, [scores, ...masks], [B, H, L, S]));
    return matmul(probs, v, shape);
  },
};

function localAttention(n: NodeLabel, [q, k, v, ...masks]: readonly (F64Tensor | null)[], shape: number[]): F64Tensor {
  const [B, H, L] = q!.shape;
  const S = k!.shape[2];
  // Rounded as softmax attention's ops store them, so a window covering every key gives the same values.
  const scores = f32(matmul(q!, transpose(k!, 2, 3, [B, H, k!.shape[3], S]), [B, H, L, S]));
  const masked = f32(maskScores(n, [f32(unary(scores, (x) => x * (n.attrs.scale as number))), ...masks], [B, H, L, S]));
  const w = n.attrs.window as number;
  for (let r = 0; r < B * H * L; r++) {
    const [lo, hi] = windowOf(r % L, S, w, Boolean(n.attrs.causal));
    for (let j = 0; j < S; j++) if (j < lo || j > hi) masked.data[r * S + j] = -Infinity;
  }
  return matmul(f32(rows(masked, softmaxRow)), v!, shape);
}

const ACTIVATIONS: Record<string, (v: number) => number> = { none: (v) => v, relu, gelu, gelu_tanh: geluTanh, silu, tanh: Math.tanh, sigmoid };

const swap = (s: readonly number[], a: number, b: number) => {
  const r = [...s];
  [r[a], r[b]] = [r[b], r[a]];
  return r;
};

