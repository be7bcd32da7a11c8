import { NO_SPAN } from "../diagnostics/diagnostic.js";
import type { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";
import { OPS, type Op } from "../ir/ops.js";
import { nodeFlops, peakActivationBytes, Poly } from "../passes/cost.js";
import { PIPELINE } from "../passes/pipeline.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import { isConst, type CheckedModel, type Dim, type LayerNode, type SymbolInfo } from "../semantics/types.js";
import { buildReported } from "./buildReported.js";
import { printable, UsageError, type Output } from "./io.js";

export interface ExplainOptions {
  readonly file: string;
  readonly overrides: readonly ConfigOverride[];
  /** `L=128,1024,8192`: the symbol to vary and its values; other symbols are 1. */
  readonly at?: string;
  /** `--attention KIND`: cost the model with this kernel for every attention, as compile would run it. */
  readonly attention?: string;
}

/** The layer a scope belongs to: up to the first repetition index (`h.3`), else its first part. */
function layerOf(scope: string): string {
  if (!scope) return "(top level)";
  const parts = scope.split(".");
  const idx = parts.findIndex((p) => /^\d+$/.test(p));
  return idx >= 0 ? parts.slice(0, idx + 1).join(".") : parts[0];
}

interface At {
  /** The symbol that varies across the columns, and its values. */
  readonly sym: string;
  readonly values: readonly number[];
  /** Symbols given one value each. */
  readonly fixed: ReadonlyMap<string, number>;
}

/**
 * `--at T=128,1024`, `--at 128,1024` (the first length symbol), `--at B=2,T=16,32`: each NAME=n
 * starts a symbol, bare numbers add values to it. One symbol may have several values; every
 * name must be a symbol of the model, and every value within its `where` limit.
 */
function parseAt(at: string | undefined, model: { readonly name: string; readonly symbols: readonly SymbolInfo[] }): At {
  const symbols = model.symbols.map((s) => s.name);
  const defaultSym = symbols.find((s) => s !== "B") ?? symbols[0] ?? "L";
  // The default lengths, within the symbol's `where` limit (the limit itself when all are past it).
  const max = model.symbols.find((s) => s.name === defaultSym)?.max;
  const lengths = [128, 1024, 8192];
  const defaults = max === undefined || max >= lengths[lengths.length - 1] ? lengths : [...lengths.filter((v) => v < max), max];
  if (!at) return { sym: defaultSym, values: defaults, fixed: new Map() };
  const bad = () => new UsageError(`explain: --at takes NAME=n,n,... or NAME=n,NAME=n,... (e.g. T=128,1024 or B=2,T=16), got '${printable(at)}'`);
  const given = new Map<string, number[]>();
  let current: string | undefined;
  for (const part of at.split(",")) {
    const m = /^(?:([A-Za-z_]\w*)=)?(\d+)$/.exec(part.trim());
    if (!m) throw bad();
    const name = m[1] ?? current ?? (given.size === 0 ? defaultSym : undefined);
    if (name === undefined) throw bad();
    if (m[1] !== undefined && given.has(name)) throw new UsageError(`explain: --at gives ${printable(name)} twice`);
    const value = Number(m[2]);
    const info = model.symbols.find((s) => s.name === name);
    if (!info) {
      const list = symbols.length > 0 ? `its symbols are ${symbols.join(", ")}` : "it has no symbols";
      throw new UsageError(`explain: --at names ${printable(name)}, but model ${model.name} has no symbol ${printable(name)}; ${list}`);
    }
    if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`explain: --at ${printable(name)}=${printable(m[2])}: a length is an integer from 1 to 2^53 - 1`);
    if (info.max !== undefined && value > info.max) throw new UsageError(`explain: --at ${name}=${value} is above the model's limit ${name} <= ${info.max}`);
    given.set(name, [...(given.get(name) ?? []), value]);
    current = name;
  }
  const varying = [...given].filter(([, vs]) => vs.length > 1);
  if (varying.length > 1) throw new UsageError(`explain: --at can vary one symbol; ${varying.map(([n]) => n).join(" and ")} each have several values`);
  // Only the batch given (--at B=2): the lengths keep their default values.
  if (varying.length === 0 && [...given.keys()].every((n) => n === "B") && defaultSym !== "B" && symbols.includes(defaultSym)) {
    return { sym: defaultSym, values: defaults, fixed: new Map([["B", given.get("B")![0]]]) };
  }
  const [sym, values] = varying[0] ?? [...given].at(-1)!;
  return { sym, values, fixed: new Map([...given].filter(([n]) => n !== sym).map(([n, vs]) => [n, vs[0]])) };
}

const human = (n: number): string => {
  const units = ["", "K", "M", "G", "T", "P"];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(n < 10 && i > 0 ? 2 : 1).replace(/\.0+$/, "")}${units[i]}`;
};
const bytes = (n: number): string => `${human(n)}B`;

function flopsByLayer(g: IrGraph): Map<string, Poly> {
  const out = new Map<string, Poly>();
  for (const id of g.order()) {
    const n = g.node(id);
    const key = layerOf(n.scope);
    out.set(key, (out.get(key) ?? new Poly()).add(nodeFlops(g, n)));
  }
  return out;
}

/** Parameters counted with the layer of the first node that reads them, so they sit beside its FLOPs. */
function paramsByLayer(g: IrGraph): Map<string, number> {
  const out = new Map<string, number>();
  const counted = new Set<string>();
  for (const id of g.order()) {
    const n = g.node(id);
    for (const i of n.inputs) {
      const p = g.node(i);
      if (p.op !== "param" || counted.has(i)) continue;
      counted.add(i);
      const key = layerOf(n.scope);
      out.set(key, (out.get(key) ?? 0) + Poly.dims(p.shape).at(new Map()));
    }
  }
  return out;
}

/** One head of one batch element at length T = L = S: the attention nodes each kernel would run. */
function headNodes(D: number, op: Op, attrs: NodeLabel["attrs"], extra: readonly NodeLabel[] = []): [NodeLabel, NodeLabel[]] {
  const T: Dim = { sym: "T" };
  const head = (shape: Dim[]): NodeLabel => ({ op: "input", inputs: [], shape, dtype: "f32", attrs: {}, span: NO_SPAN, scope: "" });
  const qkv = [0, 1, 2].map(() => head([{ value: 1 }, { value: 1 }, T, { value: D }]));
  const ins = [...qkv, ...extra];
  return [{ op, inputs: ins.map((_, i) => `i${i}`), shape: qkv[0].shape, dtype: "f32", attrs, span: NO_SPAN, scope: "" }, ins];
}

/** The first length at which `p` costs fewer FLOPs than `q` (searched up to 2^24), by the op table's counts. */
function crossover(p: Poly, q: Poly): number | undefined {
  const at = (x: Poly, T: number) => x.at(new Map([["T", T]]));
  let T = 1;
  while (T < 2 ** 24 && at(p, T) >= at(q, T)) T *= 2;
  if (T >= 2 ** 24) return undefined;
  let lo = Math.floor(T / 2);
  while (lo + 1 < T) {
    const mid = Math.floor((lo + T) / 2);
    if (at(p, mid) < at(q, mid)) T = mid;
    else lo = mid;
  }
  return T;
}

/**
 * Why the checker would refuse `kernel` for this attention, by the rules of
 * semantics/layers/attention.ts (a missing `k` or `window` aside: explain assumes the values it
 * names), or undefined when it would accept it.
 */
function refusal(kernel: string, a: LayerNode, model: CheckedModel): string | undefined {
  if (kernel === "softmax") return undefined;
  const arbitrary = ["block", "keep", "bias", "bias_keys"].find((m) => Object.hasOwn(a.inputs, m));
  if ((kernel === "linear" || kernel === "performer" || kernel === "linformer") && arbitrary) return `the mask '${arbitrary}'`;
  if (kernel === "linformer" && a.attrs.causal) return "causal masking";
  if (kernel === "linformer") {
    const S = model.nodes[a.inputs.key]?.type.shape[1];
    if (S === undefined || (!isConst(S) && model.symbols.find((x) => x.name === S.sym)?.max === undefined)) return "a key length with no maximum";
  }
  if (a.attrs.kv_heads !== a.attrs.heads) return "grouped keys and values";
  return undefined;
}

/**
 * Per head and batch element, the length from which each linear-time form does fewer FLOPs than
 * softmax attention (each kernel's FLOPs as its op-table entry counts them): the kernel the
 * attention runs, then only the alternatives the checker would accept for it, then those it would not.
 */
function kernelNotes(a: LayerNode, model: CheckedModel): string[] {
  const heads = a.attrs.heads as number;
  const D = (a.attrs.embed as number) / heads;
  const m = (a.attrs.features as number | null) ?? 256;
  const k = (a.attrs.k as number | null) ?? 256;
  const w = (a.attrs.window as number | null) ?? 128;
  const flops = ([n, ins]: [NodeLabel, NodeLabel[]]) => OPS[n.op].flops(n, ins);
  const projection: NodeLabel = { op: "param", inputs: [], shape: [{ value: k }, { sym: "T" }], dtype: "f32", attrs: {}, span: NO_SPAN, scope: "" };
  const softmax = flops(headNodes(D, "attention", { scale: 1, roles: "", causal: false }));
  const forms: [string, string, [NodeLabel, NodeLabel[]]][] = [
    ["linear", "linear", headNodes(D, "linear_attention", { roles: "", causal: false })],
    ["performer", `performer (${m} features)`, headNodes(D, "performer_attention", { roles: "", causal: false, features: m, scale: 1 })],
    ["linformer", `linformer (k = ${k})`, headNodes(D, "linformer_attention", { roles: "", causal: false, scale: 1 }, [projection, projection])],
    ["local", `local (window ${w})`, headNodes(D, "local_attention", { roles: "", causal: false, scale: 1, window: w })],
  ];
  const from = (nodes: [NodeLabel, NodeLabel[]]): string => {
    const at = crossover(flops(nodes), softmax);
    return at === undefined ? "never cheaper than softmax" : `cheaper than softmax from length ${at}`;
  };
  const chosen = a.attrs.kernel as string;
  const own = forms.find(([kernel]) => kernel === chosen);
  const notes = own ? [`this kernel is ${from(own[2])}`, "softmax also applies"] : [];
  const refused = new Map<string, string[]>();
  for (const [kernel, name, nodes] of forms) {
    if (kernel === chosen) continue;
    const why = refusal(kernel, a, model);
    if (why === undefined) notes.push(`${name} ${from(nodes)}`);
    else refused.set(why, [...(refused.get(why) ?? []), kernel]);
  }
  if (notes.length === 0) notes.push("no other kernel applies");
  for (const [why, kernels] of refused) {
    const list = kernels.length === 1 ? kernels[0] : `${kernels.slice(0, -1).join(", ")} and ${kernels.at(-1)}`;
    notes.push(`${list} cannot honour ${why}`);
  }
  return notes;
}

/** `tfmc explain`: parameters, FLOPs and activation memory per layer, as written and optimised. */
export function runExplain(opts: ExplainOptions, io: Output): number {
  const reported = buildReported(opts.file, opts.overrides, { level: 2, ...(opts.attention ? { attentionKernel: opts.attention } : {}) }, io);
  if (!reported) return 1;
  const { built } = reported;
  const model = built.model;
  const symbols = model.symbols.map((s) => s.name);
  const { sym, values, fixed } = parseAt(opts.at, model);
  const envs = values.map((v) => new Map(symbols.map((s) => [s, s === sym ? v : (fixed.get(s) ?? (s === "B" ? 1 : v))])));
  const head = values.map((v) => `${sym}=${v}`.padStart(14)).join("");
  // What the columns hold: the varied symbol, lengths that follow it, and those held fixed.
  const following = symbols.filter((s) => s !== sym && s !== "B" && !fixed.has(s));
  const held = [...(fixed.has("B") || sym === "B" || !symbols.includes("B") ? [] : ["B = 1"]), ...[...fixed].map(([n, v]) => `${n} = ${v}`)];
  const notes = [...held, ...(following.length > 0 ? [`${following.join(", ")} equal ${sym}`] : [])];
  io.out(`model ${model.name}: ${symbols.length > 0 ? sym : "no symbolic lengths"} at ${values.join(", ")}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`);
  io.out("");
  io.out(`${"layer".padEnd(24)}${"parameters".padStart(14)}  FLOPs as optimised`);
  const params = paramsByLayer(built.lowered);
  const written = flopsByLayer(built.lowered);
  const optimised = flopsByLayer(built.graph);
  let totalParams = 0;
  for (const [layer, f] of optimised) {
    const p = params.get(layer) ?? 0;
    totalParams += p;
    io.out(`${layer.padEnd(24)}${p.toLocaleString("en-US").padStart(14)}  ${f.toString()}`);
  }
  const total = (m: Map<string, Poly>) => [...m.values()].reduce((a, b) => a.add(b), new Poly());
  io.out(`${"total".padEnd(24)}${totalParams.toLocaleString("en-US").padStart(14)}  ${total(optimised).toString()}`);
  io.out("");
  io.out(`${"".padEnd(34)}${head}`);
  const row = (label: string, f: (env: Map<string, number>) => string) => io.out(`${label.padEnd(34)}${envs.map((e) => f(e).padStart(14)).join("")}`);
  row("FLOPs as written", (e) => human(total(written).at(e)));
  row("FLOPs as optimised", (e) => human(total(optimised).at(e)));
  row("peak activations as written", (e) => bytes(peakActivationBytes(built.lowered!, e)));
  row("peak activations as optimised", (e) => bytes(peakActivationBytes(built.graph!, e)));
  io.out("");
  for (const a of model.nodes.filter((n) => n.layer === "attention")) {
    io.out(`attention ${a.scope || "(top level)"} [${a.attrs.kernel}]: ${kernelNotes(a, model).join("; ")}`);
  }
  io.out("");
  io.out("passes:");
  const byPass = new Map<string, Map<string, number>>();
  for (const n of built.optimized.notes) {
    const key = `${n.kind === "skipped" ? "not done: " : ""}${n.message}`;
    const m = byPass.get(n.pass) ?? new Map<string, number>();
    m.set(key, (m.get(key) ?? 0) + 1);
    byPass.set(n.pass, m);
  }
  for (const p of PIPELINE.filter((x, i, all) => all.indexOf(x) === i)) {
    const t = built.optimized.timings.filter((x) => x.pass === p.name).reduce((a, x) => a + x.ms, 0);
    io.out(`  ${p.name} (${t.toFixed(1)} ms): ${p.why}`);
    for (const [msg, count] of byPass.get(p.name) ?? []) io.out(`    ${count} × ${msg}`);
  }
  return 0;
}
