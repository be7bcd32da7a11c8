import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { Diagnostics } from "../src/diagnostics/messages.js";
import { checkSource } from "../src/semantics/check.js";
import { MAX_FILE_BYTES } from "../src/syntax/parse.js";
import { ROOT } from "./helpers.js";

// Every .tfm under test/cases/ is checked as `tfmc check` would, and what it prints (colour off)
// plus its exit code is compared with the committed `.baseline.txt` beside it. A first line
// `// @set a=1 b=2` passes config overrides. TFMC_ACCEPT_BASELINES=1 rewrites the baselines, which
// are then reviewed as diffs.

const CASES = join(ROOT, "test", "cases");
const ACCEPT = process.env.TFMC_ACCEPT_BASELINES === "1";

function tfmFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? tfmFiles(p) : f.endsWith(".tfm") ? [p] : [];
    });
}

async function checkOutput(file: string): Promise<string> {
  const rel = relative(ROOT, file).replace(/\\/g, "/");
  const first = readFileSync(file, "utf8").split("\n")[0];
  const sets = /^\/\/ @set (.*)$/.exec(first)?.[1].trim().split(/\s+/).flatMap((s) => ["--set", s]) ?? [];
  const lines: string[] = [];
  const code = await main(["check", rel, ...sets], { out: (l) => lines.push(l), err: (l) => lines.push(l), color: false });
  return `${lines.join("\n")}\nexit ${code}\n`;
}

const files = tfmFiles(CASES);
const baselines = new Map<string, string>();

describe("diagnostic baselines", () => {
  it.each(files.map((f) => [relative(CASES, f), f]))("%s", async (_name, file) => {
    const got = await checkOutput(file);
    const path = file.replace(/\.tfm$/, ".baseline.txt");
    if (ACCEPT) writeFileSync(path, got);
    expect(existsSync(path), `no baseline for ${file}: run npm run baselines and review it`).toBe(true);
    baselines.set(file, got);
    expect(got).toBe(readFileSync(path, "utf8"));
  });

  it("has at least 40 wrong files, each failing with a located error and no stack trace", () => {
    const errors = files.filter((f) => f.includes(`${join("cases", "errors")}`));
    expect(errors.length).toBeGreaterThanOrEqual(40);
    for (const f of errors) {
      const text = readFileSync(f.replace(/\.tfm$/, ".baseline.txt"), "utf8");
      if (f.endsWith("unused_input_warning.tfm")) continue;
      expect(text, f).toMatch(/^test\/cases\/errors\/\S+\.tfm:\d+:\d+: error TFM\d{4}: /m);
      expect(text, f).toMatch(/exit 1\n$/);
      expect(text, f).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    }
  });

  it("exercises every code in the diagnostic table", () => {
    const seen = new Set<string>();
    for (const f of files) for (const m of readFileSync(f.replace(/\.tfm$/, ".baseline.txt"), "utf8").matchAll(/TFM(\d{4})/g)) seen.add(m[1]);
    // A file over the size limit is not committed; it is made here.
    const big = checkSource("model m {}\n" + "//".padEnd(MAX_FILE_BYTES, "x"));
    for (const d of big.diagnostics.items) seen.add(String(d.code));
    const missing = Object.entries(Diagnostics)
      .filter(([, info]) => !seen.has(String(info.code)))
      .map(([key, info]) => `TFM${info.code} ${key}`);
    expect(missing).toEqual([]);
  });
});
