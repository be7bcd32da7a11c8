import { scopesOf, type VizGraph } from "./vizGraph.js";

/** Text inside a Mermaid label: quotes and angle brackets as Mermaid's entity codes. */
const text = (s: string): string =>
  s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ").replace(/#/g, "#35;").replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");

/** A Mermaid flowchart: subgraphs for scopes, edge labels with shapes. */
export function toMermaid(g: VizGraph): string {
  const ids = new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
  const scopes = scopesOf(g);
  const lines = ["flowchart TB"];
  const emit = (scope: string, depth: number) => {
    const pad = "  ".repeat(depth);
    for (const n of g.nodes.filter((x) => x.scope === scope)) lines.push(`${pad}${ids.get(n.id)}["${[n.title, ...n.details].map(text).join("<br/>")}"]`);
    for (const child of scopes.filter((s) => s !== scope && s.startsWith(scope ? scope + "." : "") && !s.slice(scope ? scope.length + 1 : 0).includes("."))) {
      lines.push(`${pad}subgraph s${scopes.indexOf(child)}["${text(child.split(".").pop()!)}"]`);
      emit(child, depth + 1);
      lines.push(`${pad}end`);
    }
  };
  emit("", 1);
  for (const e of g.edges) lines.push(`  ${ids.get(e.from)} -->|"${text(e.label)}"| ${ids.get(e.to)}`);
  return lines.join("\n") + "\n";
}
