import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { launchChromium, serveFolder, type Served } from "../chromium.js";

// A module compiled with default options (its runtime copied beside it) in headless Chromium,
// served from a temporary folder outside the repository: no import map, no tfmc package. On a
// cross-origin isolated page it runs on the main thread and on two module workers (which find the
// worker script and the runtime through the copy), giving Node's numbers; on a page that is not
// isolated, createThreadedModel says which headers the page needs.

const SETS = ["d=64", "heads=4", "layers=1", "vocab=96", "ctx=32"].flatMap((s) => ["--set", s]);
const TOKENS = Array.from({ length: 2 * 12 }, (_, i) => (i * 37 + 5) % 96);
const SHAPE = [2, 12];
const SEED = 7;

// The page runs a module on seeded random weights (from the runtime copy beside it): one thread,
// then two. Results come back as plain arrays.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>tfmc standalone module</title>
<script type="module">
  window.runModel = async (url, seed, tokens, shape) => {
    const m = await import(url);
    const { randomWeights } = await import(new URL("tfmc-runtime/index.js", url).href);
    const w = randomWeights(m.spec.parameters, seed);
    const x = { tokens: { data: Int32Array.from(tokens), shape } };
    const one = Array.from(m.createModel(w).forward(x).logits.data);
    let two = null;
    let error = "";
    try {
      const threaded = await m.createThreadedModel(w, { threads: 2 });
      two = Array.from((await threaded.forward(x)).logits.data);
      await threaded.close();
    } catch (e) {
      error = String(e && e.message);
    }
    return { one, two, error, isolated: globalThis.crossOriginIsolated === true };
  };
</script>
`;

// The same in Node, from the same folder.
const NODE = (dir: string) => `import { createModel, createThreadedModel, spec } from "./${dir}/gpt.js";
import { randomWeights } from "./${dir}/tfmc-runtime/index.js";
const w = randomWeights(spec.parameters, ${SEED});
const x = { tokens: { data: Int32Array.from(${JSON.stringify(TOKENS)}), shape: ${JSON.stringify(SHAPE)} } };
const one = Array.from(createModel(w).forward(x).logits.data);
const threaded = await createThreadedModel(w, { threads: 2 });
const two = Array.from((await threaded.forward(x)).logits.data);
await threaded.close();
console.log(JSON.stringify({ one, two }));
`;

const quiet = { out: () => {}, err: () => {}, color: false };
let root = "";
let isolated: Served;
let open: Served;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "tfmc-browser-"));
  expect(await main(["compile", "examples/gpt.tfm", "-o", join(root, "ts"), "--emit", "js", ...SETS], quiet)).toBe(0);
  expect(await main(["compile", "examples/gpt.tfm", "-o", join(root, "wasm"), "--emit", "js", "--target", "wasm", ...SETS], quiet)).toBe(0);
  writeFileSync(join(root, "index.html"), PAGE);
  isolated = await serveFolder(root, { isolated: true });
  open = await serveFolder(root, { isolated: false });
});

afterAll(async () => {
  await isolated?.close();
  await open?.close();
  rmSync(root, { recursive: true, force: true });
});

type PageResult = { one: number[]; two: number[] | null; error: string; isolated: boolean };

async function inChromium(origin: string, dirs: readonly string[]): Promise<{ results: PageResult[]; errors: string[] }> {
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (e) => errors.push(e.message));
    await tab.goto(`${origin}/index.html`);
    await tab.waitForFunction(() => "runModel" in window);
    const results: PageResult[] = [];
    for (const dir of dirs) {
      const args = [`${origin}/${dir}/gpt.js`, SEED, TOKENS, SHAPE] as const;
      results.push(await tab.evaluate((a) => (window as unknown as { runModel(...x: unknown[]): Promise<PageResult> }).runModel(...a), args));
    }
    return { results, errors };
  } finally {
    await browser.close();
  }
}

describe("a default-compiled module in Chromium, without an import map", () => {
  it("runs on the main thread and on two module workers, both targets, with Node's numbers", async () => {
    const { results, errors } = await inChromium(isolated.origin, ["ts", "wasm"]);
    expect(errors).toEqual([]);
    for (const [i, dir] of ["ts", "wasm"].entries()) {
      writeFileSync(join(root, `node-${dir}.mjs`), NODE(dir));
      const node = JSON.parse(execFileSync(process.execPath, [join(root, `node-${dir}.mjs`)], { encoding: "utf8" })) as { one: number[]; two: number[] };
      const page = results[i];
      expect(page.isolated).toBe(true);
      expect(page.error).toBe("");
      expect(page.one.length).toBe(2 * 12 * 96);
      expect(page.one.every(Number.isFinite)).toBe(true);
      expect(page.one, dir).toEqual(node.one);
      expect(page.two, dir).toEqual(node.two);
      expect(node.two, dir).toEqual(node.one);
    }
  }, 180_000);

  it("without cross-origin isolation, createThreadedModel names the headers the page needs", async () => {
    const { results, errors } = await inChromium(open.origin, ["ts", "wasm"]);
    expect(errors).toEqual([]);
    for (const page of results) {
      expect(page.isolated).toBe(false);
      expect(page.one.length).toBe(2 * 12 * 96);
      expect(page.two).toBe(null);
      expect(page.error).toContain("Cross-Origin-Opener-Policy: same-origin");
      expect(page.error).toContain("Cross-Origin-Embedder-Policy: require-corp");
      expect(page.error).not.toContain("is not defined");
    }
  }, 180_000);
});
