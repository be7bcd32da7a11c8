import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import { describe, expect, it } from "vitest";
import { randomWeights, seededRandom } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";

// Inputs with a default that do not grow with the sequence are given when a session starts; left
// out, they are filled in the session's batch (which no other input of the session binds). Those
// with the sequence's length hold their default for every new token.

type T = { data: Float32Array; shape: number[] };
interface SessionModel {
  forward(inputs: Record<string, unknown>): Record<string, T>;
  startSession(options?: { batch?: number; inputs?: Record<string, unknown> }): { append(tokens: { data: Int32Array; shape: number[] }): Record<string, T> };
}

const MODEL = "test/models/session_defaults.tfm";
const ids = (rows: number[][], from: number, to: number) => ({ data: Int32Array.from(rows.flatMap((r) => r.slice(from, to))), shape: [rows.length, to - from] });

describe("a session with inputs that have a default", () => {
  it.each([["ts"], ["wasm"]] as const)("fills them in the session's batch, and its logits equal forward's at every step (%s)", async (target) => {
    const mod = await importGenerated(graphOf(MODEL, "-O2"), { target });
    const model = mod.createModel(randomWeights(mod.spec.parameters, 2)) as unknown as SessionModel;
    const r = seededRandom(4);
    const seq = Array.from({ length: 3 }, () => Array.from({ length: 12 }, () => Math.floor(r() * 30)));
    const given = { segment: { data: Int32Array.from([0, 1, 2]), shape: [3] } };
    for (const inputs of [{}, given] as Record<string, unknown>[]) {
      const session = model.startSession({ batch: 3, inputs });
      let [at, worst] = [0, 0];
      for (const c of [4, 1, 2, 1, 1, 3]) {
        const got = session.append(ids(seq, at, at + c)).logits.data;
        at += c;
        const full = model.forward({ ids: ids(seq, 0, at), ...inputs }).logits;
        const V = full.shape[2];
        for (let b = 0; b < 3; b++)
          for (let i = 0; i < c; i++)
            for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[(b * c + i) * V + v] - full.data[(b * at + at - c + i) * V + v]));
      }
      expect(at).toBe(12);
      expect(worst).toBeLessThan(1e-4);
    }
    // The batch of a session without options is 1.
    expect(model.startSession().append(ids([seq[0]], 0, 2)).logits.shape).toEqual([1, 2, 30]);
  });

  it("tfmc generate decodes it through a session, with the ids of --recompute", () => {
    const run = (...extra: string[]) => {
      const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "generate", MODEL, "--prompt", "3,1,4", "--max-new-tokens", "9", "--seed", "3", "--json", ...extra], { cwd: ROOT, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/whole prefix/);
      return JSON.parse(r.stdout).results[0].tokens as number[];
    };
    const cached = run();
    expect(cached).toHaveLength(9);
    expect(run("--recompute")).toEqual(cached);
  });

  it("the generated TypeScript type-checks under tsc --strict", async () => {
    const dir = join(ROOT, "test", ".generated", "session-defaults-strict");
    mkdirSync(dir, { recursive: true });
    const quiet = { out: () => {}, err: () => {}, color: false };
    expect(await main(["compile", MODEL, "-o", dir], quiet)).toBe(0);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", types: [] }, include: ["*.ts"] }));
    const r = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
