import { num } from "./literals.js";
import type { NodeLabel } from "../ir/node.js";
import type { AttentionOp } from "../ir/ops/names.js";
import { isConst, type Dim } from "../semantics/types.js";
import { flashAttentionBody, flashAttentionScratch } from "./flashAttention.js";
import type { KernelTemplate } from "../ir/ops/opDef.js";
import { numbers, type KernelCtx, type KernelSource } from "./kernelTypes.js";
import { maskParams, maskTests } from "./masks.js";

// Kernels of the attention family: scores masked (and softmaxed) in place, fused attention, and
// the linear-time attention rewrites. The rewrites run one (batch, head) at a time, take a head
// range for threads, and keep their state in scratch buffers made once with the module.
// The formulas are those of src/ir/interpretAttention.ts, which the tests hold these to.

const lit = (d: Dim): number => (isConst(d) ? d.value : NaN);

interface Heads {
  readonly H: number;
  readonly D: number;
  readonly Dv: number;
}

function dims([q, , v]: readonly NodeLabel[]): Heads {
  return { H: lit(q.shape[1]), D: lit(q.shape[3]), Dv: lit(v.shape[3]) };
}

/**
 * A kernel over a range of heads: `$K(out, q, k, v, ...inputs, ...masks, B, L, S, ...strides,
 * hStart, hEnd)`, the head range passed by the caller.
 */
function headSplit(n: NodeLabel, [q, k]: readonly NodeLabel[], ctx: KernelCtx, inputs: readonly string[], scratch: string, body: string, uses: string[] = []): KernelSource {
  const m = maskParams(n, inputs.length, ctx);
  return {
    inputs: [...inputs, ...m.inputs],
    params: [...numbers("B", "L", "S"), ...m.strides, ...numbers("hStart", "hEnd")],
    scratch,
    body,
    extra: [ctx.dim(q.shape[0]), ctx.dim(q.shape[2]), ctx.dim(k.shape[2]), ...m.strideArgs],
    uses: [...m.uses, ...uses],
    split: { kind: "heads", heads: lit(q.shape[1]) },
  };
}

/**
 * The code of φ for the row at x[o..o+D) into dst: elu(x) + 1, or FAVOR+'s exp(ω·x' − |x'|²/2 − c)
 * / √F with the features in `$K_w`, where c is the row's own maximum (`shift` "null": queries) or
 * one shift shared by keys. With `top` (a variable declared outside, not named `top`), the code
 * stops at the exponents and leaves the row's maximum in it. The parallel kernels and the sessions' recurrent ones share it.
 */
export function featureMapCode(feature: "elu" | "favor", D: number, F: number, root: number) {
  return (x: string, o: string, dst: string, shift: string, top?: string): string =>
    feature === "elu"
      ? `for (let f = 0; f < ${D}; f++) { const t = ${x}[${o} + f]; ${dst}[f] = t > 0 ? t + 1 : Math.exp(t); }`
      : `{
    const o = ${o};
    let sq = 0;
    for (let i = 0; i < ${D}; i++) { const t = ${x}[o + i] * ${num(root)}; sq += t * t; }
    let top = -Infinity;
    for (let f = 0; f < ${F}; f++) {
      let dot = 0;
      for (let i = 0; i < ${D}; i++) dot += $K_w[f * ${D} + i] * ${x}[o + i];
      const e = dot * ${num(root)} - sq / 2;
      ${dst}[f] = e;
      if (e > top) top = e;
    }
    ${top ? `${top} = top;` : `const c = ${shift === "null" ? "top" : shift};
    for (let f = 0; f < ${F}; f++) ${dst}[f] = Math.exp(${dst}[f] - c) * ${num(1 / Math.sqrt(F))};`}
  }`;
}

/**
 * Attention through positive feature maps, in two passes over the keys when a feature needs a
 * constant shared by all keys (Performer), then the sums Σ φ(k) vᵀ and Σ φ(k) — all at once, or
 * as prefix sums when causal.
 */
function featureKernel(n: NodeLabel, ins: readonly NodeLabel[], ctx: KernelCtx, feature: "elu" | "favor"): KernelSource {
  const { H, D, Dv } = dims(ins);
  const m = maskParams(n, 3, ctx);
  const F = feature === "elu" ? D : (n.attrs.features as number);
  const causal = Boolean(n.attrs.causal);
  const root = feature === "favor" ? Math.sqrt(n.attrs.scale as number) : 1;
  const phi = featureMapCode(feature, D, F, root);
  const keyMax =
    feature === "favor"
      ? `let shift = -Infinity;
    for (let j = 0; j < S; j++) { let t = 0; ${phi("k", `(bh * S + j) * ${D}`, "fk", "null", "t")} if (t > shift) shift = t; }`
      : "";
  const addKey = `{
        const j = jj;
        let ok = true;
        ${maskTests(m.roles, true)}
        if (ok) {
          ${phi("k", `(bh * S + j) * ${D}`, "fk", feature === "favor" ? "shift" : "null")}
          const vo = (bh * S + j) * ${Dv};
          for (let f = 0; f < ${F}; f++) {
            const p = fk[f];
            z[f] += p;
            for (let e = 0; e < ${Dv}; e++) kv[f * ${Dv} + e] += p * v[vo + e];
          }
        }
      }`;
  const scratch = `${feature === "favor" ? `const $K_w = orthogonalFeatures(${F}, ${D}, ${num(n.attrs.seed as number)});\n` : ""}const $K_kv = new Float64Array(${F * Dv});
const $K_z = new Float64Array(${F});
const $K_fq = new Float64Array(${F});
const $K_fk = new Float64Array(${F});`;
  const body = `  const kv = $K_kv, z = $K_z, fq = $K_fq, fk = $K_fk;
  for (let b = 0; b < B; b++) for (let h = hStart; h < hEnd; h++) {
    const bh = b * ${H} + h;
    ${keyMax}
    kv.fill(0);
    z.fill(0);
    ${causal ? "" : `for (let jj = 0; jj < S; jj++) ${addKey}`}
    for (let i = 0; i < L; i++) {
      ${causal ? `if (i < S) { const jj = i; ${addKey} }` : ""}
      ${phi("q", `(bh * L + i) * ${D}`, "fq", "null")}
      let den = 0;
      for (let f = 0; f < ${F}; f++) den += fq[f] * z[f];
      const oo = (bh * L + i) * ${Dv};
      const inv = den > 0 ? 1 / den : 0;
      for (let e = 0; e < ${Dv}; e++) {
        let acc = 0;
        for (let f = 0; f < ${F}; f++) acc += fq[f] * kv[f * ${Dv} + e];
        out[oo + e] = acc * inv;
      }
    }
  }`;
  return headSplit(n, ins, ctx, ["q", "k", "v"], scratch, body, feature === "favor" ? ["orthogonalFeatures"] : []);
}

/** Linformer: project keys and values along the sequence with E and F, then softmax over k rows. */
function linformerKernel(n: NodeLabel, ins: readonly NodeLabel[], ctx: KernelCtx): KernelSource {
  const { H, D, Dv } = dims(ins);
  const [R, maxS] = ins[3].shape.map(lit);
  const m = maskParams(n, 5, ctx);
  const scratch = `const $K_kp = new Float64Array(${R * D});
const $K_vp = new Float64Array(${R * Dv});
const $K_s = new Float64Array(${R});`;
  const body = `  const kp = $K_kp, vp = $K_vp, s = $K_s;
  for (let b = 0; b < B; b++) for (let h = hStart; h < hEnd; h++) {
    const bh = b * ${H} + h;
    kp.fill(0);
    vp.fill(0);
    for (let j = 0; j < S; j++) {
      let ok = true;
      ${maskTests(m.roles, true)}
      if (!ok) continue;
      const ko = (bh * S + j) * ${D}, vo = (bh * S + j) * ${Dv};
      for (let r = 0; r < ${R}; r++) {
        const e = E[r * ${maxS} + j], f = F[r * ${maxS} + j];
        for (let d = 0; d < ${D}; d++) kp[r * ${D} + d] += e * k[ko + d];
        for (let d = 0; d < ${Dv}; d++) vp[r * ${Dv} + d] += f * v[vo + d];
      }
    }
    for (let i = 0; i < L; i++) {
      const qo = (bh * L + i) * ${D};
      let max = -Infinity;
      for (let r = 0; r < ${R}; r++) {
        let dot = 0;
        for (let d = 0; d < ${D}; d++) dot += q[qo + d] * kp[r * ${D} + d];
        s[r] = dot * ${num(n.attrs.scale as number)};
        if (s[r] > max) max = s[r];
      }
      let sum = 0;
      for (let r = 0; r < ${R}; r++) { s[r] = Math.exp(s[r] - max); sum += s[r]; }
      const oo = (bh * L + i) * ${Dv};
      for (let d = 0; d < ${Dv}; d++) {
        let acc = 0;
        for (let r = 0; r < ${R}; r++) acc += s[r] * vp[r * ${Dv} + d];
        out[oo + d] = acc / sum;
      }
    }
  }`;
  return headSplit(n, ins, ctx, ["q", "k", "v", "E", "F"], scratch, body);
}

/** Sliding-window softmax attention: O(S·w) scores, a row with no visible key gives zeros. */
function localKernel(n: NodeLabel, ins: readonly NodeLabel[], ctx: KernelCtx): KernelSource {
  const { H, D, Dv } = dims(ins);
  const w = n.attrs.window as number;
  const causal = Boolean(n.attrs.causal);
  const m = maskParams(n, 3, ctx);
  const scratch = `const $K_s = new Float64Array(${2 * w + 1});
const $K_acc = new Float64Array(${Dv});`;
  const body = `  const s = $K_s, acc = $K_acc;
  for (let b = 0; b < B; b++) for (let h = hStart; h < hEnd; h++) {
    const bh = b * ${H} + h;
    for (let i = 0; i < L; i++) {
      const lo = Math.max(0, i - ${w}), hi = Math.min(S - 1, ${causal ? "i" : `i + ${w}`});
      const qo = (bh * L + i) * ${D};
      let max = -Infinity;
      for (let j = lo; j <= hi; j++) {
        let ok = true;
        let add = 0;
        ${maskTests(m.roles)}
        let sc = -Infinity;
        if (ok) {
          let dot = 0;
          const ko = (bh * S + j) * ${D};
          for (let d = 0; d < ${D}; d++) dot += q[qo + d] * k[ko + d];
          sc = dot * ${num(n.attrs.scale as number)} + add;
        }
        s[j - lo] = sc;
        if (sc > max) max = sc;
      }
      const oo = (bh * L + i) * ${Dv};
      if (max === -Infinity) { out.fill(0, oo, oo + ${Dv}); continue; }
      acc.fill(0);
      let sum = 0;
      for (let j = lo; j <= hi; j++) {
        const p = Math.exp(s[j - lo] - max);
        if (p === 0) continue;
        sum += p;
        const vo = (bh * S + j) * ${Dv};
        for (let d = 0; d < ${Dv}; d++) acc[d] += p * v[vo + d];
      }
      for (let d = 0; d < ${Dv}; d++) out[oo + d] = acc[d] / sum;
    }
  }`;
  return headSplit(n, ins, ctx, ["q", "k", "v"], scratch, body);
}

/** Scores with their masks (and causality) applied: `$K(out, scores, ...masks, B, L, S, ...strides)`. */
function scoreRows(n: NodeLabel, ctx: KernelCtx, body: string): KernelSource {
  const m = maskParams(n, 1, ctx);
  return {
    inputs: ["scores", ...m.inputs],
    params: [...numbers("B", "L", "S"), ...m.strides],
    body,
    extra: [ctx.dim(n.shape[0]), ctx.dim(n.shape[2]), ctx.dim(n.shape[3]), ...m.strideArgs],
    uses: m.uses,
  };
}

/** Scale, masks and softmax of each score row in one pass; a row with every key masked gives zeros. */
function maskedSoftmaxKernel(n: NodeLabel, _ins: readonly NodeLabel[], ctx: KernelCtx): KernelSource {
  const roles = maskParams(n, 1, ctx).roles;
  const H = lit(n.shape[1]);
  return scoreRows(
    n,
    ctx,
    `  for (let b = 0; b < B; b++) for (let h = 0; h < ${H}; h++) for (let i = 0; i < L; i++) {
    const row = ((b * ${H} + h) * L + i) * S;
    let max = -Infinity;
    for (let j = 0; j < S; j++) {
      let ok = ${n.attrs.causal ? "j <= i" : "true"};
      let add = 0;
      ${maskTests(roles)}
      const s = ok ? Math.fround(Math.fround(scores[row + j] * ${num(n.attrs.scale as number)}) + add) : -Infinity;
      out[row + j] = s;
      if (s > max) max = s;
    }
    if (max === -Infinity) { out.fill(0, row, row + S); continue; }
    let sum = 0;
    for (let j = 0; j < S; j++) { const e = Math.exp(out[row + j] - max); out[row + j] = e; sum += e; }
    const inv = 1 / sum;
    for (let j = 0; j < S; j++) out[row + j] *= inv;
  }`,
  );
}

/** Masks right-aligned to [B, H, L, S] (key masks [B, S] to [B, 1, 1, S]) and read through strides. */
function maskScoresKernel(n: NodeLabel, _ins: readonly NodeLabel[], ctx: KernelCtx): KernelSource {
  const roles = maskParams(n, 1, ctx).roles;
  const H = lit(n.shape[1]);
  return scoreRows(
    n,
    ctx,
    `  for (let b = 0; b < B; b++) for (let h = 0; h < ${H}; h++) for (let i = 0; i < L; i++) {
    const row = ((b * ${H} + h) * L + i) * S;
    for (let j = 0; j < S; j++) {
      let ok = ${n.attrs.causal ? "j <= i" : "true"};
      let add = 0;
      ${maskTests(roles)}
      out[row + j] = ok ? scores[row + j] + add : -Infinity;
    }
  }`,
  );
}

/** Fused attention: see flashAttention.ts for the tiling and the online softmax. */
function flashAttentionKernel(n: NodeLabel, ins: readonly NodeLabel[], ctx: KernelCtx): KernelSource {
  const [q, k, v] = ins;
  const roles = maskParams(n, 3, ctx).roles;
  const Dv = lit(v.shape[3]);
  const body = flashAttentionBody({
    H: lit(q.shape[1]),
    G: lit(q.shape[1]) / lit(k.shape[1]),
    D: lit(q.shape[3]),
    Dv,
    scale: num(n.attrs.scale as number),
    causal: Boolean(n.attrs.causal),
    maskTests: maskTests(roles),
    hasMasks: roles.length > 0,
  });
  return headSplit(n, ins, ctx, ["q", "k", "v"], flashAttentionScratch(Dv), body);
}

export const ATTENTION_KERNELS: Record<AttentionOp, KernelTemplate> = {
  mask_scores: maskScoresKernel,
  masked_softmax: maskedSoftmaxKernel,
  attention: flashAttentionKernel,
  linear_attention: (n, ins, ctx) => featureKernel(n, ins, ctx, "elu"),
  performer_attention: (n, ins, ctx) => featureKernel(n, ins, ctx, "favor"),
  linformer_attention: linformerKernel,
  local_attention: localKernel,
};
