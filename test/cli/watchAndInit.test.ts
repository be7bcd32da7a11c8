import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runWatch } from "../../src/cli/watch.js";
import { main } from "../../src/cli/main.js";
import { formatTfm } from "../../src/format/format.js";
import { overrides, ROOT } from "../helpers.js";

const GOOD = "model w {\n  input x: f32[B, 8]\n  output y = linear(x, 4)\n}\n";
const BAD = "model w {\n  input x: f32[B, 8]\n  output y = linear(x, 4) + x\n}\n";
const GOOD2 = "model w {\n  input x: f32[B, 8]\n  output y = linear(x, 6)\n}\n";

function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => (pred() ? resolve() : Date.now() - t0 > ms ? reject(new Error(`timed out waiting for ${what}`)) : setTimeout(tick, 20));
    tick();
  });
}

describe("tfmc compile --watch", () => {
  it("recompiles on save, reports errors, keeps the last good output, and follows editors' rename-on-save", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfmc-watch-"));
    const file = join(dir, "w.tfm");
    const out = join(dir, "out");
    writeFileSync(file, GOOD);
    const log: string[] = [];
    const io = { out: (l: string) => void log.push(l), err: (l: string) => void log.push(l), color: false };
    const stop = new AbortController();
    const done = runWatch({ file, outDir: out, overrides: overrides(), emit: "js", check: false }, io, stop.signal);
    const generated = () => readFileSync(join(out, "w.js"), "utf8");
    await until(() => log.some((l) => l.startsWith("watching")), "the first compile");
    expect(generated()).toContain("[4, 8]");
    const good = generated();

    writeFileSync(file, BAD);
    await until(() => log.some((l) => l.includes("kept the last good output")), "the failed compile");
    expect(log.join("\n")).toMatch(/w\.tfm:3:\d+: error TFM2\d{3}/);
    expect(generated()).toBe(good);

    // Save by writing a temporary file and renaming it over the model, as many editors do.
    writeFileSync(join(dir, ".w.tfm.swp"), GOOD2);
    renameSync(join(dir, ".w.tfm.swp"), file);
    await until(() => generated() !== good, "the recompile after the fix");
    expect(generated()).toContain("[6, 8]");
    stop.abort();
    expect(await done).toBe(0);
  });

  it("refuses --watch with --check", async () => {
    const lines: string[] = [];
    const code = await main(["compile", "--watch", "--check", "examples/gpt.tfm", "-o", "x"], { out: (l) => lines.push(l), err: (l) => lines.push(l), color: false });
    expect(code).toBe(2);
    expect(lines.join("\n")).toContain("--watch and --check do not go together");
  });
});

describe("tfmc init", () => {
  it("writes a starter model that checks, is formatted, and a script that runs it compiled", () => {
    // The starter needs no tfmc package: init compiles the model, its runtime copied beside it
    // (test/cli/standalone.test.ts runs it outside the repository).
    const dir = join(ROOT, "test", ".generated", "init-starter");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(ROOT, "test", ".generated"), { recursive: true });
    const bin = join(ROOT, "bin", "tfmc.js");
    const wrote = execFileSync(process.execPath, [bin, "init", dir], { encoding: "utf8" });
    expect(wrote).toContain("model.tfm");
    const model = readFileSync(join(dir, "model.tfm"), "utf8");
    const formatted = formatTfm(model);
    expect(formatted.ok && formatted.text).toBe(model);
    expect(execFileSync(process.execPath, [bin, "check", join(dir, "model.tfm")], { encoding: "utf8" })).toContain("model init_starter is well formed");
    const ran = execFileSync(process.execPath, ["run.mjs"], { cwd: dir, encoding: "utf8" });
    expect(ran).toMatch(/logits: f32\[1, 16, 1000\]; most likely next token: \d+/);
  });

  it("never overwrites an existing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "tfmc-init-"));
    writeFileSync(join(dir, "run.mjs"), "// mine\n");
    let status = 0;
    let stderr = "";
    try {
      execFileSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "init", dir], { encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(status).toBe(1);
    expect(stderr).toContain("already exists; nothing written");
    expect(readFileSync(join(dir, "run.mjs"), "utf8")).toBe("// mine\n");
  });
});
