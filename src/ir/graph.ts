import { Graph } from "@dagrejs/graphlib";
import type { Span } from "../diagnostics/diagnostic.js";
import type { CheckedModel, ConfigValue, InputInfo, ParamInfo, SymbolInfo, TensorType } from "../semantics/types.js";
import type { NodeLabel } from "./node.js";


export interface GraphOutput {
  readonly name: string;
  readonly node: string;
  readonly type: TensorType;
}

export interface GraphInput {
  readonly name: string;
  readonly node: string;
  readonly type: TensorType;
  readonly optional: boolean;
}

/** What the graph computes, apart from its nodes: the model's interface and its config. */
export interface GraphInterface {
  readonly name: string;
  readonly config: ReadonlyMap<string, ConfigValue>;
  readonly symbols: readonly SymbolInfo[];
  readonly params: readonly ParamInfo[];
}

/**
 * The IR: a graphlib graph whose nodes carry `NodeLabel`s and whose edges run from an input to its
 * consumer (one edge per input slot, so `add(x, x)` has two). Scopes are compound parents, which
 * the diagrams draw as clusters. Node ids are `n0`, `n1`, ... in creation order.
 */
export class IrGraph {
  private readonly g = new Graph({ directed: true, compound: true, multigraph: true });
  private counter = 0;
  readonly inputs: GraphInput[] = [];
  readonly outputs: GraphOutput[] = [];

  constructor(readonly meta: GraphInterface) {}

  addNode(label: NodeLabel): string {
    const id = `n${this.counter++}`;
    this.g.setNode(id, label);
    label.inputs.forEach((src, slot) => this.g.setEdge(src, id, slot, String(slot)));
    if (label.scope) this.g.setParent(id, this.ensureScope(label.scope));
    return id;
  }

  private ensureScope(path: string): string {
    const id = `scope:${path}`;
    if (!this.g.hasNode(id)) {
      this.g.setNode(id, { scope: path });
      const dot = path.lastIndexOf(".");
      if (dot > 0) this.g.setParent(id, this.ensureScope(path.slice(0, dot)));
    }
    return id;
  }

  node(id: string): NodeLabel {
    const l = this.g.node(id) as NodeLabel | undefined;
    if (!l || (l as { op?: unknown }).op === undefined) throw new Error(`no IR node ${id}`);
    return l;
  }

  has(id: string): boolean {
    return this.g.hasNode(id) && !id.startsWith("scope:");
  }

  /** Node ids in a topological order that is stable: ties go by creation order. */
  order(): string[] {
    const ids = this.g.nodes().filter((n) => !n.startsWith("scope:"));
    ids.sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
    const indegree = new Map(ids.map((id) => [id, new Set(this.node(id).inputs).size]));
    const done: string[] = [];
    const ready = ids.filter((id) => indegree.get(id) === 0);
    const seen = new Set<string>();
    while (ready.length > 0) {
      ready.sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
      const id = ready.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      done.push(id);
      for (const c of this.consumers(id)) {
        const left = indegree.get(c)! - 1;
        indegree.set(c, left);
        if (left === 0) ready.push(c);
      }
    }
    if (done.length !== ids.length) throw new Error("the IR graph has a cycle");
    return done;
  }

  /** The distinct consumers of a node. */
  consumers(id: string): string[] {
    return [...new Set((this.g.outEdges(id) ?? []).map((e) => e.w))];
  }

  /** Scope clusters: path -> member node ids (direct members only). */
  scopes(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const n of this.g.nodes()) {
      if (!n.startsWith("scope:")) continue;
      out.set(n.slice(6), (this.g.children(n) ?? []).filter((c) => !c.startsWith("scope:")));
    }
    return out;
  }

  get size(): number {
    return this.counter;
  }
}

export function interfaceOf(m: CheckedModel): GraphInterface {
  return { name: m.name, config: m.config, symbols: m.symbols, params: m.params };
}

export type { InputInfo, Span };
