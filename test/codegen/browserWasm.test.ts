import { existsSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { interpret } from "../../src/ir/interpret.js";
import { randomWeights } from "../../src/runtime/random.js";
import { launchChromium, serveFolder, type Served } from "../chromium.js";
import { graphOf } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

// A module compiled with --target wasm --wasm-file, in a real headless Chromium (Debian's package):
// loadWasm fetches the .wasm beside the module, createModel runs it, and createThreadedModel runs
// it on module workers over a shared WebAssembly memory. The page is served over HTTP from the
// repository with the headers that make it cross-origin isolated (SharedArrayBuffer needs them).

const OUT = join(ROOT, "test", ".generated", "browser-wasm");

let server: Served;

beforeAll(async () => {
  server = await serveFolder(ROOT, { isolated: true });
});
afterAll(() => server.close());

describe("--target wasm --wasm-file in Chromium", () => {
  it("fetches its kernels, and on one thread and on two equals the interpreter", async () => {
    rmSync(OUT, { recursive: true, force: true });
    const sets = ["d_model=32", "nhead=4", "dim_feedforward=48"];
    const io = { out: () => {}, err: () => {}, color: false };
    const args = ["compile", "examples/torch/encoder_layer.tfm", "-o", OUT, "--emit", "js", "--target", "wasm", "--wasm-file"];
    expect(await main([...args, ...sets.flatMap((s) => ["--set", s])], io)).toBe(0);
    expect(existsSync(join(OUT, "encoder_layer.wasm"))).toBe(true);

    const g = graphOf("examples/torch/encoder_layer.tfm", "-O2", ...sets);
    const weights = randomWeights(g.meta.params.map((p) => ({ name: p.name, shape: [...p.shape] })), 6);
    const inputs = randomInputs(g, { B: 2, S: 9 }, 6, { pTrue: 0.2 });
    const want = interpret(g, new Map(Object.entries(weights)), inputs).out;
    const plain = (o: Record<string, { data: ArrayLike<number>; shape: number[] }>) =>
      Object.fromEntries(Object.entries(o).map(([k, t]) => [k, { data: Array.from(t.data), shape: t.shape, type: t.data.constructor.name }]));

    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(e.message));
      await tab.goto(`${server.origin}/test/codegen/browserWasm.html`);
      const moduleUrl = `${server.origin}/${relative(ROOT, join(OUT, "encoder_layer.js")).replace(/\\/g, "/")}`;
      await tab.waitForFunction(() => "runModel" in window);
      const result = await tab.evaluate(
        ([url, weights, inputs]) => (window as unknown as { runModel(...a: unknown[]): Promise<{ before: string; one: number[]; two: number[]; isolated: boolean }> }).runModel(url, weights, inputs),
        [moduleUrl, plain(weights as never), plain(inputs as never)] as const,
      );
      expect(result.isolated).toBe(true);
      expect(result.before).toMatch(/await loadWasm\(\) before createModel/);
      expect(maxAbsDiff(Float32Array.from(result.one), want.data)).toBeLessThan(1e-4);
      expect(maxAbsDiff(Float32Array.from(result.two), Float32Array.from(result.one))).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
