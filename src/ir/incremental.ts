import type { Span } from "../diagnostics/diagnostic.js";
import { isConst, type Dim } from "../semantics/types.js";
import type { IrGraph } from "./graph.js";
import type { NodeLabel } from "./node.js";
import { OPS, type Op } from "./ops.js";

// Which part of a graph can run one token at a time. A decoding session feeds new tokens through
// the "step" nodes (those that read the token input, or whose shape has its length T), with T
// standing for the number of new tokens; the "static" nodes (an encoder, cross-attention keys and
// values) run once when the session starts. That is exact only when every step node treats
// positions independently — row-wise layers, positions offset by the tokens already seen — and
// every attention whose keys are step nodes is causal, so a cache of past keys and values (or the
// recurrent state of linear attention) stands in for the prefix.

/** How a step attention runs in a session. */
export type SessionAttention =
  /** Keys and values from the session's start (cross-attention): the node's own kernel, over the new rows. */
  | "static"
  /** Causal softmax attention over a key/value cache. */
  | "cache"
  /** Causal sliding-window attention over the cache. */
  | "window"
  /** Causal feature-map attention (linear, Performer) through its running sums. */
  | "recurrent";

export interface IncrementalPlan {
  /** The token input fed at every step, [B, T]. */
  readonly stepInput: string;
  /** Its length symbol. */
  readonly length: string;
  readonly stepNodes: ReadonlySet<string>;
  /** Non-constant nodes that do not depend on the new tokens. */
  readonly staticNodes: ReadonlySet<string>;
  /** Attention nodes among the step nodes and how each runs. */
  readonly attention: ReadonlyMap<string, SessionAttention>;
  /** Nodes that read positions (position tables): they are offset by the tokens already seen. */
  readonly positional: ReadonlySet<string>;
}

export interface NotIncremental {
  readonly reason: string;
  readonly span?: Span;
}

/** How each attention op runs over a session's cache; an op absent here cannot (Linformer projects the whole sequence). */
const SESSION_ATTENTION: Partial<Record<Op, Exclude<SessionAttention, "static">>> = {
  attention: "cache",
  local_attention: "window",
  linear_attention: "recurrent",
  performer_attention: "recurrent",
};

const isAttention = (n: NodeLabel) => OPS[n.op].session === "attention";

const hasSym = (shape: readonly Dim[], sym: string) => shape.some((d) => !isConst(d) && d.sym === sym);
const symAxis = (shape: readonly Dim[], sym: string) => shape.findIndex((d) => !isConst(d) && d.sym === sym);

/** Nodes a generated module computes once at createModel: parameters and what depends only on them, with fixed shapes. */
export function constantNodes(g: IrGraph): Set<string> {
  const out = new Set<string>();
  for (const id of g.order()) {
    const n = g.node(id);
    if (n.op === "param" || (n.op !== "input" && n.shape.every(isConst) && n.inputs.every((i) => out.has(i)))) out.add(id);
  }
  return out;
}

/** The nodes that depend on `from` (itself included). */
function dependents(g: IrGraph, order: readonly string[], from: string): Set<string> {
  const out = new Set([from]);
  for (const id of order) if (g.node(id).inputs.some((i) => out.has(i))) out.add(id);
  return out;
}

/**
 * The decoding plan of a graph, or why it has none. `constants` are the nodes computed at
 * createModel; `leftOut` are input nodes the caller leaves out as if optional (a mask the caller
 * replaces with its own).
 */
export function planIncremental(g: IrGraph, constants: ReadonlySet<string>, leftOut: ReadonlySet<string> = new Set()): IncrementalPlan | NotIncremental {
  const order = g.order();
  const candidates = g.inputs.filter((i) => !i.optional && i.default === undefined && (i.type.dtype === "i32" || i.type.dtype === "i64") && i.type.shape.length === 2 && !isConst(i.type.shape[1]));
  const selfAttending = candidates.filter((c) => {
    const deps = dependents(g, order, c.node);
    return order.some((id) => {
      const n = g.node(id);
      if (!isAttention(n)) return false;
      const L = g.node(n.inputs[0]).shape[2];
      const own = L !== undefined && !isConst(L) && L.sym === (c.type.shape[1] as { sym: string }).sym; // its queries are c's positions
      return n.attrs.causal === true && own && n.inputs.slice(0, 3).every((i) => deps.has(i));
    });
  });
  if (selfAttending.length === 0) {
    const unfused = order.map((id) => g.node(id)).find((n) => (n.op === "masked_softmax" || n.op === "mask_scores") && n.attrs.causal === true);
    if (unfused) return { reason: "its causal attention is not fused: sessions need -O2", span: unfused.span };
    return { reason: "it has no token input [B, T] that feeds a causal self-attention" };
  }
  if (selfAttending.length > 1) return { reason: `more than one token input feeds a causal self-attention (${selfAttending.map((c) => `'${c.name}'`).join(", ")})` };
  const input = selfAttending[0];
  const T = (input.type.shape[1] as { sym: string }).sym;
  const deps = dependents(g, order, input.node);

  const step = new Set<string>();
  const stat = new Set<string>();
  for (const id of order) {
    const n = g.node(id);
    if (constants.has(id) || n.op === "input") continue;
    if (deps.has(id) || hasSym(n.shape, T)) step.add(id);
    else stat.add(id);
  }

  const attention = new Map<string, SessionAttention>();
  const positional = new Set<string>();
  const fail = (n: NodeLabel, why: string): NotIncremental => ({ reason: why, span: n.span });
  for (const id of order) {
    if (!step.has(id)) continue;
    const n = g.node(id);
    const ins = n.inputs.map((i) => g.node(i));
    for (const [k, src] of n.inputs.entries()) {
      const s = g.inputs.find((i) => i.node === src);
      // An input with a default is its value in a session (filled for each step's new tokens).
      if (s && s.node !== input.node && hasSym(s.type.shape, T) && !s.optional && s.default === undefined) return fail(n, `the input '${s.name}' would be needed at every step`);
      if (s && s.node !== input.node && hasSym(s.type.shape, T) && isAttention(n) && k < 3) return fail(n, `the input '${s.name}' reaches attention as a query, key or value`);
    }
    const tAxis = symAxis(n.shape, T);
    const session = OPS[n.op].session;
    if (session === "positional") {
      if (ins.some((x) => hasSym(x.shape, T)) || tAxis !== 0) return fail(n, "rows are taken from a tensor that grows with the sequence");
      positional.add(id);
    } else if (session === "offset") {
      // Positions along the second-to-last axis, which must be the sequence's in and out.
      const axis = symAxis(ins[0].shape, T);
      if (axis !== ins[0].shape.length - 2 || tAxis !== n.shape.length - 2) return fail(n, `'${n.op}' reads positions along an axis that is not the sequence`);
      positional.add(id);
    } else if (session === "attention") {
      const [, k, v] = n.inputs;
      // The masks are the inputs the roles name, after the queries, keys, values (and projections).
      const roles = String(n.attrs.roles ?? "").split(",").filter(Boolean);
      const masks = n.inputs.slice(n.inputs.length - roles.length);
      if (!step.has(k) && !step.has(v) && !deps.has(k) && !deps.has(v)) {
        if (n.attrs.causal) return fail(n, "a causal attention reads keys fixed for the whole session");
        if (masks.some((m) => step.has(m) && !isOptionalInput(g, m))) return fail(n, "a mask of cross-attention changes with the new tokens");
        attention.set(id, "static");
        continue;
      }
      if (!step.has(k) || !step.has(v)) return fail(n, "keys and values come from different sources");
      if (!n.attrs.causal) return fail(n, "a self-attention that is not causal: every position sees later ones");
      if (masks.some((m) => !isOptionalInput(g, m) && !leftOut.has(m))) return fail(n, "a causal self-attention takes a mask other than an optional input (sessions run without optional inputs)");
      const how = SESSION_ATTENTION[n.op];
      if (how === undefined) return fail(n, `'${n.op}' projects the whole sequence`);
      attention.set(id, how);
    } else {
      const why = session(n, ins, ins.map((x) => symAxis(x.shape, T)), tAxis);
      if (why) return fail(n, why);
    }
  }
  return { stepInput: input.name, length: T, stepNodes: step, staticNodes: stat, attention, positional };
}

function isOptionalInput(g: IrGraph, id: string): boolean {
  return g.inputs.some((i) => i.node === id && i.optional);
}

export function isIncremental(p: IncrementalPlan | NotIncremental): p is IncrementalPlan {
  return (p as IncrementalPlan).stepInput !== undefined;
}
