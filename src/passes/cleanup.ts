import { IrGraph } from "../ir/graph.js";
import { attrsKey } from "../ir/node.js";
import { pruneDead, type Pass } from "./pass.js";

/** Why: fusions leave behind nodes nobody reads; computing them would waste time and memory. */
export const eliminateDeadCode: Pass = {
  name: "eliminate-dead-code",
  requires: [],
  level: 1,
  why: "drops nodes whose results no output needs",
  run(g, ctx) {
    const { graph, dropped } = pruneDead(g);
    if (dropped > 0) ctx.notes.push({ pass: this.name, kind: "changed", scope: "", message: `removed ${dropped} unused nodes` });
    return graph;
  },
};

/** Why: lowering repeats identical work (the same parameter slice, the same transposed keys); compute it once. */
export const eliminateCommonSubexpressions: Pass = {
  name: "eliminate-common-subexpressions",
  requires: [],
  level: 1,
  why: "merges nodes that compute the same op on the same inputs",
  run(g, ctx) {
    const out = new IrGraph(g.meta);
    const map = new Map<string, string>();
    const seen = new Map<string, string>();
    let merged = 0;
    for (const id of g.order()) {
      const n = g.node(id);
      const inputs = n.inputs.map((i) => map.get(i)!);
      // Inputs are never merged (each is fed separately); everything else is pure.
      const key = n.op === "input" ? undefined : JSON.stringify([n.op, inputs, attrsKey(n.attrs), n.shape, n.dtype]);
      const hit = key === undefined ? undefined : seen.get(key);
      if (hit) {
        map.set(id, hit);
        merged++;
        continue;
      }
      const nid = out.addNode({ ...n, inputs });
      map.set(id, nid);
      if (key !== undefined) seen.set(key, nid);
    }
    for (const i of g.inputs) out.inputs.push({ ...i, node: map.get(i.node)! });
    for (const o of g.outputs) out.outputs.push({ ...o, node: map.get(o.node)! });
    if (merged > 0) ctx.notes.push({ pass: this.name, kind: "changed", scope: "", message: `merged ${merged} repeated computations` });
    return out;
  },
};
