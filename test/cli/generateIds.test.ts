import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli as tfmc } from "../helpers.js";

// Token ids given on the command line are checked against the vocabulary the compiled graph fixes
// before any weights are made or read: with a --weights file that does not exist, the id's usage
// error comes first (reading the weights would have failed with "no such file").


const GPT = join(ROOT, "examples", "gpt.tfm");
const SMALL = ["--set", "vocab=20", "--set", "d=8", "--set", "heads=2", "--set", "layers=1", "--set", "ctx=8", "--max-new-tokens", "2"];
const MISSING = ["--weights", join(ROOT, "no-such-weights.safetensors")];

describe("generate checks token ids before weights", () => {
  it.each([
    [["--prompt", "1,25"], "generate: --prompt token id 25 is outside gpt's vocabulary: the embedding table wte.weight of input 'tokens' has 20 rows (ids 0 to 19)"],
    [["--prompt", "1", "--bos", "20"], "generate: --bos token id 20 is outside"],
    [["--prompt", "1", "--eos", "99"], "generate: --eos must be a token id below the vocabulary size, 20, got 99"],
  ])("%j", async (flags, message) => {
    const r = await tfmc("generate", GPT, ...SMALL, ...MISSING, ...flags);
    expect(r.err.split("\n")[0]).toContain(`tfmc: ${message}`);
    expect(r.code).toBe(2);
  });

  it("still generates with ids in range", async () => {
    // The built CLI: the generated module imports the compiled runtime.
    const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "generate", GPT, ...SMALL, "--prompt", "1,19", "--bos", "0", "--eos", "19"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+(,\d+)?\tscore /);
  });
});
