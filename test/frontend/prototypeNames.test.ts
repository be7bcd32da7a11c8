import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { analyze } from "../../src/lsp/analysis.js";
import { ROOT } from "../helpers.js";

// Names that an object literal holds without being told: a table looked up by `table[name]` finds
// them unless it checks own properties. Each must mean nothing special to tfmc.
export const PROTOTYPE_NAMES = [
  ...Object.getOwnPropertyNames(Object.prototype),
  ...["prototype", "length", "name", "call", "apply", "bind", "then", "toJSON", "arguments", "caller"],
].filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));

type Position = { source: (n: string) => string; sets?: (n: string) => string[]; exit: 0 | 1; code?: string };

/** Every place a user writes a name, with what `tfmc check` must say when that name is `n`. */
const POSITIONS: Record<string, Position> = {
  "layer call": { source: (n) => `model m {\n  input x: f32[B, 4]\n  output y = ${n}(x)\n}\n`, exit: 1, code: "TFM2004" },
  "config name": { source: (n) => `model m {\n  config ${n} = 4\n  input x: f32[B, ${n}]\n  output y = linear(x, ${n})\n}\n`, exit: 0 },
  "config value": { source: (n) => `model m {\n  config act = ${n}\n  input x: f32[B, 4]\n  output y = ffn(x, 8, act = act)\n}\n`, exit: 1, code: "TFM2034" },
  "config value called": { source: (n) => `model m {\n  config act = ${n}\n  input x: f32[B, 4]\n  output y = act(x)\n}\n`, exit: 1, code: "TFM2004" },
  label: { source: (n) => `model m {\n  input x: f32[B, 4]\n  h = ${n}: linear(x, 4)\n  output y = ${n}.${n}: linear(h, 4)\n}\n`, exit: 0 },
  "label argument": { source: (n) => `model m {\n  input t: i32[B, T]\n  output y = linear(embedding(t, 10, 4), tied = ${n})\n}\n`, exit: 1, code: "TFM2031" },
  "input name": { source: (n) => `model m {\n  input ${n}: f32[B, 4]\n  output y = linear(${n}, 4)\n}\n`, exit: 0 },
  "dimension name": { source: (n) => `model m {\n  input x: f32[${n}, 4] where ${n} <= 8\n  output y = linear(x, 4)\n}\n`, exit: 0 },
  "dtype": { source: (n) => `model m {\n  input x: ${n}[B, 4]\n  output y = x\n}\n`, exit: 1, code: "TFM2020" },
  "block name": { source: (n) => `model m {\n  block ${n}(x: f32[B, 4]) { return linear(x, 4) }\n  input x: f32[B, 4]\n  output y = ${n}: repeat(2, ${n}, x)\n}\n`, exit: 0 },
  "block parameter": { source: (n) => `model m {\n  block b(${n}: f32[B, 4]) { return linear(${n}, 4) }\n  input x: f32[B, 4]\n  output y = b(${n} = x)\n}\n`, exit: 0 },
  "argument name": { source: (n) => `model m {\n  input x: f32[B, 4]\n  output y = linear(x, 4, ${n} = 1)\n}\n`, exit: 1, code: "TFM2005" },
  "block argument name": { source: (n) => `model m {\n  block b(x: f32[B, 4]) { return x }\n  input x: f32[B, 4]\n  output y = b(x, ${n} = x)\n}\n`, exit: 1, code: "TFM2005" },
  "attention kernel": { source: (n) => `model m {\n  input x: f32[B, T, 8]\n  output y = attention(x, 2, kernel = ${n})\n}\n`, exit: 1, code: "TFM2034" },
  "output name": { source: (n) => `model m {\n  input x: f32[B, 4]\n  output ${n} = linear(x, 4)\n}\n`, exit: 0 },
  "variable name": { source: (n) => `model m {\n  input x: f32[B, 4]\n  ${n} = linear(x, 4)\n  output y = ${n}\n}\n`, exit: 0 },
  "unknown name in a value": { source: (n) => `model m {\n  input x: f32[B, 4]\n  output y = linear(x, ${n})\n}\n`, exit: 1, code: "TFM2003" },
  "--set key": { source: () => `model m {\n  config d = 4\n  input x: f32[B, d]\n  output y = x\n}\n`, sets: (n) => [`${n}=1`], exit: 1, code: "TFM2010" },
  "--set value of a choice": { source: () => `model m {\n  config act = gelu\n  input x: f32[B, 4]\n  output y = ffn(x, 8, act = act)\n}\n`, sets: (n) => [`act=${n}`], exit: 1, code: "TFM2034" },
  "--set value of a called name": { source: () => `model m {\n  config act = gelu\n  input x: f32[B, 4]\n  output y = act(x)\n}\n`, sets: (n) => [`act=${n}`], exit: 1, code: "TFM2004" },
  "--set value of a number": { source: () => `model m {\n  config d = 4\n  input x: f32[B, d]\n  output y = x\n}\n`, sets: (n) => [`d=${n}`], exit: 1, code: "TFM2011" },
};

const dir = join(ROOT, "test", ".generated", "prototype-names");
mkdirSync(dir, { recursive: true });

const cases = Object.entries(POSITIONS).flatMap(([where, p]) => PROTOTYPE_NAMES.map((n) => [where, n, p] as const));

describe("names of Object.prototype members are ordinary names", () => {
  it("the list covers the members that broke lookups", () => {
    expect(PROTOTYPE_NAMES).toEqual(expect.arrayContaining(["toString", "constructor", "valueOf", "__proto__", "hasOwnProperty", "isPrototypeOf"]));
  });

  it.each(Object.keys(POSITIONS))("tfmc check: %s", async (where) => {
    const p = POSITIONS[where];
    for (const n of PROTOTYPE_NAMES) {
      const file = join(dir, `${where.replace(/\W+/g, "_")}.${n}.tfm`);
      writeFileSync(file, p.source(n));
      const lines: string[] = [];
      const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), color: false };
      const code = await main(["check", file, ...(p.sets?.(n) ?? []).flatMap((s) => ["--set", s])], io);
      const text = lines.join("\n");
      expect(text, `${where} '${n}'`).not.toMatch(/internal error|\n\s+at /);
      expect(code, `${where} '${n}':\n${text}`).toBe(p.exit);
      if (p.code) expect(text, `${where} '${n}'`).toMatch(new RegExp(`:\\d+:\\d+: error ${p.code}: `));
    }
  });

  it("the language server's analysis checks every such file and reports the same", () => {
    let analysed = 0;
    for (const [where, n, p] of cases) {
      if (p.sets) continue;
      const a = analyze(p.source(n));
      const errors = a.diagnostics.filter((d) => d.category === "error").map((d) => `TFM${d.code}`);
      expect(errors.length > 0, `${where} '${n}'`).toBe(p.exit === 1);
      if (p.code) expect(errors, `${where} '${n}'`).toContain(p.code);
      analysed++;
    }
    expect(analysed).toBeGreaterThan(300);
  });
});
