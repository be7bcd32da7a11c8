import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { MAX_FILE_BYTES } from "../../src/syntax/parse.js";
import { ROOT } from "../helpers.js";

const dir = join(ROOT, "test", ".generated", "source-files");
mkdirSync(dir, { recursive: true });
const GOOD = "model m {\n  input x: f32[B, 4]\n  output y = x\n}\n";

async function tfmc(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), color: false });
  return { code, out, err };
}

describe("reading a source", () => {
  it("a regular file over the limit is refused by its size, before it is read", async () => {
    const file = join(dir, "big.tfm");
    writeFileSync(file, GOOD + "//".padEnd(2 * MAX_FILE_BYTES, "x"));
    const r = await tfmc("check", file);
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toBe(`tfmc: error: ${file}: file is too large (${GOOD.length + 2 * MAX_FILE_BYTES} bytes; the limit is 1 MiB)`);
    // A file of exactly the limit is read and checked.
    writeFileSync(file, GOOD + "//".padEnd(MAX_FILE_BYTES - GOOD.length, "x"));
    expect((await tfmc("check", file)).code).toBe(0);
  });

  it.skipIf(process.platform === "win32")("a FIFO that never ends is read up to the limit plus one byte, no further", async () => {
    const fifo = join(dir, "endless.fifo");
    rmSync(fifo, { force: true });
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // The writer offers 16 MiB and reports how many bytes the reader took before closing its end.
    const writer = spawn(process.execPath, [
      "-e",
      `const fs = require("fs"); const fd = fs.openSync(${JSON.stringify(fifo)}, "w"); const chunk = Buffer.alloc(65536, 32); let n = 0;
       try { while (n < 16 * 1048576) n += fs.writeSync(fd, chunk); } catch {} process.stdout.write(String(n));`,
    ]);
    let written = "";
    writer.stdout.on("data", (d) => (written += d));
    const done = new Promise((resolve) => writer.on("close", resolve));
    const r = await tfmc("check", fifo);
    await done;
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toBe(`tfmc: error: ${fifo}: file is too large (more than ${MAX_FILE_BYTES} bytes; the limit is 1 MiB)`);
    // What the reader took, plus what the pipe buffered before the writer saw the reader gone.
    expect(Number(written)).toBeLessThan(MAX_FILE_BYTES + 1024 * 1024);
  });

  it.skipIf(process.platform === "win32")("/dev/zero is refused, not read to exhaustion", async () => {
    const r = await tfmc("check", "/dev/zero");
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toMatch(/^tfmc: error: \/dev\/zero: file is too large \(more than 1048576 bytes/);
  });

  it("check of several files reports each unreadable one and goes on", async () => {
    const good = join(dir, "good.tfm");
    writeFileSync(good, GOOD);
    const r = await tfmc("check", join(dir, "missing1.tfm"), good, dir, join(dir, "missing2.tfm"));
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      `tfmc: error: ${join(dir, "missing1.tfm")}: no such file`,
      `tfmc: error: ${dir}: it is a directory`,
      `tfmc: error: ${join(dir, "missing2.tfm")}: no such file`,
    ]);
    expect(r.out[0]).toBe(`${good}: model m is well formed`);
    const json = await tfmc("check", "--json", join(dir, "missing1.tfm"), good);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out.join("\n")) as { file: string; ok: boolean; error?: string }[];
    expect(report.map((f) => [f.ok, f.error])).toEqual([[false, `${join(dir, "missing1.tfm")}: no such file`], [true, undefined]]);
  });
});
