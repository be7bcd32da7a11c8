import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ortRun, OUT, setFlags, tfmc } from "./harness.js";
import { ortGenerate } from "./pastDriver.js";

// A length past the model's `where T <= max` bound: the exported graph fails in onnxruntime, on a
// node named for the limit, as tfmc refuses it (TFM5006 for run, generate's own check); it never
// gives empty or garbage outputs.

const GPT2 = ["vocab_size=100", "n_embd=32", "n_layer=2", "n_head=4", "n_positions=32"];
const LLAMA = ["vocab_size=100", "hidden_size=32", "intermediate_size=64", "num_hidden_layers=2", "num_attention_heads=4", "num_key_value_heads=2", "max_position_embeddings=8"];
/** No position at all: nothing but the bound says how long the cache may grow. */
const NO_POSITIONS = join(OUT, "no_positions.tfm");

const ids = (n: number) => Array.from({ length: n }, (_, i) => (i * 7) % 50);
const tokens = (n: number) => ({ input_ids: { data: Int32Array.from(ids(n)), shape: [1, n] } });

async function exported(tfm: string, sets: readonly string[], name: string, ...flags: string[]): Promise<string> {
  const model = join(OUT, `${name}.onnx`);
  const r = await tfmc("export", tfm, "-o", model, ...flags, ...setFlags(sets));
  expect(r.err).toBe("");
  return model;
}

describe("tfmc export: lengths past the model's bound", () => {
  it("GPT-2 (learned positions, n_positions = 32): T = 32 runs, T = 33 fails naming the limit", async () => {
    const model = await exported("examples/hf/gpt2.tfm", GPT2, "limit_gpt2");
    expect((await ortRun(model, tokens(32))).logits.shape).toEqual([1, 32, 100]);
    await expect(ortRun(model, tokens(33))).rejects.toThrow(/'\/limit\/T <= 32'.*idx=32/);
  });

  it("Llama (rotary, max_position_embeddings = 8): T = 8 runs, T = 9 fails naming the limit", async () => {
    const model = await exported("examples/hf/llama.tfm", LLAMA, "limit_llama");
    expect((await ortRun(model, tokens(8))).logits.shape).toEqual([1, 8, 100]);
    await expect(ortRun(model, tokens(9))).rejects.toThrow(/'\/limit\/T <= 8'/);
  });

  it.each([
    ["GPT-2", "examples/hf/gpt2.tfm", GPT2, 30, 32],
    ["Llama", "examples/hf/llama.tfm", LLAMA, 5, 8],
  ] as const)("%s --with-past: decodes up to the bound, then fails naming the limit on the cache's length", async (name, tfm, sets, prompt, bound) => {
    const model = await exported(tfm, sets, `limit_past_${name}`, "--with-past");
    // A prompt, then one token a step: the last step that fits makes the cache `bound` long.
    const fits = await ortGenerate(model, [ids(prompt)], { steps: bound - prompt + 1 });
    expect(fits.logits[0].every((row) => row.length === 100 && row.every(Number.isFinite))).toBe(true);
    await expect(ortGenerate(model, [ids(prompt)], { steps: bound - prompt + 2 })).rejects.toThrow(new RegExp(`'/limit/total_sequence_length <= ${bound}'.*idx=${bound}`));
  });

  it("--with-past on a model that reads no position: the cache stops at the bound", async () => {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(
      NO_POSITIONS,
      [
        "model no_positions {",
        "  config vocab = 50, d = 16, heads = 2, ctx = 6",
        "  input tokens: i32[B, T] where T <= ctx",
        "  h = wte: embedding(tokens, vocab, d)",
        "  h = h + attn: attention(ln: layer_norm(h), heads, causal = true)",
        "  output logits = linear(ln_f: layer_norm(h), vocab)",
        "}",
        "",
      ].join("\n"),
    );
    const model = await exported(NO_POSITIONS, [], "limit_no_positions", "--with-past");
    expect((await ortGenerate(model, [[1, 2, 3]], { steps: 4 })).tokens[0]).toHaveLength(4);
    await expect(ortGenerate(model, [[1, 2, 3]], { steps: 5 })).rejects.toThrow(/'\/limit\/total_sequence_length <= 6'/);
  });
});
