import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

// `npm run bench` at small sizes: every engine runs every workload it is meant to and agrees with
// tfmc. Timings are not looked at: this only keeps the harness working.

interface Row {
  workload: string;
  engine: string;
  error?: string;
  agrees?: boolean;
  medianMs?: number;
  attentionMs?: number;
}

describe("npm run bench (quick mode)", () => {
  it("runs every engine on every workload, and each agrees with tfmc within 1e-4", { timeout: 300_000 }, () => {
    execFileSync(process.execPath, [join(ROOT, "bench", "run.mjs"), "--quick"], { cwd: ROOT, stdio: "pipe", encoding: "utf8" });
    const { quick, results } = JSON.parse(readFileSync(join(ROOT, "bench", "results", "quick.json"), "utf8")) as { quick: boolean; results: Row[] };
    expect(quick).toBe(true);
    const failed = results.filter((r) => r.error !== undefined || r.agrees !== true);
    expect(failed).toEqual([]);
    const workloads = new Set(results.map((r) => r.workload.split(" ")[0]));
    expect([...workloads].sort()).toEqual(["W1", "W2", "W3", "W4", "W5"]);
    const engines = new Set(results.map((r) => r.engine));
    for (const e of ["tfmc:1", "tfmc:2", "ort-node:1", "ort-node:2", "ort-web:1", "ort-web:2", "tfjs:cpu", "tfjs:wasm"]) expect(engines.has(e), e).toBe(true);
    // W5 times the attention alone from the profiled module.
    for (const r of results.filter((x) => x.workload.startsWith("W5") && x.engine.startsWith("tfmc"))) expect(r.attentionMs).toBeGreaterThan(0);
  });
});
