import { RuntimeMessages as M, TfmcRuntimeError, WeightsError } from "./errors.js";
import { readSafetensors } from "./safetensors.js";
import type { Tensor } from "./tensor.js";
import type { ParamSpec } from "./random.js";
import { nameRules, renamed, weightHints } from "./weightNames.js";

export { globToRegExp, type WeightsOptions } from "./weightNames.js";

/** Weights as `createModel` takes them: safetensors bytes, or tensors by parameter name. */
export type WeightsSource = Uint8Array | ArrayBuffer | ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

const describe = (s: readonly number[]) => `[${s.join(", ")}]`;

/**
 * Reads and checks weights against the model's parameters, renaming and ignoring entries as
 * `options` say (see weightNames.ts; `otherKeys` are options the caller reads itself, such as
 * `threads`). Every problem — missing, extra, mis-shaped, mis-typed, an unused prefix or pattern —
 * is collected and reported in one WeightsError, with hints naming the option that would help.
 */
export function loadWeights(params: readonly ParamSpec[], source: WeightsSource, options?: unknown, otherKeys: readonly string[] = []): Record<string, Float32Array> {
  const rules = nameRules(options, otherKeys);
  let entries: Map<string, { shape: readonly number[]; data: Tensor["data"]; dtype: string }>;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    try {
      const { tensors } = readSafetensors(source);
      entries = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data, dtype: t.dtype }]));
    } catch (e) {
      throw new TfmcRuntimeError(M.Weights_unreadable_0, [(e as Error).message]);
    }
  } else if (source instanceof Map) {
    // A map from readSafetensors or readShardedSafetensors keeps the file's dtype name.
    entries = new Map([...source].map(([k, t]) => [k, { shape: t.shape, data: t.data, dtype: (t as { dtype?: string }).dtype ?? t.data?.constructor?.name ?? "unknown" }]));
  } else if (source !== null && typeof source === "object") {
    entries = new Map(Object.entries(source as Record<string, Tensor>).map(([k, t]) => [k, { shape: t?.shape, data: t?.data, dtype: t?.data?.constructor?.name ?? "unknown" }]));
  } else {
    throw new TfmcRuntimeError(M.Weights_unreadable_0, ["expected safetensors bytes or a map of tensors"]);
  }
  const problems: string[] = [];
  // The file's entries under the model's names; `from` keeps each one's name in the file.
  const byName = new Map<string, { shape: readonly number[]; data: Tensor["data"]; dtype: string; from: string }>();
  const ignoredAs = new Map<string, string>();
  const used = new Set<string>();
  for (const [original, t] of entries) {
    const name = renamed(rules, original);
    const pattern = rules.ignore.find((p) => original.search(p.re) >= 0);
    if (pattern) {
      used.add(pattern.text);
      ignoredAs.set(name, `the file's '${original}' is ignored by '${pattern.text}'`);
      continue;
    }
    const other = byName.get(name);
    if (other) problems.push(`the file's '${other.from}' and '${original}' both become '${name}'`);
    else byName.set(name, { ...t, from: original });
  }
  if (rules.strip && ![...entries.keys()].some((n) => n.startsWith(rules.strip))) problems.push(`no name in the file starts with '${rules.strip}', the prefix to strip`);
  for (const p of rules.ignore) if (!used.has(p.text)) problems.push(`the ignore pattern '${p.text}' matches no entry of the file`);
  const from = (t: { from: string }, name: string) => (t.from === name ? "" : ` (the file's '${t.from}')`);
  const out: Record<string, Float32Array> = Object.create(null);
  const missing: string[] = [];
  for (const p of params) {
    const t = byName.get(p.name);
    if (!t) {
      const why = ignoredAs.get(p.name);
      problems.push(`missing '${p.name}' ${describe(p.shape)}${why ? `: ${why}` : ""}`);
      if (!why) missing.push(p.name);
      continue;
    }
    if (!(t.data instanceof Float32Array)) {
      problems.push(`'${p.name}'${from(t, p.name)} has dtype ${t.dtype}; expected F32 (or F16/BF16 in safetensors)`);
      continue;
    }
    if (!Array.isArray(t.shape) || t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      problems.push(`'${p.name}'${from(t, p.name)} has shape ${Array.isArray(t.shape) ? describe(t.shape) : "unknown"}; expected ${describe(p.shape)}`);
      continue;
    }
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) {
      problems.push(`'${p.name}'${from(t, p.name)} holds ${t.data.length} values; its shape ${describe(p.shape)} needs ${n}`);
      continue;
    }
    out[p.name] = t.data;
  }
  const known = new Set(params.map((p) => p.name));
  const unexpected: { name: string; original: string }[] = [];
  for (const [name, t] of byName) {
    if (known.has(name)) continue;
    problems.push(`unexpected '${name}'${from(t, name)}: the model has no such parameter`);
    unexpected.push({ name, original: t.from });
  }
  if (problems.length > 0) throw new WeightsError(problems, weightHints(missing, unexpected));
  return out;
}
