import { basename, dirname } from "node:path";
import { emitModuleSource } from "../codegen/module.js";
import type { IrGraph } from "../ir/graph.js";
import { TfmcRuntimeError } from "../runtime/errors.js";
import { randomWeights } from "../runtime/random.js";
import { readSafetensors, SafetensorsError, writeSafetensors } from "../runtime/safetensors.js";
import type { Tensor } from "../runtime/tensor.js";
import type { WeightsOptions } from "../runtime/weightNames.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import { formatDefault, formatType } from "../semantics/types.js";
import { buildReported } from "./buildReported.js";
import { readBytes, writeFilesAtomically } from "./files.js";
import { printable, printableLines, UsageError, UserError, type Output } from "./io.js";
import type { BuildOptions } from "./pipeline.js";
import { readWeights, type WeightsFlags } from "./weightsFlags.js";

export interface RunOptions {
  readonly file: string;
  readonly weights?: WeightsFlags;
  readonly inputs?: string;
  readonly out: string;
  readonly overrides: readonly ConfigOverride[];
  readonly build?: BuildOptions;
  readonly seed: number;
  readonly profile?: boolean;
}

export interface LoadedModule {
  spec: { parameters: { name: string; shape: number[] }[] };
  createModel(w: unknown, options?: WeightsOptions): { forward(inputs: Record<string, Tensor>): Record<string, Tensor>; profile?(): readonly ProfileEntry[] };
}

interface ProfileEntry {
  readonly op: string;
  readonly scope: string;
  readonly ms: number;
}

/** Compiles the model in memory and imports it; the module reads the same runtime as this CLI. */
export async function loadCompiled(graph: IrGraph, profile: boolean, target: "ts" | "wasm" = "ts"): Promise<LoadedModule> {
  const runtime = new URL("../runtime/index.js", import.meta.url).href;
  const source = emitModuleSource(graph, { runtime, typed: false, profile, target });
  return (await import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`)) as LoadedModule;
}

function readTensors(path: string, what: string): Map<string, Tensor> {
  try {
    return readSafetensors(readBytes(path, what)).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) throw new UserError(`${what} ${printable(path)}: ${e.message}`);
    throw e;
  }
}

/** `tfmc run`: the model on tensors from files (or seeded random weights), every output to a file. */
export async function runModel(opts: RunOptions, io: Output): Promise<number> {
  const reported = buildReported(opts.file, opts.overrides, opts.build, io);
  if (!reported) return 1;
  const { built } = reported;
  const feeds: Record<string, Tensor> = opts.inputs ? Object.fromEntries(readTensors(opts.inputs, "inputs")) : {};
  const missing = built.graph.inputs.filter((i) => !i.optional && i.default === undefined && !Object.hasOwn(feeds, i.name));
  if (missing.length > 0) {
    const list = built.graph.inputs.map((i) => `  ${i.name}: ${formatType(i.type)}${i.optional ? " (optional)" : i.default !== undefined ? ` (default ${formatDefault(i.type, i.default)})` : ""}`).join("\n");
    const name = built.graph.meta.name;
    if (!opts.inputs) throw new UsageError(`run: ${name} needs its inputs: pass them with --inputs <in.safetensors>, one tensor per input, named as here:\n${list}`);
    throw new UserError(`run: ${printable(opts.inputs)} has no tensor ${missing.map((i) => `'${i.name}'`).join(", ")}; ${name} takes one tensor per input, named as here:\n${list}`);
  }
  const mod = await loadCompiled(built.graph, opts.profile ?? false, opts.build?.target);
  const weights = opts.weights ? readWeights(opts.weights.path) : randomWeights(mod.spec.parameters, opts.seed);
  let outputs: Record<string, Tensor>;
  let profile: readonly ProfileEntry[] = [];
  try {
    const model = mod.createModel(weights, opts.weights?.options);
    outputs = model.forward(feeds);
    profile = model.profile?.() ?? [];
  } catch (e) {
    if (e instanceof TfmcRuntimeError) {
      io.err(`tfmc: error ${e.code}: ${printableLines(e.message)}`);
      return 1;
    }
    throw e;
  }
  writeFilesAtomically(dirname(opts.out), [{ name: basename(opts.out), text: writeSafetensors(outputs) }]);
  // The dtype the file holds: float32, or an input passed through / a computed integer or boolean output.
  const dtypeOf = (data: unknown) => (data instanceof Int32Array ? "i32" : data instanceof BigInt64Array ? "i64" : data instanceof Uint8Array ? "bool" : "f32");
  for (const [name, t] of Object.entries(outputs)) io.out(`${name}: ${dtypeOf(t.data)}[${t.shape.join(", ")}]`);
  io.out(`wrote ${printable(opts.out)}`);
  if (opts.profile) io.err(formatProfile(profile));
  return 0;
}

/** Kernel time summed by op and by the scope of the top-level layer, largest first. */
export function formatProfile(entries: readonly ProfileEntry[]): string {
  const total = entries.reduce((a, e) => a + e.ms, 0);
  const table = (title: string, keyOf: (e: ProfileEntry) => string): string[] => {
    const sums = new Map<string, number>();
    for (const e of entries) sums.set(keyOf(e), (sums.get(keyOf(e)) ?? 0) + e.ms);
    const rows = [...sums].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return [title, ...rows.map(([k, ms]) => `  ${ms.toFixed(2).padStart(10)} ms ${((100 * ms) / (total || 1)).toFixed(1).padStart(5)}%  ${k}`)];
  };
  return [
    `profile: ${total.toFixed(2)} ms in kernels`,
    ...table("by op:", (e) => e.op),
    ...table("by scope:", (e) => e.scope || "(model)"),
  ].join("\n");
}
