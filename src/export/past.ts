import type { GraphInput, IrGraph } from "../ir/graph.js";
import { OPS } from "../ir/ops.js";
import { constantNodes, isIncremental, planIncremental } from "../ir/incremental.js";
import { eliminateDeadCode } from "../passes/cleanup.js";
import { fuseAttention, fuseMaskedSoftmax } from "../passes/fusion.js";
import type { PassNote } from "../passes/pass.js";
import { recognizeMaskedScores } from "../passes/recognize.js";
import { isConst, type Dim } from "../semantics/types.js";
import { ExportError } from "./context.js";

// --with-past: a decoder that takes the keys and values of the tokens already seen and returns
// them with the new tokens' appended, named as Hugging Face's exporters name them. The decoding
// plan tfmc's own sessions use (ir/incremental.ts) says which attention is cached and which ops
// read positions. As in Hugging Face's ONNX decoders, a step also takes `attention_mask` [B, past +
// new] (int64, 1 = a real token: a key whose entry is 0 is blocked for every query, on top of the
// causal mask) and, when the model reads positions, `position_ids` [B, new] (each new token's
// position), so that a batch of prompts of different lengths decodes left-padded.

export const pastKey = (layer: number, which: "key" | "value") => `past_key_values.${layer}.${which}`;
export const presentKey = (layer: number, which: "key" | "value") => `present.${layer}.${which}`;
export const PAST_LENGTH = "past_sequence_length";
export const TOTAL_LENGTH = "total_sequence_length";
export const ATTENTION_MASK = "attention_mask";
export const POSITION_IDS = "position_ids";

export interface PastPlan {
  /** The graph with its attention recognised as attention ops (queries, keys, values as inputs). */
  readonly graph: IrGraph;
  /** Cached self-attention nodes, by layer number in graph order. */
  readonly layers: ReadonlyMap<string, number>;
  /** Nodes that read positions: they read position_ids. */
  readonly positional: ReadonlySet<string>;
  /**
   * Inputs left out, as if never given: the optional ones (a step runs without them, as tfmc's
   * sessions do) and masks with a default that blocks nothing, for which attention_mask stands.
   */
  readonly optional: readonly string[];
  /** The token input's batch and length dimensions, [B, T]: those of attention_mask and position_ids. */
  readonly batch: Dim;
  readonly length: Dim;
}

/** The decoding plan of a graph for --with-past, or an error saying why it has none. */
export function planPast(lowered: IrGraph): PastPlan {
  const notes: PassNote[] = [];
  let g = lowered;
  for (const pass of [recognizeMaskedScores, fuseMaskedSoftmax, fuseAttention, eliminateDeadCode]) g = pass.run(g, { notes });
  const masks = replacedMasks(g);
  const plan = planIncremental(g, constantNodes(g), new Set(masks.map((i) => i.node)));
  if (!isIncremental(plan)) throw new ExportError(`--with-past: ${g.meta.name} cannot decode one token at a time: ${plan.reason}`, plan.span);
  const layers = new Map<string, number>();
  for (const [id, how] of plan.attention) {
    if (how === "static") continue;
    if (how !== "cache" && how !== "window") throw new ExportError(`--with-past: '${g.node(id).op}' keeps no key/value cache (its decoding state has no ONNX form)`, g.node(id).span);
    layers.set(id, layers.size);
  }
  if (layers.size === 0) throw new ExportError(`--with-past: ${g.meta.name} has no causal self-attention to cache`);
  const optional = [...g.inputs.filter((i) => i.optional), ...masks].map((i) => i.name);
  for (const name of [ATTENTION_MASK, POSITION_IDS]) {
    const clash = g.inputs.find((i) => i.name === name && !optional.includes(i.name));
    if (clash) throw new ExportError(`--with-past: the decoder takes its own '${name}' input, and ${g.meta.name} has an input of that name; rename it in the .tfm`, g.node(clash.node).span);
  }
  const [batch, length] = g.inputs.find((i) => i.name === plan.stepInput)!.type.shape;
  for (const id of plan.positional) checkPerRow(g, id, batch);
  return { graph: g, layers, positional: plan.positional, optional, batch, length };
}

/** Whether a mask of this role holding `value` everywhere blocks nothing (and adds nothing). */
const blocksNothing = (role: string, value: number) => (role.startsWith("keep") ? value !== 0 : value === 0);

/**
 * Inputs with a default that blocks nothing, read only as masks of causal attention (`keep_keys =
 * keep` with `input keep: bool[B, T] = true`): a mask over the new tokens cannot cover the cached
 * ones, so the decoder leaves them out and its attention_mask takes their place.
 */
function replacedMasks(g: IrGraph): GraphInput[] {
  return g.inputs.filter((i) => {
    if (i.optional || i.default === undefined) return false;
    const users = g.consumers(i.node).map((u) => g.node(u));
    return (
      users.length > 0 &&
      users.every((n) => {
        if (OPS[n.op].session !== "attention" || n.attrs.causal !== true) return false;
        const roles = String(n.attrs.roles ?? "").split(",").filter(Boolean);
        const first = n.inputs.length - roles.length;
        return n.inputs.every((x, k) => x !== i.node || (k >= first && blocksNothing(roles[k - first], i.default!)));
      })
    );
  });
}

const sameDim = (a: Dim | undefined, b: Dim) => a !== undefined && (isConst(a) ? isConst(b) && a.value === b.value : !isConst(b) && a.sym === b.sym);

/**
 * With position_ids, a position table [T, d] becomes one per row, [B, T, d]: each of its uses must
 * take it so (elementwise ops on it, then an op broadcasting it against a [B, T, d] value, as the
 * embeddings it is added to); rotary embeddings of [B, ..., T, D] take [B, 1, ..., T, D].
 */
function checkPerRow(g: IrGraph, id: string, batch: Dim): void {
  const n = g.node(id);
  const refuse = (at: typeof n, why: string) => {
    throw new ExportError(`--with-past: '${at.op}'${at.scope ? ` in ${at.scope}` : ""} ${why}, which position_ids cannot give (it holds each row's own positions)`, at.span);
  };
  if (OPS[n.op].session === "offset") {
    if (n.shape.length < 3 || !sameDim(n.shape[0], batch)) refuse(n, "rotates positions shared by the batch (its first axis is not the batch)");
    return;
  }
  const walk = (from: string) => {
    if (g.outputs.some((o) => o.node === from)) refuse(g.node(from), "makes an output of positions [T, ...] shared by the batch");
    for (const user of g.consumers(from)) {
      const u = g.node(user);
      if (OPS[u.op].kind === "elementwise" && u.shape.length === 2) walk(user);
      else if (OPS[u.op].kind !== "broadcast" || u.shape.length !== 3 || !sameDim(u.shape[0], batch)) refuse(u, "takes a position table [T, d] shared by the batch other than added to a [B, T, d] value");
    }
  };
  walk(id);
}
