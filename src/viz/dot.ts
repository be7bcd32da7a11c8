import { scopesOf, type VizGraph, type VizNode } from "./vizGraph.js";

/** A DOT string literal: quotes, backslashes and control characters escaped. */
export const dotString = (s: string): string =>
  `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n").replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ")}"`;

const STYLE: Record<VizNode["kind"], string> = {
  input: 'shape=box, style="rounded,filled", fillcolor="#d9ead3"',
  output: 'shape=box, style="rounded,filled", fillcolor="#fce5cd"',
  param: 'shape=box, style="filled", fillcolor="#eeeeee"',
  op: 'shape=box, style="rounded,filled", fillcolor="#dae8fc"',
  fused: 'shape=box, style="rounded,filled,bold", fillcolor="#c9daf8", penwidth=2',
  rewritten: 'shape=box, style="rounded,filled,bold", fillcolor="#f4cccc", penwidth=2',
};

/** Graphviz DOT: one node per graph node, one cluster per scope, edges labelled with shapes. */
export function toDot(g: VizGraph, opts: { prefix?: string; standalone?: boolean } = {}): string {
  const prefix = opts.prefix ?? "";
  const scopes = scopesOf(g);
  const clusterId = new Map(scopes.map((s, i) => [s, `cluster_${prefix}${i}`]));
  const lines: string[] = [];
  const emitScope = (scope: string, depth: number) => {
    const pad = "  ".repeat(depth);
    for (const n of g.nodes.filter((x) => x.scope === scope)) {
      const label = [n.title, ...n.details].join("\n");
      lines.push(`${pad}${dotString(prefix + n.id)} [label=${dotString(label)}, ${STYLE[n.kind]}];`);
    }
    for (const child of scopes.filter((s) => s.startsWith(scope ? scope + "." : "") && s !== scope && !s.slice(scope ? scope.length + 1 : 0).includes("."))) {
      lines.push(`${pad}subgraph ${clusterId.get(child)} {`);
      lines.push(`${pad}  label=${dotString(child.split(".").pop()!)}; style="rounded,dashed"; color="#888888";`);
      emitScope(child, depth + 1);
      lines.push(`${pad}}`);
    }
  };
  emitScope("", 1);
  for (const e of g.edges) lines.push(`  ${dotString(prefix + e.from)} -> ${dotString(prefix + e.to)} [label=${dotString(e.label)}, fontsize=9];`);
  if (opts.standalone === false) return lines.join("\n");
  return `digraph ${dotString(g.title)} {\n  rankdir=TB; node [fontname="Helvetica", fontsize=10]; edge [fontname="Helvetica", color="#555555"];\n${lines.join("\n")}\n}\n`;
}

/** Two graphs side by side (as written and as optimised), each in its own cluster. */
export function toDotDiff(left: VizGraph, right: VizGraph): string {
  return `digraph ${dotString(left.title)} {
  rankdir=TB; node [fontname="Helvetica", fontsize=10]; edge [fontname="Helvetica", color="#555555"];
  subgraph cluster_left { label="as written"; ${toDot(left, { prefix: "a_", standalone: false })}
  }
  subgraph cluster_right { label="optimised"; ${toDot(right, { prefix: "b_", standalone: false })}
  }
}
`;
}
