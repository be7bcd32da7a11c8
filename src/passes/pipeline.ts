import type { IrGraph } from "../ir/graph.js";
import { printGraph } from "../ir/print.js";
import { verifyGraph } from "../ir/verify.js";
import { eliminateCommonSubexpressions, eliminateDeadCode } from "./cleanup.js";
import { fuseAttention, fuseDenseEpilogue, fuseMaskedSoftmax, fuseQkvProjection, fuseResidualLayerNorm } from "./fusion.js";
import type { Pass, PassNote } from "./pass.js";
import { recognizeDense, recognizeHeads, recognizeMaskedScores, recognizeSlices } from "./recognize.js";

/** The one place the order of passes is written. */
export const PIPELINE: readonly Pass[] = [
  eliminateCommonSubexpressions,
  eliminateDeadCode,
  recognizeSlices,
  recognizeDense,
  recognizeHeads,
  recognizeMaskedScores,
  fuseDenseEpilogue,
  fuseQkvProjection,
  fuseResidualLayerNorm,
  fuseMaskedSoftmax,
  fuseAttention,
  eliminateDeadCode,
];

export type OptLevel = 0 | 1 | 2;

export interface OptimizeOptions {
  readonly level: OptLevel;
  /** Verify the graph after every pass (the debug switch). */
  readonly verify?: boolean;
  /** Print the IR after the pass of this name. */
  readonly dumpAfter?: string;
  readonly dump?: (text: string) => void;
}

export interface PassTiming {
  readonly pass: string;
  readonly ms: number;
  readonly nodesBefore: number;
  readonly nodesAfter: number;
}

export interface OptimizeResult {
  readonly graph: IrGraph;
  readonly notes: readonly PassNote[];
  readonly timings: readonly PassTiming[];
}

export class PassVerificationError extends Error {}

export function optimize(g: IrGraph, opts: OptimizeOptions): OptimizeResult {
  const notes: PassNote[] = [];
  const timings: PassTiming[] = [];
  const ran = new Set<string>();
  let graph = g;
  if (opts.dumpAfter !== undefined && !PIPELINE.some((p) => p.name === opts.dumpAfter) && opts.dumpAfter !== "lower") {
    throw new PassVerificationError(`no pass is named '${opts.dumpAfter}'; passes: lower, ${[...new Set(PIPELINE.map((p) => p.name))].join(", ")}`);
  }
  if (opts.dumpAfter === "lower") opts.dump?.(printGraph(graph));
  for (const pass of PIPELINE) {
    if (pass.level > opts.level) continue;
    const missing = pass.requires.filter((r) => !ran.has(r) && PIPELINE.some((p) => p.name === r && p.level <= opts.level));
    if (missing.length > 0) throw new PassVerificationError(`pass ${pass.name} runs before ${missing.join(", ")}, which it requires`);
    const t0 = performance.now();
    const before = graph.order().length;
    graph = pass.run(graph, { notes });
    timings.push({ pass: pass.name, ms: performance.now() - t0, nodesBefore: before, nodesAfter: graph.order().length });
    ran.add(pass.name);
    if (opts.verify) {
      const problems = verifyGraph(graph);
      if (problems.length > 0) throw new PassVerificationError(`after ${pass.name}:\n  ${problems.join("\n  ")}`);
    }
    if (opts.dumpAfter === pass.name) opts.dump?.(printGraph(graph));
  }
  return { graph, notes, timings };
}
