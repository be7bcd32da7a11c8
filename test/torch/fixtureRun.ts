import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { readSafetensors } from "../../src/runtime/safetensors.js";
import { ROOT } from "../helpers.js";
import { maxAbsDiff } from "../randomInputs.js";

// Fixtures written by PyTorch (scripts/fixtures/make_*_fixtures.py): a manifest of cases, each a
// folder of weights, inputs and outputs, run through the built CLI exactly as a user would.

export interface FixtureCase {
  readonly name: string;
  readonly tfm: string;
  readonly set?: Readonly<Record<string, number | string | boolean>>;
  readonly description?: string;
}

/** The cases of `<dir>/manifest.json` (a list, or `{ cases: [...] }`). */
export function fixtureCases(dir: string): FixtureCase[] {
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { cases?: FixtureCase[] } | FixtureCase[];
  return Array.isArray(manifest) ? manifest : (manifest.cases ?? []);
}

/** The optimisation levels and targets every fixture runs at. */
export const LEVELS = ["-O0", "-O2", "-O2 --target wasm"] as const;

/** Runs `tfmc run` on a case at `level` and expects every output within `tolerance` of PyTorch's. */
export function expectFixtureAgrees(dir: string, c: FixtureCase, level: string, tolerance = 1e-4): void {
  const out = join(ROOT, "test", ".generated", "fixtures");
  mkdirSync(out, { recursive: true });
  const file = join(out, `${c.name}${level.replace(/ --target /, "-")}.safetensors`);
  const sets = Object.entries(c.set ?? {}).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
  const args = ["run", c.tfm, "--weights", join(dir, c.name, "weights.safetensors"), "--inputs", join(dir, c.name, "inputs.safetensors"), "--out", file, ...level.split(" "), ...sets];
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...args], { cwd: ROOT, encoding: "utf8" });
  expect(r.stderr.slice(0, 2000)).toBe("");
  expect(r.status).toBe(0);
  const got = readSafetensors(readFileSync(file)).tensors;
  const want = readSafetensors(readFileSync(join(dir, c.name, "outputs.safetensors"))).tensors;
  for (const [key, expected] of want) {
    const actual = got.get(key);
    expect(actual, `output ${key}`).toBeDefined();
    expect(actual!.shape).toEqual(expected.shape);
    expect(maxAbsDiff(actual!.data as Float32Array, expected.data as Float32Array)).toBeLessThanOrEqual(tolerance);
  }
}
