import { execFileSync, execSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { interpret } from "../../src/ir/interpret.js";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";
import { maxAbsDiff } from "../randomInputs.js";

// Outside the repository, in a temporary folder with no node_modules (or package.json) above it,
// as a new user would: a module compiled with default options runs there, `tfmc init`'s starter
// runs exactly as printed, and the `npm pack` tarball installs and its `tfmc` works.

const BIN = join(ROOT, "bin", "tfmc.js");
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, checked to have no node_modules or package.json anywhere above it. */
function bareFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  for (let d = dirname(dir); ; d = dirname(d)) {
    expect(existsSync(join(d, "node_modules")), `${d} has node_modules`).toBe(false);
    expect(existsSync(join(d, "package.json")), `${d} has a package.json`).toBe(false);
    if (dirname(d) === d) break;
  }
  return dir;
}

/** The environment without what npm passes to the scripts it runs (which would point npm at this repository). */
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function quiet(): { out(l: string): void; err(l: string): void; color: boolean; lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(l), color: false };
}

const SETS = ["--set", "d=32", "--set", "heads=4", "--set", "layers=1", "--set", "vocab=64"];

describe("a module compiled with default options", () => {
  it("runs in Node from a folder with no node_modules, on one thread and two, with the interpreter's numbers", async () => {
    const dir = bareFolder("tfmc-standalone-");
    const io = quiet();
    expect(await main(["compile", "examples/gpt.tfm", "-o", join(dir, "out"), "--emit", "js", ...SETS], io)).toBe(0);
    expect(io.lines.at(-1)).toMatch(/wrote .*tfmc-runtime\/ \(the runtime the module imports, \d+ files\)/);
    expect(readFileSync(join(dir, "out", "gpt.js"), "utf8")).toContain('from "./tfmc-runtime/index.js"');
    expect(readFileSync(join(dir, "out", "gpt.d.ts"), "utf8")).toContain('from "./tfmc-runtime/index.js"');
    writeFileSync(
      join(dir, "main.mjs"),
      `import { createModel, createThreadedModel, spec } from "./out/gpt.js";
import { randomWeights } from "./out/tfmc-runtime/index.js";
const w = randomWeights(spec.parameters, 4);
const x = { tokens: { data: Int32Array.from([5, 9, 1, 33, 2, 7]), shape: [1, 6] } };
const one = Array.from(createModel(w).forward(x).logits.data);
const threaded = await createThreadedModel(w, { threads: 2 });
const two = Array.from((await threaded.forward(x)).logits.data);
await threaded.close();
console.log(JSON.stringify({ one, two }));
`,
    );
    const got = JSON.parse(execFileSync(process.execPath, ["main.mjs"], { cwd: dir, encoding: "utf8", env: cleanEnv() })) as { one: number[]; two: number[] };
    const g = graphOf("examples/gpt.tfm", "-O2", "d=32", "heads=4", "layers=1", "vocab=64");
    const weights = randomWeights(g.meta.params.map((p) => ({ name: p.name, shape: [...p.shape] })), 4);
    const want = interpret(g, new Map(Object.entries(weights)), { tokens: { data: Int32Array.from([5, 9, 1, 33, 2, 7]), shape: [1, 6] } }).logits;
    expect(maxAbsDiff(Float32Array.from(got.one), want.data)).toBeLessThan(1e-4);
    expect(got.two).toEqual(got.one);
  }, 60_000);

  it("writes the same runtime copy every time, and --check covers it", async () => {
    const dir = bareFolder("tfmc-copy-");
    const [a, b] = [join(dir, "a"), join(dir, "b")];
    const compile = (out: string, ...extra: string[]) => main(["compile", "test/models/tiny_decoder.tfm", "-o", out, ...extra], quiet());
    expect(await compile(a)).toBe(0);
    expect(await compile(b)).toBe(0);
    const copied = readdirSync(join(a, "tfmc-runtime")).sort();
    expect(copied).toEqual(expect.arrayContaining(["index.js", "index.d.ts", "threads.js", "threadWorker.js", "wasmMemory.js", "package.json"]));
    expect(copied.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toBe(false);
    for (const f of copied) expect(readFileSync(join(b, "tfmc-runtime", f)), f).toEqual(readFileSync(join(a, "tfmc-runtime", f)));
    expect(readdirSync(a).filter((f) => f.startsWith("."))).toEqual([]);
    expect(JSON.parse(readFileSync(join(a, "tfmc-runtime", "package.json"), "utf8"))).toEqual({ type: "module" });

    expect(await compile(a, "--check")).toBe(0);
    const threads = join(a, "tfmc-runtime", "threads.js");
    writeFileSync(threads, readFileSync(threads, "utf8") + "// edited\n");
    const io = quiet();
    expect(await main(["compile", "test/models/tiny_decoder.tfm", "-o", a, "--check"], io)).toBe(1);
    expect(io.lines.join("\n")).toContain(`${threads} is out of date; run tfmc compile`);
    expect(await compile(a)).toBe(0);
    unlinkSync(join(a, "tfmc-runtime", "index.d.ts"));
    expect(await compile(a, "--check")).toBe(1);
  }, 60_000);

  it("--runtime package imports tfmc/runtime and writes no copy", async () => {
    const dir = bareFolder("tfmc-package-");
    expect(await main(["compile", "test/models/tiny_decoder.tfm", "-o", dir, "--emit", "js", "--runtime", "package"], quiet())).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["tiny_decoder.d.ts", "tiny_decoder.js"]);
    expect(readFileSync(join(dir, "tiny_decoder.js"), "utf8")).toContain('from "tfmc/runtime"');
  });
});

describe("tfmc init outside the repository", () => {
  it("writes a starter whose printed next command runs as printed, with nothing installed", () => {
    const parent = bareFolder("tfmc-init-");
    const printed = execFileSync(process.execPath, [BIN, "init", "my starter"], { cwd: parent, encoding: "utf8", env: cleanEnv() });
    const next = /^next: (.*)$/m.exec(printed)?.[1];
    expect(next).toBe("cd 'my starter' && node run.mjs");
    expect(JSON.parse(readFileSync(join(parent, "my starter", "package.json"), "utf8"))).toMatchObject({ name: "my-starter", private: true, type: "module" });
    const ran = execSync(next!, { cwd: parent, encoding: "utf8", env: cleanEnv(), shell: "/bin/sh", stdio: ["ignore", "pipe", "pipe"] });
    expect(ran).toMatch(/^logits: f32\[1, 16, 1000\]; most likely next token: \d+\n$/);
  }, 60_000);

  it("in the current folder prints no cd, and the command runs there", () => {
    const dir = bareFolder("tfmc-init-here-");
    const printed = execFileSync(process.execPath, [BIN, "init", "."], { cwd: dir, encoding: "utf8", env: cleanEnv() });
    expect(printed).not.toContain("cd ");
    const next = /^next: (.*)$/m.exec(printed)?.[1];
    expect(next).toBe("node run.mjs");
    expect(execSync(next!, { cwd: dir, encoding: "utf8", env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] })).toMatch(/most likely next token: \d+/);
  }, 60_000);
});

describe("the npm pack tarball", () => {
  it("holds the built dist/, installs into an empty folder, and its tfmc works there", () => {
    const dir = bareFolder("tfmc-pack-");
    // --ignore-scripts: the tarball of the dist/ this test run uses (prepack would rebuild it under
    // the feet of other tests); `npm test` builds it first.
    const name = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8", env: cleanEnv() }).trim().split("\n").at(-1)!;
    const tarball = join(dir, name);
    const listed = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n");
    for (const f of ["package/bin/tfmc.js", "package/dist/cli/main.js", "package/dist/runtime/index.js", "package/dist/runtime/index.d.ts", "package/dist/runtime/threadWorker.js", "package/package.json"]) expect(listed, f).toContain(f);
    expect(listed.filter((f) => /^package\/(src|test|bench|node_modules)\//.test(f))).toEqual([]);

    const app = join(dir, "app");
    mkdirSync(app);
    const env = cleanEnv();
    execFileSync("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--silent"], { cwd: app, encoding: "utf8", env });
    writeFileSync(join(app, "model.tfm"), readFileSync(join(ROOT, "examples", "gpt.tfm")));
    const checked = execFileSync("npx", ["tfmc", "check", "model.tfm"], { cwd: app, encoding: "utf8", env });
    expect(checked).toContain("model.tfm: model gpt is well formed");
    // The installed compiler writes the runtime copy from its own dist/.
    execFileSync("npx", ["tfmc", "compile", "model.tfm", "-o", "out", "--emit", "js", ...SETS], { cwd: app, encoding: "utf8", env });
    expect(readFileSync(join(app, "out", "tfmc-runtime", "threads.js"))).toEqual(readFileSync(join(ROOT, "dist", "runtime", "threads.js")));
  }, 120_000);
});
