import { OPS } from "../ir/ops.js";
import type { IrGraph } from "../ir/graph.js";
import { isConst } from "../semantics/types.js";
import { moduleBytes, type WasmFunction } from "../wasm/binary.js";
import { denseDynamicFunction, denseFunction } from "../wasm/dense.js";
import { softmaxRowsFunction } from "../wasm/softmax.js";
import { layerNormFunction, layerNormName } from "../wasm/layerNorm.js";
import { rmsNormFunction, rmsNormName } from "../wasm/rmsNorm.js";
import { SIMD_ACTIVATIONS, type Activation } from "../wasm/simdMath.js";
import { MAX_PAGES } from "../runtime/wasmMemory.js";

// `--target wasm`: which nodes run as WebAssembly SIMD kernels, and the module's binary. A dense
// node qualifies when its weights (and bias) are computed at createModel — they are packed into
// the kernel's panel layout once — its inputs are float32 and its width a multiple of 4; its
// activation is applied in registers. Softmax attention (masks applied to the scores in
// TypeScript) runs its two products and its softmax through kernels with run-time sizes;
// LayerNorm and RMSNorm (each alone or of a sum) of float32 rows whose width is a multiple of 4 run in SIMD. Every
// other node keeps its TypeScript kernel, reading and writing the same arena, which lives in the
// WebAssembly memory.

export interface WasmDense {
  /** The exported kernel. */
  readonly fn: string;
  readonly K: number;
  readonly N: number;
  readonly weight: string;
  readonly bias?: string;
}

/** Softmax attention, through `wasmAttention` (src/runtime/wasmAttention.ts). */
export interface WasmAttention {
  readonly H: number;
  /** Key/value heads: fewer than H in grouped-query attention. */
  readonly Hk: number;
  readonly D: number;
  readonly Dv: number;
  readonly scale: number;
  readonly causal: boolean;
  /** The roles of the mask inputs (after q, k, v), as the attention node names them. */
  readonly roles: readonly string[];
}

/** LayerNorm or RMSNorm, alone or of a sum, of rows of `d` floats; `weight` and `bias` are placed constants. */
export interface WasmNorm {
  readonly fn: string;
  readonly d: number;
  readonly eps: number;
  readonly add: boolean;
  readonly weight?: string;
  readonly bias?: string;
}

export interface WasmPlan {
  readonly dense: ReadonlyMap<string, WasmDense>;
  readonly norms: ReadonlyMap<string, WasmNorm>;
  readonly attention: ReadonlyMap<string, WasmAttention>;
  /** The module's binary; empty when no node qualifies. */
  readonly binary: Uint8Array;
  /** The same functions importing a shared memory, for worker threads. */
  readonly sharedBinary: Uint8Array;
  readonly bytes: number;
}

export function planWasm(g: IrGraph, constants: ReadonlySet<string>): WasmPlan {
  const dense = new Map<string, WasmDense>();
  const functions = new Map<string, WasmFunction>();
  for (const id of g.order()) {
    const n = g.node(id);
    if (OPS[n.op].wasm !== "dense" || constants.has(id)) continue;
    const [x, w, b] = n.inputs.map((i) => g.node(i));
    const act = (n.attrs.act as string | undefined) ?? "none";
    if (!constants.has(n.inputs[1]) || (b && !constants.has(n.inputs[2])) || x.dtype !== "f32" || !(act === "none" || SIMD_ACTIVATIONS.includes(act))) continue;
    const [N, K] = w.shape.map((d) => (isConst(d) ? d.value : NaN));
    if (!(N % 4 === 0) || !Number.isInteger(K)) continue;
    const fn = `dense_${K}_${N}${b ? "_bias" : ""}${act === "none" ? "" : `_${act}`}`;
    if (!functions.has(fn)) functions.set(fn, denseFunction(fn, K, N, Boolean(b), act === "none" ? undefined : (act as Activation)));
    dense.set(id, { fn, K, N, weight: n.inputs[1], ...(b ? { bias: n.inputs[2] } : {}) });
  }
  const norms = new Map<string, WasmNorm>();
  for (const id of g.order()) {
    const n = g.node(id);
    const kernel = OPS[n.op].wasm;
    if ((kernel !== "layerNorm" && kernel !== "rmsNorm") || constants.has(id)) continue;
    // The residual add fused into the norm reads two operands: a norm whose inputs outnumber its weights.
    const add = OPS[n.op].fused(n);
    const data = n.inputs.slice(0, add ? 2 : 1);
    const [w, b] = n.inputs.slice(data.length);
    const last = n.shape[n.shape.length - 1];
    const d = isConst(last) ? last.value : NaN;
    if (!(d % 4 === 0) || data.some((i) => constants.has(i) || g.node(i).dtype !== "f32") || [w, b].some((i) => i !== undefined && !constants.has(i))) continue;
    const variant = { add, scale: w !== undefined, shift: b !== undefined };
    const fn = kernel === "rmsNorm" ? rmsNormName(variant) : layerNormName(variant);
    if (!functions.has(fn)) functions.set(fn, kernel === "rmsNorm" ? rmsNormFunction(variant) : layerNormFunction(variant));
    norms.set(id, { fn, d, eps: n.attrs.eps as number, add, ...(w ? { weight: w } : {}), ...(b ? { bias: b } : {}) });
  }
  const attention = new Map<string, WasmAttention>();
  for (const id of g.order()) {
    const n = g.node(id);
    if (OPS[n.op].wasm !== "attention" || constants.has(id)) continue;
    const [q, k, v] = n.inputs.map((i) => g.node(i));
    if (n.inputs.slice(0, 3).some((i) => g.node(i).op === "input" || constants.has(i))) continue;
    const roles = String(n.attrs.roles ?? "").split(",").filter(Boolean);
    if (roles.length !== n.inputs.length - 3) continue;
    const [H, Hk, D, Dv] = [q.shape[1], k.shape[1], q.shape[3], v.shape[3]].map((d) => (isConst(d) ? d.value : NaN));
    if (!Number.isInteger(H) || !Number.isInteger(H / Hk) || !Number.isInteger(D) || !(Dv % 4 === 0) || !((n.attrs.scale as number) > 0)) continue;
    attention.set(id, { H, Hk, D, Dv, scale: n.attrs.scale as number, causal: Boolean(n.attrs.causal), roles });
  }
  if (attention.size > 0) {
    functions.set("dense_dynamic", denseDynamicFunction("dense_dynamic"));
    functions.set("softmax_rows", softmaxRowsFunction("softmax_rows"));
  }
  if (functions.size === 0) return { dense, norms, attention, binary: new Uint8Array(0), sharedBinary: new Uint8Array(0), bytes: 0 };
  const bytes = moduleBytes([...functions.values()]);
  const shared = moduleBytes([...functions.values()], { shared: true, maxPages: MAX_PAGES });
  return { dense, norms, attention, binary: bytes, sharedBinary: shared, bytes: bytes.length };
}
