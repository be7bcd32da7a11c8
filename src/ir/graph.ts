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
  /** Filled with this value when the caller leaves the input out (its kernels always see data). */
  readonly default?: number;
}

/** What the graph computes, apart from its nodes: the model's interface and its config. */
export interface GraphInterface {
  readonly name: string;
  readonly config: ReadonlyMap<string, ConfigValue>;
  readonly symbols: readonly SymbolInfo[];
  readonly params: readonly ParamInfo[];
}

/**
 * The IR: nodes carrying `NodeLabel`s, each reading its inputs (one entry per input slot, so
 * `add(x, x)` reads x twice), with every node's distinct consumers kept as it is added. Scopes group
 * nodes into clusters, which the diagrams draw. Node ids are `n0`, `n1`, ... in creation order.
 * Lookups are by map, so passes that visit every node once stay linear in the graph's size.
 */
export class IrGraph {
  private readonly labels = new Map<string, NodeLabel>();
  /** Distinct consumers of each node, in creation order. */
  private readonly readers = new Map<string, string[]>();
  /** Scope path -> direct member node ids, scopes in creation order (a scope before its parent). */
  private readonly scopeMembers = new Map<string, string[]>();
  private counter = 0;
  /** Ids in creation order, and whether every node's inputs were created before it (then that order is topological). */
  private readonly ids: string[] = [];
  private inCreationOrder = true;
  private orderCache?: readonly string[];
  /**
   * Work done by `order()` over all graphs (heap comparisons and edge visits): tests count it to
   * check that ordering grows near-linearly with the graph, without timing anything.
   */
  static work = 0;
  readonly inputs: GraphInput[] = [];
  readonly outputs: GraphOutput[] = [];

  constructor(readonly meta: GraphInterface) {}

  addNode(label: NodeLabel): string {
    const id = `n${this.counter++}`;
    this.orderCache = undefined;
    this.labels.set(id, label);
    this.ids.push(id);
    label.inputs.forEach((src, slot) => {
      if (src === id || !this.labels.has(src)) this.inCreationOrder = false;
      if (label.inputs.indexOf(src) !== slot) return; // read twice: one consumer entry
      const list = this.readers.get(src);
      if (list) list.push(id);
      else this.readers.set(src, [id]);
    });
    if (label.scope) this.ensureScope(label.scope).push(id);
    return id;
  }

  private ensureScope(path: string): string[] {
    let members = this.scopeMembers.get(path);
    if (!members) {
      members = [];
      this.scopeMembers.set(path, members);
      const dot = path.lastIndexOf(".");
      if (dot > 0) this.ensureScope(path.slice(0, dot));
    }
    return members;
  }

  node(id: string): NodeLabel {
    const l = this.labels.get(id);
    if (!l) throw new Error(`no IR node ${id}`);
    return l;
  }

  has(id: string): boolean {
    return this.labels.has(id);
  }

  /**
   * Node ids in a topological order that is stable: ties go by creation order (the ready node
   * created first goes next). A binary heap of ready nodes keeps this O(n log n); the order is
   * cached until the next `addNode`, and each call returns a fresh copy.
   */
  order(): string[] {
    this.orderCache ??= this.computeOrder();
    return [...this.orderCache];
  }

  private computeOrder(): string[] {
    const total = this.counter;
    // The usual case: inputs always come first, and the smallest ready id is always the next one.
    if (this.inCreationOrder) {
      IrGraph.work += total;
      return [...this.ids];
    }
    const indegree = new Int32Array(total);
    const ready = new MinHeap(() => IrGraph.work++);
    let count = 0;
    for (let i = 0; i < total; i++) {
      const id = this.ids[i];
      const label = this.labels.get(id);
      if (!label) continue;
      count++;
      // Only inputs that exist: a missing one is for verifyGraph to report, not a reason to stall.
      label.inputs.forEach((src, slot) => {
        if (label.inputs.indexOf(src) === slot && this.labels.has(src)) indegree[i]++;
      });
      if (indegree[i] === 0) ready.push(i);
    }
    const done: string[] = [];
    while (ready.size > 0) {
      const id = this.ids[ready.pop()];
      done.push(id);
      for (const c of this.readers.get(id) ?? []) {
        IrGraph.work++;
        const k = Number(c.slice(1));
        if (--indegree[k] === 0) ready.push(k);
      }
    }
    if (done.length !== count) throw new Error("the IR graph has a cycle");
    return done;
  }

  /** The distinct consumers of a node, in creation order. */
  consumers(id: string): string[] {
    return [...(this.readers.get(id) ?? [])];
  }

  /** Scope clusters: path -> member node ids (direct members only). */
  scopes(): Map<string, string[]> {
    return new Map([...this.scopeMembers].map(([path, members]) => [path, [...members]]));
  }

  get size(): number {
    return this.counter;
  }
}

export function interfaceOf(m: CheckedModel): GraphInterface {
  return { name: m.name, config: m.config, symbols: m.symbols, params: m.params };
}

export type { InputInfo, Span };

/** A min-heap of non-negative integers; `compared` is called once per comparison. */
class MinHeap {
  private readonly items: number[] = [];

  constructor(private readonly compared: () => void) {}

  get size(): number {
    return this.items.length;
  }

  push(x: number): void {
    const a = this.items;
    let i = a.push(x) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      this.compared();
      if (a[parent] <= x) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = x;
  }

  pop(): number {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= a.length) break;
      if (child + 1 < a.length) {
        this.compared();
        if (a[child + 1] < a[child]) child++;
      }
      this.compared();
      if (last <= a[child]) break;
      a[i] = a[child];
      i = child;
    }
    a[i] = last;
    return top;
  }
}
