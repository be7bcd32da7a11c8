import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_FLAGS, commandUsage, flagName } from "../../src/cli/usage.js";
import { ROOT, runCli as tfmc } from "../helpers.js";

// Every command applies each option it accepts, and refuses one it does not take (exit 2) instead
// of ignoring it.


const LLAMA = join(ROOT, "examples", "hf", "llama.tfm");
const GPT = join(ROOT, "examples", "gpt.tfm");
const SMALL_LLAMA = ["num_hidden_layers=1", "hidden_size=64", "intermediate_size=128", "num_attention_heads=4", "num_key_value_heads=2", "vocab_size=300"].flatMap((s) => ["--set", s]);

describe("--attention in check and graph, as in run", () => {
  it("check reports the kernel a grouped-query model cannot take, as run does", async () => {
    const r = await tfmc("check", LLAMA, ...SMALL_LLAMA, "--attention", "linear");
    expect(r.code).toBe(1);
    expect(r.err).toContain("TFM2033: attention kernel 'linear' cannot honour grouped keys and values");
    expect(r.out).not.toContain("well formed");
  });

  it("check refuses an unknown kernel", async () => {
    const r = await tfmc("check", LLAMA, "--attention", "bogus");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--attention takes softmax, linear, performer, linformer, local, got 'bogus'");
  });

  it("graph draws the kernel asked for", async () => {
    const plain = await tfmc("graph", GPT, "--stage", "lowered");
    const linear = await tfmc("graph", GPT, "--stage", "lowered", "--attention", "linear");
    expect(plain.code).toBe(0);
    expect(linear.code).toBe(0);
    expect(plain.out).not.toContain("linear_attention");
    expect(linear.out).toContain("linear_attention");
  });
});

describe("a flag the command does not take is a usage error", () => {
  it.each([
    ["graph", GPT, "--weights", "foo"],
    ["export", GPT, "-o", "/nonexistent/x.onnx", "--target", "wasm"],
    ["run", GPT, "--out", "/nonexistent/x.safetensors", "--json"],
    ["check", GPT, "-O1"],
    ["fmt", GPT, "--set", "d=8"],
  ])("%s ... %s %s %s", async (command, ...rest) => {
    const flag = rest.find((a) => a.startsWith("-") && !["-o", "--out", "--stage"].includes(a))!;
    const r = await tfmc(command, ...rest);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`tfmc: ${command}: ${flag.replace(/^(-O).*/, "$1")}`);
    expect(r.err).toContain(`does not apply to ${command}; ${command} takes`);
    expect(r.err).toContain(`usage: tfmc ${command}`);
  });

  it("an unknown option is one tfmc line with the command's flags and usage", async () => {
    const r = await tfmc("check", GPT, "--foo");
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe("tfmc: check: unknown option '--foo'; check takes --json, --set, --attention and --help (a file name starting with '-' goes after '--')");
    expect(r.err).toContain("usage: tfmc check");
  });
});

describe("each command's usage names every flag it takes", () => {
  it.each(Object.keys(COMMAND_FLAGS))("tfmc %s --help", (command) => {
    const usage = commandUsage(command)!;
    expect(COMMAND_FLAGS[command].filter((f) => !usage.includes(flagName(f)))).toEqual([]);
  });
});
