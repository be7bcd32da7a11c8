import type { Dim } from "../../semantics/types.js";
import type { NodeLabel } from "../node.js";
import { Poly } from "../poly.js";
import type { F64Tensor } from "./f64.js";
import { lit, type OpDef } from "./opDef.js";
import { KernelParams } from "../../codegen/kernelTypes.js";
import { num } from "../../codegen/literals.js";

/** The ops of this family: each name has its entry below. */
export const ROTARY_OPS = ["rope"] as const;
export type RotaryOp = (typeof ROTARY_OPS)[number];

// Rotary position embeddings (Su et al., RoFormer) on [B, H, T, D]: position p turns the pair of
// features (a, b) of frequency i by the angle p · θ^(−2i/dim). The first `dim` features rotate, the
// rest pass through (GPT-NeoX's rotary_pct, GPT-J's rotary_dim). Two pairings are in use:
// rotate-half (Llama, GPT-NeoX) pairs feature i with i + dim/2; interleaved (GPT-J) pairs 2i with
// 2i + 1. Positions are 0..T−1; in a decoding session they start at the tokens already seen.

interface Rope {
  readonly theta: number;
  readonly dim: number;
  readonly interleaved: boolean;
}

const ropeOf = (n: NodeLabel): Rope => ({ theta: n.attrs.theta as number, dim: n.attrs.dim as number, interleaved: n.attrs.interleaved === true });

/** Feature indices (a, b) of pair i: out[a] = x[a]·cos − x[b]·sin, out[b] = x[b]·cos + x[a]·sin. */
const pair = (r: Rope, i: number): [number, number] => (r.interleaved ? [2 * i, 2 * i + 1] : [i, i + r.dim / 2]);

function ropeShape([x]: readonly (readonly Dim[])[], n: NodeLabel): readonly Dim[] | string {
  const { dim, theta } = ropeOf(n);
  if (x.length !== 4) return "rope takes [B, heads, T, D]";
  const D = lit(x[3]);
  if (D === undefined) return "the head width D must be known when compiling";
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0 || dim > D) return `the rotated width ${dim} must be even, at least 2 and at most the head width ${D}`;
  if (!(theta > 0)) return `theta must be positive, got ${theta}`;
  return x;
}

function ropeReference(n: NodeLabel, [x]: readonly (F64Tensor | null)[], shape: number[]): F64Tensor {
  const r = ropeOf(n);
  const [B, H, T, D] = shape;
  const out = Float64Array.from(x!.data);
  for (let bh = 0; bh < B * H; bh++)
    for (let p = 0; p < T; p++)
      for (let i = 0; i < r.dim / 2; i++) {
        const angle = p * Math.pow(r.theta, (-2 * i) / r.dim);
        const [a, b] = pair(r, i);
        const o = (bh * T + p) * D;
        const [xa, xb] = [x!.data[o + a], x!.data[o + b]];
        out[o + a] = xa * Math.cos(angle) - xb * Math.sin(angle);
        out[o + b] = xb * Math.cos(angle) + xa * Math.sin(angle);
      }
  return { data: out, shape: [...shape] };
}

/**
 * For each position: the cosines and sines of its dim/2 angles (computed in float64 from the
 * frequencies made once with the module), then every (batch, head) row at that position.
 */
function ropeKernel(n: NodeLabel, [x]: readonly NodeLabel[], ctx: Parameters<OpDef["kernel"]>[2]) {
  const r = ropeOf(n);
  const D = lit(x.shape[3])!;
  const half = r.dim / 2;
  const p = new KernelParams(ctx);
  const rows = p.size("heads", x.shape.slice(0, 2));
  const T = p.size("len", [x.shape[2]]);
  const at = ctx.rowOffset === undefined ? "t" : "t + off";
  if (ctx.rowOffset !== undefined) p.add("off", "number", ctx.rowOffset);
  const [a, b] = r.interleaved ? ["2 * i", "2 * i + 1"] : ["i", `i + ${half}`];
  const scratch = `const $K_freq = Float64Array.from({ length: ${half} }, (_, i) => Math.pow(${num(r.theta)}, (-2 * i) / ${r.dim}));
const $K_cos = new Float64Array(${half});
const $K_sin = new Float64Array(${half});`;
  const body = `  const freq = $K_freq, cos = $K_cos, sin = $K_sin;
  for (let t = 0; t < ${T}; t++) {
    const pos = ${at};
    for (let i = 0; i < ${half}; i++) { const angle = pos * freq[i]; cos[i] = Math.cos(angle); sin[i] = Math.sin(angle); }
    for (let bh = 0; bh < ${rows}; bh++) {
      const o = (bh * ${T} + t) * ${D};
${r.dim < D ? `      for (let d = ${r.dim}; d < ${D}; d++) out[o + d] = x[o + d];
` : ""}      for (let i = 0; i < ${half}; i++) {
        const xa = x[o + ${a}], xb = x[o + ${b}];
        out[o + ${a}] = xa * cos[i] - xb * sin[i];
        out[o + ${b}] = xb * cos[i] + xa * sin[i];
      }
    }
  }`;
  return { inputs: ["x"], params: p.params, body, scratch, extra: p.extra };
}

export const ROTARY: Record<RotaryOp, OpDef> = {
  rope: {
    arity: [1, 1],
    kind: "injective",
    doc: "rotary position embedding of [B, H, T, D]: pairs of the first `dim` features turned by position · theta^(-2i/dim) (rotate-half, or `interleaved` pairs 2i, 2i+1)",
    attrs: { theta: "float", dim: "int", interleaved: "bool" },
    label: (n) => (n.attrs.interleaved ? "rope [interleaved]" : "rope"),
    fused: () => false,
    infer: ropeShape,
    dtype: () => "f32",
    interpret: ropeReference,
    kernel: ropeKernel,
    wasm: "none",
    epilogue: false,
    // Per element of a rotated pair: two products and an add (cos and sin are per position).
    flops: (n) => Poly.dims(n.shape.slice(0, 3)).scale(3 * (n.attrs.dim as number)),
    session: "offset",
  },
};
