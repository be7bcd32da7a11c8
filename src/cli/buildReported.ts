import { formatSummary } from "../diagnostics/format.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import type { IrGraph } from "../ir/graph.js";
import { printDiagnostics } from "./check.js";
import { printable, readSource, type Output } from "./io.js";
import { buildGraph, type BuildOptions, type Built } from "./pipeline.js";

/** A build that produced a graph (and so a checked model and its lowering). */
export type BuiltGraph = Built & {
  readonly graph: IrGraph;
  readonly model: NonNullable<Built["model"]>;
  readonly lowered: NonNullable<Built["lowered"]>;
  readonly optimized: NonNullable<Built["optimized"]>;
};

/**
 * Reads and builds a .tfm as a command does: its diagnostics printed to stderr; with errors, the
 * count line too and undefined (the command then exits 1).
 */
export function buildReported(file: string, overrides: readonly ConfigOverride[], opts: BuildOptions | undefined, io: Output): { text: string; built: BuiltGraph } | undefined {
  const text = readSource(file);
  const built = buildGraph(text, overrides, opts);
  const diags = built.diagnostics.sorted();
  printDiagnostics(io, file, text, diags);
  if (!built.graph || !built.model || !built.lowered || !built.optimized) {
    io.err(`${printable(file)}: ${formatSummary(built.diagnostics.errorCount, diags.length - built.diagnostics.errorCount)}`);
    return undefined;
  }
  return { text, built: built as BuiltGraph };
}
