import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

// Concurrent calls on a threaded model, interleaved at random: each call starts after a random
// pause (none, a microtask, a macrotask, or until the call before it has settled), with a random
// batch and sequence length (and, for the masked model, a random choice of optional inputs), and
// the calls are awaited in a random order. Every result must equal the single-threaded model's for
// the same inputs, when it is awaited and still after every call has finished.

const MODELS = [
  { path: "examples/gpt.tfm", sets: ["d=16", "heads=2", "layers=1", "ctx=16", "vocab=20"], maxT: 16, optional: [] as string[] },
  { path: "test/models/wasm_kernels.tfm", sets: ["d=16", "heads=2", "hidden=24", "causal=true"], maxT: 10, optional: ["keep", "bias", "pad"] },
] as const;

type Pause = "none" | "microtask" | "macrotask" | "settled";

const call = (optional: readonly string[], maxT: number) =>
  fc.record({
    B: fc.integer({ min: 1, max: 3 }),
    T: fc.integer({ min: 1, max: maxT }),
    seed: fc.integer({ min: 1, max: 1000 }),
    keep: fc.array(fc.boolean(), { minLength: optional.length, maxLength: optional.length }),
    pause: fc.constantFrom<Pause>("none", "microtask", "macrotask", "settled"),
    order: fc.nat(),
  });

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

describe("threaded models under concurrent calls", () => {
  it.each((["ts", "wasm"] as const).flatMap((target) => MODELS.map((m) => [target, m.path, m] as const)))(
    "%s target, %s: random interleavings of calls of random shapes each equal the single-threaded model",
    async (target, _path, m) => {
      const g = graphOf(m.path, "-O2", ...m.sets);
      const mod = await importGenerated(g, { target });
      const weights = randomWeights(mod.spec.parameters, 7);
      const single = mod.createModel(weights);
      const model = await mod.createThreadedModel(weights, { threads: 2 });
      closers.push(() => model.close());
      let calls = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(call(m.optional, m.maxT), { minLength: 1, maxLength: 6 }), async (plan) => {
          const inputs = plan.map((c) => {
            const x = randomInputs(g, { B: c.B, T: c.T }, c.seed, { pTrue: 0.7 });
            m.optional.forEach((name, i) => c.keep[i] || delete x[name]);
            return x;
          });
          const want = inputs.map((x) => {
            const y = single.forward(x)[g.outputs[0].name];
            return { data: y.data.slice(), shape: [...y.shape] };
          });
          const running: Promise<Record<string, { data: Float32Array; shape: number[] }>>[] = [];
          for (const [i, c] of plan.entries()) {
            if (c.pause === "microtask") await null;
            else if (c.pause === "macrotask") await new Promise((r) => setImmediate(r));
            else if (c.pause === "settled" && i > 0) await Promise.allSettled([running[i - 1]]);
            running.push(model.forward(inputs[i]));
          }
          calls += running.length;
          const check = (y: Record<string, { data: Float32Array; shape: number[] }>, i: number) => {
            const out = y[g.outputs[0].name];
            expect(out.shape).toEqual(want[i].shape);
            expect(maxAbsDiff(out.data, want[i].data)).toBe(0);
          };
          try {
            const order = plan.map((c, i) => [c.order, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
            for (const [, i] of order) check(await running[i], i);
            (await Promise.all(running)).forEach(check);
          } finally {
            await Promise.allSettled(running); // a failed run leaves no call behind for the next one
          }
        }),
        { seed: 1717, numRuns: 15 },
      );
      expect(calls).toBeGreaterThan(15);
    },
  );
});
