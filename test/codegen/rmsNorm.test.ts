import { describe, expect, it } from "vitest";
import { planWasm } from "../../src/codegen/wasmTarget.js";
import { constantNodes } from "../../src/ir/incremental.js";
import { interpret } from "../../src/ir/interpret.js";
import { randomWeights, seededRandom } from "../../src/runtime/random.js";
import { WasmMemory } from "../../src/runtime/wasmMemory.js";
import { moduleBytes } from "../../src/wasm/binary.js";
import { rmsNormFunction, rmsNormName } from "../../src/wasm/rmsNorm.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

// RMSNorm on the wasm target: the SIMD kernel against a float64 RMSNorm (rows of every size class,
// huge and infinite values), and whole models (test/models/rms_block.tfm) against the interpreter,
// with the residual add fused into the norm at -O2 as it is into LayerNorm.

const VARIANTS = [
  { add: true, scale: true },
  { add: true, scale: false },
  { add: false, scale: true },
  { add: false, scale: false },
];

/** The kernel on rows of a (+ c), and the float64 reference on the same float32 sums. */
function run(v: { add: boolean; scale: boolean }, a: Float32Array, c: Float32Array, w: Float32Array, rows: number, d: number, eps: number) {
  const wasm = new WasmMemory(moduleBytes([rmsNormFunction(v)]));
  const wo = wasm.place(w);
  const arena = wasm.arena(3 * rows * d);
  const [ao, co, out] = [0, 1, 2].map((k) => arena.subarray(k * rows * d, (k + 1) * rows * d));
  ao.set(a);
  co.set(c);
  wasm.fn[rmsNormName(v)](out.byteOffset, ao.byteOffset, co.byteOffset, wo, 0, rows, d, eps);
  const want = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const t = Array.from({ length: d }, (_, j) => Math.fround(a[i * d + j] + (v.add ? c[i * d + j] : 0)));
    const inv = 1 / Math.sqrt(t.reduce((x, y) => x + y * y, 0) / d + eps);
    for (let j = 0; j < d; j++) want[i * d + j] = t[j] * inv * (v.scale ? w[j] : 1);
  }
  return { got: Float32Array.from(out), want };
}

describe("the WebAssembly SIMD RMSNorm", () => {
  it.each([
    [1, 4],
    [5, 12],
    [3, 64],
    [2, 2048],
  ])("equals a float64 RMSNorm for %i rows of %i, with and without the sum and the weight", (rows, d) => {
    for (const v of VARIANTS) {
      const r = seededRandom(rows * d);
      const [a, c] = [0, 1].map(() => Float32Array.from({ length: rows * d }, () => 6 * r() - 3));
      const w = Float32Array.from({ length: d }, () => r() + 0.5);
      const { got, want } = run(v, a, c, w, rows, d, 1e-6);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    }
  });

  it("stays within 1e-4 of float64 on rows near float32's range, tiny rows and constant rows; infinities as the reference", () => {
    const d = 16;
    const r = seededRandom(3);
    for (const scale of [1e-30, 1e-3, 1e17, 1e20, 1e30, 1e38]) {
      for (const v of VARIANTS) {
        const a = Float32Array.from({ length: 2 * d }, () => (r() - 0.5) * scale);
        const c = Float32Array.from({ length: 2 * d }, () => (r() - 0.5) * scale);
        const w = Float32Array.from({ length: d }, () => r() + 0.5);
        const { got, want } = run(v, a, c, w, 2, d, 1e-5);
        expect(maxAbsDiff(got, want), `${scale} ${JSON.stringify(v)}`).toBeLessThan(1e-4);
      }
    }
    // A constant row, and a row holding +∞: 0 at every finite value, NaN at ∞ (as t · 0).
    const a = new Float32Array(8).fill(5e30);
    a[5] = Infinity;
    const { got, want } = run({ add: false, scale: false }, a, new Float32Array(8), new Float32Array(4), 2, 4, 1e-5);
    expect([...got].map(String)).toEqual([...want].map((x) => String(Math.fround(x))));
    expect(got[0]).toBeCloseTo(1, 6);
  });
});

describe("RMSNorm in compiled models", () => {
  it("runs every RMSNorm of the model in WebAssembly, the post-norm residual fused into its norm", () => {
    const g = graphOf("test/models/rms_block.tfm", "-O2");
    const ops = g.order().map((id) => g.node(id).op);
    expect(ops.filter((op) => op.endsWith("rms_norm"))).toEqual(["rms_norm", "add_rms_norm", "rms_norm"]);
    const plan = planWasm(g, constantNodes(g));
    expect([...plan.norms.values()].map((n) => n.fn)).toEqual(["rms_norm_w", "rms_norm_add_w", "rms_norm"]);
  });

  it.each([
    ["-O0", "ts"],
    ["-O2", "ts"],
    ["-O0", "wasm"],
    ["-O2", "wasm"],
  ] as const)("agrees with the float64 interpreter at %s (%s), also on inputs near float32's range", async (level, target) => {
    const g = graphOf("test/models/rms_block.tfm", level);
    const mod = await importGenerated(g, { target });
    const weights = randomWeights(mod.spec.parameters, 5);
    const model = mod.createModel(weights);
    for (const scale of [1, 1e20, 1e30]) {
      const inputs = randomInputs(g, { B: 2, T: 5 }, 2);
      (inputs.x.data as Float32Array).forEach((v, i, x) => (x[i] = v * scale));
      const got = model.forward(inputs).y;
      const want = interpret(graphOf("test/models/rms_block.tfm"), new Map(Object.entries(weights)), inputs).y;
      expect(maxAbsDiff(got.data, want.data), `scale ${scale}`).toBeLessThan(1e-4);
    }
  });
});
