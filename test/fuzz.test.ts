import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../src/diagnostics/messages.js";
import { checkSource } from "../src/semantics/check.js";
import { MAX_SUGGESTED_NAME, SUGGESTION_CELLS } from "../src/diagnostics/didYouMean.js";
import { MAX_OPERATIONS } from "../src/semantics/elaborator.js";
import { MAX_NESTING } from "../src/syntax/parse.js";
import { overrides, ROOT } from "./helpers.js";

const CODES = new Set<number>(Object.values(Diagnostics).map((d) => d.code));
const EXAMPLES = [
  ...readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".tfm")).map((f) => join("examples", f)),
  ...readdirSync(join(ROOT, "examples", "torch")).map((f) => join("examples", "torch", f)),
].map((p) => readFileSync(join(ROOT, p), "utf8"));

const TOKENS = ["model", "config", "input", "output", "block", "return", "if", "else", "where", "true", "false", "and", "or", "not",
  "{", "}", "(", ")", "[", "]", ",", ";", ":", "?", ".", "==", "!=", "<=", ">=", "<", ">", "=", "+", "-", "**", "*", "/", "%", "@",
  "x", "attention", "linear", "repeat", "heads", "d", "B", "T", "f32", "bool", "0", "1.5e3", '"s"', "//c\n", "/*", "*/", "\"", "\\", "\n", " "];

// Work is bounded by counts, not by the clock: the cells every "did you mean" of a check may spend,
// and the nodes a model may have.
const SUGGESTION_TABLE = MAX_SUGGESTED_NAME * (2 * Math.floor(MAX_SUGGESTED_NAME / 3) + 1);

/** Only diagnostics from the table, with sane spans; never an exception; bounded work. */
function checkQuietly(text: string, sets: string[] = []): void {
  const r = checkSource(text, overrides(...sets));
  expect(r.diagnostics.suggestions.cells).toBeLessThanOrEqual(SUGGESTION_CELLS + SUGGESTION_TABLE);
  expect(r.model?.nodes.length ?? 0).toBeLessThanOrEqual(MAX_OPERATIONS);
  for (const d of r.diagnostics.items) {
    expect(CODES.has(d.code), `unknown code ${d.code}`).toBe(true);
    expect(d.span.line).toBeGreaterThanOrEqual(1);
    expect(d.span.col).toBeGreaterThanOrEqual(1);
    expect(d.span.start).toBeLessThanOrEqual(text.length);
    expect(d.message.length).toBeGreaterThan(0);
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("delete"), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("duplicate"), at: fc.nat(), len: fc.integer({ min: 1, max: 80 }) }),
  fc.record({ kind: fc.constant("insert"), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ kind: fc.constant("char"), at: fc.nat(), ch: fc.oneof(fc.string({ minLength: 1, maxLength: 2 }), fc.constantFrom("\u0000", "\u2028", "\uffff", "\ud800", "é", "∑")) }),
  fc.record({ kind: fc.constant("swap"), at: fc.nat(), other: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, ms: Mutation[]): string {
  let s = text;
  for (const m of ms) {
    const at = s.length === 0 ? 0 : m.at % s.length;
    if (m.kind === "delete") s = s.slice(0, at) + s.slice(at + m.len);
    else if (m.kind === "duplicate") s = s.slice(0, at) + s.slice(at, at + m.len) + s.slice(at);
    else if (m.kind === "insert") s = s.slice(0, at) + " " + m.token + " " + s.slice(at);
    else if (m.kind === "char") s = s.slice(0, at) + m.ch + s.slice(at + 1);
    else {
      const lines = s.split("\n");
      const i = m.at % lines.length;
      const j = m.other % lines.length;
      [lines[i], lines[j]] = [lines[j], lines[i]];
      s = lines.join("\n");
    }
  }
  return s;
}

describe("fuzzing the front end (fixed seeds)", () => {
  it("1,500 mutated examples give diagnostics only, with bounded work", () => {
    fc.assert(
      fc.property(fc.nat({ max: EXAMPLES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }), (i, ms) => {
        checkQuietly(mutate(EXAMPLES[i], ms));
      }),
      { seed: 20261122, numRuns: 1500 },
    );
  });

  it("400 token soups and 300 random strings give diagnostics only", () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 300 }), (toks) => checkQuietly(toks.join(" "))), { seed: 7, numRuns: 400 });
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 400 }), (s) => checkQuietly(s)), { seed: 8, numRuns: 300 });
  });

  it("random --set overrides on the examples give diagnostics only", () => {
    const names = ["d", "heads", "layers", "vocab", "ctx", "d_model", "nhead", "activation", "norm_first", "embed_dim", "num_heads", "nope"];
    const values = ["0", "1", "3", "-4", "7.5", "true", "gelu", "silu", "relu", "banana", "1000000"];
    fc.assert(
      fc.property(fc.nat({ max: EXAMPLES.length - 1 }), fc.array(fc.tuple(fc.constantFrom(...names), fc.constantFrom(...values)), { maxLength: 4 }), (i, sets) => {
        const unique = new Map(sets);
        checkQuietly(EXAMPLES[i], [...unique].map(([k, v]) => `${k}=${v}`));
      }),
      { seed: 9, numRuns: 200 },
    );
  });
});

describe("nesting limit", () => {
  const wrap = (inner: string) => `model m {\n  input x: f32[B, 4]\n  output y = ${inner}\n}\n`;
  const codes = (text: string) => checkSource(text).diagnostics.items.map((d) => d.code);
  // The model's braces count as one level, so an expression may nest MAX_NESTING - 1 deep.
  const forms: [string, (n: number) => string][] = [
    ["parentheses", (n) => "(".repeat(n) + "x" + ")".repeat(n)],
    ["unary minus", (n) => "- ".repeat(n) + "x"],
    ["not", (n) => "not ".repeat(n) + "x"],
    ["powers", (n) => "x" + " ** x".repeat(n)],
  ];
  it.each(forms)("%s: depth L passes the limit check, L + 1 is TFM1006", (_name, build) => {
    expect(codes(wrap(build(MAX_NESTING - 1)))).not.toContain(1006);
    expect(codes(wrap(build(MAX_NESTING)))).toContain(1006);
  });

  it("10^6 levels of every kind give one diagnostic, no crash", () => {
    const n = 1_000_000;
    const huge = [
      ...forms.map(([, build]) => wrap(build(n))),
      wrap("x" + " + x".repeat(n)),
      "model m {\n" + "block b() {\n".repeat(n) + "}".repeat(n) + "\n}\n",
      "model m {\n  if true { x = 1 }" + " else if true { x = 1 }".repeat(n / 10) + "\n}\n",
      "model m {\n  y = [" + "[".repeat(n) + "\n}\n",
    ];
    for (const text of huge) {
      const c = codes(text);
      // One error stops the analysis: it does not go on to walk a million levels.
      expect(c.length).toBeGreaterThan(0);
      expect(c.length).toBeLessThanOrEqual(2);
      expect(c.every((code) => CODES.has(code))).toBe(true);
    }
  });

  it("through the CLI: exit 1, a located error, no stack trace", () => {
    const dir = join(ROOT, "test", ".generated", "deep");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "deep.tfm");
    // 400,000 levels: as deep as a file under the 1 MiB limit allows.
    writeFileSync(file, wrap("(".repeat(400_000) + "x" + ")".repeat(400_000)));
    const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "check", file], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/deep\.tfm:3:\d+: error TFM1006: nesting is too deep/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
