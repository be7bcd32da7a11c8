import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomWeights } from "../../src/runtime/random.js";
import { f16BitsToNumber, numberToF16Bits, writeSafetensors, type TensorInput } from "../../src/runtime/safetensors.js";
// The generated module imports the built runtime, so the checkpoint is read (and errors come) from dist/ too.
import { readCheckpoint } from "../../dist/runtime/node.js";
import { WeightsError } from "../../dist/runtime/errors.js";
import { loadWeights } from "../../dist/runtime/weights.js";
import { graphOf, importGenerated, type GeneratedModule } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";

// A checkpoint as Hugging Face's save_pretrained writes a GPT2Model: names without 'transformer.',
// a causal-mask buffer 'h.N.attn.bias' per layer, a tied duplicate 'lm_head.weight', F16 tensors,
// two shards and model.safetensors.index.json. It loads into test/models/prefixed_gpt.tfm (the
// GPT2LMHeadModel names) with prefix.add and two ignore patterns, and nothing else.

const MODEL = "test/models/prefixed_gpt.tfm";
const SETS = ["layers=2", "ctx=8"];
const OPTIONS = { prefix: { add: "transformer." }, ignore: ["h.*.attn.bias", "lm_head.weight"] };
const FLAGS = ["--weights-prefix-add", "transformer.", "--weights-ignore", "h.*.attn.bias", "--weights-ignore", "lm_head.weight"];

let dir: string;
let mod: GeneratedModule;
/** The model's weights under its own names, as float32 after rounding through F16. */
let rounded: Record<string, { data: Float32Array; shape: number[] }>;

const halfRounded = (d: Float32Array) => d.map((v) => f16BitsToNumber(numberToF16Bits(v)));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tfmc-checkpoint-"));
  mod = await importGenerated(graphOf(MODEL, ...SETS));
  const original = randomWeights(mod.spec.parameters, 7) as Record<string, { data: Float32Array; shape: number[] }>;
  rounded = Object.fromEntries(Object.entries(original).map(([k, t]) => [k, { data: halfRounded(t.data), shape: t.shape }]));
  const hf: Record<string, TensorInput> = {};
  for (const [name, t] of Object.entries(original)) hf[name.replace(/^transformer\./, "")] = { dtype: "F16", ...t };
  const mask = new Uint8Array(64).map((_, i) => Number(i % 8 <= Math.floor(i / 8)));
  for (const layer of [0, 1]) hf[`h.${layer}.attn.bias`] = { dtype: "BOOL", shape: [1, 1, 8, 8], data: mask };
  hf["lm_head.weight"] = hf["wte.weight"];
  // Layer 0 and the embeddings in the first shard, the rest in the second, as save_pretrained splits by size.
  const names = Object.keys(hf).sort();
  const first = names.filter((n) => n.startsWith("h.0.") || n.startsWith("w"));
  const shards = [first, names.filter((n) => !first.includes(n))];
  const files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  const weightMap: Record<string, string> = {};
  shards.forEach((list, i) => {
    writeFileSync(join(dir, files[i]), writeSafetensors(Object.fromEntries(list.map((n) => [n, hf[n]])), { format: "pt" }));
    for (const n of list) weightMap[n] = files[i];
  });
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: 123 }, weight_map: weightMap }, null, 2));
  writeFileSync(join(dir, "rounded.safetensors"), writeSafetensors(rounded));
  writeFileSync(join(dir, "inputs.safetensors"), writeSafetensors({ tokens: { data: Int32Array.from([1, 5, 9, 49, 0, 3, 3, 2, 8, 7]), shape: [2, 5] } }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The built CLI in a process of its own, as a user runs it. */
function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout.trimEnd(), err: r.stderr.trimEnd() };
}

describe("a save_pretrained checkpoint (prefix-less, buffers, tied head, F16, two shards)", () => {
  it("loads with prefix.add and ignore; every value equals the original rounded to F16", () => {
    const w = loadWeights(mod.spec.parameters, readCheckpoint(join(dir, "model.safetensors.index.json")), OPTIONS);
    expect(Object.keys(w).sort()).toEqual(mod.spec.parameters.map((p) => p.name).sort());
    for (const p of mod.spec.parameters) expect(w[p.name], p.name).toEqual(rounded[p.name].data);
  });

  it("a model built from it (index or folder) computes what one built from the rounded float32 weights does", () => {
    const tokens = { data: Int32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] };
    const want = mod.createModel(rounded).forward({ tokens }).logits;
    for (const path of [join(dir, "model.safetensors.index.json"), dir]) {
      const got = (mod.createModel as (w: unknown, o: unknown) => ReturnType<GeneratedModule["createModel"]>)(readCheckpoint(path), OPTIONS).forward({ tokens }).logits;
      expect(got.data).toEqual(want.data);
    }
  });

  it("createThreadedModel takes the same options beside threads", async () => {
    const tokens = { data: Int32Array.from([4, 3, 2]), shape: [1, 3] };
    const want = mod.createModel(rounded).forward({ tokens }).logits.data.slice();
    const threaded = await mod.createThreadedModel(readCheckpoint(dir), { threads: 2, ...OPTIONS } as { threads: number });
    try {
      expect((await threaded.forward({ tokens })).logits.data).toEqual(want);
    } finally {
      await threaded.close();
    }
  });

  it("without the options, one WeightsError names every problem and the options that help", () => {
    let e: unknown;
    try {
      mod.createModel(readCheckpoint(dir));
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(WeightsError);
    const err = e as WeightsError;
    expect(err.problems).toHaveLength(28 + 28 + 2 + 1);
    expect(err.hints).toEqual([
      `28 missing parameters are in the file without the prefix 'transformer.': add it with prefix: { add: "transformer." } (--weights-prefix-add transformer.)`,
      `if the file's 2 entries such as 'h.0.attn.bias' are not needed (a tied duplicate, a buffer), ignore them with ignore: ["h.*.attn.bias"] (--weights-ignore 'h.*.attn.bias')`,
      `if the file's 'lm_head.weight' is not needed (a tied duplicate, a buffer), ignore it with ignore: ["lm_head.weight"] (--weights-ignore 'lm_head.weight')`,
    ]);
  });

  it("GPT2LMHeadModel's names (BF16, one file) load into the prefix-less tiny_gpt with prefix.strip", async () => {
    const tiny = await importGenerated(graphOf("test/models/tiny_gpt.tfm", ...SETS));
    const w = randomWeights(tiny.spec.parameters, 3) as Record<string, { data: Float32Array; shape: number[] }>;
    const file: Record<string, TensorInput> = Object.fromEntries(Object.entries(w).map(([k, t]) => [`transformer.${k}`, { dtype: "BF16", ...t }]));
    file["lm_head.weight"] = file["transformer.wte.weight"];
    const path = join(dir, "lm_head_model.safetensors");
    writeFileSync(path, writeSafetensors(file));
    const loaded = loadWeights(tiny.spec.parameters, readCheckpoint(path), { prefix: { strip: "transformer." }, ignore: ["lm_head.weight"] });
    const bf16 = (d: Float32Array) => new Float32Array(new Uint32Array(d.buffer.slice(0)).map((b) => (((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16) >>> 0).buffer);
    for (const p of tiny.spec.parameters) expect(loaded[p.name], p.name).toEqual(bf16(w[p.name].data));
  });
});

describe("tfmc run and generate with --weights-* flags", () => {
  const base = ["--inputs", "", "--out", ""];
  const run = (weights: string, out: string, ...flags: string[]) =>
    cli("run", MODEL, ...SETS.flatMap((s) => ["--set", s]), "--weights", weights, ...flags, ...base.map((a, i) => (i === 1 ? join(dir, "inputs.safetensors") : i === 3 ? join(dir, out) : a)));

  it("runs the sharded checkpoint (index or folder) exactly as the rounded float32 file", () => {
    const want = run(join(dir, "rounded.safetensors"), "want.safetensors");
    expect(want.code).toBe(0);
    for (const weights of [join(dir, "model.safetensors.index.json"), dir]) {
      const got = run(weights, "got.safetensors", ...FLAGS);
      expect(got.err).toBe("");
      expect(got.code).toBe(0);
      expect(readFileSync(join(dir, "got.safetensors"))).toEqual(readFileSync(join(dir, "want.safetensors")));
    }
  });

  it("without the flags, exits 1 naming the flags that would help", () => {
    const r = run(dir, "none.safetensors");
    expect(r.code).toBe(1);
    expect(r.err).toContain("hint: 28 missing parameters are in the file without the prefix 'transformer.'");
    expect(r.err).toContain("(--weights-prefix-add transformer.)");
    expect(r.err).toContain("(--weights-ignore 'h.*.attn.bias')");
  });

  it("generates the same tokens from the sharded checkpoint as from the rounded file", () => {
    const gen = (weights: string, ...flags: string[]) => cli("generate", MODEL, ...SETS.flatMap((s) => ["--set", s]), "--prompt", "1,2,3", "--max-new-tokens", "4", "--weights", weights, ...flags);
    const want = gen(join(dir, "rounded.safetensors"));
    expect(want.code).toBe(0);
    expect(want.out).toMatch(/^\d+,\d+,\d+,\d+\tscore/);
    const got = gen(dir, ...FLAGS);
    expect(got.code).toBe(0);
    expect(got.out).toBe(want.out);
  });

  it("refuses the flags without --weights, and reports a shard that is not there", () => {
    const r = cli("run", MODEL, "--out", join(dir, "x.safetensors"), "--weights-ignore", "lm_head.weight");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tfmc: run: --weights-ignore goes with --weights/);
    const broken = join(dir, "broken");
    rmSync(broken, { recursive: true, force: true });
    mkdirSync(broken);
    copyFileSync(join(dir, "model.safetensors.index.json"), join(broken, "model.safetensors.index.json"));
    copyFileSync(join(dir, "model-00001-of-00002.safetensors"), join(broken, "model-00001-of-00002.safetensors"));
    const missing = run(broken, "y.safetensors", ...FLAGS);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(`tfmc: error: weights ${join(broken, "model.safetensors.index.json")}: the shard 'model-00002-of-00002.safetensors': no such file`);
    const empty = run(join(dir, "nowhere"), "z.safetensors");
    expect(empty.err).toBe(`tfmc: error: weights ${join(dir, "nowhere")}: no such file`);
  });
});
