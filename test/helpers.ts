import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
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
