import { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";

/** What a pass did or declined to do, for `tfmc explain` and the debug dump. */
export interface PassNote {
  readonly pass: string;
  readonly kind: "changed" | "skipped";
  readonly scope: string;
  readonly message: string;
}

export interface PassContext {
  readonly notes: PassNote[];
}

/**
 * A pass: a named function from graph to graph. `requires` names passes that must run before it;
 * `level` is the lowest -O level that runs it; `why` says what it buys.
 */
export interface Pass {
  readonly name: string;
  readonly requires: readonly string[];
  readonly level: 1 | 2;
  readonly why: string;
  run(g: IrGraph, ctx: PassContext): IrGraph;
}

/** Creates nodes in the graph being built; `input(oldId)` maps an old node to its new id. */
export interface Builder {
  add(label: NodeLabel): string;
  input(oldId: string): string;
}

/**
 * Rebuilds a graph node by node in topological order. `visit` returns a new id for the node (after
 * adding whatever replaces it) or undefined to copy it unchanged with its inputs remapped.
 * Nodes nothing maps to are dropped only by dead-code elimination, never here.
 */
export function rebuild(g: IrGraph, visit: (id: string, n: NodeLabel, b: Builder) => string | undefined): IrGraph {
  const order = g.order();
  const map = new Map<string, string>();
  // While nothing is replaced and ids are in order, the copy would have the same ids and labels:
  // it is made only when the first node is added (copying the nodes before it), or never.
  const inOrder = order.every((id, i) => id === `n${i}`);
  let out: IrGraph | undefined;
  let unchanged = 0;
  const target = (): IrGraph => {
    if (out) return out;
    out = new IrGraph(g.meta);
    for (const id of order.slice(0, unchanged)) {
      const n = g.node(id);
      out.addNode({ ...n, inputs: [...n.inputs] });
    }
    return out;
  };
  if (!inOrder) target();
  const b: Builder = {
    add: (label) => target().addNode(label),
    input: (oldId) => {
      const id = map.get(oldId);
      if (id === undefined) throw new Error(`rebuild: ${oldId} has not been visited yet`);
      return id;
    },
  };
  for (const id of order) {
    const n = g.node(id);
    const replaced = visit(id, n, b);
    if (replaced !== undefined) map.set(id, replaced);
    else if (out) map.set(id, out.addNode({ ...n, inputs: n.inputs.map(b.input) }));
    else {
      map.set(id, id);
      unchanged++;
    }
  }
  if (!out) return pruneDead(g).graph;
  const built: IrGraph = out;
  for (const i of g.inputs) built.inputs.push({ ...i, node: map.get(i.node)! });
  for (const o of g.outputs) built.outputs.push({ ...o, node: map.get(o.node)! });
  // What a rewrite replaced is dead now; dropping it keeps use counts true for the next pass.
  return pruneDead(built).graph;
}

/** The graph without nodes that no output needs (inputs always stay: they are the interface). */
export function pruneDead(g: IrGraph): { graph: IrGraph; dropped: number } {
  const live = new Set<string>(g.inputs.map((i) => i.node));
  const stack = g.outputs.map((o) => o.node);
  while (stack.length > 0) {
    const id = stack.pop()!;
    const n = g.node(id);
    if (live.has(id) && n.op !== "input") continue;
    live.add(id);
    stack.push(...n.inputs.filter((i) => !live.has(i)));
  }
  const order = g.order();
  // Nothing to drop, and ids already in topological order: a copy would be the same graph.
  if (live.size === order.length && order.every((id, i) => id === `n${i}`)) return { graph: g, dropped: 0 };
  const out = new IrGraph(g.meta);
  const map = new Map<string, string>();
  let dropped = 0;
  for (const id of order) {
    if (!live.has(id)) {
      dropped++;
      continue;
    }
    const n = g.node(id);
    map.set(id, out.addNode({ ...n, inputs: n.inputs.map((i) => map.get(i)!) }));
  }
  for (const i of g.inputs) out.inputs.push({ ...i, node: map.get(i.node)! });
  for (const o of g.outputs) out.outputs.push({ ...o, node: map.get(o.node)! });
  return { graph: out, dropped };
}

/** How many times each node is read (by other nodes and by the outputs). */
export function useCounts(g: IrGraph): Map<string, number> {
  const uses = new Map<string, number>();
  for (const id of g.order()) for (const i of g.node(id).inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of g.outputs) uses.set(o.node, (uses.get(o.node) ?? 0) + 1);
  return uses;
}
