import { afterEach, describe, expect, it } from "vitest";
import { interpret } from "../../src/ir/interpret.js";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

const ARRAYS = ["Float32Array", "Float64Array", "Int32Array", "Uint8Array", "BigInt64Array"] as const;
const originals = Object.fromEntries(ARRAYS.map((n) => [n, globalThis[n]]));

/** Counts typed arrays constructed while `f` runs, by wrapping the global constructors. */
function countAllocations(f: () => void): number {
  let count = 0;
  for (const name of ARRAYS) {
    (globalThis as Record<string, unknown>)[name] = new Proxy(originals[name], {
      construct(target, args, newTarget) {
        count++;
        return Reflect.construct(target, args, newTarget);
      },
    });
  }
  try {
    f();
  } finally {
    for (const name of ARRAYS) (globalThis as Record<string, unknown>)[name] = originals[name];
  }
  return count;
}

afterEach(() => {
  for (const name of ARRAYS) (globalThis as Record<string, unknown>)[name] = originals[name];
});

describe("static memory plan", () => {
  it.each([0, 2])("forward allocates no tensors after the first call for a shape (-O%d)", async (level) => {
    const g = graphOf("examples/torch/transformer.tfm", `-O${level}`, "d_model=16", "nhead=2", "num_encoder_layers=2", "num_decoder_layers=2", "dim_feedforward=24");
    const mod = await importGenerated(g);
    const weights = randomWeights(mod.spec.parameters, 5);
    const model = mod.createModel(weights);
    const small = randomInputs(g, { B: 2, S: 5, T: 4 }, 1);
    const large = randomInputs(g, { B: 1, S: 9, T: 7 }, 2);
    expect(countAllocations(() => model.forward(small))).toBeGreaterThan(0);
    expect(countAllocations(() => model.forward(small))).toBe(0);
    expect(countAllocations(() => model.forward(small))).toBe(0);
    expect(countAllocations(() => model.forward(large))).toBeGreaterThan(0);
    const again = countAllocations(() => model.forward(large));
    expect(again).toBe(0);
    // Reusing buffers must not change results: compare with the interpreter after the reuse.
    const got = model.forward(large).out;
    const want = interpret(g, new Map(Object.entries(weights)), large).out;
    expect(maxAbsDiff(got.data, want.data)).toBeLessThan(5e-5);
  });

  it("the arena is smaller than one buffer per node", async () => {
    const g = graphOf("examples/gpt.tfm", "-O2", "d=32", "heads=4", "layers=4", "ctx=64", "vocab=50");
    const mod = await importGenerated(g);
    const model = mod.createModel(randomWeights(mod.spec.parameters, 1));
    let arenaLength = 0;
    const Float32 = originals.Float32Array as Float32ArrayConstructor;
    (globalThis as Record<string, unknown>).Float32Array = new Proxy(Float32, {
      construct(target, args, newTarget) {
        if (typeof args[0] === "number") arenaLength = Math.max(arenaLength, args[0]);
        return Reflect.construct(target, args, newTarget);
      },
    });
    model.forward({ tokens: { data: new Int32Array(64), shape: [1, 64] } });
    (globalThis as Record<string, unknown>).Float32Array = Float32;
    let unplanned = 0;
    for (const id of g.order()) {
      const n = g.node(id);
      if (n.op !== "input" && n.op !== "param") unplanned += n.shape.reduce((a, d) => a * ("value" in d ? d.value : d.sym === "T" ? 64 : 1), 1);
    }
    expect(arenaLength).toBeGreaterThan(0);
    expect(arenaLength).toBeLessThan(unplanned / 4);
  });
});
