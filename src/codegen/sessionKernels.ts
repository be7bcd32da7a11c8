import { num } from "./literals.js";
import type { NodeLabel } from "../ir/node.js";
import type { SessionAttention } from "../ir/incremental.js";
import { isConst, type Dim } from "../semantics/types.js";
import { featureMapCode } from "./attentionKernels.js";
import { numbers, type KernelSource } from "./kernelTypes.js";

// Kernels of causal self-attention in a decoding session. The new rows of keys and values are
// written into a cache laid out [B·H, capacity, D] and each new query attends to every cached key
// up to its own position: query i of the n new ones sits at position past + i, so causality aligns
// bottom-right against the cached length. Feature-map attention keeps its running sums instead
// (Σ φ(k) vᵀ and Σ φ(k) per head, in float64 like the parallel kernel): constant memory and time
// per token. Every buffer is the session's; the kernels allocate nothing.

const lit = (d: Dim): number => (isConst(d) ? d.value : NaN);

export interface SessionBuffer {
  /** The kernel's parameter for it. */
  readonly name: string;
  readonly type: "f32" | "f64";
  /** Elements per (batch, head); for scratch, in all. May use `cap`, the session's capacity. */
  readonly size: string;
  /** A cache of rows this wide along the capacity: copying a session copies only the rows in use. */
  readonly rows?: number;
  /** Working memory of one call: not part of the session's state, not copied. */
  readonly scratch?: boolean;
  /** The value a fresh session starts from, when not 0. */
  readonly init?: string;
}

export interface SessionKernel {
  /** A function `$K(out, q, k, v, ...state, B, n, past, cap)`; the session passes every argument. */
  readonly source: KernelSource;
  /** The session buffers it takes after v, in order. */
  readonly state: readonly SessionBuffer[];
}

/** The kernel `$K(out, q, k, v, ...state, B, n, past, cap)` over `state`. */
function sessionKernel(state: readonly SessionBuffer[], body: string, scratch?: string, uses: readonly string[] = []): SessionKernel {
  const source: KernelSource = {
    inputs: ["q", "k", "v"],
    params: [...state.map((b) => ({ name: b.name, type: b.type })), ...numbers("B", "n", "past", "cap")],
    body,
    ...(scratch !== undefined ? { scratch } : {}),
    extra: [],
    uses,
  };
  return { source, state };
}

/** The cache of keys and values, then softmax over the visible keys (all before, or a window). */
function cachedSoftmax(n: NodeLabel, [q, k, v]: readonly NodeLabel[], window?: number): SessionKernel {
  const H = lit(q.shape[1]);
  const D = lit(q.shape[3]);
  const Dv = lit(v.shape[3]);
  const scale = num(n.attrs.scale as number);
  // Grouped-query attention: the cache holds the Hk key/value heads; each serves G query heads.
  const Hk = lit(k.shape[1]);
  const G = H / Hk;
  const kb = G === 1 ? "bh" : "bk";
  const heads =
    G === 1
      ? `for (let b = 0; b < B; b++) for (let h = 0; h < ${H}; h++) {
    const bh = b * ${H} + h;`
      : `for (let b = 0; b < B; b++) for (let kh = 0; kh < ${Hk}; kh++) {
    const bk = b * ${Hk} + kh;`;
  const queries =
    G === 1
      ? ""
      : `for (let h = kh * ${G}; h < (kh + 1) * ${G}; h++) {
    const bh = b * ${H} + h;
    `;
  const body = `  ${heads}
    for (let e = 0, src = ${kb} * n * ${D}, dst = (${kb} * cap + past) * ${D}; e < n * ${D}; e++) kc[dst + e] = k[src + e];
    for (let e = 0, src = ${kb} * n * ${Dv}, dst = (${kb} * cap + past) * ${Dv}; e < n * ${Dv}; e++) vc[dst + e] = v[src + e];
    ${queries}for (let i = 0; i < n; i++) {
      const qo = (bh * n + i) * ${D};
      const hi = past + i;
      const lo = ${window === undefined ? "0" : `Math.max(0, hi - ${window})`};
      let max = -Infinity;
      for (let j = lo; j <= hi; j++) {
        const ko = (${kb} * cap + j) * ${D};
        let dot = 0;
        for (let d = 0; d < ${D}; d++) dot += q[qo + d] * kc[ko + d];
        const s = dot * ${scale};
        sc[j] = s;
        if (s > max) max = s;
      }
      acc.fill(0);
      let sum = 0;
      for (let j = lo; j <= hi; j++) {
        const p = Math.exp(sc[j] - max);
        sum += p;
        const vo = (${kb} * cap + j) * ${Dv};
        for (let d = 0; d < ${Dv}; d++) acc[d] += p * vc[vo + d];
      }
      const oo = (bh * n + i) * ${Dv};
      const inv = 1 / sum;
      for (let d = 0; d < ${Dv}; d++) out[oo + d] = acc[d] * inv;
    }${G === 1 ? "" : "\n    }"}
  }`;
  const state: SessionBuffer[] = [
    { name: "kc", type: "f32", size: `cap * ${D}`, rows: D },
    { name: "vc", type: "f32", size: `cap * ${Dv}`, rows: Dv },
    { name: "sc", type: "f64", size: "cap", scratch: true },
    { name: "acc", type: "f64", size: String(Dv), scratch: true },
  ];
  return sessionKernel(state, body);
}

/** Linear attention (elu + 1) or FAVOR+ through running sums; FAVOR+ keys keep a running shift. */
function recurrent(n: NodeLabel, [q, , v]: readonly NodeLabel[]): SessionKernel {
  const H = lit(q.shape[1]);
  const D = lit(q.shape[3]);
  const Dv = lit(v.shape[3]);
  const favor = n.op === "performer_attention";
  const F = favor ? (n.attrs.features as number) : D;
  const root = favor ? Math.sqrt(n.attrs.scale as number) : 1;
  const phi = featureMapCode(favor ? "favor" : "elu", D, F, root);
  // FAVOR+ keys: the exponents and their maximum, then exp against the head's running shift,
  // rescaling the sums when a key raises it.
  const keyFeatures = favor
    ? `let kTop = -Infinity;
      ${phi("k", "ko", "fk", "null", "kTop")}
      if (kTop > shift[bh]) {
        if (shift[bh] !== -Infinity) {
          const c = Math.exp(shift[bh] - kTop);
          for (let f = 0; f < ${F}; f++) z[zo + f] *= c;
          for (let f = 0; f < ${F * Dv}; f++) kv[kvo + f] *= c;
        }
        shift[bh] = kTop;
      }
      for (let f = 0; f < ${F}; f++) fk[f] = Math.exp(fk[f] - shift[bh]) * ${num(1 / Math.sqrt(F))};`
    : phi("k", "ko", "fk", "null");
  const queryFeatures = phi("q", "qo", "fq", "null");
  const scratch = `${favor ? `const $K_w = orthogonalFeatures(${F}, ${D}, ${num(n.attrs.seed as number)});\n` : ""}const $K_fq = new Float64Array(${F});
const $K_fk = new Float64Array(${F});`;
  const body = `  const fq = $K_fq, fk = $K_fk;
  for (let b = 0; b < B; b++) for (let h = 0; h < ${H}; h++) {
    const bh = b * ${H} + h;
    const kvo = bh * ${F * Dv}, zo = bh * ${F};
    for (let i = 0; i < n; i++) {
      const ko = (bh * n + i) * ${D}, vo = (bh * n + i) * ${Dv}, qo = (bh * n + i) * ${D};
      {
      ${keyFeatures}
      }
      for (let f = 0; f < ${F}; f++) {
        const p = fk[f];
        z[zo + f] += p;
        for (let e = 0; e < ${Dv}; e++) kv[kvo + f * ${Dv} + e] += p * v[vo + e];
      }
      {
      ${queryFeatures}
      }
      let den = 0;
      for (let f = 0; f < ${F}; f++) den += fq[f] * z[zo + f];
      const inv = den > 0 ? 1 / den : 0;
      const oo = (bh * n + i) * ${Dv};
      for (let e = 0; e < ${Dv}; e++) {
        let acc = 0;
        for (let f = 0; f < ${F}; f++) acc += fq[f] * kv[kvo + f * ${Dv} + e];
        out[oo + e] = acc * inv;
      }
    }
  }`;
  const state: SessionBuffer[] = [
    { name: "kv", type: "f64", size: String(F * Dv) },
    { name: "z", type: "f64", size: String(F) },
    ...(favor ? [{ name: "shift", type: "f64" as const, size: "1", init: "-Infinity" }] : []),
  ];
  return sessionKernel(state, body, scratch, favor ? ["orthogonalFeatures"] : []);
}

/** The session kernel of a step attention whose keys are step nodes. */
export function sessionAttentionKernel(kind: Exclude<SessionAttention, "static">, n: NodeLabel, ins: readonly NodeLabel[]): SessionKernel {
  if (kind === "recurrent") return recurrent(n, ins);
  return cachedSoftmax(n, ins, kind === "window" ? (n.attrs.window as number) : undefined);
}
