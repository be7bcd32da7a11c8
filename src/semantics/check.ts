import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { SourceFileAst } from "../syntax/ast.js";
import { parseTfm } from "../syntax/parse.js";
import { checkSemantics } from "./elaborate.js";
import type { ValueObserver } from "./elaborator.js";
import type { ConfigOverride } from "./overrides.js";
import type { CheckedModel } from "./types.js";

export interface FrontEndResult {
  readonly ast: SourceFileAst;
  readonly model?: CheckedModel;
  readonly diagnostics: DiagnosticBag;
}

/** Parses and checks a .tfm source. Semantics runs only on a file that parsed cleanly. */
export interface CheckOptions {
  /** Every attention uses this kernel, whatever its `kernel =` says (`--attention` on the command line). */
  readonly attentionKernel?: string;
  /** Called with every value computed, where it was written (for editors). */
  readonly observe?: ValueObserver;
}

export function checkSource(text: string, overrides: readonly ConfigOverride[] = [], options: CheckOptions = {}): FrontEndResult {
  const { ast, diagnostics } = parseTfm(text);
  if (diagnostics.errorCount > 0) return { ast, diagnostics };
  const model = checkSemantics(ast, overrides, diagnostics, options);
  return { ast, diagnostics, ...(model ? { model } : {}) };
}

export function parameterCount(model: CheckedModel): number {
  return model.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}
