import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { maxAbsDiff } from "../randomInputs.js";
import { FIXTURES, graphOf, ortRun, ortWeb, OUT, setFlags, tfmc } from "./harness.js";
import { ortGenerate } from "./pastDriver.js";

// --with-past: a decoder taking and returning its key/value cache. Driven token by token on
// onnxruntime-node — the prompt in one step, then one token per step with the cache fed back, an
// all-ones attention_mask and positions past + 0, 1, ... — it picks the same greedy ids as
// `tfmc generate`. (Padded batches: withPastBatch.test.ts.)

interface Decoder {
  readonly tfm: string;
  readonly sets: readonly string[];
  /** --weights, or --seed of the random weights. */
  readonly weights: readonly string[];
  /** Prompts and weights for which greedy decoding does not just repeat one token. */
  readonly prompt: readonly number[];
  /** An encoder-decoder's source ids (fed at every step) and its token input's name. */
  readonly source?: readonly number[];
  readonly tokens?: string;
}

/** A decoder with local (sliding-window) attention: its cache grows, the window mask slides. */
const LOCAL = join(OUT, "local_gpt.tfm");
mkdirSync(OUT, { recursive: true });
writeFileSync(
  LOCAL,
  [
    "model local_gpt {",
    "  config vocab = 60, d = 32, heads = 4, ctx = 32",
    "  input tokens: i32[B, T] where T <= ctx",
    "  h = wte: embedding(tokens, vocab, d) + wpe: learned_positions(T, ctx, d)",
    "  h = h + attn: attention(ln: layer_norm(h), heads, causal = true, kernel = local, window = 3)",
    "  h = h + attn2: attention(ln2: layer_norm(h), heads, causal = true, kernel = local, window = 3)",
    "  output logits = linear(ln_f: layer_norm(h), vocab)",
    "}",
    "",
  ].join("\n"),
);

const DECODERS: readonly (readonly [string, Decoder])[] = [
  ["tiny_gpt (PyTorch's weights)", { tfm: "test/models/tiny_gpt.tfm", sets: [], weights: ["--weights", join(FIXTURES, "tiny_gpt", "weights.safetensors")], prompt: [0] }],
  ["examples/gpt.tfm", { tfm: "examples/gpt.tfm", sets: ["d=64", "heads=4", "layers=3", "ctx=32", "vocab=120"], weights: ["--seed", "1"], prompt: [2, 9] }],
  ["tiny_llama (rotary, 2 key/value heads for 4)", { tfm: "test/models/tiny_llama.tfm", sets: [], weights: ["--seed", "0"], prompt: [2, 9] }],
  ["examples/hf/gpt2.tfm (GPT2LMHeadModel's weights)", hf("gpt2", [2, 9])],
  ["examples/hf/llama.tfm (LlamaForCausalLM's weights, one key/value head, tied)", hf("llama_tied_mqa", [5, 11, 3])],
  ["a decoder with local attention (window 3)", { tfm: LOCAL, sets: [], weights: ["--seed", "3"], prompt: [2, 9, 4, 4, 7, 1] }],
  [
    "examples/translator.tfm (encoder-decoder: the source fed at every step)",
    { tfm: "examples/translator.tfm", sets: ["d_model=32", "heads=4", "layers=2", "d_ff=48", "vocab=90"], weights: ["--seed", "4"], prompt: [3, 4], source: [5, 6, 7, 8, 9], tokens: "target" },
  ],
  ["tiny_llama (rotary, one key/value head)", { tfm: "test/models/tiny_llama.tfm", sets: ["kv_heads=1"], weights: ["--seed", "0"], prompt: [2, 9] }],
];

/** A Hugging Face fixture's model, config and weights (test/fixtures/hf). */
function hf(name: string, prompt: number[]): Decoder {
  const m = JSON.parse(readFileSync(join(FIXTURES, "..", "hf", name, "manifest.json"), "utf8")) as { tfm: string; set: Record<string, unknown> };
  return { tfm: m.tfm, sets: Object.entries(m.set).map(([k, v]) => `${k}=${v}`), weights: ["--weights", join(FIXTURES, "..", "hf", name, "weights.safetensors")], prompt };
}

const NEW = 12;

function tfmcGenerate(d: Decoder): number[] {
  const args = ["generate", d.tfm, "--prompt", d.prompt.join(","), "--max-new-tokens", String(NEW), "--json", ...d.weights, ...setFlags(d.sets)];
  if (d.source) args.push("--source", d.source.join(","));
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).results as { tokens: number[] }[])[0].tokens;
}

/** Greedy decoding of one unpadded prompt through the exported decoder: the tokens after it, and each step's logits. */
async function ortGenerate1(model: string, d: Decoder, engine: typeof ort = ort): Promise<{ tokens: number[]; logits: Float32Array[] }> {
  const r = await ortGenerate(model, [d.prompt], { steps: NEW, tokens: d.tokens, source: d.source, engine });
  return { tokens: r.tokens[0], logits: r.logits[0] };
}

describe("tfmc export --with-past", () => {
  it.each(DECODERS)("%s: onnxruntime-node, token by token, picks the greedy ids of tfmc generate", async (name, d) => {
    const model = join(OUT, `past_${name.replace(/\W+/g, "_")}.onnx`);
    const r = await tfmc("export", d.tfm, "-o", model, "--with-past", ...d.weights, ...setFlags(d.sets));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const want = tfmcGenerate(d);
    expect(new Set(want).size).toBeGreaterThan(1);
    const got = await ortGenerate1(model, d);
    expect(got.tokens).toEqual(want);
    // Each step's logits equal those of the whole sequence run at once without a cache.
    const whole = join(OUT, `past_${name.replace(/\W+/g, "_")}_whole.onnx`);
    // Without a cache, the optional inputs --with-past leaves out are left out too.
    const optional = graphOf(d.tfm, d.sets).inputs.filter((i) => i.optional).flatMap((i) => ["--without", i.name]);
    expect((await tfmc("export", d.tfm, "-o", whole, ...optional, ...d.weights, ...setFlags(d.sets))).code).toBe(0);
    const seq = [...d.prompt, ...want.slice(0, -1)];
    const g = fromBinary(ModelProtoSchema, readFileSync(whole)).graph!;
    const feeds = { [d.tokens ?? g.input[0].name]: { data: Int32Array.from(seq), shape: [1, seq.length] }, ...(d.source ? { source: { data: Int32Array.from(d.source), shape: [1, d.source.length] } } : {}) };
    const full = (await ortRun(whole, feeds))[g.output[0].name];
    const vocab = full.shape[2];
    got.logits.forEach((row, i) => {
      const at = d.prompt.length - 1 + i;
      expect(maxAbsDiff(row, (full.data as Float32Array).subarray(at * vocab, (at + 1) * vocab)), `step ${i}`).toBeLessThanOrEqual(1e-4);
    });
  });

  it("runs on onnxruntime-web (wasm) too, with the same greedy ids", async () => {
    const [, d] = DECODERS[2];
    const model = join(OUT, "past_web.onnx");
    expect((await tfmc("export", d.tfm, "-o", model, "--with-past", ...d.weights, ...setFlags(d.sets))).code).toBe(0);
    expect((await ortGenerate1(model, d, await ortWeb())).tokens).toEqual(tfmcGenerate(d));
  });

  it("names the cache as Hugging Face's exporters do", async () => {
    const model = join(OUT, "past_names.onnx");
    expect((await tfmc("export", "test/models/tiny_gpt.tfm", "-o", model, "--with-past")).code).toBe(0);
    const g = fromBinary(ModelProtoSchema, readFileSync(model)).graph!;
    expect(g.input.map((i) => i.name)).toEqual(["tokens", "attention_mask", "position_ids", "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"]);
    expect(g.output.map((o) => o.name)).toEqual(["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"]);
    const dims = (k: number) => (g.input[k].type!.value.case === "tensorType" ? g.input[k].type!.value.value.shape!.dim.map((d) => d.value.value) : []);
    const type = (k: number) => (g.input[k].type!.value.case === "tensorType" ? g.input[k].type!.value.value.elemType : 0);
    expect([dims(1), type(1)]).toEqual([["B", "total_sequence_length"], 7]);
    expect([dims(2), type(2)]).toEqual([["B", "T"], 7]);
    expect(dims(3)).toEqual(["B", 4n, "past_sequence_length", 8n]);
    const presentDims = g.output[1].type!.value.case === "tensorType" ? g.output[1].type!.value.value.shape!.dim.map((d) => d.value.value) : [];
    expect(presentDims).toEqual(["B", 4n, "total_sequence_length", 8n]);
  });

  it("refuses a model that cannot decode one token at a time, naming why", async () => {
    const r = await tfmc("export", "examples/bert.tfm", "-o", join(OUT, "past_bert.onnx"), "--with-past", "--set", "layers=1");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--with-past: bert cannot decode one token at a time: /);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
