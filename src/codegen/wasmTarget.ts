import type { IrGraph } from "../ir/graph.js";
import { isConst } from "../semantics/types.js";
import { moduleBytes, type WasmFunction } from "../wasm/binary.js";
import { denseFunction } from "../wasm/dense.js";

// `--target wasm`: which nodes run as WebAssembly SIMD kernels, and the module's binary. A dense
// node qualifies when its weights (and bias) are computed at createModel — they are packed into
// the kernel's panel layout once — its inputs are float32 and its width a multiple of 4. Every
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

export interface WasmPlan {
  readonly dense: ReadonlyMap<string, WasmDense>;
  /** The module's binary, base64; empty when no node qualifies. */
  readonly binary: string;
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
  if (functions.size === 0) return { dense, binary: "", bytes: 0 };
  const bytes = moduleBytes([...functions.values()]);
  return { dense, binary: Buffer.from(bytes).toString("base64"), bytes: bytes.length };
}
