import type { IrGraph } from "../ir/graph.js";
import { isConst } from "../semantics/types.js";
import { moduleBytes, type WasmFunction } from "../wasm/binary.js";
import { denseDynamicFunction, denseFunction } from "../wasm/dense.js";
import { softmaxRowsFunction } from "../wasm/softmax.js";
import { MAX_PAGES } from "../runtime/wasmMemory.js";

// `--target wasm`: which nodes run as WebAssembly SIMD kernels, and the module's binary. A dense
// node qualifies when its weights (and bias) are computed at createModel — they are packed into
// the kernel's panel layout once — its inputs are float32 and its width a multiple of 4. Softmax
// attention without mask inputs runs its two products through a kernel with run-time sizes. Every
// other node keeps its TypeScript kernel, reading and writing the same arena, which lives in the
// WebAssembly memory.

export interface WasmDense {
  /** The exported kernel. */
  readonly fn: string;
  readonly K: number;
  readonly N: number;
  readonly weight: string;
  readonly bias?: string;
  /** The runtime function that applies the activation after the kernel, if any. */
  readonly after?: string;
}

const AFTER: Record<string, string | undefined> = {
  none: undefined,
  relu: "reluColumns",
  gelu: "geluColumns",
  gelu_tanh: "geluTanhColumns",
  silu: "siluColumns",
  sigmoid: "sigmoidColumns",
  tanh: "tanhColumns",
};

/** Softmax attention without mask inputs, through `wasmAttention` (src/runtime/wasmAttention.ts). */
export interface WasmAttention {
  readonly H: number;
  readonly D: number;
  readonly Dv: number;
  readonly scale: number;
  readonly causal: boolean;
}

export interface WasmPlan {
  readonly dense: ReadonlyMap<string, WasmDense>;
  readonly attention: ReadonlyMap<string, WasmAttention>;
  /** The module's binary, base64; empty when no node qualifies. */
  readonly binary: string;
  /** The same functions importing a shared memory, for worker threads. */
  readonly sharedBinary: string;
  readonly bytes: number;
}

export function planWasm(g: IrGraph, constants: ReadonlySet<string>): WasmPlan {
  const dense = new Map<string, WasmDense>();
  const functions = new Map<string, WasmFunction>();
  for (const id of g.order()) {
    const n = g.node(id);
    if (n.op !== "dense" || constants.has(id)) continue;
    const [x, w, b] = n.inputs.map((i) => g.node(i));
    const act = (n.attrs.act as string | undefined) ?? "none";
    if (!constants.has(n.inputs[1]) || (b && !constants.has(n.inputs[2])) || x.dtype !== "f32" || !(act in AFTER)) continue;
    const [N, K] = w.shape.map((d) => (isConst(d) ? d.value : NaN));
    if (!(N % 4 === 0) || !Number.isInteger(K)) continue;
    const fn = `dense_${K}_${N}${b ? "_bias" : ""}`;
    if (!functions.has(fn)) functions.set(fn, denseFunction(fn, K, N, Boolean(b)));
    const after = AFTER[act];
    dense.set(id, { fn, K, N, weight: n.inputs[1], ...(b ? { bias: n.inputs[2] } : {}), ...(after ? { after } : {}) });
  }
  const attention = new Map<string, WasmAttention>();
  for (const id of g.order()) {
    const n = g.node(id);
    if (n.op !== "attention" || n.inputs.length !== 3 || constants.has(id)) continue;
    const [q, , v] = n.inputs.map((i) => g.node(i));
    if (n.inputs.some((i) => g.node(i).op === "input" || constants.has(i))) continue;
    const [H, D, Dv] = [q.shape[1], q.shape[3], v.shape[3]].map((d) => (isConst(d) ? d.value : NaN));
    if (!Number.isInteger(H) || !Number.isInteger(D) || !(Dv % 4 === 0) || !((n.attrs.scale as number) > 0)) continue;
    attention.set(id, { H, D, Dv, scale: n.attrs.scale as number, causal: Boolean(n.attrs.causal) });
  }
  if (attention.size > 0) {
    functions.set("dense_dynamic", denseDynamicFunction("dense_dynamic"));
    functions.set("softmax_rows", softmaxRowsFunction("softmax_rows"));
  }
  if (functions.size === 0) return { dense, attention, binary: "", sharedBinary: "", bytes: 0 };
  const bytes = moduleBytes([...functions.values()]);
  const shared = moduleBytes([...functions.values()], { shared: true, maxPages: MAX_PAGES });
  return { dense, attention, binary: Buffer.from(bytes).toString("base64"), sharedBinary: Buffer.from(shared).toString("base64"), bytes: bytes.length };
}
