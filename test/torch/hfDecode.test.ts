import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";
import { maxAbsDiff } from "../randomInputs.js";

// examples/hf/llama.tfm decoding through a session (rotary positions offset by the cache, keys and
// values cached per key/value head) at the fixture's config: every step's logits equal those of the
// whole prefix run through forward, and `tfmc generate` picks the same greedy ids as --recompute.

const DIR = join(ROOT, "test", "fixtures", "hf");
const TFM = "examples/hf/llama.tfm";

interface Session {
  append(tokens: { data: Int32Array; shape: number[] }): Record<string, { data: Float32Array; shape: number[] }>;
}
interface LlamaModel {
  forward(inputs: Record<string, unknown>): Record<string, { data: Float32Array; shape: number[] }>;
  startSession(options?: { maxLength?: number; batch?: number }): Session;
}

const setsOf = (name: string) => Object.entries((JSON.parse(readFileSync(join(DIR, name, "manifest.json"), "utf8")) as { set: Record<string, unknown> }).set).map(([k, v]) => `${k}=${v}`);

// Prompts whose greedy continuations are not one token repeated (the weights are random).
const PROMPTS: Record<string, string> = { llama: "88,1,1,30", llama_tied_mqa: "3,17,42", llama_mha_48_3: "3,17,42" };

describe.each(Object.keys(PROMPTS))("%s decodes through a session", (name) => {
  const sets = setsOf(name);
  const weights = new Uint8Array(readFileSync(join(DIR, name, "weights.safetensors")));
  const ids = [
    [3, 17, 42, 8, 99, 0, 51, 23, 64, 12, 7, 5],
    [88, 1, 1, 30, 45, 72, 9, 14, 60, 2, 33, 71],
  ];

  it("every step's logits equal the whole prefix's within 1e-4 (batch 2; one token, then chunks)", async () => {
    const mod = await importGenerated(graphOf(TFM, "-O2", ...sets));
    const model = mod.createModel(weights) as unknown as LlamaModel;
    const session = model.startSession({ maxLength: 16, batch: 2 });
    let at = 0;
    let steps = 0;
    for (const n of [1, 1, 3, 1, 1, 4, 1]) {
      const chunk = Int32Array.from(ids.flatMap((row) => row.slice(at, at + n)));
      const step = session.append({ data: chunk, shape: [2, n] }).logits;
      const vocab = step.shape[2];
      expect(step.shape).toEqual([2, n, vocab]);
      const got = step.data.slice();
      at += n;
      const whole = model.forward({ input_ids: { data: Int32Array.from(ids.flatMap((row) => row.slice(0, at))), shape: [2, at] } }).logits;
      const want = new Float32Array(2 * n * vocab);
      for (let b = 0; b < 2; b++) want.set(whole.data.subarray((b * at + at - n) * vocab, (b * at + at) * vocab), b * n * vocab);
      expect(maxAbsDiff(got, want), `positions ${at - n}..${at - 1}`).toBeLessThanOrEqual(1e-4);
      steps++;
    }
    expect(steps).toBe(7);
    expect(at).toBe(12);
  });

  it("tfmc generate decodes through a session (JavaScript and wasm) and picks the same greedy ids as --recompute", () => {
    const gen = (...extra: string[]) => {
      const args = ["generate", TFM, "-O2", ...sets.flatMap((s) => ["--set", s]), "--weights", join(DIR, name, "weights.safetensors"), "--prompt", PROMPTS[name], "--max-new-tokens", "12", "--json", ...extra];
      const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...args], { cwd: ROOT, encoding: "utf8" });
      return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
    };
    const cached = gen();
    expect(cached.err).toBe("");
    expect(cached.code).toBe(0);
    const recomputed = gen("--recompute");
    expect(recomputed.code).toBe(0);
    const tokens = (out: string) => (JSON.parse(out) as { results: { tokens: number[] }[] }).results[0].tokens;
    expect(tokens(cached.out)).toHaveLength(12);
    expect(new Set(tokens(cached.out)).size).toBeGreaterThanOrEqual(4);
    expect(tokens(cached.out)).toEqual(tokens(recomputed.out));
    const wasm = gen("--target", "wasm");
    expect(wasm.err).toBe("");
    expect(tokens(wasm.out)).toEqual(tokens(recomputed.out));
  });
});
