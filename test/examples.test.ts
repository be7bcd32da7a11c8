import { describe, expect, it } from "vitest";
import { parameterCount } from "../src/semantics/check.js";
import { formatType } from "../src/semantics/types.js";
import { checkFile } from "./helpers.js";

const names = (m: { params: readonly { name: string }[] }) => m.params.map((p) => p.name);

describe("examples", () => {
  it("gpt.tfm has GPT-2 small's parameter count and a tied head", () => {
    const { model, diagnostics } = checkFile("examples/gpt.tfm");
    expect(diagnostics.items).toEqual([]);
    // GPT-2 small: 124,439,808 parameters (wte 50257x768, wpe 1024x768, 12 layers, ln_f; head tied).
    expect(parameterCount(model!)).toBe(124_439_808);
    expect(model!.outputs.map((o) => `${o.name}: ${formatType(o.type)}`)).toEqual(["logits: f32[B, T, 50257]"]);
    expect(names(model!)).toContain("h.11.attn.in_proj_weight");
  });

  it("bert.tfm has BERT-base's encoder parameter count", () => {
    const { model } = checkFile("examples/bert.tfm");
    // bert-base-uncased has 109,482,240 parameters of which the pooler holds 768*768+768.
    expect(parameterCount(model!)).toBe(109_482_240 - 590_592);
  });

  it("translator.tfm shares one embedding between source, target and the output", () => {
    const { model } = checkFile("examples/translator.tfm");
    expect(names(model!).filter((n) => n.startsWith("embed"))).toEqual(["embed.weight"]);
    expect(model!.outputs[0].type.shape.map((d) => ("value" in d ? d.value : d.sym))).toEqual(["B", "T", 37000]);
  });

  it("transformer.tfm reproduces nn.Transformer's state_dict names and size", () => {
    const { model } = checkFile("examples/torch/transformer.tfm");
    // nn.Transformer() with defaults has 44,140,544 parameters.
    expect(parameterCount(model!)).toBe(44_140_544);
    const n = names(model!);
    for (const key of [
      "encoder.layers.0.self_attn.in_proj_weight",
      "encoder.layers.5.linear2.bias",
      "encoder.norm.weight",
      "decoder.layers.0.multihead_attn.out_proj.weight",
      "decoder.layers.5.norm3.bias",
      "decoder.norm.bias",
    ]) {
      expect(n).toContain(key);
    }
  });

  it("encoder_layer.tfm names parameters as nn.TransformerEncoderLayer, in either norm order", () => {
    const expected = [
      "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
      "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
      "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
    ].sort();
    for (const nf of ["false", "true"]) {
      const { model } = checkFile("examples/torch/encoder_layer.tfm", `norm_first=${nf}`);
      expect(names(model!).sort()).toEqual(expected);
    }
  });

  it("multihead_attention.tfm takes masks of the documented shapes", () => {
    const { model } = checkFile("examples/torch/multihead_attention.tfm", "embed_dim=40", "num_heads=5");
    expect(model!.inputs.map((i) => `${i.name}${i.optional ? "?" : ""}: ${formatType(i.type)}`)).toEqual([
      "query: f32[B, L, 40]",
      "key: f32[B, S, 40]",
      "value: f32[B, S, 40]",
      "key_padding_mask?: bool[B, S]",
      "attn_mask?: bool[L, S]",
    ]);
    expect(names(model!)).toEqual(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]);
  });

  it.each([
    ["examples/gpt.tfm", ["d=256", "heads=4", "layers=2", "ctx=128", "vocab=1000"]],
    ["examples/bert.tfm", ["d=128", "heads=2", "layers=1", "intermediate=512"]],
    ["examples/translator.tfm", ["d_model=64", "heads=4", "layers=2", "d_ff=128", "vocab=500"]],
    ["examples/torch/multihead_attention.tfm", ["embed_dim=40", "num_heads=5"]],
    ["examples/torch/encoder_layer.tfm", ["d_model=40", "nhead=5", "activation=gelu", "norm_first=true"]],
    ["examples/torch/decoder_layer.tfm", ["d_model=64", "nhead=2", "dim_feedforward=96", "norm_first=true"]],
    ["examples/torch/transformer.tfm", ["num_encoder_layers=2", "num_decoder_layers=1", "activation=gelu"]],
    ["examples/hf/gpt2.tfm", ["n_embd=64", "n_head=4", "n_layer=2", "vocab_size=100", "n_positions=32"]],
    ["examples/hf/bert.tfm", ["hidden_size=48", "num_attention_heads=3", "intermediate_size=96", "type_vocab_size=3"]],
    ["examples/hf/llama.tfm", ["hidden_size=64", "num_attention_heads=4", "num_key_value_heads=1", "tie_word_embeddings=true"]],
  ])("%s checks cleanly with and without overrides", (path, sets) => {
    expect(checkFile(path).diagnostics.items).toEqual([]);
    expect(checkFile(path, ...sets).diagnostics.items).toEqual([]);
  });
});
