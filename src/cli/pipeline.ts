import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { IrGraph } from "../ir/graph.js";
import { lowerModel } from "../ir/lower.js";
import { verifyGraph } from "../ir/verify.js";
import { optimize, type OptimizeResult, type OptLevel } from "../passes/pipeline.js";
import { checkSource } from "../semantics/check.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import type { CheckedModel } from "../semantics/types.js";

export interface Built {
  readonly diagnostics: DiagnosticBag;
  readonly model?: CheckedModel;
  /** The graph after optimisation at the requested level. */
  readonly graph?: IrGraph;
  /** The graph as lowered, before any pass. */
  readonly lowered?: IrGraph;
  readonly optimized?: OptimizeResult;
}

export interface BuildOptions {
  readonly attentionKernel?: string;
  /** The code generator's target: TypeScript kernels only, or WebAssembly SIMD where it applies. */
  readonly target?: "ts" | "wasm";
  readonly level?: OptLevel;
  readonly verifyPasses?: boolean;
  readonly dumpAfter?: string;
  readonly dump?: (text: string) => void;
}

/** Thrown when lowering produced a graph that fails verification: a compiler bug, not a user error. */
export class InternalGraphError extends Error {}

/** Source text to a verified IR graph, or the diagnostics that stop it. */
export function buildGraph(text: string, overrides: readonly ConfigOverride[], opts: BuildOptions = {}): Built {
  const { model, diagnostics } = checkSource(text, overrides, opts.attentionKernel ? { attentionKernel: opts.attentionKernel } : {});
  if (!model) return { diagnostics };
  const lowered = lowerModel(model);
  const problems = verifyGraph(lowered);
  if (problems.length > 0) throw new InternalGraphError(`the lowered graph is inconsistent:\n  ${problems.join("\n  ")}`);
  const optimized = optimize(lowered, {
    level: opts.level ?? 2,
    verify: opts.verifyPasses ?? false,
    ...(opts.dumpAfter !== undefined ? { dumpAfter: opts.dumpAfter } : {}),
    ...(opts.dump ? { dump: opts.dump } : {}),
  });
  return { diagnostics, model, lowered, optimized, graph: optimized.graph };
}
