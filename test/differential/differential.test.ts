import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildGraph } from "../../src/cli/pipeline.js";
import type { IrGraph } from "../../src/ir/graph.js";
import { interpret } from "../../src/ir/interpret.js";
import { randomWeights } from "../../src/runtime/random.js";
import { planWasm } from "../../src/codegen/wasmTarget.js";
import { constantNodes } from "../../src/ir/incremental.js";
import { importGenerated } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";
import { modelSource, modelSpec } from "./modelGenerator.js";

// Differential testing of the optimiser: each random model is compiled at -O0 and -O2 (and at -O2
// for the wasm target) and run against the float64 interpreter. The -O2 modules must stay within
// max(1e-5, 5 × the -O0 module's own float32 error); the -O2 graph, interpreted in float64, must
// equal the -O0 graph's result.

const FAILURES = join(ROOT, "test", "differential", "failures");

function graph(text: string, level: 0 | 2): IrGraph {
  const b = buildGraph(text, [], { level, verifyPasses: true });
  const errors = b.diagnostics.items.filter((d) => d.category === "error");
  if (!b.graph) throw new Error(`generated model does not check:\n${errors.map((d) => `${d.span.line}:${d.span.col} ${d.message}`).join("\n")}\n${text}`);
  return b.graph;
}

const stats = { models: 0, maxO0: 0, maxO2: 0, maxWasm: 0, worstRatio: 0, wasmModels: 0 };

async function compare(text: string, dims: Record<string, number>, seed: number): Promise<void> {
  const g0 = graph(text, 0);
  const g2 = graph(text, 2);
  const [m0, m2, mw] = [await importGenerated(g0), await importGenerated(g2), await importGenerated(g2, { target: "wasm" })];
  const weights = randomWeights(m0.spec.parameters, seed);
  const params = new Map(Object.entries(weights));
  const inputs = randomInputs(g0, dims, seed);
  const reference = interpret(g0, params, inputs).out;
  const optimisedReference = interpret(g2, params, inputs).out;
  const scale = Math.max(1, ...reference.data.map(Math.abs));
  expect(maxAbsDiff(optimisedReference.data, reference.data) / scale).toBeLessThan(1e-9);
  const e0 = maxAbsDiff(m0.createModel(weights).forward(inputs).out.data, reference.data);
  const e2 = maxAbsDiff(m2.createModel(weights).forward(inputs).out.data, reference.data);
  const ew = maxAbsDiff(mw.createModel(weights).forward(inputs).out.data, reference.data);
  const bound = Math.max(1e-5, 5 * e0);
  stats.models++;
  stats.maxO0 = Math.max(stats.maxO0, e0);
  stats.maxO2 = Math.max(stats.maxO2, e2);
  stats.maxWasm = Math.max(stats.maxWasm, ew);
  const plan = planWasm(g2, constantNodes(g2));
  if (plan.bytes > 0) stats.wasmModels++;
  stats.worstRatio = Math.max(stats.worstRatio, e2 / bound, ew / bound);
  expect(e2).toBeLessThanOrEqual(bound);
  expect(ew).toBeLessThanOrEqual(bound);
}

const dimsArb = fc.record({ B: fc.integer({ min: 1, max: 2 }), T: fc.integer({ min: 1, max: 6 }), S: fc.integer({ min: 1, max: 6 }) });

describe("differential testing: -O0, -O2 and the float64 interpreter", () => {
  it("agree on 200 random models (failures shrink and are saved)", async () => {
    const result = await fc.check(
      fc.asyncProperty(modelSpec, dimsArb, fc.nat(1000), async (spec, dims, seed) => compare(modelSource(spec), dims, seed)),
      { seed: 4242, numRuns: 200 },
    );
    if (result.failed && result.counterexample) {
      const [spec, dims, seed] = result.counterexample;
      const text = modelSource(spec);
      const name = createHash("sha256").update(text).digest("hex").slice(0, 12);
      writeFileSync(join(FAILURES, `${name}.tfm`), `// @dims ${JSON.stringify(dims)} @seed ${seed}\n${text}`);
    }
    console.log(`differential: ${stats.models} models; max -O0 error ${stats.maxO0.toExponential(2)}, max -O2 error ${stats.maxO2.toExponential(2)}, max wasm error ${stats.maxWasm.toExponential(2)} (${stats.wasmModels} models with WebAssembly kernels), worst -O2 error / bound ${stats.worstRatio.toFixed(3)}`);
    expect(result.failed, result.failed ? `counterexample saved under test/differential/failures: ${String(result.errorInstance)}` : "").toBe(false);
  }, 400_000); // 200 models, each compiled three times and run four ways

  // A fixed failure stays fixed: every saved counterexample is replayed.
  const saved = readdirSync(FAILURES).filter((f) => f.endsWith(".tfm"));
  if (saved.length > 0)
    it.each(saved)("replays the saved failure %s", async (file) => {
      const text = readFileSync(join(FAILURES, file), "utf8");
    const [, dims, seed] = /^\/\/ @dims (\{.*\}) @seed (\d+)/.exec(text) ?? [];
      await compare(text, JSON.parse(dims), Number(seed));
    });
});
