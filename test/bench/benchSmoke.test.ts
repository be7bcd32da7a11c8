import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

// `npm run bench:quick` narrowed to tfmc's own rows: every workload but the slow W5 variants
// compiles and runs on tfmc's 1-thread engine, decoding runs, and the compile-scaling row is
// filled. The peers and timings are not looked at (that is `npm run bench`): this only keeps the
// harness working, in seconds.

interface Row {
  workload: string;
  engine: string;
  error?: string;
  agrees?: boolean;
  attentionMs?: number;
}

const ONLY = ["W1", "W2", "W3", "W4", "W5 seq256 local", "W6", "compile-scaling"];

describe("npm run bench (quick mode, tfmc rows)", () => {
  it("runs tfmc on every workload, decodes, and times compiles at two sizes", { timeout: 180_000 }, () => {
    execFileSync(process.execPath, [join(ROOT, "bench", "run.mjs"), "--quick", "--only", ONLY.join(","), "--engines", "tfmc:1"], { cwd: ROOT, stdio: "pipe", encoding: "utf8" });
    const report = JSON.parse(readFileSync(join(ROOT, "bench", "results", "quick.json"), "utf8")) as {
      quick: boolean;
      results: Row[];
      decode: unknown[];
      compileScaling: { layers: number; nodes: number; cpuMs: number }[];
    };
    expect(report.quick).toBe(true);
    expect(report.results.filter((r) => r.error !== undefined || r.agrees !== true)).toEqual([]);
    expect(report.results.map((r) => `${r.workload} ${r.engine}`)).toEqual([
      "W1 enc512 tfmc:1",
      "W2 enc512-long tfmc:1",
      "W3 gemm tfmc:1",
      "W4 enc6 tfmc:1",
      "W5 seq256 local tfmc:1",
    ]);
    // W5 times the attention alone from the profiled module.
    expect(report.results[4].attentionMs).toBeGreaterThan(0);
    expect(report.decode.length).toBeGreaterThan(0);
    expect(report.compileScaling.map((r) => r.layers)).toEqual([10, 100]);
    expect(report.compileScaling[1].nodes).toBeGreaterThan(9 * report.compileScaling[0].nodes);
  });
});
