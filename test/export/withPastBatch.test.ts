import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { maxAbsDiff } from "../randomInputs.js";
import { ortRun, OUT, setFlags, tfmc } from "./harness.js";
import { ortGenerate, positionIds } from "./pastDriver.js";

// --with-past decoders driven as Hugging Face's generation loops drive theirs: a batch of prompts
// of different lengths, left-padded, with attention_mask and position_ids computed from the mask.
// Each row picks the greedy ids `tfmc generate` picks for that prompt alone, unpadded.

const NEW = 10;

interface Case {
  readonly tfm: string;
  readonly sets: readonly string[];
  readonly seed: number;
  /** An encoder-decoder's source ids (the same for every row) and its token input's name. */
  readonly source?: readonly number[];
  readonly tokens?: string;
}

/** A decoder without positions (attention alone orders the tokens): it takes no position_ids. */
const NOPE = join(OUT, "nope_gpt.tfm");
mkdirSync(OUT, { recursive: true });
writeFileSync(
  NOPE,
  [
    "model nope_gpt {",
    "  config vocab = 50, d = 32, heads = 4",
    "  input tokens: i32[B, T]",
    "  h = wte: embedding(tokens, vocab, d)",
    "  h = h + attn: attention(ln: layer_norm(h), heads, causal = true)",
    "  h = h + attn2: attention(ln2: layer_norm(h), heads, causal = true)",
    "  output logits = linear(ln_f: layer_norm(h), vocab)",
    "}",
    "",
  ].join("\n"),
);

/** Rotary positions with no bound on the length: the angles computed from position_ids, not tabulated. */
const ROPE = join(OUT, "rope_unbounded.tfm");
writeFileSync(
  ROPE,
  [
    "model rope_unbounded {",
    "  config vocab = 50, d = 32, heads = 4",
    "  input tokens: i32[B, T]",
    "  h = wte: embedding(tokens, vocab, d)",
    "  h = h + attn: attention(ln: rms_norm(h), heads, kv_heads = 2, causal = true, rotary = rope(theta = 100.0))",
    "  h = h + attn2: attention(ln2: rms_norm(h), heads, kv_heads = 2, causal = true, rotary = rope(theta = 100.0))",
    "  output logits = linear(ln_f: rms_norm(h), vocab)",
    "}",
    "",
  ].join("\n"),
);

const CASES: readonly (readonly [string, Case])[] = [
  ["examples/hf/gpt2.tfm (learned positions)", { tfm: "examples/hf/gpt2.tfm", sets: ["n_embd=32", "n_head=2", "n_layer=2", "vocab_size=50", "n_positions=64"], seed: 3 }],
  [
    "examples/hf/llama.tfm (rotary, 2 key/value heads for 4)",
    {
      tfm: "examples/hf/llama.tfm",
      sets: ["hidden_size=32", "num_attention_heads=4", "num_key_value_heads=2", "intermediate_size=64", "num_hidden_layers=2", "vocab_size=50", "max_position_embeddings=64"],
      seed: 2,
    },
  ],
  [
    "examples/translator.tfm (sinusoidal positions; the source fed for every row)",
    { tfm: "examples/translator.tfm", sets: ["d_model=32", "heads=4", "layers=2", "d_ff=48", "vocab=90"], seed: 4, source: [5, 6, 7, 8, 9], tokens: "target" },
  ],
  ["a decoder without positions", { tfm: NOPE, sets: [], seed: 5 }],
  ["rotary positions, no bound on the length", { tfm: ROPE, sets: [], seed: 7 }],
];

const PROMPTS = [
  [3, 17, 8, 41, 5, 29],
  [12, 30],
];

function tfmcGenerate(c: Case, prompt: readonly number[]): number[] {
  const args = ["generate", c.tfm, "--prompt", prompt.join(","), "--max-new-tokens", String(NEW), "--json", "--seed", String(c.seed), ...setFlags(c.sets)];
  if (c.source) args.push("--source", c.source.join(","));
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).results as { tokens: number[] }[])[0].tokens;
}

describe("tfmc export --with-past: a left-padded batch", () => {
  it("computes position_ids as Hugging Face does (cumsum(mask) - 1, pads at 1)", () => {
    expect(positionIds([0, 0, 1, 1, 1], 5)).toEqual([1, 1, 0, 1, 2]);
    expect(positionIds([0, 0, 1, 1, 1, 1], 1)).toEqual([3]);
  });

  it.each(CASES)("%s: each row picks the greedy ids of tfmc generate on its prompt alone", async (name, c) => {
    const model = join(OUT, `past_batch_${name.replace(/\W+/g, "_")}.onnx`);
    const r = await tfmc("export", c.tfm, "-o", model, "--with-past", "--seed", String(c.seed), ...setFlags(c.sets));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const want = PROMPTS.map((p) => tfmcGenerate(c, p));
    expect(new Set(want.flat()).size).toBeGreaterThan(2);
    const inputs = fromBinary(ModelProtoSchema, readFileSync(model)).graph!.input.map((i) => i.name);
    expect(inputs.includes("position_ids")).toBe(c.tfm !== NOPE);
    const drive = { steps: NEW, source: c.source, tokens: c.tokens };
    const batch = await ortGenerate(model, PROMPTS, { ...drive, pad: 0 });
    expect(batch.tokens).toEqual(want);
    // A pad's query sees only pads, all blocked: its attention gives zeros, never NaN.
    expect(batch.first.every(Number.isFinite)).toBe(true);
    // Each row's logits equal those of its prompt decoded alone (all-ones mask, positions past + 0, 1, ...).
    for (const [b, p] of PROMPTS.entries()) {
      const alone = await ortGenerate(model, [p], drive);
      expect(alone.tokens[0]).toEqual(want[b]);
      alone.logits[0].forEach((row, i) => expect(maxAbsDiff(row, batch.logits[b][i]), `row ${b}, step ${i}`).toBeLessThanOrEqual(1e-5));
    }
  });

  it("blocks a key whose attention_mask is 0: a pad's id does not change the other tokens' logits", async () => {
    const [, c] = CASES[1];
    const model = join(OUT, "past_batch_pad_id.onnx");
    expect((await tfmc("export", c.tfm, "-o", model, "--with-past", "--seed", String(c.seed), ...setFlags(c.sets))).code).toBe(0);
    const [zero, other] = await Promise.all([0, 33].map((pad) => ortGenerate(model, PROMPTS, { steps: 3, pad })));
    expect(other.tokens).toEqual(zero.tokens);
    zero.logits[1].forEach((row, i) => expect(maxAbsDiff(row, other.logits[1][i])).toBeLessThanOrEqual(1e-6));
  });

  it("refuses a model that uses a position table other than added to the embeddings, naming the node", async () => {
    const tfm = join(OUT, "positions_out.tfm");
    writeFileSync(
      tfm,
      [
        "model positions_out {",
        "  config vocab = 20, d = 8, ctx = 16",
        "  input tokens: i32[B, T] where T <= ctx",
        "  p = wpe: learned_positions(T, ctx, d)",
        "  h = wte: embedding(tokens, vocab, d) + p",
        "  h = h + attn: attention(h, 2, causal = true)",
        "  output logits = linear(h, vocab)",
        "  output positions = p * 2.0",
        "}",
        "",
      ].join("\n"),
    );
    const r = await tfmc("export", tfm, "-o", join(OUT, "positions_out.onnx"), "--with-past");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/positions_out\.tfm:8:\d+: --with-past: 'scalar' makes an output of positions \[T, \.\.\.\] shared by the batch/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("a model's own optional key mask gives way to attention_mask, which blocks the same keys", async () => {
    // A decoder without positions whose attention reads an optional [B, T] key mask: run at once
    // on the padded prompts with that mask, it gives what the decoder's first step gives.
    const tfm = join(OUT, "masked_gpt.tfm");
    writeFileSync(
      tfm,
      [
        "model masked_gpt {",
        "  config vocab = 50, d = 32, heads = 4",
        "  input tokens: i32[B, T]",
        "  input attention_mask?: bool[B, T]",
        "  h = wte: embedding(tokens, vocab, d)",
        "  h = h + attn: attention(ln: layer_norm(h), heads, causal = true, keep_keys = attention_mask)",
        "  h = h + attn2: attention(ln2: layer_norm(h), heads, causal = true, keep_keys = attention_mask)",
        "  output logits = linear(ln_f: layer_norm(h), vocab)",
        "}",
        "",
      ].join("\n"),
    );
    const past = join(OUT, "masked_gpt_past.onnx");
    const whole = join(OUT, "masked_gpt_whole.onnx");
    expect((await tfmc("export", tfm, "-o", past, "--with-past", "--seed", "6")).code).toBe(0);
    expect((await tfmc("export", tfm, "-o", whole, "--seed", "6", "--input-dtype", "attention_mask=i64")).code).toBe(0);
    expect(fromBinary(ModelProtoSchema, readFileSync(past)).graph!.input.map((i) => i.name).slice(0, 3)).toEqual(["tokens", "attention_mask", "past_key_values.0.key"]);
    const width = Math.max(...PROMPTS.map((p) => p.length));
    const padded = PROMPTS.flatMap((p) => [...new Array<number>(width - p.length).fill(0), ...p]);
    const mask = PROMPTS.flatMap((p) => [...new Array<number>(width - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
    const full = await ortRun(whole, { tokens: { data: Int32Array.from(padded), shape: [2, width] }, attention_mask: { data: BigInt64Array.from(mask.map(BigInt)), shape: [2, width] } });
    const first = (await ortGenerate(past, PROMPTS, { steps: 1 })).first;
    expect(maxAbsDiff(first, full.logits.data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });
});
