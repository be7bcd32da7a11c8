import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { readSafetensors, writeSafetensors } from "../../src/runtime/safetensors.js";
import { ROOT } from "../helpers.js";

// Hostile command lines and files: every complaint names the flag a user typed, no text from a
// file or an argument reaches the terminal raw, and one error prints a bounded number of lines.

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (s) => void (out += s + "\n"), err: (s) => void (err += s + "\n"), color: false });
  return { code, out, err };
}

/** The built CLI, as a user runs it (a compiled model imports the built runtime). */
function tfmc(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const GPT = "test/models/tiny_gpt.tfm";
const WEIGHTS = "test/fixtures/torch/tiny_gpt/weights.safetensors";
const gen = (...args: string[]) => cli("generate", GPT, "--prompt", "1,2", ...args);
/** Nothing that could move the cursor, recolour or rewrite a line; newlines are the printer's own. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe("generate: search options within bounds, named by their flags", () => {
  const cases: [string[], string][] = [
    [["--max-new-tokens", "0"], "generate: --max-new-tokens must be an integer from 1 to 1048576, got 0"],
    [["--max-new-tokens", "9999999999"], "generate: --max-new-tokens must be an integer from 1 to 1048576, got 9999999999"],
    [["--max-new-tokens", "2", "--beam", "1000000"], "generate: --beam must be an integer from 1 to 256, got 1000000"],
    [["--max-new-tokens", "2", "--beam", "0"], "generate: --beam must be an integer from 1 to 256, got 0"],
    [["--max-new-tokens", "2", "--beam", "2", "--n-best", "3"], "generate: --n-best must be an integer from 1 to the number of beams, 2, got 3"],
    [["--max-new-tokens", "2", "--beam", "2", "--length-penalty", "1e6"], "generate: --length-penalty must be a number from 0 to 10, got 1000000"],
    [["--max-new-tokens", "2", "--beam", "2", "--length-penalty=-1"], "generate: --length-penalty must be a number from 0 to 10, got -1"],
    [["--max-new-tokens", "2", "--sample", "--temperature", "0"], "generate: --temperature must be a number from 0.0001 to 10000, got 0"],
    [["--max-new-tokens", "2", "--sample", "--temperature", "1e-300"], "generate: --temperature must be a number from 0.0001 to 10000, got 1e-300"],
    [["--max-new-tokens", "2", "--sample", "--top-k=-1"], "generate: --top-k must be an integer >= 0 (0: every token), got -1"],
    [["--max-new-tokens", "2", "--sample", "--top-p", "0"], "generate: --top-p must be in (0, 1], got 0"],
    [["--max-new-tokens", "2", "--seed", "4294967296"], "generate: --seed must be an integer from 0 to 4294967295, got 4294967296"],
    [["--max-new-tokens", "2", "--eos=-1"], "generate: --eos must be a token id (an integer >= 0), got -1"],
    [["--max-new-tokens", "2", "--temperature", "0.5"], "generate: --temperature goes with --sample; without it, it would be ignored"],
    [["--max-new-tokens", "2", "--top-k", "3"], "generate: --top-k goes with --sample; without it, it would be ignored"],
    [["--max-new-tokens", "2", "--beam", "2", "--top-p", "0.5"], "generate: --top-p goes with --sample; without it, it would be ignored"],
    [["--max-new-tokens", "2", "--n-best", "2"], "generate: --n-best goes with --beam K (beam search); without it, it would be ignored"],
    [["--max-new-tokens", "2", "--sample", "--length-penalty", "0.5"], "generate: --length-penalty goes with --beam K (beam search); without it, it would be ignored"],
  ];
  it.each(cases)("%j is a usage error", async (args, message) => {
    const r = await gen(...args);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe(`tfmc: ${message}`);
  });

  it("a value that starts with '-' is refused in one line that says how to write it", async () => {
    const r = await cli("generate", GPT, "--prompt", "-1", "--max-new-tokens", "2");
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe(
      "tfmc: Option '--prompt' argument is ambiguous. Did you forget to specify the option argument for '--prompt'? To specify an option argument starting with a dash use '--prompt=-XYZ'.",
    );
  });

  it("--eos at or past the vocabulary is refused with its size", () => {
    const r = tfmc("generate", GPT, "--weights", WEIGHTS, "--prompt", "1,2", "--max-new-tokens", "2", "--eos", "50");
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe("tfmc: generate: --eos must be a token id below the vocabulary size, 50, got 50");
    expect(tfmc("generate", GPT, "--weights", WEIGHTS, "--prompt", "1,2", "--max-new-tokens", "2", "--eos", "49").code).toBe(0);
  });
});

describe("text from outside is printed escaped", () => {
  const dir = mkdtempSync(join(tmpdir(), "tfmc-hostile-"));
  const forged = "a\n\u001b[2K\rwrote /etc/passwd";

  it("a weights file's tensor names: escaped, and 3,000 extra tensors print 20 lines and a count", () => {
    const tensors = new Map(readSafetensors(readFileSync(join(ROOT, WEIGHTS))).tensors);
    tensors.set(forged, { dtype: "F32", shape: [1], data: new Float32Array(1) });
    for (let i = 0; i < 3000; i++) tensors.set(`extra.${i}`, { dtype: "F32", shape: [1], data: new Float32Array(1) });
    const weights = join(dir, "w.safetensors");
    writeFileSync(weights, writeSafetensors(tensors));
    const r = tfmc("run", GPT, "--weights", weights, "--inputs", "test/fixtures/torch/tiny_gpt/inputs.safetensors", "--out", join(dir, "o.safetensors"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("(3001 problems):");
    expect(r.err).toContain(`unexpected 'a\\n\\u001b[2K\\rwrote /etc/passwd': the model has no such parameter`);
    expect(r.err).toContain("  - and 2981 more");
    expect(r.err).not.toMatch(UNSAFE);
    expect(r.err.split("\n").length).toBeLessThan(30);
    expect(r.out + r.err).not.toMatch(/^wrote/m);
  });

  it("file paths, --set values and unknown flags", async () => {
    for (const r of [
      await cli("check", `${forged}.tfm`),
      await cli("check", GPT, "--set", `d=${forged}`),
      await cli("check", GPT, `--${forged}`),
      await cli("generate", GPT, "--prompt", forged, "--max-new-tokens", "1"),
      await cli("compile", `${forged}.tfm`, "-o", dir),
    ]) {
      expect(r.code).toBeGreaterThan(0);
      expect(r.err).toContain("a\\n\\u001b[2K\\rwrote /etc/passwd");
      expect(r.err).not.toMatch(UNSAFE);
      expect(r.err).not.toMatch(/^wrote/m);
    }
  });

  it("a diagnostic's path and the summary line", async () => {
    const file = join(dir, `bad\u001b]0;t\u0007.tfm`);
    writeFileSync(file, "model m {\n  input x: f32[B, 8]\n  output y = linear(x, 4) + x\n}\n");
    const r = await cli("check", file);
    expect(r.code).toBe(1);
    expect(r.err).toContain("bad\\u001b]0;t\\u0007.tfm:3:");
    expect(r.err).not.toMatch(UNSAFE);
  });
});
