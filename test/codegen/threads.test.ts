import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated, type GeneratedModule } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

describe("createThreadedModel", () => {
  it.each([
    ["examples/torch/encoder_layer.tfm", ["d_model=32", "nhead=4", "dim_feedforward=48"], { B: 2, S: 9 }],
    ["examples/torch/transformer.tfm", ["d_model=16", "nhead=2", "num_encoder_layers=1", "num_decoder_layers=1", "dim_feedforward=24"], { B: 1, S: 6, T: 5 }],
    ["examples/gpt.tfm", ["d=32", "heads=4", "layers=2", "ctx=32", "vocab=40"], { B: 1, T: 11 }],
  ] as const)("gives the same numbers as createModel on 2 and 3 threads: %s", async (path, sets, dims) => {
    const g = graphOf(path, "-O2", ...sets);
    const mod = await importGenerated(g);
    const weights = randomWeights(mod.spec.parameters, 3);
    const single = mod.createModel(weights);
    for (const threads of [2, 3]) {
      const model = await mod.createThreadedModel(weights, { threads });
      try {
        for (const seed of [1, 2]) {
          const inputs = randomInputs(g, dims, seed);
          const want = single.forward(inputs);
          const got = await model.forward(inputs);
          for (const o of g.outputs) {
            expect(got[o.name].shape).toEqual(want[o.name].shape);
            // The same kernels on the same data: splitting rows or heads changes no sum's order.
            expect(maxAbsDiff(got[o.name].data, want[o.name].data)).toBe(0);
          }
        }
      } finally {
        await model.close();
      }
    }
  });
});

describe("createThreadedModel under misuse", () => {
  const g = graphOf("examples/gpt.tfm", "-O2", "d=16", "heads=2", "layers=1", "ctx=16", "vocab=20");
  const modules = new Map<string, Promise<GeneratedModule>>();
  const moduleFor = (target: "ts" | "wasm" = "ts") => {
    if (!modules.has(target)) modules.set(target, importGenerated(g, { target }));
    return modules.get(target)!;
  };

  it.each(["ts", "wasm"] as const)("gives each of several concurrent forward calls its own result (%s target)", async (target) => {
    const mod = await moduleFor(target);
    const weights = randomWeights(mod.spec.parameters, 4);
    const single = mod.createModel(weights);
    const shapes = [[2, 16], [1, 3], [3, 9], [2, 16], [1, 1]];
    const inputs = shapes.map(([B, T], i) => randomInputs(g, { B, T }, i + 1));
    const want = inputs.map((x) => {
      const y = single.forward(x).logits;
      return { data: y.data.slice(), shape: [...y.shape] };
    });
    const model = await mod.createThreadedModel(weights, { threads: 2 });
    try {
      // A call with a bad input among them fails alone and does not hold up the queue.
      const bad = model.forward({ tokens: { data: new Int32Array(17), shape: [1, 17] } });
      const calls = inputs.map((x) => model.forward(x));
      await expect(bad).rejects.toMatchObject({ name: "ShapeError" });
      const got = await Promise.all(calls);
      // Read only after every call has finished: no call's result is overwritten by a later one.
      got.forEach((y, i) => {
        expect(y.logits.shape).toEqual(want[i].shape);
        expect(maxAbsDiff(y.logits.data, want[i].data)).toBe(0);
      });
      expect(new Set(got.map((y) => y.logits.data)).size).toBe(got.length);
    } finally {
      await model.close();
    }
  });

  it("rejects forward after close, and calls still running or queued when it closes", async () => {
    const mod = await moduleFor();
    const weights = randomWeights(mod.spec.parameters, 5);
    const model = await mod.createThreadedModel(weights, { threads: 2 });
    const inputs = randomInputs(g, { B: 3, T: 16 }, 1);
    // The first call starts at once and is waiting for the workers when close is called.
    const results = Promise.allSettled([model.forward(inputs), model.forward(inputs), model.forward(inputs)]);
    await model.close();
    const reasons = (await results).map((r) => (r.status === "rejected" ? (r.reason as Error) : undefined));
    expect(reasons.map((e) => e?.message)).toEqual([
      "the threaded model was closed while this call ran",
      "the threaded model was closed before this call started",
      "the threaded model was closed before this call started",
    ]);
    for (const e of reasons) expect(e).toMatchObject({ name: "ThreadedModelError", code: "TFM5016" });
    await expect(model.forward(inputs)).rejects.toMatchObject({ name: "ThreadedModelError", code: "TFM5016", message: "the threaded model was closed before this call started" });
    await model.close(); // closing twice is harmless
  });

  it("refuses a thread count that is not an integer from 1 to 64, or options that are not an object, without starting workers", async () => {
    const mod = await moduleFor();
    const weights = randomWeights(mod.spec.parameters, 5);
    const cases: [unknown, string][] = [
      [-1, "-1"], [0, "0"], [NaN, "NaN"], [1.5, "1.5"], ["3", '"3"'], [Infinity, "Infinity"], [65, "65"], [1e9, "1000000000"], [null, "null"], [3n, "3n"],
    ];
    for (const [threads, shown] of cases) {
      const made = mod.createThreadedModel(weights, { threads: threads as number });
      await expect(made).rejects.toMatchObject({
        name: "ThreadedModelError",
        code: "TFM5015",
        message: `createThreadedModel: threads must be an integer from 1 to 64; got ${shown}`,
      });
    }
    await expect(mod.createThreadedModel(weights, 4 as never)).rejects.toMatchObject({
      code: "TFM5017",
      message: "createThreadedModel takes options such as { threads: 2 }; got 4",
    });
  });

  it("fails, rather than waits forever, when a worker cannot start", async () => {
    const { ThreadPool } = (await import(pathToFileURL(join(ROOT, "dist", "runtime", "index.js")).href)) as typeof import("../../src/runtime/index.js");
    const missing = pathToFileURL(join(ROOT, "test", "no-such-module.mjs")).href;
    await expect(ThreadPool.start(2, missing)).rejects.toThrow(/^a worker thread failed: .*no-such-module/);
  });

  it("runs on one thread (no workers) as on three, and on two when no count is given", async () => {
    const mod = await moduleFor();
    const weights = randomWeights(mod.spec.parameters, 6);
    const inputs = randomInputs(g, { B: 2, T: 5 }, 2);
    const want = mod.createModel(weights).forward(inputs).logits.data.slice();
    for (const options of [{ threads: 1 }, { threads: 3 }, undefined]) {
      const model = await mod.createThreadedModel(weights, options as { threads: number });
      try {
        expect(maxAbsDiff((await model.forward(inputs)).logits.data, want)).toBe(0);
      } finally {
        await model.close();
      }
    }
  });
});
