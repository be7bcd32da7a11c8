import { describe, expect, it } from "vitest";
import { interpret } from "../../src/ir/interpret.js";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { randomInputs } from "../randomInputs.js";

// Inputs far past the usual range (up to float32's largest). The reference is the interpreter on
// the graph as lowered: float64 inside each op, float32 between ops, so a score past float32's range
// is +∞ and its softmax NaN. Every level and both targets must give the same NaNs and infinities
// and the same finite values (within 1e-4 of the largest); the interpreter on the optimised graph too.

const ENCODERS = [
  ["post-norm", ["d_model=16", "nhead=2", "dim_feedforward=24"]],
  ["pre-norm", ["d_model=16", "nhead=2", "dim_feedforward=24", "norm_first=true"]],
] as const;
const PATH = "examples/torch/encoder_layer.tfm";
const SCALES = [1e10, 1e17, 1e20, 1e30, 1e38];

function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let top = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i])) top = Math.max(top, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    if (!Number.isFinite(w)) expect(String(g), `${what} [${i}]`).toBe(String(w));
    else expect(Math.abs(g - w), `${what} [${i}]: ${g} vs ${w}`).toBeLessThanOrEqual(1e-4 * Math.max(1, top));
  }
}

describe("huge inputs: every level and target agrees with the interpreter", () => {
  it.each(ENCODERS)("%s encoder layer", async (_name, sets) => {
    const lowered = graphOf(PATH, "-O0", ...sets);
    const variants = await Promise.all(
      ([[0, "ts"], [2, "ts"], [0, "wasm"], [2, "wasm"]] as const).map(async ([level, target]) => {
        const g = graphOf(PATH, `-O${level}`, ...sets);
        return { name: `-O${level} ${target}`, g, mod: await importGenerated(g, { target }) };
      }),
    );
    const weights = randomWeights(variants[0].mod.spec.parameters, 7);
    const params = new Map(Object.entries(weights));
    for (const scale of SCALES) {
      const inputs = randomInputs(lowered, { B: 2, S: 5 }, 1);
      for (const t of Object.values(inputs)) if (t?.data instanceof Float32Array) t.data.forEach((v, i, a) => (a[i] = v * scale));
      const want = interpret(lowered, params, inputs).out.data;
      for (const v of variants) {
        expectSame(v.mod.createModel(weights).forward(inputs).out.data, want, `${v.name} at ${scale}`);
        expectSame(interpret(v.g, params, inputs).out.data, want, `interpreter ${v.name} at ${scale}`);
      }
    }
  });
});
