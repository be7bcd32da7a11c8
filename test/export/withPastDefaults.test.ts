import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { maxAbsDiff } from "../randomInputs.js";
import { ortRun, OUT, tfmc } from "./harness.js";
import { ortGenerate } from "./pastDriver.js";

// --with-past on a decoder whose inputs have defaults (docs/language.md): each stays a graph input,
// fed at every step for the new tokens, or is filled with its default under --without, as
// `tfmc generate` fills it.

const TFM = join(OUT, "defaults_decoder.tfm");
mkdirSync(OUT, { recursive: true });
writeFileSync(
  TFM,
  [
    "model defaults_decoder {",
    "  config d = 16, vocab = 40, ctx = 32",
    "  input ids: i32[B, T] where T <= ctx",
    "  input types: i32[B, T] = 1",
    "  input offsets: i64[B] = 2",
    "  input shift: f32[d] = 0.5",
    "  e = word: embedding(ids, vocab, d) + kind: embedding(types, 3, d) + shift + wpe: learned_positions(T, ctx, d)",
    "  e = e + where(reshape(offsets, [-1, 1, 1]) > 1, 1.0, 0.0)",
    "  e = e + attn: attention(ln: layer_norm(e), 2, causal = true)",
    "  output logits = linear(ln_f: layer_norm(e), vocab)",
    "}",
    "",
  ].join("\n"),
);

const SEED = "2";
const NEW = 8;
const PROMPTS = [
  [3, 7, 1, 22, 9],
  [30, 4],
];
const WITHOUT = ["--without", "types", "--without", "offsets", "--without", "shift"];

function tfmcGenerate(prompt: readonly number[], tfm = TFM): number[] {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "generate", tfm, "--prompt", prompt.join(","), "--max-new-tokens", String(NEW), "--json", "--seed", SEED], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).results as { tokens: number[] }[])[0].tokens;
}

const inputNames = (model: string) => fromBinary(ModelProtoSchema, readFileSync(model)).graph!.input.map((i) => i.name);

describe("tfmc export --with-past: inputs with defaults", () => {
  it("--without fills them with their defaults: a left-padded batch picks the greedy ids of tfmc generate", async () => {
    const model = join(OUT, "past_defaults_without.onnx");
    const r = await tfmc("export", TFM, "-o", model, "--with-past", "--seed", SEED, ...WITHOUT);
    expect(r.err).toBe("");
    expect(inputNames(model).slice(0, 3)).toEqual(["ids", "attention_mask", "position_ids"]);
    const want = PROMPTS.map((p) => tfmcGenerate(p));
    expect(new Set(want.flat()).size).toBeGreaterThan(2);
    expect((await ortGenerate(model, PROMPTS, { steps: NEW })).tokens).toEqual(want);
  });

  it("kept, they are fed for the new tokens at each step: the logits equal the whole sequence's, run at once", async () => {
    const model = join(OUT, "past_defaults_kept.onnx");
    expect((await tfmc("export", TFM, "-o", model, "--with-past", "--seed", SEED)).code).toBe(0);
    expect(inputNames(model).slice(0, 4)).toEqual(["ids", "types", "offsets", "shift"]);
    // Values other than the defaults: a token type per position, offsets that switch the where off.
    const typeAt = (p: number) => (p * 7) % 3;
    const shift = Float32Array.from({ length: 16 }, (_, j) => j / 10);
    const got = await ortGenerate(model, [PROMPTS[0]], {
      steps: NEW,
      feeds: ({ B, T, past }) => ({
        types: new ort.Tensor("int64", BigInt64Array.from({ length: B * T }, (_, k) => BigInt(typeAt(past + (k % T)))), [B, T]),
        offsets: new ort.Tensor("int64", new BigInt64Array(B).fill(1n), [B]),
        shift: new ort.Tensor("float32", shift, [16]),
      }),
    });
    const whole = join(OUT, "past_defaults_whole.onnx");
    expect((await tfmc("export", TFM, "-o", whole, "--seed", SEED)).code).toBe(0);
    const seq = [...PROMPTS[0], ...got.tokens[0].slice(0, -1)];
    const full = await ortRun(whole, {
      ids: { data: Int32Array.from(seq), shape: [1, seq.length] },
      types: { data: Int32Array.from(seq, (_, p) => typeAt(p)), shape: [1, seq.length] },
      offsets: { data: BigInt64Array.from([1n]), shape: [1] },
      shift: { data: shift, shape: [16] },
    });
    const vocab = full.logits.shape[2];
    got.logits[0].forEach((row, i) => {
      const at = PROMPTS[0].length - 1 + i;
      expect(maxAbsDiff(row, (full.logits.data as Float32Array).subarray(at * vocab, (at + 1) * vocab)), `step ${i}`).toBeLessThanOrEqual(1e-5);
    });
  });

  it("a key mask with a default that blocks nothing is left out: attention_mask takes its place", async () => {
    const tfm = join(OUT, "keep_decoder.tfm");
    writeFileSync(
      tfm,
      [
        "model keep_decoder {",
        "  config d = 16, vocab = 40, ctx = 32",
        "  input ids: i32[B, T] where T <= ctx",
        "  input keep: bool[B, T] = true",
        "  e = word: embedding(ids, vocab, d) + wpe: learned_positions(T, ctx, d)",
        "  e = e + attn: attention(ln: layer_norm(e), 2, causal = true, keep_keys = keep)",
        "  output logits = linear(ln_f: layer_norm(e), vocab)",
        "}",
        "",
      ].join("\n"),
    );
    const model = join(OUT, "past_keep.onnx");
    const r = await tfmc("export", tfm, "-o", model, "--with-past", "--seed", SEED);
    expect(r.err).toBe("");
    expect(inputNames(model).slice(0, 4)).toEqual(["ids", "attention_mask", "position_ids", "past_key_values.0.key"]);
    const want = PROMPTS.map((p) => tfmcGenerate(p, tfm));
    expect(new Set(want.flat()).size).toBeGreaterThan(2);
    expect((await ortGenerate(model, PROMPTS, { steps: NEW })).tokens).toEqual(want);
  });
});
