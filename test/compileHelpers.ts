import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { buildGraph } from "../src/cli/pipeline.js";
import { emitModel } from "../src/codegen/emit.js";
import type { IrGraph } from "../src/ir/graph.js";
import { ROOT, overrides } from "./helpers.js";

const OUT = join(ROOT, "test", ".generated");

/** The graph of a .tfm file at -O0 (as lowered) unless a level is given with a leading "-O2". */
export function graphOf(path: string, ...sets: string[]): IrGraph {
  const text = readFileSync(join(ROOT, path), "utf8");
  const level = sets[0]?.startsWith("-O") ? (Number(sets.shift()!.slice(2)) as 0 | 1 | 2) : 0;
  const built = buildGraph(text, overrides(...sets), { level, verifyPasses: true });
  if (!built.graph) throw new Error(built.diagnostics.items.map((d) => d.message).join("\n"));
  return built.graph;
}

export interface GeneratedModule {
  createModel(weights: unknown): { forward(inputs: Record<string, unknown>): Record<string, { data: Float32Array; shape: number[] }> };
  createThreadedModel(
    weights: unknown,
    options: { threads: number },
  ): Promise<{ forward(inputs: Record<string, unknown>): Promise<Record<string, { data: Float32Array; shape: number[] }>>; close(): Promise<void> }>;
  spec: { parameters: { name: string; shape: number[] }[] };
}

/** Emits a graph as JavaScript importing the built runtime (dist/), writes it under test/.generated and imports it. */
export async function importGenerated(g: IrGraph, opts: { target?: "ts" | "wasm" } = {}): Promise<GeneratedModule> {
  mkdirSync(OUT, { recursive: true });
  const runtime = relative(OUT, join(ROOT, "dist", "runtime", "index.js")).replace(/\\/g, "/");
  const [file] = await emitModel(g, { emit: "js", runtime: runtime.startsWith(".") ? runtime : "./" + runtime, target: opts.target ?? "ts" });
  const hash = createHash("sha256").update(file.text).digest("hex").slice(0, 16);
  const path = join(OUT, `${g.meta.name}-${hash}.mjs`);
  writeFileSync(path, file.text);
  return (await import(pathToFileURL(path).href)) as GeneratedModule;
}
