import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// Run in this process, the CLI compiles models that import the built runtime: the built CLI too.
import { main } from "../../dist/cli/main.js";
import { continuation, loadTokenizer, TextStream } from "../../src/cli/tokenizer.js";
import { writeSafetensors } from "../../src/runtime/safetensors.js";
import { graphOf } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";

// `tfmc generate --tokenizer`: text in and out through test/fixtures/tokenizer/tokenizer.json, a
// byte-level BPE written by scripts/fixtures/make_tokenizer.mjs (295 tokens, <|endoftext|> = 294).

const TOKENIZER = "test/fixtures/tokenizer/tokenizer.json";
const tok = loadTokenizer(join(ROOT, TOKENIZER));
const tmp = mkdtempSync(join(tmpdir(), "tfmc-tokenizer-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tfmc(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "generate", ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("the tokenizer fixture", () => {
  it("encodes known words by their merges and round-trips any text", () => {
    expect(tok.vocabSize).toBe(295);
    expect(tok.encode("Hello world.")).toEqual([293, 269, 46]);
    for (const text of ["Hello world.", "the cat sat on the mat and a café", "naïve 😀 text , unseen\nlines\ttabs", " spaced  . ", ""]) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
  });

  it("finds <|endoftext|> among its special added tokens, or the eos_token of tokenizer_config.json beside it", () => {
    expect(tok.eos).toEqual({ id: 294, token: "<|endoftext|>", from: "its added tokens" });
    copyFileSync(join(ROOT, TOKENIZER), join(tmp, "tokenizer.json"));
    writeFileSync(join(tmp, "tokenizer_config.json"), JSON.stringify({ eos_token: { content: "." } }));
    expect(loadTokenizer(join(tmp, "tokenizer.json")).eos?.id).toBe(46);
    writeFileSync(join(tmp, "tokenizer_config.json"), JSON.stringify({ eos_token: ".", clean_up_tokenization_spaces: true }));
    expect(loadTokenizer(join(tmp, "tokenizer.json")).decode(tok.encode("Hello world ."))).toBe("Hello world.");
    writeFileSync(join(tmp, "tokenizer_config.json"), JSON.stringify({ eos_token: "<nope>" }));
    expect(() => loadTokenizer(join(tmp, "tokenizer.json"))).toThrow(/tokenizer_config\.json: eos_token '<nope>' is not a token/);
    rmSync(join(tmp, "tokenizer_config.json"));
  });

  it("streams text that never shows half a character and adds up to the whole decoded text", () => {
    const prompt = tok.encode("Hello");
    const ids = tok.encode(" a café 😀 sat .");
    expect(ids.length).toBeGreaterThan(8); // the emoji's four bytes are four tokens
    const stream = new TextStream(tok, prompt);
    const chunks = ids.map((t) => stream.push(t));
    chunks.push(stream.finish());
    expect(chunks.join("")).toBe(" a café 😀 sat .");
    expect(chunks.join("")).toBe(continuation(tok, prompt, ids));
    expect(chunks.some((c) => c.includes("\uFFFD"))).toBe(false);
  });
});

describe("tfmc generate --tokenizer on tiny_gpt (random weights)", () => {
  const model = ["test/models/tiny_gpt.tfm", "--set", "vocab=295", "--set", "ctx=64", "--seed", "7", "--max-new-tokens", "12"];
  const strategies: [string, string[]][] = [
    ["greedy", []],
    ["sampling", ["--sample", "--temperature", "0.8", "--top-k", "40"]],
    ["beam search", ["--beam", "3", "--n-best", "2"]],
  ];

  it.each(strategies)("%s: the text is the decoded ids that --prompt-ids gives with the same weights", (_name, search) => {
    const text = tfmc(...model, ...search, "--tokenizer", TOKENIZER, "--prompt", "Hello world", "--json");
    expect(text.code, text.err).toBe(0);
    const t = JSON.parse(text.out) as { prompt: number[]; promptText: string; eos: number; results: { tokens: number[]; text: string }[] };
    expect(t.prompt).toEqual([293, 269]);
    expect(t.promptText).toBe("Hello world");
    expect(t.eos).toBe(294);

    const ids = tfmc(...model, ...search, "--prompt-ids", "293,269", "--eos", "294", "--json");
    expect(ids.code, ids.err).toBe(0);
    const i = JSON.parse(ids.out) as { results: { tokens: number[] }[] };
    expect(t.results.map((r) => r.tokens)).toEqual(i.results.map((r) => r.tokens));
    for (const r of t.results) expect(r.text).toBe(continuation(tok, t.prompt, r.tokens));

    const plain = tfmc(...model, ...search, "--tokenizer", TOKENIZER, "--prompt", "Hello world");
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).toBe(t.results.map((r) => r.text + "\n").join(""));
  });

  it("--prompt-ids with --tokenizer gives ids and prints text", () => {
    const r = tfmc(...model, "--tokenizer", TOKENIZER, "--prompt-ids", "293,269", "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).prompt).toEqual([293, 269]);
  });
});

describe("tfmc generate --tokenizer stops at the end of the sequence", () => {
  // A bigram model whose weights send "Hello" to " world", ".", " ", the two bytes of "é", then
  // <|endoftext|>: the next token is a function of the last one.
  const chain: [number, number][] = [[293, 269], [269, 46], [46, 32], [32, 195], [195, 169], [169, 294]];
  const g = graphOf("test/fixtures/tokenizer/bigram.tfm");
  const n = 295;
  const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
  for (const p of g.meta.params) {
    const data = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
    if (p.name === "wte.weight") for (let k = 0; k < n; k++) data[k * n + k] = 1;
    if (p.name === "head.weight") for (const [from, to] of chain) data[to * n + from] = 10;
    tensors[p.name] = { dtype: "F32", shape: [...p.shape], data };
  }
  const weights = join(tmp, "bigram.safetensors");
  writeFileSync(weights, writeSafetensors(tensors));
  const model = ["test/fixtures/tokenizer/bigram.tfm", "--weights", weights, "--max-new-tokens", "20"];

  it("at the tokenizer's <|endoftext|>, which the text leaves out", () => {
    const r = tfmc(...model, "--tokenizer", TOKENIZER, "--prompt", "Hello");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(" world. é\n");
    const j = JSON.parse(tfmc(...model, "--tokenizer", TOKENIZER, "--prompt", "Hello", "--json").out);
    expect(j.results[0].tokens).toEqual([269, 46, 32, 195, 169, 294]);
    expect(j.results[0].text).toBe(" world. é");
  });

  it("at --eos when given, and at the model's config eos_token_id", () => {
    expect(tfmc(...model, "--tokenizer", TOKENIZER, "--prompt", "Hello", "--eos", "46").out).toBe(" world.\n");
    const own = join(tmp, "bigram_eos.tfm");
    writeFileSync(own, readFileSync(join(ROOT, "test/fixtures/tokenizer/bigram.tfm"), "utf8").replace("ctx = 64", "ctx = 64, eos_token_id = 32"));
    const r = tfmc(own, ...model.slice(1), "--tokenizer", TOKENIZER, "--prompt", "Hello", "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).results[0].tokens).toEqual([269, 46, 32]);
  });

  it("writes each piece of text as its token arrives, and whole lines to an output that cannot take pieces", async () => {
    const args = ["generate", ...model, "--recompute", "--tokenizer", TOKENIZER, "--prompt", "Hello"];
    const pieces: string[] = [];
    const errors: string[] = [];
    expect(await main(args, { out: (l) => pieces.push(l + "\n"), err: (l) => errors.push(l), write: (t) => pieces.push(t), color: false }), errors.join("\n")).toBe(0);
    // " world", ".", then " " waits for what follows it, "é" for its second byte.
    expect(pieces).toEqual([" world", ".", " é", "\n"]);
    const lines: string[] = [];
    expect(await main(args, { out: (l) => lines.push(l), err: (l) => errors.push(l), color: false })).toBe(0);
    expect(lines).toEqual([" world. é"]);
    expect(errors).toEqual([]);
  });

  it("without a tokenizer, ids in and out as before", () => {
    const r = tfmc(...model, "--prompt", "293", "--max-new-tokens", "3");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^269,46,32\tscore /);
  });
});

describe("tfmc generate --tokenizer rejects bad input with a located message", () => {
  const bad = (name: string, text: string) => {
    const path = join(tmp, name);
    writeFileSync(path, text);
    return path;
  };
  const cases: [string, string[], number, RegExp][] = [
    ["a missing tokenizer", ["--tokenizer", "nope/tokenizer.json"], 1, /error: nope\/tokenizer\.json: no such file/],
    ["a tokenizer that is not JSON", ["--tokenizer", bad("broken.json", "{ model")], 1, /broken\.json: not valid JSON/],
    ["a JSON file that is not a tokenizer", ["--tokenizer", bad("other.json", '{"decoder": null}')], 1, /other\.json: not a tokenizer @huggingface\/tokenizers can read: .*model/],
    ["a text prompt without a tokenizer", [], 2, /--prompt takes token ids .*give --tokenizer tokenizer\.json/],
    ["both --prompt and --prompt-ids", ["--tokenizer", TOKENIZER, "--prompt-ids", "1"], 2, /give --prompt or --prompt-ids, not both/],
  ];
  it.each(cases)("%s", (_name, args, code, message) => {
    const r = tfmc("test/models/tiny_gpt.tfm", "--set", "vocab=295", "--max-new-tokens", "2", "--prompt", "Hello", ...args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("a prompt token outside the model's vocabulary", () => {
    const r = tfmc("test/models/tiny_gpt.tfm", "--max-new-tokens", "2", "--tokenizer", TOKENIZER, "--prompt", "Hello");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the prompt's token 293 is outside the model's vocabulary of 50 \(.*tokenizer\.json has 295 tokens/);
  });
});
