import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

// `tfmc generate` against PyTorch's greedy and beam search on tiny_gpt with the same weights
// (scripts/fixtures/make_generate_fixtures.py): the same token ids, scores within 1e-4.

const fixture = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "torch", "tiny_gpt", "generate.json"), "utf8"));

/** The built CLI, as a user runs it (the compiled module imports the built runtime). */
async function generate(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "generate", fixture.tfm, "--weights", fixture.weights, ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("tfmc generate matches PyTorch", () => {
  it.each(fixture.cases.map((c: { kind: string; prompt: number[]; beams?: number; lengthPenalty?: number; eos: number | null }) => [`${c.kind}${c.beams ? ` ${c.beams} beams, alpha ${c.lengthPenalty}` : ""}, prompt ${c.prompt.join(",")}${c.eos !== null ? `, eos ${c.eos}` : ""}`, c]))("%s", async (_name, c) => {
    const args = ["--prompt", c.prompt.join(","), "--max-new-tokens", String(c.maxNewTokens), "--json"];
    if (c.eos !== null) args.push("--eos", String(c.eos));
    if (c.kind === "beam") args.push("--beam", String(c.beams), "--length-penalty", String(c.lengthPenalty), "--n-best", String(c.nBest));
    const r = await generate(args);
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out).results as { tokens: number[]; score: number; logProb: number }[];
    expect(got.map((g) => g.tokens)).toEqual(c.expected.map((e: { tokens: number[] }) => e.tokens));
    got.forEach((g, i) => {
      expect(Math.abs(g.score - c.expected[i].score)).toBeLessThan(1e-4);
      expect(Math.abs(g.logProb - c.expected[i].logProb)).toBeLessThan(1e-4);
    });
  });

  it("sampling is reproducible with --seed and greedy with --top-k 1", async () => {
    const args = ["--prompt", "5,9", "--max-new-tokens", "10", "--sample", "--temperature", "1.5", "--json"];
    const a = JSON.parse((await generate([...args, "--seed", "3"])).out).results[0].tokens;
    expect(JSON.parse((await generate([...args, "--seed", "3"])).out).results[0].tokens).toEqual(a);
    const greedy = JSON.parse((await generate(["--prompt", "5,9", "--max-new-tokens", "10", "--json"])).out).results[0].tokens;
    expect(JSON.parse((await generate([...args, "--top-k", "1"])).out).results[0].tokens).toEqual(greedy);
  });

  it("refuses a prompt and length beyond the model's limit, and meaningless options, with clear errors", async () => {
    const long = await generate(["--prompt", "1,2,3", "--max-new-tokens", "20"]);
    expect(long.code).toBe(1);
    expect(long.err).toContain("tiny_gpt takes at most 16");
    const both = await generate(["--prompt", "1", "--max-new-tokens", "2", "--beam", "2", "--sample"]);
    expect(both.code).toBe(2);
    const badP = await generate(["--prompt", "1", "--max-new-tokens", "2", "--sample", "--top-p", "2"]);
    expect(badP.code).toBe(2);
    expect(badP.err).toContain("topP");
    const noPrompt = await generate(["--max-new-tokens", "2"]);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.err).toContain("--bos");
    const badId = await generate(["--prompt", "1,x", "--max-new-tokens", "2"]);
    expect(badId.code).toBe(2);
  });
});
