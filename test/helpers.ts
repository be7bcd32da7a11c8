import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { main } from "../src/cli/main.js";
import { checkSource } from "../src/semantics/check.js";
import { parseOverride, type ConfigOverride } from "../src/semantics/overrides.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export function overrides(...pairs: string[]): ConfigOverride[] {
  return pairs.map((p) => {
    const o = parseOverride(p);
    if (typeof o === "string") throw new Error(o);
    return o;
  });
}

export function checkFile(path: string, ...sets: string[]) {
  return checkSource(readFileSync(join(ROOT, path), "utf8"), overrides(...sets));
}

export function codes(text: string, ...sets: string[]): number[] {
  return checkSource(text, overrides(...sets)).diagnostics.sorted().map((d) => d.code);
}

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `tfmc ...argv` in this process: its exit code, and what it printed to stdout and stderr (lines joined). */
export async function runCli(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => void out.push(l), err: (l) => void err.push(l), write: (t) => void out.push(t), color: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** The error `f` throws; fails the test when it throws none. */
export function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}
