import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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
  it.each([[[] as string[]], [["theta=500"]]])("logits equal forward over the prefix at every step %j", async (sets) => {
    expect(await worstStep(sets)).toBeLessThan(1e-4);
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
