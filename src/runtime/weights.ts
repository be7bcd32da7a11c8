import { RuntimeMessages as M, TfmcRuntimeError, WeightsError } from "./errors.js";
import { readSafetensors } from "./safetensors.js";
import type { Tensor } from "./tensor.js";
import type { ParamSpec } from "./random.js";

/** Weights as `createModel` takes them: safetensors bytes, or tensors by parameter name. */
export type WeightsSource = Uint8Array | ArrayBuffer | ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

const describe = (s: readonly number[]) => `[${s.join(", ")}]`;

/**
 * Reads and checks weights against the model's parameters. Every problem — missing, extra,
 * mis-shaped, mis-typed — is collected and reported in one WeightsError.
 */
export function loadWeights(params: readonly ParamSpec[], source: WeightsSource): Record<string, Float32Array> {
  let entries: Map<string, { shape: readonly number[]; data: Tensor["data"]; dtype: string }>;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    try {
      const { tensors } = readSafetensors(source);
      entries = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data, dtype: t.dtype }]));
    } catch (e) {
      throw new TfmcRuntimeError(M.Weights_unreadable_0, [(e as Error).message]);
    }
  } else if (source instanceof Map) {
    entries = new Map([...source].map(([k, t]) => [k, { shape: t.shape, data: t.data, dtype: t.data?.constructor?.name ?? "unknown" }]));
  } else if (source !== null && typeof source === "object") {
    entries = new Map(Object.entries(source as Record<string, Tensor>).map(([k, t]) => [k, { shape: t?.shape, data: t?.data, dtype: t?.data?.constructor?.name ?? "unknown" }]));
  } else {
    throw new TfmcRuntimeError(M.Weights_unreadable_0, ["expected safetensors bytes or a map of tensors"]);
  }
  const problems: string[] = [];
  const out: Record<string, Float32Array> = Object.create(null);
  for (const p of params) {
    const t = entries.get(p.name);
    if (!t) {
      problems.push(`missing '${p.name}' ${describe(p.shape)}`);
      continue;
    }
    if (!(t.data instanceof Float32Array)) {
      problems.push(`'${p.name}' has dtype ${t.dtype}; expected F32 (or F16/BF16 in safetensors)`);
      continue;
    }
    if (!Array.isArray(t.shape) || t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      problems.push(`'${p.name}' has shape ${Array.isArray(t.shape) ? describe(t.shape) : "unknown"}; expected ${describe(p.shape)}`);
      continue;
    }
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) {
      problems.push(`'${p.name}' holds ${t.data.length} values; its shape ${describe(p.shape)} needs ${n}`);
      continue;
    }
    out[p.name] = t.data;
  }
  const known = new Set(params.map((p) => p.name));
  for (const name of entries.keys()) if (!known.has(name)) problems.push(`unexpected '${name}': the model has no such parameter`);
  if (problems.length > 0) throw new WeightsError(problems);
  return out;
}
