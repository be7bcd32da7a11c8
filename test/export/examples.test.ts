import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";
import { graphOf, ortRun, ortWeb, OUT, setFlags, tfmc, tfmcRun, writeTensors } from "./harness.js";

// Every example, small enough to run in a test, exported with its seeded random weights and run
// on onnxruntime-node and onnxruntime-web (wasm): the outputs equal `tfmc run`'s on the same inputs within 1e-4.

const DIMS = { B: 2, T: 5, L: 4, S: 6 };

export const EXAMPLES: readonly (readonly [string, readonly string[]])[] = [
  ["examples/gpt.tfm", ["d=64", "heads=4", "layers=2", "ctx=16", "vocab=100"]],
  ["examples/bert.tfm", ["d=32", "heads=2", "layers=1", "intermediate=64", "vocab=100", "max_positions=16"]],
  ["examples/translator.tfm", ["d_model=32", "heads=4", "layers=2", "d_ff=48", "vocab=90"]],
  ["examples/torch/multihead_attention.tfm", ["embed_dim=40", "num_heads=5"]],
  ["examples/torch/encoder_layer.tfm", ["d_model=40", "nhead=5", "activation=gelu", "norm_first=true"]],
  ["examples/torch/decoder_layer.tfm", ["d_model=32", "nhead=2", "dim_feedforward=48", "norm_first=true"]],
  ["examples/torch/transformer.tfm", ["d_model=32", "nhead=4", "dim_feedforward=40", "num_encoder_layers=2", "num_decoder_layers=1", "activation=gelu"]],
];

/** Exports the model, then runs it on onnxruntime-node and -web: each output equals `tfmc run`'s within 1e-4 on the same random inputs. */
async function exportsAsRunComputes(tfm: string, sets: readonly string[], name: string, seed: number): Promise<void> {
  const model = join(OUT, `${name}.onnx`);
  const r = await tfmc("export", tfm, "-o", model, ...setFlags(sets));
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  const feeds = randomInputs(graphOf(tfm, sets), DIMS, seed);
  const want = tfmcRun(tfm, sets, writeTensors(join(OUT, `${name}.inputs.safetensors`), feeds), [], name);
  for (const ort of [undefined, await ortWeb()]) {
    const got = await ortRun(model, feeds, ort);
    for (const [key, t] of want) {
      expect(got[key].shape).toEqual(t.shape);
      expect(maxAbsDiff(got[key].data as Float32Array, t.data as Float32Array), `${key} on onnxruntime-${ort ? "web" : "node"}`).toBeLessThanOrEqual(1e-4);
    }
  }
}

describe("tfmc export: the examples on onnxruntime", () => {
  it.each(EXAMPLES)("%s equals tfmc run within 1e-4 (onnxruntime-node and -web)", async (tfm, sets) => {
    const name = tfm.replace(/[/.]/g, "_");
    await exportsAsRunComputes(tfm, sets, name, 7);
  });
});

/** The test models that run (the others are for error cases or tfmc's own attention kernels). */
const MODELS: readonly (readonly [string, readonly string[]])[] = [
  ["test/models/tiny_llama.tfm", []],
  ["test/models/rotary_attention.tfm", []],
  ["test/models/rotary_attention.tfm", ["interleaved=true", "rdim=6", "causal=false"]],
  ["test/models/rotary_attention.tfm", ["kv_heads=2", "layout=conv1d"]],
  ["test/models/rotary_attention.tfm", ["kv_heads=1", "layout=split", "proj_bias=false"]],
  ["test/models/tiny_decoder.tfm", []],
  ["test/models/rewrites.tfm", ["kernel=linear"]],
  ["test/models/rewrites.tfm", ["kernel=linear", "causal=true"]],
  ["test/models/rewrites.tfm", ["kernel=performer"]],
  ["test/models/rewrites.tfm", ["kernel=performer", "causal=true"]],
  ["test/models/rewrites.tfm", ["kernel=linformer"]],
  ["test/models/rewrites.tfm", ["kernel=local"]],
  ["test/models/rewrites.tfm", ["kernel=local", "causal=true"]],
  ["test/models/primitives.tfm", []],
  ["test/models/projections.tfm", []],
  ["test/models/integer_outputs.tfm", []],
  ["test/models/wasm_kernels.tfm", []],
];

describe("tfmc export: the test models on onnxruntime", () => {
  it.each(MODELS)("%s %j equals tfmc run within 1e-4 (onnxruntime-node and -web)", async (tfm, sets) => {
    const name = `${tfm}${sets.join("_")}`.replace(/[/.=]/g, "_");
    await exportsAsRunComputes(tfm, sets, name, 8);
  });
});
