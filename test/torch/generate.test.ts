import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { graphOf, importGenerated } from "../compileHelpers.js";

// `tfmc generate` against PyTorch's greedy and beam search with the same weights
// (scripts/fixtures/make_generate_fixtures.py): on tiny_gpt, and on the translator example, an
// encoder-decoder whose source stays fixed. The same token ids, scores within 1e-4.

interface Case {
  kind: string;
  prompt: number[];
  source?: number[];
  maxNewTokens: number;
  eos: number | null;
  beams?: number;
  lengthPenalty?: number;
  nBest?: number;
  expected: { tokens: number[]; score: number; logProb: number }[];
}
interface Fixture {
  tfm: string;
  set: string[];
  weights: string;
  cases: Case[];
  forward?: { source: number[][]; target: number[][]; source_padding: number[][]; logits: number[]; shape: number[] };
}

const load = (name: string): Fixture => JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "torch", name, "generate.json"), "utf8"));
const fixtures = { tiny_gpt: load("tiny_gpt"), translator: load("translator") };
const fixture = fixtures.tiny_gpt;

/** The built CLI, as a user runs it (the compiled module imports the built runtime). */
async function generate(args: string[], f: Fixture = fixture): Promise<{ code: number; out: string; err: string }> {
  const sets = f.set.flatMap((s) => ["--set", s]);
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "generate", f.tfm, "--weights", f.weights, ...sets, ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const argsOf = (c: Case) => {
  const args = ["--prompt", c.prompt.join(","), "--max-new-tokens", String(c.maxNewTokens), "--json"];
  if (c.source) args.push("--source", c.source.join(","));
  if (c.eos !== null) args.push("--eos", String(c.eos));
  if (c.kind === "beam") args.push("--beam", String(c.beams), "--length-penalty", String(c.lengthPenalty), "--n-best", String(c.nBest));
  return args;
};

const named = Object.entries(fixtures).flatMap(([model, f]) =>
  f.cases.map((c) => [`${model}: ${c.kind}${c.beams ? ` ${c.beams} beams, alpha ${c.lengthPenalty}` : ""}, prompt ${c.prompt.join(",")}${c.eos !== null ? `, eos ${c.eos}` : ""}`, f, c] as const),
);

describe("tfmc generate matches PyTorch", () => {
  it.each(named)("%s", async (_name, f, c) => {
    const r = await generate(argsOf(c), f);
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out).results as { tokens: number[]; score: number; logProb: number }[];
    expect(got.map((g) => g.tokens)).toEqual(c.expected.map((e) => e.tokens));
    got.forEach((g, i) => {
      expect(Math.abs(g.score - c.expected[i].score)).toBeLessThan(1e-4);
      expect(Math.abs(g.logProb - c.expected[i].logProb)).toBeLessThan(1e-4);
    });
  });

  it("the translator example computes PyTorch's logits (source padding included)", async () => {
    const f = fixtures.translator;
    const mod = await importGenerated(graphOf(f.tfm, "-O2", ...f.set));
    const model = mod.createModel(new Uint8Array(readFileSync(join(ROOT, f.weights))));
    const ids = (rows: number[][]) => ({ data: Int32Array.from(rows.flat()), shape: [rows.length, rows[0].length] });
    const fw = f.forward!;
    const out = model.forward({ source: ids(fw.source), target: ids(fw.target), source_padding: { data: Uint8Array.from(fw.source_padding.flat()), shape: [2, 9] } }).logits;
    expect(out.shape).toEqual(fw.shape);
    expect(Math.max(...fw.logits.map((v, i) => Math.abs(v - out.data[i])))).toBeLessThan(1e-4);
  });

  it("decoding sessions and --recompute (the whole prefix every step) give the same results", async () => {
    for (const [f, c] of [
      [fixtures.tiny_gpt, fixtures.tiny_gpt.cases[5]],
      [fixtures.translator, fixtures.translator.cases[6]],
    ] as const) {
      const cached = JSON.parse((await generate(argsOf(c), f)).out).results;
      const recomputed = JSON.parse((await generate([...argsOf(c), "--recompute"], f)).out).results;
      expect(cached.map((r: Case["expected"][0]) => r.tokens)).toEqual(recomputed.map((r: Case["expected"][0]) => r.tokens));
      cached.forEach((r: Case["expected"][0], i: number) => expect(Math.abs(r.score - recomputed[i].score)).toBeLessThan(1e-5));
    }
    // Unfused attention (-O0) has no session: generate says why and recomputes, to the same tokens.
    const c = fixtures.tiny_gpt.cases[0];
    const unfused = await generate([...argsOf(c), "-O0"]);
    expect(unfused.code).toBe(0);
    expect(unfused.err).toContain("tiny_gpt decodes by running the whole prefix at every step: no decoding session, as its causal attention is not fused");
    expect(JSON.parse(unfused.out).results[0].tokens).toEqual(c.expected[0].tokens);
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
    expect(badP.err).toContain("--top-p must be in (0, 1], got 2");
    const noPrompt = await generate(["--max-new-tokens", "2"]);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.err).toContain("--bos");
    const badId = await generate(["--prompt", "1,x", "--max-new-tokens", "2"]);
    expect(badId.code).toBe(2);
  });
});
