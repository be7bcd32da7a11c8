import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { buildGraph } from "../../src/cli/pipeline.js";
import { toDot, toDotDiff } from "../../src/viz/dot.js";
import { toMermaid } from "../../src/viz/mermaid.js";
import { renderSvg, toHtml } from "../../src/viz/render.js";
import { scopesOf, vizFromIr, vizFromSource, type VizGraph } from "../../src/viz/vizGraph.js";
import { overrides, ROOT } from "../helpers.js";

const EXAMPLES: [string, string[]][] = [
  ["examples/gpt.tfm", ["layers=2"]],
  ["examples/bert.tfm", ["layers=2"]],
  ["examples/translator.tfm", ["layers=1"]],
  ["examples/torch/multihead_attention.tfm", []],
  ["examples/torch/encoder_layer.tfm", ["norm_first=true"]],
  ["examples/torch/decoder_layer.tfm", []],
  ["examples/torch/transformer.tfm", ["num_encoder_layers=2", "num_decoder_layers=1"]],
  ["test/models/hostile_names.tfm", []],
];

function stages(path: string, sets: string[]): [string, VizGraph][] {
  const text = readFileSync(join(ROOT, path), "utf8");
  const b = buildGraph(text, overrides(...sets), { level: 2 });
  return [
    ["source", vizFromSource(b.model!, text)],
    ["lowered", vizFromIr(b.lowered!, text)],
    ["optimized", vizFromIr(b.graph!, text)],
  ];
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe("tfmc graph", () => {
  it.each(EXAMPLES)("%s renders at every stage: SVG holds one node per graph node and one cluster per scope", async (path, sets) => {
    for (const [, g] of stages(path, sets)) {
      // @viz-js/viz is Graphviz itself (compiled to WebAssembly): a DOT syntax error throws here.
      const svg = await renderSvg(toDot(g));
      expect(count(svg, /<g id="node\d+" class="node">/g)).toBe(g.nodes.length);
      expect(count(svg, /<g id="clust\d+" class="cluster">/g)).toBe(scopesOf(g).length);
      const mermaid = toMermaid(g);
      expect(mermaid.startsWith("flowchart TB\n")).toBe(true);
      expect(count(mermaid, /^\s*n\d+\["/gm)).toBe(g.nodes.length);
      expect(count(mermaid, /-->\|/g)).toBe(g.edges.length);
      expect(count(mermaid, /^\s*subgraph /gm)).toBe(scopesOf(g).length);
    }
  });

  it.each(EXAMPLES)("the system's Graphviz accepts the DOT of %s", (path, sets) => {
    for (const [, g] of stages(path, sets)) {
      const r = spawnSync("dot", ["-Tsvg"], { input: toDot(g), encoding: "utf8" });
      expect(r.error, "graphviz is not installed (apt-get install graphviz)").toBeUndefined();
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
  });

  it("marks fused ops with what they contain, and labels edges with symbolic shapes", () => {
    const optimized = stages("examples/gpt.tfm", ["layers=1"])[2][1];
    const dot = toDot(optimized);
    expect(dot).toContain("attention [q·kᵀ + scale + mask + online softmax + ·v]");
    expect(dot).toContain("dense [matmul + bias + gelu_tanh]");
    expect(dot).toMatch(/label="\[B, T, 768\]"/);
    const source = stages("examples/gpt.tfm", ["layers=1"])[0][1];
    expect(source.nodes.find((n) => n.title === "attention")!.details).toContain("in_proj_weight [2304, 768]");
  });

  it("escapes hostile names in DOT, Mermaid and HTML", async () => {
    for (const [, g] of stages("test/models/hostile_names.tfm", [])) {
      const dot = toDot(g);
      expect(dot).not.toMatch(/[\u2028\u2029]/);
      await renderSvg(dot);
      expect(toMermaid(g)).not.toMatch(/"[^"\n]*<\/script>/);
      const html = toHtml(await renderSvg(dot), [g], [""]);
      expect(count(html, /<\/script>/g)).toBe(2);
    }
  });

  it("--diff draws the source and the optimised graph side by side", async () => {
    const [[, source], , [, optimized]] = stages("examples/torch/encoder_layer.tfm", []);
    const svg = await renderSvg(toDotDiff(source, optimized));
    expect(count(svg, /class="node"/g)).toBe(source.nodes.length + optimized.nodes.length);
    expect(svg).toContain("as written");
    expect(svg).toContain("optimised");
  });

  it("writes files and refuses bad options through the CLI", async () => {
    const io = { out: () => {}, err: () => {}, color: false };
    const out = join(ROOT, "test", ".generated", "graph.html");
    expect(await main(["graph", "examples/torch/encoder_layer.tfm", "-o", out], io)).toBe(0);
    const html = readFileSync(out, "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain('id="tfmc-nodes"');
    expect(await main(["graph", "examples/gpt.tfm", "--stage", "bogus"], io)).toBe(2);
    expect(await main(["graph", "examples/gpt.tfm", "--format", "svg"], io)).toBe(2);
  });
});
