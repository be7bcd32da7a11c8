import { orthogonalFeatures } from "../runtime/features.js";
import type { NodeLabel } from "./node.js";

// Reference forms of the linear-time attention rewrites, written as their papers state them.
// Tensors are [B, H, L, D] queries, [B, H, S, D] keys and [B, H, S, Dv] values.

interface T64 {
  readonly data: Float64Array;
  readonly shape: readonly number[];
}

/** Whether key j of batch b survives the key masks (`block_keys`, `keep_keys`). */
function keyFilter(n: NodeLabel, masks: readonly (T64 | null)[], S: number): (b: number, j: number) => boolean {
  const roles = String(n.attrs.roles ?? "").split(",").filter(Boolean);
  return (b, j) =>
    roles.every((r, k) => {
      const m = masks[k];
      if (!m) return true;
      const v = m.data[(m.shape[0] === 1 ? 0 : b) * S + j];
      return r === "block_keys" ? v === 0 : r === "keep_keys" ? v !== 0 : true;
    });
}

/** Attention through feature maps: out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j), causal by prefix. */
function featureAttention(
  n: NodeLabel,
  [q, k, v]: readonly T64[],
  masks: readonly (T64 | null)[],
  features: (x: Float64Array, isQuery: boolean, bh: number) => Float64Array[],
): T64 {
  const [B, H, L, D] = q.shape;
  const S = k.shape[2];
  const Dv = v.shape[3];
  const keep = keyFilter(n, masks, S);
  const out = new Float64Array(B * H * L * Dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const fq = features(q.data.subarray(bh * L * D, (bh + 1) * L * D), true, bh);
      const fk = features(k.data.subarray(bh * S * D, (bh + 1) * S * D), false, bh);
      const m = fq[0]?.length ?? 0;
      const kv = new Float64Array(m * Dv);
      const z = new Float64Array(m);
      const add = (j: number) => {
        if (!keep(b, j)) return;
        for (let f = 0; f < m; f++) {
          z[f] += fk[j][f];
          for (let e = 0; e < Dv; e++) kv[f * Dv + e] += fk[j][f] * v.data[(bh * S + j) * Dv + e];
        }
      };
      if (!n.attrs.causal) for (let j = 0; j < S; j++) add(j);
      for (let i = 0; i < L; i++) {
        if (n.attrs.causal && i < S) add(i);
        let den = 0;
        for (let f = 0; f < m; f++) den += fq[i][f] * z[f];
        for (let e = 0; e < Dv; e++) {
          let num = 0;
          for (let f = 0; f < m; f++) num += fq[i][f] * kv[f * Dv + e];
          out[(bh * L + i) * Dv + e] = den > 0 ? num / den : 0;
        }
      }
    }
  return { data: out, shape: [B, H, L, Dv] };
}

const rowsOf = (x: Float64Array, d: number): Float64Array[] => Array.from({ length: x.length / d }, (_, i) => x.subarray(i * d, (i + 1) * d));

/** Katharopoulos et al.: φ(x) = elu(x) + 1. */
export function linearAttention(n: NodeLabel, ins: readonly (T64 | null)[]): T64 {
  const D = ins[0]!.shape[3];
  const phi = (x: Float64Array) => rowsOf(x.map((t) => (t > 0 ? t + 1 : Math.exp(t))), D);
  return featureAttention(n, ins.slice(0, 3) as T64[], ins.slice(3), phi);
}

/**
 * FAVOR+: φ(x) = exp(ωᵀx' − |x'|²/2) / √m with x' = x·√scale, so φ(q)ᵀφ(k) estimates
 * exp(scale·q·k). A per-query constant and one constant for all keys of a head are subtracted in
 * the exponent; both cancel in the ratio.
 */
export function performerAttention(n: NodeLabel, ins: readonly (T64 | null)[]): T64 {
  const D = ins[0]!.shape[3];
  const m = n.attrs.features as number;
  const w = orthogonalFeatures(m, D, n.attrs.seed as number);
  const root = Math.sqrt(n.attrs.scale as number);
  const phi = (x: Float64Array, isQuery: boolean) => {
    const rows = rowsOf(x, D).map((r) => {
      let sq = 0;
      for (const t of r) sq += (t * root) ** 2;
      return Float64Array.from({ length: m }, (_, f) => {
        let dot = 0;
        for (let i = 0; i < D; i++) dot += w[f * D + i] * r[i] * root;
        return dot - sq / 2;
      });
    });
    const keyMax = Math.max(...rows.map((r) => Math.max(...r)));
    return rows.map((r) => {
      const c = isQuery ? Math.max(...r) : keyMax;
      return r.map((t) => Math.exp(t - c) / Math.sqrt(m));
    });
  };
  return featureAttention(n, ins.slice(0, 3) as T64[], ins.slice(3), phi);
}

/** Wang et al.: keys and values projected along the sequence, K' = E[:, :S] K and V' = F[:, :S] V. */
export function linformerAttention(n: NodeLabel, ins: readonly (T64 | null)[]): T64 {
  const [q, k, v, E, F] = ins as T64[];
  const [B, H, L, D] = q.shape;
  const S = k.shape[2];
  const Dv = v.shape[3];
  const [R, maxS] = E.shape;
  const keep = keyFilter(n, ins.slice(5), S);
  const scale = n.attrs.scale as number;
  const out = new Float64Array(B * H * L * Dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kp = new Float64Array(R * D);
      const vp = new Float64Array(R * Dv);
      for (let r = 0; r < R; r++)
        for (let j = 0; j < S; j++) {
          if (!keep(b, j)) continue;
          for (let d = 0; d < D; d++) kp[r * D + d] += E.data[r * maxS + j] * k.data[(bh * S + j) * D + d];
          for (let d = 0; d < Dv; d++) vp[r * Dv + d] += F.data[r * maxS + j] * v.data[(bh * S + j) * Dv + d];
        }
      for (let i = 0; i < L; i++) {
        const s = Array.from({ length: R }, (_, r) => {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q.data[(bh * L + i) * D + d] * kp[r * D + d];
          return dot * scale;
        });
        const max = Math.max(...s);
        const e = s.map((x) => Math.exp(x - max));
        const sum = e.reduce((a, x) => a + x, 0);
        for (let d = 0; d < Dv; d++) {
          let acc = 0;
          for (let r = 0; r < R; r++) acc += (e[r] / sum) * vp[r * Dv + d];
          out[(bh * L + i) * Dv + d] = acc;
        }
      }
    }
  return { data: out, shape: [B, H, L, Dv] };
}

/** The window of keys a query sees: |i − j| ≤ w, or i − w ≤ j ≤ i when causal. */
export function windowOf(i: number, S: number, w: number, causal: boolean): [number, number] {
  return [Math.max(0, i - w), Math.min(S - 1, causal ? i : i + w)];
}
