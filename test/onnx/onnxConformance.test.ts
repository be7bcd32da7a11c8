import { afterAll, describe, expect, it } from "vitest";
import type { IrGraph } from "../../src/ir/graph.js";
import { interpret, type LooseTensor } from "../../src/ir/interpret.js";
import { verifyGraph } from "../../src/ir/verify.js";
import { optimize } from "../../src/passes/pipeline.js";
import { importGenerated } from "../compileHelpers.js";
import { allClose, size, Skip, type Plan } from "./irBuilder.js";
import { listCases, readDataSet, readModel } from "./loadOnnxCase.js";
import { IN_SCOPE_OPS, translateOp } from "./translateOps.js";
import { isExpanded, translateExpanded } from "./translateExpanded.js";

// ONNX operator conformance: every ONNX backend node test of MatMul, Softmax, LayerNormalization,
// Gelu and Attention in test/onnx/cases (copied from onnx/onnx, see cases/SOURCE.md) is translated into tfmc IR primitives, compiled
// to JavaScript and run on the case's data set; each output must pass ONNX's own rule. A case the
// IR cannot express is a visible `it.skip` with the reason, and the table of skips is printed.

/**
 * Cases passed when this test was written. A translation change that starts skipping cases, or a
 * data set that lost cases, fails the floor check below instead of shrinking coverage silently.
 */
const PASSED_FLOOR = 237;
/** The cases in test/onnx/cases (cases/SOURCE.md lists the selection). */
const CASE_COUNT = 245;

type Planned = { name: string; plan: Plan } | { name: string; skip: string };

function planCase(name: string): Planned {
  try {
    const model = readModel(name);
    if (isExpanded(name)) return { name, plan: translateExpanded(name, model) };
    const op = model.nodes[0]?.opType;
    if (!IN_SCOPE_OPS.includes(op as (typeof IN_SCOPE_OPS)[number])) return { name, skip: `op ${op} not in scope` };
    return { name, plan: translateOp(name, model) };
  } catch (e) {
    if (e instanceof Skip) return { name, skip: e.message };
    throw e;
  }
}

/**
 * tfmc bugs this test finds, by case and run: such runs are `it.fails` entries (named KNOWN TFMC
 * BUG) so the suite stays green and turns red once the bug is fixed and the entry should go.
 * (It found one: fuse-attention used to fuse GQA-shaped graphs whose keys broadcast over heads.)
 */
const KNOWN_BUGS: Record<string, Partial<Record<Run, string>>> = {};

// The generated kernels are what tfmc ships, as lowered (-O0) and after the fusion passes (-O2,
// where attention becomes one fused op); the float64 interpreter is their oracle elsewhere, so it
// is held to ONNX's expectations too, on both graphs.
type Feeds = Record<string, LooseTensor>;
type Outputs = Record<string, { data: ArrayLike<number> }>;
const o2 = (g: IrGraph) => optimize(g, { level: 2, verify: true }).graph;
const generated = async (g: IrGraph, feeds: Feeds): Promise<Outputs> => (await importGenerated(g)).createModel({}).forward(feeds);
const RUNS = {
  "-O0": (g: IrGraph, feeds: Feeds) => generated(g, feeds),
  "-O2": (g: IrGraph, feeds: Feeds) => generated(o2(g), feeds),
  interpreter: async (g: IrGraph, feeds: Feeds): Promise<Outputs> => interpret(g, new Map(), feeds),
  "interpreter -O2": async (g: IrGraph, feeds: Feeds): Promise<Outputs> => interpret(o2(g), new Map(), feeds),
};
type Run = keyof typeof RUNS;
const ALL_RUNS = Object.keys(RUNS) as Run[];

// Throws when test/onnx/cases is missing: the file then fails to collect, loudly.
const planned = listCases().map(planCase);
const runnable = planned.filter((p): p is Extract<Planned, { plan: Plan }> => "plan" in p);
const skipped = planned.filter((p): p is Extract<Planned, { skip: string }> => "skip" in p);
const passed = new Set<string>();

async function runCase(name: string, plan: Plan, runs: readonly Run[]): Promise<void> {
  expect(verifyGraph(plan.graph)).toEqual([]);
  const model = readModel(name);
  const data = readDataSet(name, model);
  const feeds: Feeds = {};
  plan.feeds.forEach((f, k) => {
    const t = data.inputs[f.onnxIndex];
    expect(t.shape, `input ${t.name} shape`).toEqual([...model.inputs[f.onnxIndex].shape]);
    expect(size(t.shape), `view of ${t.name}`).toBe(size(f.shape));
    feeds[plan.graph.inputs[k].name] = { data: t.data!, shape: [...f.shape] };
  });
  for (const run of runs) {
    const got = await RUNS[run](plan.graph, feeds);
    for (const o of plan.expected) {
      const want = data.outputs[o.onnxIndex];
      expect(want.dtype, `${o.name} dtype`).toBe("FLOAT");
      expect(want.shape, `${o.name} shape`).toEqual([...o.shape]);
      const out = got[o.name];
      expect(out.data.length, `${run} ${o.name} size`).toBe(size(o.shape));
      const miss = allClose(out.data, want.data as Float32Array);
      expect(
        miss && `${run} ${o.name}: ${miss.count} of ${out.data.length} elements off; worst at ${miss.index}: got ${miss.got}, expected ${miss.want}`,
      ).toBeUndefined();
    }
  }
}

describe("allClose, ONNX's pass rule", () => {
  it("allows 1e-7 + 1e-3·|e| and no more", () => {
    expect(allClose([1.0009, 0], [1, 0])).toBeUndefined();
    expect(allClose([0, 1.5e-7], [0, 0])).toMatchObject({ count: 1, index: 1 });
    expect(allClose([1.0011], [1])).toMatchObject({ count: 1, got: 1.0011, want: 1 });
  });
  it("matches NaN with NaN and an infinity with itself only", () => {
    expect(allClose([NaN, Infinity, -Infinity], [NaN, Infinity, -Infinity])).toBeUndefined();
    expect(allClose([0, NaN], [NaN, 0])).toMatchObject({ count: 2 });
    expect(allClose([Infinity], [-Infinity])).toMatchObject({ count: 1 });
  });
});

/** Rows of a plain-text table, columns padded to their widest cell (no colours, so logs stay readable). */
function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (r: readonly string[]) => "  " + r.map((c, k) => (k === r.length - 1 ? c : c.padEnd(widths[k]))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** Rows grouped by a reason's head (before any colon), most frequent first. */
function byReason(reasons: readonly string[]): string[][] {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r.split(":")[0], (counts.get(r.split(":")[0]) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([reason, n]) => [String(n), reason]);
}

/** The report printed after the run: the skips with their reasons, then the one-line summary. */
function report(): string {
  const failed = runnable.length - passed.size;
  const notCompared = runnable.flatMap((c) => c.plan.skippedOutputs.map((o) => ({ case: c.name, output: o.name, reason: o.reason })));
  const bugs = Object.entries(KNOWN_BUGS).flatMap(([c, runs]) => Object.entries(runs).map(([run, bug]) => [c, run, bug ?? ""]));
  return [
    `ONNX node tests: skipped cases (${skipped.length})`,
    textTable(["case", "reason"], skipped.map((s) => [s.name, s.skip])),
    "ONNX node tests: skips by reason",
    textTable(["cases", "reason"], byReason(skipped.map((s) => s.skip))),
    `ONNX node tests: outputs of run cases not compared (${notCompared.length})`,
    textTable(["case", "output", "reason"], notCompared.map((o) => [o.case, o.output, o.reason])),
    ...(bugs.length > 0 ? [`ONNX node tests: known tfmc bugs (it.fails, ${bugs.length} runs)`, textTable(["case", "run", "bug"], bugs)] : []),
    `ONNX node tests: ${passed.size} of ${planned.length} cases pass, ${skipped.length} skipped` + (failed > 0 ? `, ${failed} failed` : ""),
  ].join("\n");
}

describe("ONNX node tests (test/onnx/cases)", () => {
  for (const c of planned) {
    if ("skip" in c) {
      it.skip(`${c.name} — skipped: ${c.skip}`, () => {});
      continue;
    }
    const notes = [...c.plan.views, ...c.plan.skippedOutputs.map((s) => `${s.name} not compared`)];
    const bugs = KNOWN_BUGS[c.name] ?? {};
    it(`${c.name}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`, async () => {
      await runCase(c.name, c.plan, ALL_RUNS.filter((r) => !bugs[r]));
      passed.add(c.name);
    });
    for (const [run, bug] of Object.entries(bugs)) {
      it.fails(`${c.name} ${run} — KNOWN TFMC BUG: ${bug}`, () => runCase(c.name, c.plan, [run as Run]));
    }
  }

  it("passes every in-scope case, and at least the measured floor", () => {
    expect(planned.length).toBe(CASE_COUNT);
    expect(runnable.length).toBeGreaterThanOrEqual(PASSED_FLOOR);
    expect(runnable.filter((c) => !passed.has(c.name)).map((c) => c.name)).toEqual([]);
    expect(passed.size).toBeGreaterThanOrEqual(PASSED_FLOOR);
  });

  // One console.log after every case has run: vitest prints a test file's console output (unless
  // run with --silent) with any of its text reporters, so the skip table and the summary line
  // appear in `npm test` output.
  afterAll(() => console.log(report()));
});
