import { existsSync } from "node:fs";
import { join } from "node:path";
import { emitModel, type EmitKind } from "../codegen/emit.js";
import { formatSummary } from "../diagnostics/format.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import { printDiagnostics } from "./check.js";
import { sameContent, writeFilesAtomically } from "./files.js";
import { printable, readSource, type Output } from "./io.js";
import { buildGraph, type BuildOptions } from "./pipeline.js";
import { RUNTIME_DIR, runtimeChoice, runtimeCopy } from "./runtimeCopy.js";

export interface CompileOptions {
  readonly file: string;
  readonly outDir: string;
  readonly overrides: readonly ConfigOverride[];
  readonly build?: BuildOptions;
  readonly emit: EmitKind;
  readonly check: boolean;
  /** `copy` (the default: a copy of the runtime beside the module), `package` (`tfmc/runtime`) or a specifier. */
  readonly runtime?: string;
  /** Time every kernel; the model gains `profile()`. */
  readonly profile?: boolean;
  /** With --target wasm: the kernels in `.wasm` files beside the module instead of embedded. */
  readonly wasmFile?: boolean;
}

/** `tfmc compile`: writes the model's module, or with --check reports whether it is up to date. */
export async function runCompile(opts: CompileOptions, io: Output): Promise<number> {
  const runtime = runtimeChoice(opts.runtime);
  const text = readSource(opts.file);
  const { graph, diagnostics } = buildGraph(text, opts.overrides, opts.build);
  const diags = diagnostics.sorted();
  printDiagnostics(io, opts.file, text, diags);
  if (!graph) {
    io.err(`${printable(opts.file)}: ${formatSummary(diagnostics.errorCount, diags.length - diagnostics.errorCount)}; nothing written`);
    return 1;
  }
  const emitted = await emitModel(graph, { emit: opts.emit, profile: opts.profile ?? false, target: opts.build?.target ?? "ts", wasmFile: opts.wasmFile ?? false, runtime: runtime.specifier });
  const copy = runtime.copy ? runtimeCopy() : [];
  const files = [...emitted, ...copy];
  const shown = [...emitted.map((f) => join(opts.outDir, f.name)), ...(copy.length > 0 ? [join(opts.outDir, RUNTIME_DIR) + "/"] : [])];
  if (opts.check) {
    const stale = files.filter((f) => !sameContent(join(opts.outDir, f.name), f.text));
    for (const f of stale) {
      const path = join(opts.outDir, f.name);
      io.err(`${printable(path)} is ${existsSync(path) ? "out of date" : "missing"}; run tfmc compile`);
    }
    if (stale.length === 0) io.out(`${shown.map((p) => printable(p)).join(", ")}: up to date`);
    return stale.length > 0 ? 1 : 0;
  }
  writeFilesAtomically(opts.outDir, files);
  for (const f of emitted) io.out(`wrote ${printable(join(opts.outDir, f.name))}`);
  if (copy.length > 0) io.out(`wrote ${printable(join(opts.outDir, RUNTIME_DIR))}/ (the runtime the module imports, ${copy.length} files)`);
  return 0;
}
