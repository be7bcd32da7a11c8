import { RuntimeMessages as M, TfmcRuntimeError, WeightsError } from "./errors.js";
import { readSafetensors } from "./safetensors.js";
import type { Tensor } from "./tensor.js";
import type { ParamSpec } from "./random.js";
import { nameRules, renamed, weightHints } from "./weightNames.js";
import { describeValue, printable } from "./printable.js";

export { globToRegExp, type WeightsOptions } from "./weightNames.js";

/** Weights as `createModel` takes them: safetensors bytes, or tensors by parameter name. Tensors are used by reference, not copied. */
export type WeightsSource = Uint8Array | ArrayBuffer | DataView | ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

const ACCEPTED = "safetensors bytes (a Uint8Array, ArrayBuffer or DataView) or tensors by name (a Map or an object of { data: Float32Array, shape: number[] })";

const describe = (s: readonly number[]) => `[${s.join(", ")}]`;
const isShape = (s: unknown): s is number[] => Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 0);

/** One entry of the weights as given: the value itself, and its shape, data and dtype name when it has them. */
interface Entry {
  readonly value: unknown;
  readonly shape?: unknown;
  readonly data?: unknown;
  readonly dtype?: string;
}

/** Bytes of a safetensors file in any of the forms accepted, or null for tensors by name. */
function bytesOf(source: unknown): Uint8Array | null {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (source instanceof DataView) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof SharedArrayBuffer !== "undefined" && source instanceof SharedArrayBuffer) return new Uint8Array(source);
  return null;
}

function entriesOf(source: unknown): Map<string, Entry> {
  const bytes = bytesOf(source);
  if (bytes) {
    try {
      const { tensors } = readSafetensors(bytes);
      return new Map([...tensors].map(([k, t]) => [k, { value: t, shape: t.shape, data: t.data, dtype: t.dtype }]));
    } catch (e) {
      throw new TfmcRuntimeError(M.Weights_unreadable_0, [(e as Error).message]);
    }
  }
  if (source === null || typeof source !== "object" || ArrayBuffer.isView(source)) {
    throw new TfmcRuntimeError(M.Weights_unreadable_0, [`expected ${ACCEPTED}; got ${describeValue(source)}`]);
  }
  const pairs: [string, unknown][] = source instanceof Map ? [...(source as Map<unknown, unknown>)].map(([k, v]) => [String(k), v]) : Object.entries(source);
  return new Map(
    pairs.map(([k, t]) => {
      const o = t !== null && typeof t === "object" ? (t as { shape?: unknown; data?: unknown; dtype?: unknown }) : undefined;
      const data = o?.data;
      // A map from readSafetensors or readShardedSafetensors keeps the file's dtype name.
      const dtype = typeof o?.dtype === "string" ? o.dtype : data === undefined ? "no data" : describeValue(data).replace(/^an? /, "");
      return [k, { value: t, shape: o?.shape, data, dtype }];
    }),
  );
}

/**
 * Reads and checks weights against the model's parameters, renaming and ignoring entries as
 * `options` say (see weightNames.ts; `otherKeys` are options the caller reads itself, such as
 * `threads`). Every problem — missing, extra, mis-shaped, mis-typed, an unused prefix or pattern —
 * is collected and reported in one WeightsError, with hints naming the option that would help.
 */
export function loadWeights(params: readonly ParamSpec[], source: WeightsSource, options?: unknown, otherKeys: readonly string[] = []): Record<string, Float32Array> {
  const rules = nameRules(options, otherKeys);
  const entries = entriesOf(source);
  const problems: string[] = [];
  // The file's entries under the model's names; `from` keeps each one's name in the file.
  const byName = new Map<string, Entry & { from: string }>();
  const ignoredAs = new Map<string, string>();
  const used = new Set<string>();
  const read: string[] = [];
  for (const [original, t] of entries) {
    const name = renamed(rules, original);
    const pattern = rules.ignore.find((p) => original.search(p.re) >= 0);
    if (pattern) {
      used.add(pattern.text);
      ignoredAs.set(name, `the file's '${printable(original)}' is ignored by '${printable(pattern.text)}'`);
      continue;
    }
    read.push(original);
    const other = byName.get(name);
    if (other) problems.push(`the file's '${printable(other.from)}' and '${printable(original)}' both become '${printable(name)}'`);
    else byName.set(name, { ...t, from: original });
  }
  if (rules.strip && ![...entries.keys()].some((n) => n.startsWith(rules.strip))) problems.push(`no name in the file starts with '${printable(rules.strip)}', the prefix to strip`);
  for (const p of rules.ignore) if (!used.has(p.text)) problems.push(`the ignore pattern '${printable(p.text)}' matches no entry of the file`);
  const from = (t: { from: string }, name: string) => (t.from === name ? "" : ` (the file's '${printable(t.from)}')`);
  const out: Record<string, Float32Array> = Object.create(null);
  const missing: string[] = [];
  for (const p of params) {
    const t = byName.get(p.name);
    const name = printable(p.name);
    if (!t) {
      const why = ignoredAs.get(p.name);
      problems.push(`missing '${name}' ${describe(p.shape)}${why ? `: ${why}` : ""}`);
      if (!why) missing.push(p.name);
      continue;
    }
    if (t.value === null || typeof t.value !== "object") {
      problems.push(`'${name}'${from(t, p.name)} is ${describeValue(t.value)}; expected a tensor { data: Float32Array, shape: ${describe(p.shape)} }`);
      continue;
    }
    if (!(t.data instanceof Float32Array)) {
      problems.push(`'${name}'${from(t, p.name)} has dtype ${t.dtype}; expected F32 (or F16/BF16 in safetensors)`);
      continue;
    }
    if (!isShape(t.shape)) {
      problems.push(`'${name}'${from(t, p.name)} has shape ${describeValue(t.shape)}; a shape is an array of non-negative integers, here ${describe(p.shape)}`);
      continue;
    }
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      problems.push(`'${name}'${from(t, p.name)} has shape ${describe(t.shape)}; expected ${describe(p.shape)}`);
      continue;
    }
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) {
      problems.push(`'${name}'${from(t, p.name)} holds ${t.data.length} values; its shape ${describe(p.shape)} needs ${n}`);
      continue;
    }
    out[p.name] = t.data;
  }
  const known = new Set(params.map((p) => p.name));
  const unexpected: { name: string; original: string }[] = [];
  for (const [name, t] of byName) {
    if (known.has(name)) continue;
    problems.push(`unexpected '${printable(name)}'${from(t, name)}: the model has no such parameter`);
    unexpected.push({ name, original: t.from });
  }
  if (problems.length > 0) throw new WeightsError(problems, unexpected.length > 0 || missing.length > 0 ? weightHints([...known], read, rules) : []);
  return out;
}
