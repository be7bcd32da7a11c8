import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { buildGraph } from "../../src/cli/pipeline.js";
import { emitModel } from "../../src/codegen/emit.js";
import { planWasm } from "../../src/codegen/wasmTarget.js";
import { constantNodes } from "../../src/ir/incremental.js";
import { randomWeights, seededRandom } from "../../src/runtime/random.js";
import { packPanels, WasmFileError, WasmMemory, WasmUnavailableError } from "../../src/runtime/wasmMemory.js";
import { Code, I32, moduleBytes, V128 } from "../../src/wasm/binary.js";
import { SimdMath, type Activation } from "../../src/wasm/simdMath.js";
import { gelu, geluTanh, sigmoid, silu } from "../../src/runtime/math.js";
import { denseFunction } from "../../src/wasm/dense.js";
import { layerNormFunction, layerNormName } from "../../src/wasm/layerNorm.js";
import { interpret } from "../../src/ir/interpret.js";
import { graphOf, importGenerated, type GeneratedModule } from "../compileHelpers.js";
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

  it("says clearly when the engine cannot run it, and when the binary is at fault instead", () => {
    const validate = vi.spyOn(WebAssembly, "validate").mockReturnValue(false);
    try {
      expect(() => new WasmMemory(new Uint8Array([0, 97, 115, 109, 9, 9]))).toThrow(WasmUnavailableError);
      expect(() => new WasmMemory(new Uint8Array([0]))).toThrow(/no WebAssembly, or no SIMD\); compile with --target ts/);
    } finally {
      validate.mockRestore();
    }
    expect(() => new WasmMemory(new Uint8Array([0, 97, 115, 109, 9, 9]))).toThrow(WasmFileError);
    expect(() => new WasmMemory(new Uint8Array([0]))).toThrow(/the WebAssembly kernels embedded in this model's module are corrupt: they are not a valid WebAssembly module; compile the model again \(tfmc compile --target wasm\)$/);
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
    const mod = await importGenerated(g, { target: "wasm" });
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

  // Every activation in the dense kernel's registers, LayerNorm of a sum, and softmax attention with
  // each kind of mask, causal or not, against the float64 interpreter; the 2-thread model equals one
  // thread exactly. Every key of batch 0 is padding (its rows give zeros); batch 1 pads key 2.
  it.each(["gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "relu"])("runs masks, add & norm and the %s epilogue in WebAssembly as the interpreter does", async (act) => {
    for (const causal of [false, true]) {
      const g = graphOf("test/models/wasm_kernels.tfm", "-O2", `act=${act}`, `causal=${causal}`);
      const plan = planWasm(g, constantNodes(g));
      expect([...plan.attention.values()].map((a) => a.roles.length)).toEqual([3]);
      expect(plan.norms.size).toBe(2);
      expect([...plan.dense.values()].some((d) => d.fn.endsWith(`_${act}`))).toBe(true);
      const mod = await importGenerated(g, { target: "wasm" });
      const weights = randomWeights(mod.spec.parameters, 3);
      const single = mod.createModel(weights);
      const threaded = await mod.createThreadedModel(weights, { threads: 2 });
      try {
        for (const [seed, T, omit] of [[1, 7, false], [2, 13, false], [3, 5, true]] as const) {
          const inputs = randomInputs(g, { B: 2, T }, seed, { omitOptional: omit, pTrue: 0.9 });
          if (!omit) {
            const pad = inputs.pad.data as Uint8Array;
            for (let i = 0; i < pad.length; i++) pad[i] = i < T || i % T === 2 ? 1 : 0;
          }
          const want = interpret(g, new Map(Object.entries(weights)), inputs).y;
          const got = single.forward(inputs).y;
          expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-4);
          expect(maxAbsDiff((await threaded.forward(inputs)).y.data, got.data)).toBe(0);
        }
      } finally {
        await threaded.close();
      }
    }
  });
});

describe("--target wasm --wasm-file", () => {
  /** The model's files written to a folder of their own, the module imported from there. */
  async function emitTo(g: ReturnType<typeof graphOf>, dir: string) {
    const out = join(ROOT, "test", ".generated", dir);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const runtime = relative(out, join(ROOT, "dist", "runtime", "index.js")).replace(/\\/g, "/");
    const files = await emitModel(g, { emit: "js", runtime, target: "wasm", wasmFile: true });
    for (const f of files) writeFileSync(join(out, f.name), f.text);
    return { files, mod: (await import(pathToFileURL(join(out, `${g.meta.name}.js`)).href)) as GeneratedModule & { loadWasm(): Promise<void> } };
  }

  it("writes the kernels beside the module, which loads them and then equals the embedded module", async () => {
    const g = graphOf("examples/torch/encoder_layer.tfm", "-O2", "d_model=32", "nhead=4", "dim_feedforward=48");
    const { files, mod } = await emitTo(g, "wasm-file");
    expect(files.map((f) => f.name)).toEqual(["encoder_layer.js", "encoder_layer.d.ts", "encoder_layer.wasm", "encoder_layer.shared.wasm"]);
    expect(files[0].text).not.toContain("WASM_BINARY");
    expect(files[1].text).toContain("export declare function loadWasm(dir?: URL): Promise<void>;");
    expect(WebAssembly.validate(files[2].text as Uint8Array<ArrayBuffer>)).toBe(true);
    const weights = randomWeights(mod.spec.parameters, 4);
    expect(() => mod.createModel(weights)).toThrow(/in encoder_layer.wasm beside its module: await loadWasm\(\) before createModel/);
    await mod.loadWasm();
    const embedded = await importGenerated(g, { target: "wasm" });
    const inputs = randomInputs(g, { B: 2, S: 6 }, 4);
    expect(maxAbsDiff(mod.createModel(weights).forward(inputs).out.data, embedded.createModel(weights).forward(inputs).out.data)).toBe(0);
    // A threaded model loads the files itself (a second copy of the module, not yet loaded).
    const second = (await emitTo(g, "wasm-file-threads")).mod;
    const threaded = await second.createThreadedModel(weights, { threads: 2 });
    try {
      expect(maxAbsDiff((await threaded.forward(inputs)).out.data, embedded.createModel(weights).forward(inputs).out.data)).toBe(0);
    } finally {
      await threaded.close();
    }
  });
});

describe("--wasm-file: a damaged .wasm file", () => {
  it("is refused by loadWasm, which names the file and says it is truncated or corrupt, not that the engine lacks SIMD", async () => {
    const g = graphOf("examples/torch/encoder_layer.tfm", "-O2", "d_model=32", "nhead=4", "dim_feedforward=48");
    const out = join(ROOT, "test", ".generated", "wasm-file-damaged");
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const runtime = relative(out, join(ROOT, "dist", "runtime", "index.js")).replace(/\\/g, "/");
    const files = await emitModel(g, { emit: "js", runtime, target: "wasm", wasmFile: true });
    for (const f of files) writeFileSync(join(out, f.name), f.text);
    const good = files[2].text as Uint8Array;
    const load = async (bytes: Uint8Array, copy: string) => {
      // A fresh copy of the module each time: loadWasm keeps what it read.
      writeFileSync(join(out, `${copy}.js`), files[0].text);
      writeFileSync(join(out, "encoder_layer.wasm"), bytes);
      const mod = (await import(pathToFileURL(join(out, `${copy}.js`)).href)) as { loadWasm(): Promise<void> };
      return mod.loadWasm().then(
        () => "loaded",
        (e: Error) => `${e.name}: ${e.message}`,
      );
    };
    const file = join(out, "encoder_layer.wasm");
    expect(await load(good.subarray(0, good.length >> 1), "truncated")).toBe(
      `WasmFileError: ${file} is not this model's WebAssembly kernels: it holds ${good.length >> 1} bytes, not the ${good.length} written by the compiler (truncated or corrupt); compile the model again (tfmc compile --target wasm --wasm-file)`,
    );
    expect(await load(good.subarray(0, 4), "header")).toMatch(/^WasmFileError: .*encoder_layer\.wasm is not this model's WebAssembly kernels: it does not start with the WebAssembly header/);
    const flipped = good.slice();
    for (let i = 40; i < flipped.length; i += 7) flipped[i] ^= 0xff;
    expect(await load(flipped, "corrupt")).toMatch(/^WasmFileError: .*encoder_layer\.wasm is not this model's WebAssembly kernels: it is not a valid WebAssembly module \(corrupt\)/);
    expect(await load(good, "intact")).toBe("loaded");
  });
});

describe("SIMD activations", () => {
  const reference: Record<Activation, (x: number) => number> = { relu: (x) => Math.max(x, 0), gelu, gelu_tanh: geluTanh, silu, sigmoid, tanh: Math.tanh };
  it.each(Object.keys(reference) as Activation[])("%s is within 1e-6 (relative above 1) of float64 over [-20, 20], constants inline or in locals", (act) => {
    for (const inline of [true, false]) {
      // f(ptr, n): x ← act(x) over n floats, four at a time.
      const c = new Code([I32, I32]);
      const i = c.local(I32);
      const v = c.local(V128);
      const math = new SimdMath(c, inline);
      c.i32(0).set(i);
      c.block(() =>
        c.loop(() => {
          c.get(i).get(1).geS().brIf(1);
          c.get(0).get(i).i32(4).mul().add().v128Load().set(v);
          math.activation(act, v);
          c.get(0).get(i).i32(4).mul().add().get(v).v128Store();
          c.get(i).i32(4).add().set(i);
          c.br(0);
        }),
      );
      const wasm = new WasmMemory(moduleBytes([{ name: "f", code: c }]));
      const n = 20000;
      const x = Float32Array.from({ length: n }, (_, k) => -20 + (40 * k) / n);
      const buf = wasm.arena(n);
      buf.set(x);
      wasm.fn.f(buf.byteOffset, n);
      for (let k = 0; k < n; k++) {
        const want = reference[act](x[k]);
        expect(Math.abs(buf[k] - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
      }
    }
  });
});

describe("the WebAssembly SIMD LayerNorm", () => {
  it.each([
    [1, 4],
    [5, 12],
    [3, 64],
  ])("equals a float64 LayerNorm of a sum for %i rows of %i, with and without the sum, weight and bias", (rows, d) => {
    for (const v of [
      { add: true, scale: true, shift: true },
      { add: false, scale: true, shift: false },
      { add: false, scale: false, shift: false },
    ]) {
      const wasm = new WasmMemory(moduleBytes([layerNormFunction(v)]));
      const r = seededRandom(rows * d);
      const [a, c] = [0, 1].map(() => Float32Array.from({ length: rows * d }, () => 3 * r() + 1));
      const [w, b] = [0, 1].map(() => Float32Array.from({ length: d }, () => r() - 0.5));
      const [wo, bo] = [wasm.place(w), wasm.place(b)];
      const arena = wasm.arena(3 * rows * d);
      const [ao, co, out] = [0, 1, 2].map((k) => arena.subarray(k * rows * d, (k + 1) * rows * d));
      ao.set(a);
      co.set(c);
      wasm.fn[layerNormName(v)](out.byteOffset, ao.byteOffset, co.byteOffset, wo, bo, rows, d, 1e-5);
      for (let i = 0; i < rows; i++) {
        const t = Array.from({ length: d }, (_, j) => a[i * d + j] + (v.add ? c[i * d + j] : 0));
        const mean = t.reduce((x, y) => x + y, 0) / d;
        const inv = 1 / Math.sqrt(t.reduce((x, y) => x + (y - mean) ** 2, 0) / d + 1e-5);
        for (let j = 0; j < d; j++) {
          const want = (t[j] - mean) * inv * (v.scale ? w[j] : 1) + (v.shift ? b[j] : 0);
          expect(Math.abs(out[i * d + j] - want)).toBeLessThan(2e-5);
        }
      }
    }
  });
});
