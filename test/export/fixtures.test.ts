import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { maxAbsDiff } from "../randomInputs.js";
import { asDeclared, FIXTURES, graphOf, ortRun, ortWeb, OUT, readTensors, setFlags, tfmc, tfmcRun } from "./harness.js";

// Every PyTorch fixture (test/fixtures/torch: weights, inputs and PyTorch's outputs) exported
// with its weights and run on onnxruntime-node: the outputs equal PyTorch's and `tfmc run`'s
// within 1e-4, masks included. Optional inputs a fixture does not give are left out (--without).

interface FixtureCase {
  readonly name: string;
  readonly dir?: string;
  readonly tfm: string;
  readonly set?: Readonly<Record<string, number | string | boolean>>;
}

/** The fixtures of whole modules (test/fixtures/torch) and of layers (test/fixtures/torch-layers). */
const DIRS = [FIXTURES, join(FIXTURES, "..", "torch-layers")];
/** Hugging Face's models (examples/hf) against PyTorch: one manifest per case. */
const HF = join(FIXTURES, "..", "hf");
const CASES = [
  ...DIRS.flatMap((dir) => (JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { cases: FixtureCase[] }).cases.map((c) => [c.name, { ...c, dir }] as const)),
  ...readdirSync(HF)
    .sort()
    .map((name) => [name, { ...(JSON.parse(readFileSync(join(HF, name, "manifest.json"), "utf8")) as FixtureCase), name, dir: HF }] as const),
];

export const setsOf = (c: FixtureCase): string[] => Object.entries(c.set ?? {}).map(([k, v]) => `${k}=${v}`);

/** Exports the fixture's model with its weights, leaving out the optional inputs it does not give. */
export async function exportFixture(c: FixtureCase, suffix = ""): Promise<string> {
  const dir = c.dir ?? FIXTURES;
  const feeds = readTensors(join(dir, c.name, "inputs.safetensors"));
  const without = graphOf(c.tfm, setsOf(c))
    .inputs.filter((i) => (i.optional || i.default !== undefined) && !feeds.has(i.name))
    .flatMap((i) => ["--without", i.name]);
  const model = join(OUT, `fixture_${c.name}${suffix}.onnx`);
  const r = await tfmc("export", c.tfm, "-o", model, "--weights", join(dir, c.name, "weights.safetensors"), ...without, ...setFlags(setsOf(c)));
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  return model;
}

describe("tfmc export: the PyTorch fixtures on onnxruntime-node", () => {
  it("covers masked cases, the layer fixtures and Hugging Face's GPT-2, BERT and Llama", () => {
    expect(CASES.some(([name]) => /mask|padding|causal/.test(name))).toBe(true);
    for (const name of ["llama_mlp", "gpt2", "bert_padded", "llama_tied_mqa"]) expect(CASES.map(([n]) => n)).toContain(name);
  });

  it.each(CASES)("%s equals PyTorch and tfmc run within 1e-4", async (name, c) => {
    const model = await exportFixture(c);
    const dir = c.dir ?? FIXTURES;
    const inputs = join(dir, name, "inputs.safetensors");
    const feeds = asDeclared(graphOf(c.tfm, setsOf(c)), Object.fromEntries(readTensors(inputs)));
    const got = await ortRun(model, feeds);
    const torch = readTensors(join(dir, name, "outputs.safetensors"));
    const ours = tfmcRun(c.tfm, setsOf(c), inputs, ["--weights", join(dir, name, "weights.safetensors")], `fixture_${name}`);
    for (const [key, want] of torch) {
      expect(got[key], `output ${key}`).toBeDefined();
      expect(got[key].shape).toEqual(want.shape);
      expect(maxAbsDiff(got[key].data as Float32Array, want.data as Float32Array), `${key} vs PyTorch`).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(got[key].data as Float32Array, ours.get(key)!.data as Float32Array), `${key} vs tfmc run`).toBeLessThanOrEqual(1e-4);
    }
  });
});

describe("tfmc export: the PyTorch fixtures on onnxruntime-web (wasm)", () => {
  it.each(CASES)("%s equals PyTorch within 1e-4", async (name, c) => {
    const model = await exportFixture(c, "_web");
    const dir = c.dir ?? FIXTURES;
    const feeds = asDeclared(graphOf(c.tfm, setsOf(c)), Object.fromEntries(readTensors(join(dir, name, "inputs.safetensors"))));
    const got = await ortRun(model, feeds, await ortWeb());
    for (const [key, want] of readTensors(join(dir, name, "outputs.safetensors"))) {
      expect(got[key].shape).toEqual(want.shape);
      expect(maxAbsDiff(got[key].data as Float32Array, want.data as Float32Array), `${key} vs PyTorch`).toBeLessThanOrEqual(1e-4);
    }
  });
});
