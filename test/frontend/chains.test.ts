import { describe, expect, it } from "vitest";
import { formatTfm } from "../../src/format/format.js";
import { analyze } from "../../src/lsp/analysis.js";
import { checkSource } from "../../src/semantics/check.js";
import { MAX_CHAIN, MAX_NESTING } from "../../src/syntax/parse.js";

const wrap = (e: string) => `model m {\n  input x: f32[B, 4]\n  output y = ${e}\n}\n`;
const codes = (text: string) => checkSource(text).diagnostics.items.map((d) => d.code);
const sum = (terms: number, op = "+") => "x" + ` ${op} x`.repeat(terms - 1);

describe("a chain of operators is not nesting", () => {
  it("a flat sum of 129 terms, and of 1,025 (1,024 operators), checks cleanly", () => {
    expect(codes(wrap(sum(MAX_NESTING + 1)))).toEqual([]);
    expect(codes(wrap(sum(MAX_CHAIN + 1)))).toEqual([]);
    expect(codes(wrap(sum(MAX_CHAIN + 1, "*")))).toEqual([]);
    expect(codes(wrap(`(${sum(300)}) * (${sum(300, "-")})`))).toEqual([]);
  });

  it("mixed precedence in a chain is still one level per operator class", () => {
    expect(codes(wrap(Array.from({ length: 200 }, () => "x * x").join(" + ")))).toEqual([]);
  });

  it("more than MAX_CHAIN operators in a row is TFM1012, one diagnostic", () => {
    expect(codes(wrap(sum(MAX_CHAIN + 2)))).toEqual([1012]);
    expect(codes(wrap(sum(200_000)))).toEqual([1012]);
  });

  it("chains inside parentheses count together along a path", () => {
    // Each level: a chain of 10 whose first operand nests further; 120 levels is 1,080 operators on one path.
    let deep = "x";
    for (let i = 0; i < 120; i++) deep = `(${deep}${" + x".repeat(9)})`;
    expect(codes(wrap(deep))).toEqual([1012]);
    let fine = "x";
    for (let i = 0; i < 100; i++) fine = `(${fine}${" + x".repeat(9)})`;
    expect(codes(wrap(fine))).toEqual([]);
  });

  it("real nesting is still bounded by MAX_NESTING", () => {
    expect(codes(wrap("(".repeat(MAX_NESTING - 1) + "x" + ")".repeat(MAX_NESTING - 1)))).toEqual([]);
    const right = Array.from({ length: MAX_NESTING + 1 }, () => "x").join(" + (") + ")".repeat(MAX_NESTING);
    expect(codes(wrap(right))).toContain(1006);
  });

  it("the longest allowed chain also passes the formatter and the language server", () => {
    const text = wrap(sum(MAX_CHAIN + 1));
    const f = formatTfm(text);
    expect(f.ok).toBe(true);
    expect(analyze(text).diagnostics).toEqual([]);
  });
});
