import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emitModel } from "../../src/codegen/emit.js";
import { randomWeights, seededRandom } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";

// A Llama-shaped decoder (rotary embeddings, grouped keys and values) decoding through a session:
// rotary positions offset by the cache's length, caches sized by the key/value heads. After every
// append the logits equal `forward` over the whole prefix; `tfmc generate` gives the same greedy
// ids with and without --recompute.

type T = { data: Float32Array; shape: number[] };
interface Session {
  readonly length: number;
  append(tokens: { data: Int32Array; shape: number[] }): Record<string, T>;
}
interface SessionModel {
  forward(inputs: Record<string, unknown>): Record<string, T>;
  startSession(options?: { maxLength?: number; batch?: number }): Session;
}

const MODEL = "test/models/tiny_llama.tfm";
const ids = (rows: number[][], from: number, to: number) => ({ data: Int32Array.from(rows.flatMap((r) => r.slice(from, to))), shape: [rows.length, to - from] });

async function worstStep(sets: string[], target?: "wasm"): Promise<number> {
  const mod = await importGenerated(graphOf(MODEL, "-O2", ...sets), target ? { target } : {});
  const model = mod.createModel(randomWeights(mod.spec.parameters, 5)) as unknown as SessionModel;
  const r = seededRandom(9);
  const seq = Array.from({ length: 2 }, () => Array.from({ length: 24 }, () => Math.floor(r() * 40)));
  const session = model.startSession({ batch: 2 });
  let worst = 0;
  let at = 0;
  for (const c of [5, 1, 1, 3, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]) {
    const got = session.append(ids(seq, at, at + c)).logits.data;
    at += c;
    const full = model.forward({ tokens: ids(seq, 0, at) }).logits;
    const V = full.shape[2];
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < c; i++)
        for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[(b * c + i) * V + v] - full.data[(b * at + at - c + i) * V + v]));
  }
  expect(at).toBe(24);
  return worst;
}

describe("a Llama-shaped decoder decodes through a session", () => {
  it.each([[[] as string[]], [["theta=500"]], [["kv_heads=1"]], [["kv_heads=4"]]])("logits equal forward over the prefix at every step %j", async (sets) => {
    expect(await worstStep(sets)).toBeLessThan(1e-4);
  });

  it("repeats keys and values only unfused: the fused attention and the session's caches hold the 2 key/value heads", async () => {
    const count = (level: string, op: string) => {
      const g = graphOf(MODEL, level);
      return g.order().filter((id) => g.node(id).op === op).length;
    };
    expect([count("-O0", "repeat_kv"), count("-O0", "attention")]).toEqual([4, 0]);
    expect([count("-O2", "repeat_kv"), count("-O2", "attention")]).toEqual([0, 2]);
    const g = graphOf(MODEL, "-O2");
    for (const id of g.order().filter((i) => g.node(i).op === "attention")) {
      expect(g.node(id).inputs.slice(0, 3).map((i) => g.node(i).shape[1])).toEqual([{ value: 4 }, { value: 2 }, { value: 2 }]);
    }
    const [file] = await emitModel(g, { emit: "js", runtime: "tfmc/runtime", target: "ts" });
    // Keys and values of 2 layers: [batch, 2 heads, capacity, 8].
    expect(file.text.match(/new Float32Array\(s0 \* 2 \* cap \* 8\)/g)?.length).toBe(4);
  });

  it("on the wasm target too", async () => {
    expect(await worstStep([], "wasm")).toBeLessThan(1e-4);
  });

  it("tfmc generate: greedy ids with the session equal --recompute", () => {
    const run = (...extra: string[]) => {
      const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "generate", MODEL, "--prompt", "3,1,4,1,5", "--max-new-tokens", "12", "--json", ...extra], { cwd: ROOT, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout).results[0].tokens as number[];
    };
    const cached = run();
    expect(cached.length).toBeGreaterThan(5);
    expect(run("--recompute")).toEqual(cached);
  });
});
