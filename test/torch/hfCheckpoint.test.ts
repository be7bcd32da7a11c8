import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensors, writeSafetensors, type TensorInput } from "../../src/runtime/safetensors.js";
// The generated module imports the built runtime, so the checkpoint is read from dist/ too.
import { readCheckpoint } from "../../dist/runtime/node.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";
import { maxAbsDiff } from "../randomInputs.js";

// The GPT-2 fixture's weights as save_pretrained writes the Hub's gpt2 checkpoint (saved from
// GPT2Model): names without 'transformer.', the buffers h.N.attn.bias and h.N.attn.masked_bias,
// the tied lm_head.weight repeated, F16, two shards and model.safetensors.index.json. It loads into
// examples/hf/gpt2.tfm with a prefix to add and ignore patterns, and computes the fixture's logits.
// And BERT's weights as BertForPreTraining saves them (under 'bert.', with the pretraining heads
// 'cls.*' and the buffer position_ids) load into examples/hf/bert.tfm with a prefix to strip.

const FIXTURE = join(ROOT, "test", "fixtures", "hf", "gpt2");
const manifest = JSON.parse(readFileSync(join(FIXTURE, "manifest.json"), "utf8")) as { set: Record<string, number>; tolerance: number };
const SETS = Object.entries(manifest.set).map(([k, v]) => `${k}=${v}`);
const IGNORE = ["h.*.attn.bias", "h.*.attn.masked_bias", "lm_head.weight"];
const OPTIONS = { prefix: { add: "transformer." }, ignore: IGNORE };
const FLAGS = ["--weights-prefix-add", "transformer.", ...IGNORE.flatMap((g) => ["--weights-ignore", g])];
const SHARDS = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];

let dir: string;
const want = readSafetensors(readFileSync(join(FIXTURE, "outputs.safetensors"))).tensors.get("logits")!;
const inputs = readSafetensors(readFileSync(join(FIXTURE, "inputs.safetensors"))).tensors;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tfmc-hf-gpt2-"));
  const weights = readSafetensors(readFileSync(join(FIXTURE, "weights.safetensors"))).tensors;
  const n = manifest.set.n_positions;
  const file: Record<string, TensorInput> = {};
  for (const [name, t] of weights) file[name.replace(/^transformer\./, "")] = { dtype: "F16", data: t.data as Float32Array, shape: [...t.shape] };
  for (let layer = 0; layer < manifest.set.n_layer; layer++) {
    file[`h.${layer}.attn.bias`] = { dtype: "F32", shape: [1, 1, n, n], data: new Float32Array(n * n).map((_, i) => Number(i % n <= Math.floor(i / n))) };
    file[`h.${layer}.attn.masked_bias`] = { dtype: "F32", shape: [], data: Float32Array.of(-1e4) };
  }
  file["lm_head.weight"] = file["wte.weight"];
  // The embeddings and layer 0 in the first shard, the rest in the second.
  const names = Object.keys(file).sort();
  const first = names.filter((k) => k.startsWith("w") || k.startsWith("h.0."));
  const weightMap: Record<string, string> = {};
  [first, names.filter((k) => !first.includes(k))].forEach((list, i) => {
    writeFileSync(join(dir, SHARDS[i]), writeSafetensors(Object.fromEntries(list.map((k) => [k, file[k]])), { format: "pt" }));
    for (const k of list) weightMap[k] = SHARDS[i];
  });
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tfmc(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("a save_pretrained GPT-2 checkpoint into examples/hf/gpt2.tfm", () => {
  const run = (out: string, ...flags: string[]) =>
    tfmc("run", "examples/hf/gpt2.tfm", ...SETS.flatMap((s) => ["--set", s]), "--weights", dir, ...flags, "--inputs", join(FIXTURE, "inputs.safetensors"), "--out", join(dir, out));

  it("tfmc run loads it with --weights-prefix-add and --weights-ignore and gives PyTorch's logits", () => {
    const r = run("logits.safetensors", ...FLAGS);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const got = readSafetensors(readFileSync(join(dir, "logits.safetensors"))).tensors.get("logits")!;
    expect(got.shape).toEqual(want.shape);
    expect(maxAbsDiff(got.data as Float32Array, want.data as Float32Array)).toBeLessThanOrEqual(manifest.tolerance);
  });

  it("without the flags, exits 1 naming each flag that helps", () => {
    const r = run("none.safetensors");
    expect(r.code).toBe(1);
    for (const flag of ["(--weights-prefix-add transformer.)", "(--weights-ignore 'h.*.attn.bias')", "(--weights-ignore 'h.*.attn.masked_bias')", "(--weights-ignore 'lm_head.weight')"]) {
      expect(r.err).toContain(flag);
    }
  });

  it("createModel loads it (index or folder) with the same options", async () => {
    const mod = await importGenerated(graphOf("examples/hf/gpt2.tfm", ...SETS));
    const ids = inputs.get("input_ids")!;
    for (const path of [dir, join(dir, "model.safetensors.index.json")]) {
      const model = (mod.createModel as (w: unknown, o: unknown) => ReturnType<typeof mod.createModel>)(readCheckpoint(path), OPTIONS);
      const got = model.forward({ input_ids: ids }).logits;
      expect(maxAbsDiff(got.data, want.data as Float32Array)).toBeLessThanOrEqual(manifest.tolerance);
    }
  });
});

describe("a BertForPreTraining checkpoint into examples/hf/bert.tfm", () => {
  it("loads with --weights-prefix-strip bert. and the heads and buffers ignored, and gives PyTorch's outputs", () => {
    const fixture = join(ROOT, "test", "fixtures", "hf", "bert_padded");
    const m = JSON.parse(readFileSync(join(fixture, "manifest.json"), "utf8")) as { set: Record<string, number>; tolerance: number };
    const file: Record<string, TensorInput> = {};
    for (const [name, t] of readSafetensors(readFileSync(join(fixture, "weights.safetensors"))).tensors) file[`bert.${name}`] = { dtype: "F16", data: t.data as Float32Array, shape: [...t.shape] };
    const H = m.set.hidden_size;
    file["bert.embeddings.position_ids"] = { shape: [1, m.set.max_position_embeddings], data: BigInt64Array.from({ length: m.set.max_position_embeddings }, (_, i) => BigInt(i)) };
    file["cls.predictions.bias"] = { shape: [m.set.vocab_size], data: new Float32Array(m.set.vocab_size) };
    file["cls.predictions.transform.dense.weight"] = { shape: [H, H], data: new Float32Array(H * H) };
    file["cls.seq_relationship.weight"] = { shape: [2, H], data: new Float32Array(2 * H) };
    const path = join(dir, "bert.safetensors");
    writeFileSync(path, writeSafetensors(file, { format: "pt" }));
    const out = join(dir, "bert-out.safetensors");
    const sets = Object.entries(m.set).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    const r = tfmc("run", "examples/hf/bert.tfm", ...sets, "--weights", path, "--weights-prefix-strip", "bert.", "--weights-ignore", "cls.**", "--weights-ignore", "bert.embeddings.position_ids", "--inputs", join(fixture, "inputs.safetensors"), "--out", out);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const got = readSafetensors(readFileSync(out)).tensors;
    for (const [key, expected] of readSafetensors(readFileSync(join(fixture, "outputs.safetensors"))).tensors) {
      expect(maxAbsDiff(got.get(key)!.data as Float32Array, expected.data as Float32Array), key).toBeLessThanOrEqual(m.tolerance);
    }
  });
});
