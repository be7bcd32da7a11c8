import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";

// What tfmc writes: all of a compile's files or none, and a rewritten file keeps its mode and
// stays where a symbolic link points.

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (s) => void (out += s + "\n"), err: (s) => void (err += s + "\n"), color: false });
  return { code, out, err };
}

const MESSY = "model   m{\n  input x : f32[B,8]\n  output y=linear(x,4)\n}\n";
const TIDY = "model m {\n  input x: f32[B, 8]\n  output y = linear(x, 4)\n}\n";

describe("tfmc fmt keeps what it rewrites where and as it was", () => {
  it("a mode-600 file stays mode 600", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfmc-fmt-mode-"));
    const file = join(dir, "m.tfm");
    writeFileSync(file, MESSY);
    chmodSync(file, 0o600);
    expect((await cli("fmt", file)).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(TIDY);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    chmodSync(file, 0o640);
    writeFileSync(file, MESSY);
    expect((await cli("fmt", file)).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it("a symbolic link stays a link, its target rewritten, the temporary file beside the target", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfmc-fmt-link-"));
    mkdirSync(join(dir, "real"));
    mkdirSync(join(dir, "links"));
    const target = join(dir, "real", "m.tfm");
    writeFileSync(target, MESSY);
    chmodSync(target, 0o600);
    const link = join(dir, "links", "m.tfm");
    symlinkSync(target, link);
    const r = await cli("fmt", link);
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, "utf8")).toBe(TIDY);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "links"))).toEqual(["m.tfm"]);
    expect(readdirSync(join(dir, "real"))).toEqual(["m.tfm"]);
  });
});

describe("compile writes all of its files or none", () => {
  function setup(): { dir: string; src: string; out: string } {
    const dir = mkdtempSync(join(tmpdir(), "tfmc-atomic-"));
    const src = join(dir, "m.tfm");
    writeFileSync(src, TIDY);
    const out = join(dir, "out");
    mkdirSync(out);
    writeFileSync(join(out, "m.js"), "// the previous output\n");
    return { dir, src, out };
  }

  it("when the .d.ts cannot be replaced (a folder of that name), the .js is left as it was", async () => {
    const { src, out } = setup();
    mkdirSync(join(out, "m.d.ts"));
    const r = await cli("compile", src, "-o", out, "--emit", "js");
    expect(r.code).toBe(1);
    expect(r.err).toContain("m.d.ts: it is a directory");
    expect(readFileSync(join(out, "m.js"), "utf8")).toBe("// the previous output\n");
    expect(readdirSync(out).sort()).toEqual(["m.d.ts", "m.js"]);
  });

  it.skipIf(!existsSync("/proc/version"))("when the .d.ts cannot be written (a link into a read-only file system), nothing is replaced and no temporary file is left", async () => {
    const { src, out } = setup();
    symlinkSync("/proc/version", join(out, "m.d.ts"));
    const r = await cli("compile", src, "-o", out, "--emit", "js");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^tfmc: error: cannot write to /);
    expect(readFileSync(join(out, "m.js"), "utf8")).toBe("// the previous output\n");
    expect(readdirSync(out).sort()).toEqual(["m.d.ts", "m.js"]);
  });

  it("an output that is a symbolic link is written through, keeping the target's mode", async () => {
    const { dir, src, out } = setup();
    const target = join(dir, "kept.js");
    writeFileSync(target, "old");
    chmodSync(target, 0o600);
    symlinkSync(target, join(out, "m.d.ts"));
    expect((await cli("compile", src, "-o", out, "--emit", "js")).code).toBe(0);
    expect(lstatSync(join(out, "m.d.ts")).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, "utf8")).toContain("export declare function createModel");
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, "m.js"), "utf8")).toContain("export function createModel");
    expect(readdirSync(out).sort()).toEqual(["m.d.ts", "m.js", "tfmc-runtime"]);
    expect(readdirSync(join(out, "tfmc-runtime")).filter((f) => f.startsWith("."))).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(["kept.js", "m.tfm", "out"]);
  });
});
