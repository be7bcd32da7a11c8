import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../../src/runtime/safetensors.js";
import { ROOT, runCli as tfmc } from "../helpers.js";

// Messages that say what is the matter in the user's terms.


const GPT = join(ROOT, "examples", "gpt.tfm");
const SMALL = ["--set", "vocab=20", "--set", "d=8", "--set", "heads=2", "--set", "layers=1", "--set", "ctx=8"];

describe("messages", () => {
  it("compile --check says a file never written is missing, not out of date", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfmc-check-"));
    const r = await tfmc("compile", GPT, ...SMALL, "-o", dir, "--check", "--runtime", "package");
    expect(r.code).toBe(1);
    expect(r.err).toBe(`${join(dir, "gpt.ts")} is missing; run tfmc compile`);
  });

  it("a file that is not safetensors is called that, not given an implausible header length", () => {
    const text = new TextEncoder().encode("# tfmc\n\nA compiler for transformer models.\n");
    expect(() => readSafetensors(text)).toThrow(/not a safetensors file: its first 8 bytes read as a header length of \d+, implausibly past the 100000000-byte limit, and no JSON header follows it/);
  });

  it("one token is one token", async () => {
    const r = await tfmc("generate", GPT, ...SMALL, "--prompt", "1", "--max-new-tokens", "9");
    expect(r.code).toBe(1);
    expect(r.err).toContain("the prompt (1 token) and --max-new-tokens 9 need 9 positions");
  });
});
