import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildGraph } from "../../src/cli/pipeline.js";
import { planWasm } from "../../src/codegen/wasmTarget.js";
import { constantNodes } from "../../src/ir/incremental.js";
import { randomWeights, seededRandom } from "../../src/runtime/random.js";
import { packPanels, WasmMemory, WasmUnavailableError } from "../../src/runtime/wasmMemory.js";
import { moduleBytes } from "../../src/wasm/binary.js";
import { denseFunction } from "../../src/wasm/dense.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { ROOT, overrides } from "../helpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

// The wasm target: its dense kernel against a plain product, its binary's size, and whole models
// against the TypeScript target across input shapes that make the memory grow.

describe("the WebAssembly SIMD dense kernel", () => {
  it.each([
    [1, 1, 4],
    [3, 5, 8],
    [4, 17, 12],
    [9, 3, 20],
    [6, 64, 36],
  ])("equals the product for %i rows, K = %i, N = %i, over whole and partial column ranges", (rows, K, N) => {
    for (const bias of [false, true]) {
      const wasm = new WasmMemory(moduleBytes([denseFunction("d", K, N, bias)]));
      const r = seededRandom(rows * 100 + K);
      const x = Float32Array.from({ length: rows * K }, () => r() - 0.5);
      const w = Float32Array.from({ length: N * K }, () => r() - 0.5);
      const b = Float32Array.from({ length: N }, () => r() - 0.5);
      const [xo, wo, bo] = [wasm.place(x), wasm.place(packPanels(w, N, K)), wasm.place(b)];
      for (const [c0, c1] of [[0, N], [4, N], [0, 4]]) {
        const out = wasm.arena(rows * N).fill(7);
        wasm.fn.d(out.byteOffset, xo, wo, bias ? bo : 0, rows, c0, c1);
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < N; j++) {
            let s = bias ? b[j] : 0;
            for (let k = 0; k < K; k++) s += x[i * K + k] * w[j * K + k];
            if (j >= c0 && j < c1) expect(Math.abs(out[i * N + j] - s)).toBeLessThan(1e-5);
            else expect(out[i * N + j]).toBe(7); // columns outside the range are not written
          }
      }
    }
  });

  it("says clearly when the engine cannot run it", () => {
    expect(() => new WasmMemory(new Uint8Array([0, 97, 115, 109, 9, 9]))).toThrow(WasmUnavailableError);
    expect(() => new WasmMemory(new Uint8Array([0]))).toThrow(/no WebAssembly, or no SIMD\); compile with --target ts/);
  });
});

describe("--target wasm", () => {
  it("keeps W4's six-layer model under 64 KB of WebAssembly", () => {
    const text = readFileSync(join(ROOT, "bench", "models", "encoder.tfm"), "utf8");
    const g = buildGraph(text, overrides("layers=6"), {}).graph!;
    const plan = planWasm(g, constantNodes(g));
    expect(plan.dense.size).toBe(24);
    expect(plan.bytes).toBeGreaterThan(0);
    expect(plan.bytes).toBeLessThan(64 * 1024);
  });

  it("equals the TypeScript target as inputs grow the memory, and leaves other layers to TypeScript kernels", async () => {
    const g = graphOf("examples/gpt.tfm", "-O2", "d=32", "heads=4", "layers=2", "ctx=300", "vocab=50");
    const [ts, wasm] = [await importGenerated(g), await importGenerated(g, { target: "wasm" })];
    const weights = randomWeights(ts.spec.parameters, 5);
    const [a, b] = [ts.createModel(weights), wasm.createModel(weights)];
    for (const T of [3, 300, 17]) {
      const inputs = randomInputs(g, { B: 2, T }, T);
      expect(maxAbsDiff(b.forward(inputs).logits.data, a.forward(inputs).logits.data)).toBeLessThan(1e-4);
    }
    // The tied head (vocab 50, not a multiple of 4) stays a TypeScript kernel.
    expect(planWasm(g, constantNodes(g)).dense.size).toBe(8);
  });

  it.each([
    ["examples/torch/encoder_layer.tfm", ["d_model=32", "nhead=4", "dim_feedforward=48"], { B: 2, S: 9 }],
    ["examples/gpt.tfm", ["d=32", "heads=4", "layers=2", "ctx=32", "vocab=40"], { B: 1, T: 11 }],
  ] as const)("on 2 threads (shared memory, workers with their own instances) equals one thread exactly: %s", async (path, sets, dims) => {
    const g = graphOf(path, "-O2", ...sets);
    const mod = (await importGenerated(g, { target: "wasm" })) as unknown as {
      spec: { parameters: { name: string; shape: number[] }[] };
      createModel(w: unknown): { forward(i: unknown): Record<string, { data: Float32Array }> };
      createThreadedModel(w: unknown, o: { threads: number }): Promise<{ forward(i: unknown): Promise<Record<string, { data: Float32Array }>>; close(): Promise<void> }>;
    };
    const weights = randomWeights(mod.spec.parameters, 8);
    const single = mod.createModel(weights);
    const threaded = await mod.createThreadedModel(weights, { threads: 2 });
    try {
      for (const seed of [1, 2]) {
        const inputs = randomInputs(g, dims, seed);
        const want = single.forward(inputs);
        const got = await threaded.forward(inputs);
        for (const o of g.outputs) expect(maxAbsDiff(got[o.name].data, want[o.name].data)).toBe(0);
      }
    } finally {
      await threaded.close();
    }
  });
});
