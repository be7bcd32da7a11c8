import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { expectFixtureAgrees, fixtureCases, LEVELS } from "./fixtureRun.js";

// PyTorch's outputs for the examples/torch modules and the test models, made by
// scripts/fixtures/make_torch_fixtures.py with Debian's PyTorch and committed. Each case goes
// through `tfmc run` exactly as a user would call it, at -O0 and -O2, and with the wasm target.

const DIR = join(ROOT, "test", "fixtures", "torch");
const cases = fixtureCases(DIR);

describe("tfmc run against PyTorch", () => {
  it("has fixtures for every examples/torch module, including d_model = 512", () => {
    for (const m of ["multihead_attention", "encoder_layer", "decoder_layer", "transformer"]) {
      expect(cases.some((c) => c.tfm === `examples/torch/${m}.tfm`)).toBe(true);
    }
    expect(cases.some((c) => Object.entries(c.set ?? {}).some(([k, v]) => /^(d_model|embed_dim)$/.test(k) && v === 512))).toBe(true);
  });

  const runs = cases.flatMap((c) => LEVELS.map((level) => [c.name, level, c] as const));
  it.each(runs)("%s at %s agrees within 1e-4", (_name, level, c) => expectFixtureAgrees(DIR, c, level));
});
