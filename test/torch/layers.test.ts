import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../../src/runtime/safetensors.js";
import { ROOT } from "../helpers.js";
import { expectFixtureAgrees, fixtureCases, LEVELS } from "./fixtureRun.js";

// Layers as Hugging Face's modelling code writes them (scripts/fixtures/make_layer_fixtures.py):
// Llama's RMSNorm and gated MLP, GPT-2's Conv1D MLP, with their state_dict names.

const DIR = join(ROOT, "test", "fixtures", "torch-layers");
const cases = fixtureCases(DIR);

describe("layers against PyTorch", () => {
  it("has a SwiGLU MLP without biases (LlamaMLP) and a Conv1D MLP (GPT2MLP) in their checkpoints' names", () => {
    const names = (c: string) => [...readSafetensors(readFileSync(join(DIR, c, "weights.safetensors"))).tensors.keys()].sort();
    expect(names("llama_mlp")).toEqual(["mlp.down_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "post_attention_layernorm.weight"]);
    expect(names("gpt2_mlp")).toEqual(["c_fc.bias", "c_fc.weight", "c_proj.bias", "c_proj.weight"]);
    const shapes = readSafetensors(readFileSync(join(DIR, "gpt2_mlp", "weights.safetensors"))).tensors;
    expect(shapes.get("c_fc.weight")!.shape).toEqual([40, 160]);
  });

  const runs = cases.flatMap((c) => LEVELS.map((level) => [c.name, level, c] as const));
  it.each(runs)("%s at %s agrees within 1e-4", (_name, level, c) => expectFixtureAgrees(DIR, c, level));
});
