import { formatShape } from "../semantics/types.js";
import type { IrGraph } from "./graph.js";
import { attrText as attrValueText, type Attr } from "./node.js";

const attrText = (attrs: Readonly<Record<string, unknown>>): string => {
  const keys = Object.keys(attrs).sort();
  return keys.length === 0 ? "" : ` {${keys.map((k) => `${k}=${attrValueText(attrs[k] as Attr)}`).join(", ")}}`;
};

/** A readable listing of the graph, one node a line in topological order; used by baselines and --dump. */
export function printGraph(g: IrGraph): string {
  const lines = [`graph ${g.meta.name}`];
  for (const i of g.inputs) lines.push(`  input ${i.name}${i.optional ? "?" : ""} = ${i.node}`);
  for (const id of g.order()) {
    const n = g.node(id);
    const scope = n.scope ? `  @${n.scope}` : "";
    lines.push(`  ${id} = ${n.op}(${n.inputs.join(", ")})${attrText(n.attrs)} : ${n.dtype}${formatShape(n.shape)}${scope}`);
  }
  for (const o of g.outputs) lines.push(`  output ${o.name} = ${o.node}`);
  return lines.join("\n") + "\n";
}
