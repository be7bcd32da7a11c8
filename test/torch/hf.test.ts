import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../../src/runtime/safetensors.js";
import { ROOT } from "../helpers.js";
import { maxAbsDiff } from "../randomInputs.js";

// examples/hf/*.tfm against plain-PyTorch re-implementations of Hugging Face's GPT2LMHeadModel,
// BertModel and LlamaForCausalLM (scripts/fixtures/make_hf_fixtures.py, committed outputs): random
// weights under the exact state_dict names, small sizes set through the config names. Each case runs
// through the built CLI as a user would, at -O0, -O2 and -O2 on the wasm target.

interface HfCase {
  readonly name: string;
  readonly tfm: string;
  readonly set: Readonly<Record<string, number | boolean>>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly tolerance: number;
}

const DIR = join(ROOT, "test", "fixtures", "hf");
const OUT = join(ROOT, "test", ".generated", "hf");
const cases: HfCase[] = readdirSync(DIR)
  .sort()
  .map((name) => ({ name, ...(JSON.parse(readFileSync(join(DIR, name, "manifest.json"), "utf8")) as Omit<HfCase, "name">) }));

function tfmc(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("examples/hf against PyTorch", () => {
  it("has cases for every family, BERT with padding, with a bool mask and with input_ids alone, Llama tied and untied", () => {
    const of = (tfm: string) => cases.filter((c) => c.tfm === `examples/hf/${tfm}.tfm`);
    expect(of("gpt2").length).toBeGreaterThan(0);
    expect(of("bert").some((c) => c.inputs.includes("attention_mask") && c.inputs.includes("token_type_ids"))).toBe(true);
    expect(of("bert").some((c) => c.inputs.length === 1)).toBe(true);
    expect([...new Set(of("llama").map((c) => c.set.tie_word_embeddings))].sort()).toEqual([false, true]);
  });

  const runs = cases.flatMap((c) => ["-O0", "-O2", "-O2 --target wasm"].map((level) => [c.name, level, c] as const));
  it.each(runs)("%s at %s agrees within the case's tolerance", (name, level, c) => {
    mkdirSync(OUT, { recursive: true });
    const out = join(OUT, `${name}${level.replace(/ --target /, "-")}.safetensors`);
    const sets = Object.entries(c.set).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    const r = tfmc("run", c.tfm, "--weights", join(DIR, name, "weights.safetensors"), "--inputs", join(DIR, name, "inputs.safetensors"), "--out", out, ...level.split(" "), ...sets);
    expect(r.err.slice(0, 2000)).toBe("");
    expect(r.code).toBe(0);
    const got = readSafetensors(readFileSync(out)).tensors;
    const want = readSafetensors(readFileSync(join(DIR, name, "outputs.safetensors"))).tensors;
    expect([...got.keys()].sort()).toEqual([...c.outputs]);
    for (const [key, expected] of want) {
      const actual = got.get(key)!;
      expect(actual.shape, key).toEqual(expected.shape);
      expect(maxAbsDiff(actual.data as Float32Array, expected.data as Float32Array), key).toBeLessThanOrEqual(c.tolerance);
    }
  });
});

describe("examples/hf at their defaults", () => {
  it.each([
    ["gpt2", "124,439,808"],
    ["bert", "109,482,240"],
    ["llama", "1,100,048,384"],
  ])("tfmc check examples/hf/%s.tfm reports %s parameters", (model, count) => {
    const r = tfmc("check", `examples/hf/${model}.tfm`);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`parameters: ${count} in \\d+ tensors`));
  });
});
