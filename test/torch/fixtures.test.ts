import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../../src/runtime/safetensors.js";
import { ROOT } from "../helpers.js";
import { maxAbsDiff } from "../randomInputs.js";

// PyTorch's outputs for the examples/torch modules and the test models, made by
// scripts/fixtures/make_torch_fixtures.py with Debian's PyTorch and committed. Each case goes
// through `tfmc run` exactly as a user would call it, at -O0 and -O2, and with the wasm target.

interface FixtureCase {
  readonly name: string;
  readonly tfm: string;
  readonly set?: Readonly<Record<string, number | string | boolean>>;
  readonly description?: string;
}

const DIR = join(ROOT, "test", "fixtures", "torch");
const manifest = JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")) as { cases?: FixtureCase[] } | FixtureCase[];
const cases: FixtureCase[] = Array.isArray(manifest) ? manifest : (manifest.cases ?? []);
const OUT = join(ROOT, "test", ".generated", "fixtures");

describe("tfmc run against PyTorch", () => {
  it("has fixtures for every examples/torch module, including d_model = 512", () => {
    for (const m of ["multihead_attention", "encoder_layer", "decoder_layer", "transformer"]) {
      expect(cases.some((c) => c.tfm === `examples/torch/${m}.tfm`)).toBe(true);
    }
    expect(cases.some((c) => Object.entries(c.set ?? {}).some(([k, v]) => /^(d_model|embed_dim)$/.test(k) && v === 512))).toBe(true);
  });

  const runs = cases.flatMap((c) => ["-O0", "-O2", "-O2 --target wasm"].map((level) => [c.name, level, c] as const));
  it.each(runs)("%s at %s agrees within 1e-4", (name, level, c) => {
    mkdirSync(OUT, { recursive: true });
    const out = join(OUT, `${name}${level.replace(/ --target /, "-")}.safetensors`);
    const sets = Object.entries(c.set ?? {}).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    // The built CLI in a child process, exactly as a user runs it.
    const args = ["run", c.tfm, "--weights", join(DIR, name, "weights.safetensors"), "--inputs", join(DIR, name, "inputs.safetensors"), "--out", out, ...level.split(" "), ...sets];
    const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...args], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr.slice(0, 2000)).toBe("");
    expect(r.status).toBe(0);
    const got = readSafetensors(readFileSync(out)).tensors;
    const want = readSafetensors(readFileSync(join(DIR, name, "outputs.safetensors"))).tensors;
    for (const [key, expected] of want) {
      const actual = got.get(key);
      expect(actual, `output ${key}`).toBeDefined();
      expect(actual!.shape).toEqual(expected.shape);
      expect(maxAbsDiff(actual!.data as Float32Array, expected.data as Float32Array)).toBeLessThanOrEqual(1e-4);
    }
  });
});
