import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { randomWeightStream } from "../../src/export/weights.js";
import { randomWeights } from "../../src/runtime/random.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";
import { asDeclared, FIXTURES, graphOf, inputTypes, ortRun, ortWeb, OUT, readTensors, setFlags, tfmc, tfmcRun, writeTensors } from "./harness.js";

const MHA = "examples/torch/multihead_attention.tfm";
const MHA_SETS = ["embed_dim=24", "num_heads=3"];

async function exportOk(name: string, ...args: string[]): Promise<string> {
  const model = join(OUT, `${name}.onnx`);
  const r = await tfmc("export", ...args, "-o", model);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  return model;
}

function expectClose(got: Record<string, { data: unknown }>, want: Map<string, { data: unknown }>) {
  for (const [key, t] of want) expect(maxAbsDiff(got[key].data as Float32Array, t.data as Float32Array), key).toBeLessThanOrEqual(1e-4);
}

describe("tfmc export", () => {
  it("gives zeros, not NaN, for a query whose keys are all masked (as tfmc run), on onnxruntime-node and -web", async () => {
    const model = await exportOk("mha_all_masked", MHA, ...setFlags(MHA_SETS));
    const feeds = randomInputs(graphOf(MHA, MHA_SETS), { B: 2, L: 3, S: 4 }, 3);
    // Batch 1: every key padded; batch 0: none. attn_mask blocks nothing.
    feeds.key_padding_mask = { data: Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1]), shape: [2, 4] };
    feeds.attn_mask = { data: new Uint8Array(12), shape: [3, 4] };
    const want = tfmcRun(MHA, MHA_SETS, writeTensors(join(OUT, "mha_all_masked.inputs.safetensors"), feeds), [], "mha_all_masked");
    for (const ort of [undefined, await ortWeb()]) {
      const got = await ortRun(model, feeds, ort);
      expect((got.out.data as Float32Array).every(Number.isFinite)).toBe(true);
      expectClose(got, want);
    }
  });

  it("names inputs, outputs, dynamic dimensions and initializers as the .tfm and state_dict do", async () => {
    const model = await exportOk("mha_interface", MHA, ...setFlags(MHA_SETS), "--without", "attn_mask");
    const m = fromBinary(ModelProtoSchema, readFileSync(model));
    const dims = (v: (typeof m.graph)["input"][number] | undefined) => (v?.type?.value.case === "tensorType" ? v.type.value.value.shape?.dim.map((d) => d.value.value) : undefined);
    expect(m.graph!.input.map((i) => i.name)).toEqual(["query", "key", "value", "key_padding_mask"]);
    expect(dims(m.graph!.input[0])).toEqual(["B", "L", 24n]);
    expect(dims(m.graph!.input[3])).toEqual(["B", "S"]);
    expect(m.graph!.output.map((o) => o.name)).toEqual(["out"]);
    expect(m.graph!.initializer.map((t) => t.name).filter((n) => !n.startsWith("/"))).toEqual(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]);
    expect(m.opsetImport[0].version).toBe(17n);
  });

  it("leaves optional inputs out with --without, computing as if they were not given", async () => {
    const model = await exportOk("mha_without", MHA, ...setFlags(MHA_SETS), "--without", "attn_mask", "--without", "key_padding_mask");
    const feeds = randomInputs(graphOf(MHA, MHA_SETS), { B: 2, L: 3, S: 5 }, 4, { omitOptional: true });
    const want = tfmcRun(MHA, MHA_SETS, writeTensors(join(OUT, "mha_without.inputs.safetensors"), feeds), [], "mha_without");
    expectClose(await ortRun(model, feeds), want);
  });

  it("fills the inputs with a default that --without leaves out (i32, i64, bool, f32; bound and constant shapes)", async () => {
    const tfm = "test/models/input_defaults.tfm";
    const left = ["types", "offsets", "keep", "shift"];
    const model = await exportOk("input_defaults_without", tfm, ...left.flatMap((w) => ["--without", w]));
    expect(fromBinary(ModelProtoSchema, readFileSync(model)).graph!.input.map((i) => i.name)).toEqual(["ids"]);
    const feeds = randomInputs(graphOf(tfm, []), { B: 2, T: 5 }, 6);
    for (const w of left) delete feeds[w];
    const want = tfmcRun(tfm, [], writeTensors(join(OUT, "input_defaults_without.inputs.safetensors"), feeds), [], "input_defaults_without");
    for (const ort of [undefined, await ortWeb()]) expectClose(await ortRun(model, feeds, ort), want);
  });

  it("exports examples/hf/bert.tfm without token_type_ids, as BertModel fills them with zeros", async () => {
    const tfm = "examples/hf/bert.tfm";
    const sets = ["vocab_size=40", "hidden_size=16", "num_hidden_layers=1", "num_attention_heads=2", "intermediate_size=24", "max_position_embeddings=8"];
    const model = await exportOk("hf_bert_without_types", tfm, ...setFlags(sets), "--without", "token_type_ids");
    const feeds = randomInputs(graphOf(tfm, sets), { B: 2, T: 6 }, 9, { pTrue: 0.7 });
    delete feeds.token_type_ids;
    const want = tfmcRun(tfm, sets, writeTensors(join(OUT, "hf_bert_without_types.inputs.safetensors"), feeds), [], "hf_bert_without_types");
    expectClose(await ortRun(model, feeds), want);
  });

  it.each([13, 15, 18, 20, 21, 23, 24])("writes opset %i, which onnxruntime runs to the same outputs (GPT and Llama)", async (opset) => {
    const models = [
      ["examples/gpt.tfm", ["d=32", "heads=2", "layers=1", "ctx=8", "vocab=50"]],
      ["test/models/tiny_llama.tfm", []],
    ] as const;
    for (const [tfm, sets] of models) {
      const name = `${tfm.replace(/\W+/g, "_")}_opset${opset}`;
      const model = await exportOk(name, tfm, ...setFlags(sets), "--opset", String(opset));
      const feeds = randomInputs(graphOf(tfm, sets), { B: 1, T: 6 }, 5);
      const want = tfmcRun(tfm, sets, writeTensors(join(OUT, `${name}.inputs.safetensors`), feeds), [], name);
      expectClose(await ortRun(model, feeds), want);
      const m = fromBinary(ModelProtoSchema, readFileSync(model));
      expect(m.opsetImport[0].version).toBe(BigInt(opset));
      // The opset's fused ops where it has them.
      const ops = new Set(m.graph!.node.map((n) => n.opType));
      if (tfm.includes("gpt")) expect(ops.has("LayerNormalization")).toBe(opset >= 17);
      if (tfm.includes("gpt")) expect(ops.has("Gelu")).toBe(opset >= 20);
      if (tfm.includes("llama")) expect(ops.has("RMSNormalization")).toBe(opset >= 23);
    }
  });

  it("reads weights with the prefix options of run (here GPT2Model names into GPT2LMHeadModel's)", async () => {
    const weights = join(FIXTURES, "tiny_gpt", "weights.safetensors");
    const model = await exportOk("prefixed_gpt", "test/models/prefixed_gpt.tfm", "--weights", weights, "--weights-prefix-add", "transformer.");
    const feeds = asDeclared(graphOf("test/models/prefixed_gpt.tfm", []), Object.fromEntries(readTensors(join(FIXTURES, "tiny_gpt", "inputs.safetensors"))));
    expectClose(await ortRun(model, feeds), readTensors(join(FIXTURES, "tiny_gpt", "outputs.safetensors")));
  });

  it("types int32 inputs as int64, so PyTorch's ids feed as they are (--keep-dtypes keeps int32)", async () => {
    const weights = ["--weights", join(FIXTURES, "tiny_gpt", "weights.safetensors")];
    const wide = await exportOk("ids_int64", "test/models/tiny_gpt.tfm", ...weights);
    const kept = await exportOk("ids_int32", "test/models/tiny_gpt.tfm", ...weights, "--keep-dtypes");
    expect(inputTypes(readFileSync(wide)).get("tokens")).toBe(7);
    expect(inputTypes(readFileSync(kept)).get("tokens")).toBe(6);
    const feeds = Object.fromEntries(readTensors(join(FIXTURES, "tiny_gpt", "inputs.safetensors")));
    expect(feeds.tokens.data).toBeInstanceOf(BigInt64Array);
    expectClose(await ortRun(wide, feeds, undefined, true), readTensors(join(FIXTURES, "tiny_gpt", "outputs.safetensors")));
    expectClose(await ortRun(kept, feeds), readTensors(join(FIXTURES, "tiny_gpt", "outputs.safetensors")));
  });

  it("types an input as asked with --input-dtype (Hugging Face's int64 attention_mask for a bool mask)", async () => {
    const dir = join(FIXTURES, "..", "hf", "bert_padded");
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { tfm: string; set: Record<string, unknown> };
    const sets = Object.entries(m.set).map(([k, v]) => `${k}=${v}`);
    const model = await exportOk("bert_int64_mask", m.tfm, ...setFlags(sets), "--weights", join(dir, "weights.safetensors"), "--input-dtype", "attention_mask=i64");
    expect(inputTypes(readFileSync(model)).get("attention_mask")).toBe(7);
    // The fixture's tensors, every one as PyTorch saved it (int64 ids, token types and mask).
    const feeds = Object.fromEntries(readTensors(join(dir, "inputs.safetensors")));
    expect(feeds.attention_mask.data).toBeInstanceOf(BigInt64Array);
    expectClose(await ortRun(model, feeds, undefined, true), readTensors(join(dir, "outputs.safetensors")));
  });

  it("writes the same bytes every time", async () => {
    const a = await exportOk("same_a", "examples/gpt.tfm", "--set", "layers=1", "--set", "d=32", "--set", "heads=2");
    const b = await exportOk("same_b", "examples/gpt.tfm", "--set", "layers=1", "--set", "d=32", "--set", "heads=2");
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
  });

  it("streams the seeded random weights of tfmc run, value for value", () => {
    const params = [
      { name: "a.weight", shape: [70000] },
      { name: "b.weight", shape: [300, 250] },
      { name: "c.bias", shape: [7] },
    ];
    const whole = randomWeights(params, 9);
    for (const w of randomWeightStream(params, 9)) {
      const parts = [...w.chunks];
      const joined = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) joined.set(p, (at += p.length) - p.length);
      expect(joined).toEqual(whole[w.name].data);
    }
  });
});

describe("tfmc export: bad input", () => {
  const dir = join(OUT, "bad");
  const clean = () => {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (f.startsWith(".")) throw new Error(`a temporary file was left: ${f}`);
  };
  const expectFailure = async (code: number, pattern: RegExp, ...args: string[]) => {
    mkdirSync(dir, { recursive: true });
    const out = join(dir, "model.onnx");
    const r = await tfmc("export", ...args, "-o", out);
    expect(r.err).toMatch(pattern);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(code);
    expect(existsSync(out)).toBe(false);
    clean();
  };

  it("names the node and its line when the model has no ONNX form asked for", async () => {
    const mixed = join(dir, "mixed.tfm");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      mixed,
      "model mixed {\n  config vocab = 20, d = 16, heads = 2\n  input tokens: i32[B, T] where T <= 8\n  h = wte: embedding(tokens, vocab, d)\n" +
        "  h = h + first: attention(h, heads, causal = true)\n  h = h + second: attention(h, heads)\n  output logits = linear(h, vocab)\n}\n",
    );
    await expectFailure(1, /^tfmc: error: .*mixed\.tfm:6:19: --with-past: mixed cannot decode one token at a time: a self-attention that is not causal/, mixed, "--with-past");
  });

  it("refuses to leave out an input that is not optional, or that does not exist", async () => {
    await expectFailure(1, /--without query: the input 'query' is neither optional nor has a default.*key_padding_mask, attn_mask/, MHA, "--without", "query");
    await expectFailure(1, /--without mask: multihead_attention has no input 'mask'/, MHA, "--without", "mask");
  });

  it("refuses an opset it cannot write, and a dtype it does not know", async () => {
    await expectFailure(2, /--opset takes an integer from 13 to 24, got '99'/, MHA, "--opset", "99");
    await expectFailure(2, /--input-dtype takes NAME=DTYPE with DTYPE f32, i32, i64 or bool, got 'query=f16'/, MHA, "--input-dtype", "query=f16");
    await expectFailure(1, /--input-dtype mask: multihead_attention has no input 'mask'/, MHA, "--input-dtype", "mask=i64");
  });

  it("reports weights that do not fit, and a model with errors, without writing", async () => {
    const wrong = join(dir, "wrong.safetensors");
    writeFileSync(wrong, readFileSync(join(FIXTURES, "tiny_gpt", "weights.safetensors")));
    await expectFailure(1, /missing 'in_proj_weight'/, MHA, "--weights", wrong);
    const broken = join(dir, "broken.tfm");
    writeFileSync(broken, "model m {\n  input x: f32[B, 4]\n  output y = nosuch(x)\n}\n");
    await expectFailure(1, /broken\.tfm:3:\d+/, broken);
  });

  it("writes nothing when the destination is a directory", async () => {
    mkdirSync(join(dir, "adir.onnx"), { recursive: true });
    const r = await tfmc("export", MHA, "-o", join(dir, "adir.onnx"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/it is a directory/);
    clean();
  });
});
