import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { IrGraph } from "../ir/graph.js";
import { lowerModel } from "../ir/lower.js";
import { verifyGraph } from "../ir/verify.js";
import { checkSource } from "../semantics/check.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import type { CheckedModel } from "../semantics/types.js";

export interface Built {
  readonly diagnostics: DiagnosticBag;
  readonly model?: CheckedModel;
  readonly graph?: IrGraph;
}

/** Thrown when lowering produced a graph that fails verification: a compiler bug, not a user error. */
export class InternalGraphError extends Error {}

/** Source text to a verified IR graph, or the diagnostics that stop it. */
export function buildGraph(text: string, overrides: readonly ConfigOverride[]): Built {
  const { model, diagnostics } = checkSource(text, overrides);
  if (!model) return { diagnostics };
  const graph = lowerModel(model);
  const problems = verifyGraph(graph);
  if (problems.length > 0) throw new InternalGraphError(`the lowered graph is inconsistent:\n  ${problems.join("\n  ")}`);
  return { diagnostics, model, graph };
}
