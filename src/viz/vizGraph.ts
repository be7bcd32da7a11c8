import type { IrGraph } from "../ir/graph.js";
import { OPS } from "../ir/ops.js";
import { nodeFlops, Poly } from "../passes/cost.js";
import { formatShape, type CheckedModel, type LayerNode } from "../semantics/types.js";

/** A drawable graph: what every output format is printed from. */
export interface VizNode {
  readonly id: string;
  readonly title: string;
  readonly details: readonly string[];
  readonly scope: string;
  readonly kind: "input" | "output" | "param" | "op" | "fused" | "rewritten";
  /** What a click on the node shows in the HTML page. */
  readonly info: Readonly<Record<string, string>>;
}

export interface VizEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

export interface VizGraph {
  readonly title: string;
  readonly nodes: readonly VizNode[];
  readonly edges: readonly VizEdge[];
}

export type Stage = "source" | "lowered" | "optimized";

const attrText = (attrs: Readonly<Record<string, unknown>>, skip: readonly string[]) =>
  Object.entries(attrs)
    .filter(([k, v]) => !skip.includes(k) && v !== null && v !== "" && v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v}`);

function lineOf(text: string | undefined, offset: number): string {
  if (text === undefined) return "";
  return String(text.slice(0, offset).split("\n").length);
}

/** The IR graph as lowered or optimised: one node per op; parameters appear in their users' labels. */
export function vizFromIr(g: IrGraph, source?: string): VizGraph {
  const nodes: VizNode[] = [];
  const edges: VizEdge[] = [];
  for (const id of g.order()) {
    const n = g.node(id);
    if (n.op === "param") continue;
    const params = n.inputs.map((i) => g.node(i)).filter((p) => p.op === "param");
    const fused = OPS[n.op].fused(n);
    const isInput = n.op === "input";
    nodes.push({
      id,
      title: isInput ? `input ${n.attrs.name}` : OPS[n.op].label(n),
      details: [...attrText(n.attrs, ["name", "roles"]), ...params.map((p) => `${String(p.attrs.name).split(".").pop()} ${formatShape(p.shape)}`)],
      scope: n.scope,
      kind: isInput ? "input" : fused ? "fused" : "op",
      info: {
        op: n.op,
        shape: `${n.dtype}${formatShape(n.shape)}`,
        line: lineOf(source, n.span.start),
        flops: nodeFlops(g, n).toString(),
        parameters: params.map((p) => `${p.attrs.name} ${formatShape(p.shape)}`).join(", ") || "none",
      },
    });
    for (const i of n.inputs) {
      const src = g.node(i);
      if (src.op !== "param") edges.push({ from: i, to: id, label: formatShape(src.shape) });
    }
  }
  for (const o of g.outputs) {
    const id = `out:${o.name}`;
    nodes.push({ id, title: `output ${o.name}`, details: [], scope: "", kind: "output", info: { shape: `${o.type.dtype}${formatShape(o.type.shape)}` } });
    edges.push({ from: o.node, to: id, label: formatShape(o.type.shape) });
  }
  return { title: g.meta.name, nodes, edges };
}

/** The model as written: one node per layer call, with its parameters and options. */
export function vizFromSource(m: CheckedModel, source?: string): VizGraph {
  const nodes: VizNode[] = [];
  const edges: VizEdge[] = [];
  const paramShape = new Map(m.params.map((p) => [p.name, p.shape]));
  const byId = new Map<number, LayerNode>(m.nodes.map((n) => [n.id, n]));
  for (const n of m.nodes) {
    const id = `l${n.id}`;
    const rewritten = n.layer === "attention" && n.attrs.kernel !== "softmax";
    const params = Object.values(n.params).map((p) => `${p.split(".").pop()} [${paramShape.get(p)?.join(", ")}]`);
    const title = n.layer === "input" ? `input ${n.attrs.name}` : n.layer === "activation" ? String(n.attrs.fn) : n.layer;
    nodes.push({
      id,
      title: rewritten ? `${title} (${n.attrs.kernel})` : title,
      details: [...attrText(n.attrs, ["name", "fn"]), ...params],
      scope: n.scope,
      kind: n.layer === "input" ? "input" : rewritten ? "rewritten" : "op",
      info: {
        layer: n.layer,
        shape: `${n.type.dtype}${formatShape(n.type.shape)}`,
        line: lineOf(source, n.span.start),
        parameters: Object.values(n.params).join(", ") || "none",
        count: Object.values(n.params).reduce((a, p) => a + (paramShape.get(p) ?? []).reduce((x, y) => x * y, 1), 0).toLocaleString("en-US"),
      },
    });
    for (const [slot, input] of Object.entries(n.inputs)) {
      const src = byId.get(input)!;
      edges.push({ from: `l${input}`, to: id, label: `${slot} ${formatShape(src.type.shape)}` });
    }
  }
  for (const o of m.outputs) {
    const id = `out:${o.name}`;
    nodes.push({ id, title: `output ${o.name}`, details: [], scope: "", kind: "output", info: { shape: formatShape(o.type.shape) } });
    edges.push({ from: `l${o.node}`, to: id, label: formatShape(o.type.shape) });
  }
  return { title: m.name, nodes, edges };
}

/** Scope paths with their parents (`h.3.attn` gives `h`, `h.3`, `h.3.attn`), sorted. */
export function scopesOf(g: VizGraph): string[] {
  const all = new Set<string>();
  for (const n of g.nodes) {
    const parts = n.scope ? n.scope.split(".") : [];
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join("."));
  }
  return [...all].sort();
}

export { Poly };
