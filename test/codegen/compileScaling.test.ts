import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as prettier from "prettier";
import { describe, expect, it } from "vitest";
import { buildGraph } from "../../src/cli/pipeline.js";
import { PRETTIER } from "../../src/codegen/emit.js";
import { formatModule } from "../../src/codegen/format.js";
import { emitModuleSource } from "../../src/codegen/module.js";
import { IrGraph } from "../../src/ir/graph.js";
import type { NodeLabel } from "../../src/ir/node.js";
import { codes, ROOT, overrides } from "../helpers.js";

// Compile time must grow near-linearly with the model. Nothing here is timed: the tests count the
// work `IrGraph.order()` does and the text given to prettier, and check that doubling the model
// about doubles the first and barely moves the second.

const meta = { name: "m", config: new Map(), symbols: [], params: [] };
const label = (inputs: string[]): NodeLabel => ({ op: inputs.length === 0 ? "input" : "relu", inputs, shape: [], dtype: "f32", attrs: {}, span: { start: 0, end: 0, line: 1, col: 1 }, scope: "" });

/**
 * `width` chains of `length` nodes, all reading one input: many nodes are ready at once. The input
 * is created last, so creation order is not an order of the graph and order() must sort.
 */
function wideGraph(width: number, length: number): IrGraph {
  const g = new IrGraph(meta);
  const x = `n${width * length}`;
  const tails = Array.from({ length: width }, () => x);
  for (let step = 0; step < length; step++) for (let c = 0; c < width; c++) tails[c] = g.addNode(label([tails[c], tails[c]]));
  expect(g.addNode(label([]))).toBe(x);
  return g;
}

function orderWork(g: IrGraph): number {
  const before = IrGraph.work;
  g.order();
  return IrGraph.work - before;
}

const deep = readFileSync(join(ROOT, "bench", "models", "deep.tfm"), "utf8");
const deepGraph = (layers: number) => buildGraph(deep, overrides(`layers=${layers}`), { level: 2 }).graph!;

describe("IrGraph.order", () => {
  it("is topological, ties going to the node created first, and reads a node used twice once", () => {
    const g = new IrGraph(meta);
    const a = g.addNode(label([]));
    const b = g.addNode(label([]));
    const late = g.addNode(label(["n4"])); // reads a node created after it
    const c = g.addNode(label([b, a]));
    const d = g.addNode(label([c, c]));
    expect(g.order()).toEqual([a, b, c, d, late]);
    expect(wideGraph(2, 2).order()).toEqual(["n4", "n0", "n1", "n2", "n3"]);
    expect(g.consumers(c)).toEqual([d]);
    expect(g.consumers(a)).toEqual([c]);
  });

  it("does work proportional to the graph, however many nodes are ready at once", () => {
    const small = orderWork(wideGraph(200, 10));
    const large = orderWork(wideGraph(400, 10));
    // A heap costs log(width) per node; re-sorting the ready list at every step cost width·log(width).
    expect(large / small).toBeGreaterThan(1.8);
    expect(large / small).toBeLessThan(2.4);
  });

  it("orders a whole compile near-linearly in the number of layers", () => {
    const work = (layers: number) => {
      const before = IrGraph.work;
      emitModuleSource(deepGraph(layers));
      return IrGraph.work - before;
    };
    const ratio = work(400) / work(200);
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.3);
  });
});

describe("formatModule", () => {
  const typescript = { ...PRETTIER, parser: "typescript", filepath: "model.ts" };
  const babel = { ...PRETTIER, parser: "babel", filepath: "model.js" };
  const source = (path: string, opts: Parameters<typeof emitModuleSource>[1], ...sets: string[]) => {
    const level = sets[0]?.startsWith("-O") ? (Number(sets.shift()!.slice(2)) as 0 | 2) : 2;
    const built = buildGraph(readFileSync(join(ROOT, path), "utf8"), overrides(...sets), { level });
    return emitModuleSource(built.graph!, opts);
  };

  it.each([
    ["examples/gpt.tfm", { typed: true }, typescript, "layers=2"],
    ["examples/translator.tfm", { typed: false }, babel, "-O0", "layers=1"],
    ["test/models/hostile_names.tfm", { typed: true, target: "wasm" as const }, typescript],
    ["test/models/tiny_decoder.tfm", { typed: true, profile: true }, typescript],
    ["bench/models/deep.tfm", { typed: true }, typescript, "layers=30"],
  ] as const)("gives prettier's text for %s", async (path, opts, options, ...sets) => {
    const text = source(path, opts, ...sets);
    expect(await formatModule(text, options)).toBe(await prettier.format(text, options));
  });

  it("formats each shape of statement once, so prettier's share barely grows with the layers", async () => {
    const formatted = async (layers: number) => {
      let characters = 0;
      const counting = (text: string, options: prettier.Options) => {
        characters += text.length;
        return prettier.format(text, options);
      };
      await formatModule(emitModuleSource(deepGraph(layers)), typescript, counting);
      return characters;
    };
    const [small, large] = [await formatted(100), await formatted(200)];
    expect(large / small).toBeLessThan(1.25);
  });
});

describe("the size limit", () => {
  const attentionLayers = (n: number) => `model m {
  config d = 8
  input x: f32[B, T, d]
  block layer(x: f32[B, T, d]) {
    return x + attn: attention(x, 2)
  }
  output y = h: repeat(${n}, layer, x)
}`;

  it("counts the operations layers lower to, so attention-heavy models stop where compile time would run away", () => {
    // 10,000 attention layers are 20,000 layers but about 260,000 operations once lowered.
    expect(codes(attentionLayers(10_000))).toEqual([2049]);
    expect(codes(attentionLayers(5_000))).toEqual([]);
  });

  it("keeps 10,000 small layers and 3,600 transformer layers (the bench and the nested-repeat case)", () => {
    expect(codes(deep, "layers=10000")).toEqual([]);
    const nested = readFileSync(join(ROOT, "examples", "gpt.tfm"), "utf8").replace("h = h: repeat(layers, layer, h)", "h = h: repeat(60, group, h)").replace("  h = wte", "  block group(x: f32[B, T, d]) {\n    return g: repeat(60, layer, x)\n  }\n\n  h = wte");
    expect(nested).toContain("repeat(60, group, h)");
    expect(codes(nested, "d=8", "heads=2", "vocab=16", "ctx=8")).toEqual([]);
  });
});
