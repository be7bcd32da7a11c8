import type { IrGraph } from "../ir/graph.js";
import { constantNodes, isIncremental, planIncremental } from "../ir/incremental.js";
import { eliminateDeadCode } from "../passes/cleanup.js";
import { fuseAttention, fuseMaskedSoftmax } from "../passes/fusion.js";
import type { PassNote } from "../passes/pass.js";
import { recognizeMaskedScores } from "../passes/recognize.js";
import { ExportError } from "./context.js";

// --with-past: a decoder that takes the keys and values of the tokens already seen and returns
// them with the new tokens' appended, named as Hugging Face's exporters name them. The decoding
// plan tfmc's own sessions use (ir/incremental.ts) says which attention is cached and which ops
// read positions; those positions start after the cached ones.

export const pastKey = (layer: number, which: "key" | "value") => `past_key_values.${layer}.${which}`;
export const presentKey = (layer: number, which: "key" | "value") => `present.${layer}.${which}`;
export const PAST_LENGTH = "past_sequence_length";
export const TOTAL_LENGTH = "total_sequence_length";

export interface PastPlan {
  /** The graph with its attention recognised as attention ops (queries, keys, values as inputs). */
  readonly graph: IrGraph;
  /** Cached self-attention nodes, by layer number in graph order. */
  readonly layers: ReadonlyMap<string, number>;
  /** Nodes that read positions: offset by the cached length. */
  readonly positional: ReadonlySet<string>;
  /** Optional inputs, all left out: a step runs without them, as tfmc's sessions do. */
  readonly optional: readonly string[];
}

/** The decoding plan of a graph for --with-past, or an error saying why it has none. */
export function planPast(lowered: IrGraph): PastPlan {
  const notes: PassNote[] = [];
  let g = lowered;
  for (const pass of [recognizeMaskedScores, fuseMaskedSoftmax, fuseAttention, eliminateDeadCode]) g = pass.run(g, { notes });
  const plan = planIncremental(g, constantNodes(g));
  if (!isIncremental(plan)) throw new ExportError(`--with-past: ${g.meta.name} cannot decode one token at a time: ${plan.reason}`, plan.span);
  const layers = new Map<string, number>();
  for (const [id, how] of plan.attention) {
    if (how === "static") continue;
    if (how !== "cache" && how !== "window") throw new ExportError(`--with-past: '${g.node(id).op}' keeps no key/value cache (its decoding state has no ONNX form)`, g.node(id).span);
    layers.set(id, layers.size);
  }
  if (layers.size === 0) throw new ExportError(`--with-past: ${g.meta.name} has no causal self-attention to cache`);
  return { graph: g, layers, positional: plan.positional, optional: g.inputs.filter((i) => i.optional).map((i) => i.name) };
}
