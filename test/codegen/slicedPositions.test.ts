import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildGraph } from "../../src/cli/pipeline.js";
import { constantNodes, isIncremental, planIncremental } from "../../src/ir/incremental.js";
import { randomWeights, seededRandom } from "../../src/runtime/random.js";
import { checkSource } from "../../src/semantics/check.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";

// `wpe[0:T]` on a parameter [ctx, d] with `where T <= ctx`: the same op as learned_positions, so
// the same logits as tiny_gpt at -O0, -O2 and in wasm, and decoding sessions read its rows after
// the positions already seen.

type T = { data: Float32Array; shape: number[] };
interface SessionModel {
  forward(inputs: Record<string, unknown>): Record<string, T>;
  startSession(options?: { batch?: number }): { append(tokens: { data: Int32Array; shape: number[] }): Record<string, T> };
}

const SLICED = "test/models/sliced_positions.tfm";
const ids = (rows: number[][], from: number, to: number) => ({ data: Int32Array.from(rows.flatMap((r) => r.slice(from, to))), shape: [rows.length, to - from] });
const r = seededRandom(5);
const seq = Array.from({ length: 2 }, () => Array.from({ length: 16 }, () => Math.floor(r() * 50)));

async function pair(level: "-O0" | "-O2", target: "ts" | "wasm") {
  const gpt = await importGenerated(graphOf("test/models/tiny_gpt.tfm", level), { target });
  const sliced = await importGenerated(graphOf(SLICED, level), { target });
  const weights = randomWeights(gpt.spec.parameters, 7) as Record<string, unknown>;
  const renamed = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k === "wpe.weight" ? "wpe" : k, v]));
  return [gpt.createModel(weights), sliced.createModel(renamed)] as unknown as [SessionModel, SessionModel];
}

describe("a slice up to a bounded length: wpe[0:T]", () => {
  it("lowers to slice_rows, as learned_positions", () => {
    const g = graphOf(SLICED);
    const rows = g.order().map((id) => g.node(id)).filter((n) => n.op === "slice_rows" && n.shape.some((d) => "sym" in d));
    expect(rows.map((n) => [n.shape, g.node(n.inputs[0]).op, n.attrs.start])).toEqual([[[{ sym: "T" }, { value: 32 }], "param", 0]]);
    // `wpe[:T]` and `wpe[0:T, :]` are the same slice.
    for (const form of ["wpe[:T]", "wpe[0:T, :]"]) {
      const other = buildGraph(readFileSync(join(ROOT, SLICED), "utf8").replace("+ wpe[0:T]", `+ ${form}`), [], { level: 0 }).graph!;
      const found = other.order().map((id) => other.node(id)).filter((n) => n.op === "slice_rows" && n.shape.some((d) => "sym" in d));
      expect(found.map((n) => n.shape), form).toEqual([[{ sym: "T" }, { value: 32 }]]);
    }
  });

  it.each([["-O0", "ts"], ["-O2", "ts"], ["-O2", "wasm"]] as const)("gives tiny_gpt's logits at %s (%s)", async (level, target) => {
    const [gpt, sliced] = await pair(level, target);
    for (const len of [1, 5, 16]) {
      const want = gpt.forward({ tokens: ids(seq, 0, len) }).logits;
      const got = sliced.forward({ tokens: ids(seq, 0, len) }).logits;
      expect(got.shape).toEqual(want.shape);
      expect(got.data).toEqual(want.data);
    }
  });

  it("decodes through a session with the logits of forward at every step", async () => {
    const [, sliced] = await pair("-O2", "ts");
    const session = sliced.startSession({ batch: 2 });
    let [at, worst] = [0, 0];
    for (const c of [3, 1, 4, 1, 5, 2]) {
      const got = session.append(ids(seq, at, at + c)).logits.data;
      at += c;
      const full = sliced.forward({ tokens: ids(seq, 0, at) }).logits;
      const V = full.shape[2];
      for (let b = 0; b < 2; b++)
        for (let i = 0; i < c; i++) for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[(b * c + i) * V + v] - full.data[(b * at + at - c + i) * V + v]));
    }
    expect(at).toBe(16);
    expect(worst).toBeLessThan(1e-4);
  });

  it("takes the first T along another axis too, as a strided slice that sessions refuse with a reason", async () => {
    const src = `model m {\n  config n = 8\n  input x: f32[B, T] where T <= n\n  param table: f32[3, n]\n  output y = x + table[1, 0:T]\n}\n`;
    expect(checkSource(src).diagnostics.items).toEqual([]);
    const built = buildGraph(src, [], { level: 2, verifyPasses: true });
    const mod = await importGenerated(built.graph!);
    const table = Float32Array.from({ length: 24 }, (_, i) => i);
    const model = mod.createModel({ table: { data: table, shape: [3, 8] } });
    const y = model.forward({ x: { data: new Float32Array(6), shape: [2, 3] } }).y;
    expect([...y.data]).toEqual([8, 9, 10, 8, 9, 10]);
    // In a decoder, such a slice would need the positions after those already seen: refused, with why.
    const decoder = readFileSync(join(ROOT, SLICED), "utf8").replace("param wpe: f32[ctx, d]", "param wpe: f32[2, ctx, d]").replace("+ wpe[0:T]", "+ wpe[1, 0:T]");
    const g = buildGraph(decoder, [], { level: 2, verifyPasses: true }).graph!;
    const plan = planIncremental(g, constantNodes(g));
    expect(isIncremental(plan) ? undefined : plan.reason).toMatch(/^a slice as long as the sequence of a fixed axis: only the first axis of a matrix, as wpe\[0:T\], is read at an offset/);
  });
});

describe("errors for a slice up to a length", () => {
  const diagnostics = (body: string) =>
    checkSource(`model m {\n  config ctx = 16, d = 4\n  ${body}\n  param wpe: f32[ctx, d]\n  output y = wpe[0:T] + x\n}\n`).diagnostics.sorted().map((d) => `${d.code} ${d.span.start} ${d.message}`);

  it("needs a bound on the length", () => {
    const [d] = diagnostics("input x: f32[T, d]");
    expect(d).toMatch(/^2037 \d+ the length 'T' ending a slice of an axis of 16 must be at most 16: 'T' has no bound; add a constraint such as 'where T <= 16'$/);
  });

  it("needs the bound to fit the axis", () => {
    const [d] = diagnostics("input x: f32[T, d] where T <= 32");
    expect(d).toMatch(/the length 'T' ending a slice of an axis of 16 must be at most 16: 'T' may be up to 32; add a constraint such as 'where T <= 16'$/);
  });

  it("takes it from 0 with step 1 only", () => {
    const src = `model m {\n  config ctx = 16, d = 4\n  input x: f32[T, d] where T <= ctx\n  param wpe: f32[ctx, d]\n  output y = wpe[1:T] + x\n}\n`;
    const [d] = checkSource(src).diagnostics.sorted();
    expect(d.message).toBe("a slice up to the length 'T' must be from 0 with step 1 (its length is then that dimension)");
  });
});
