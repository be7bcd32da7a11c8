import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatTfm } from "../../src/format/format.js";
import { analyze, definitionAt, hoverAt } from "../../src/lsp/analysis.js";
import { ROOT } from "../helpers.js";

// The editor's analysis of a file with a syntax error somewhere: hover, definition and the
// checker's diagnostics keep working on the rest of it, and what the checker would say about the
// broken statement itself (or what follows from it) is left to the syntax error.

const GPT = readFileSync(join(ROOT, "examples", "gpt.tfm"), "utf8");
const at = (text: string, needle: string, delta = 0) => {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`'${needle}' not found`);
  return i + delta;
};
const lineCol = (text: string, offset: number) => {
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${before[before.length - 1].length + 1}`;
};
const messages = (text: string) => analyze(text).diagnostics.map((d) => `${d.span.line}:${d.span.col} ${d.message}`);

const BROKEN: Record<string, string> = {
  "an unfinished statement at the end": GPT.replace(/\}\n$/, "  y = linear(h, "),
  "a missing ')' on a later line": GPT.replace("learned_positions(T, ctx, d)", "learned_positions(T, ctx, d"),
  "a stray token in the middle of the block": GPT.replace("    return x", "    ) ]\n    return x"),
  "an unclosed block": GPT.replace("    return x\n  }\n", "    return x\n"),
  "a misspelt model keyword": GPT.replace("model gpt", "modle gpt"),
};

describe("analysis of a file with a syntax error", () => {
  it.each(Object.entries(BROKEN))("%s: one error, and hover and definition on line 8", (_name, text) => {
    const a = analyze(text);
    expect(a.parsed).toBe(false);
    expect(a.diagnostics).toHaveLength(1);
    expect(a.diagnostics[0].code).toBeLessThan(2000);
    expect(hoverAt(a, at(text, "attention(", 2))!.text).toContain("f32[B, T, 768]");
    expect(hoverAt(a, at(text, "4 * d", 2))!.text).toContain("int = 3072");
    expect(lineCol(text, definitionAt(a, at(text, "heads, causal"))!.start)).toBe("3:34");
    expect(lineCol(text, definitionAt(a, at(text, "layer_norm(x)", 11))!.start)).toBe("7:15");
    // `tfmc fmt` refuses the file, with its syntax errors, and does not throw.
    expect(formatTfm(text).ok).toBe(false);
  });

  it("still reports the checker's errors in statements the syntax error did not touch", () => {
    const text = GPT.replace("heads, causal", "5, causal").replace(/\}\n$/, "  y = linear(h, ");
    expect(messages(text)).toEqual(["8:50 model dimension 768 is not divisible by the number of heads 5", "16:17 unexpected end of file: expected an expression"]);
  });

  it("says nothing of its own about the broken statement, or about what it may have declared", () => {
    // `linear(` has no arguments yet: no "missing argument".
    expect(messages(GPT.replace(/\}\n$/, "  y = linear("))).toEqual(["16:14 expected ')' but found end of file"]);
    // Recovery reads `x heads = 12` as `x = heads` and more: no "already declared" for the block's `x`.
    expect(messages(GPT.replace("d = 768, heads", "d = 768, x heads"))).toEqual(["3:36 expected '=' but found 'heads'"]);
    // A broken header: the calls' "missing argument" follows from it.
    expect(messages(GPT.replace("layer(x: f32[B, T, d])", "layer(x: f32B, T, d])"))).toEqual(["7:22 expected '[' but found ','"]);
    // A statement recovered into pieces on its line: none of them is reported on.
    expect(messages(GPT.replace("attn: attention", "attn: ax ttention"))).toEqual(["8:22 unexpected 'ttention': expected a statement (config, input, output, block, if, return or an assignment)"]);
    // A file whose model cannot be found says so once.
    expect(messages("mode1 gpt = {\n")).toHaveLength(1);
  });

  it("gives the types of a block nobody calls yet, from its parameter types", () => {
    const text = GPT.slice(0, GPT.indexOf("  h = wte"));
    const a = analyze(text);
    expect(hoverAt(a, at(text, "block layer(x", 12))!.text).toContain("f32[B, T, 768]");
    expect(hoverAt(a, at(text, "attention(", 2))!.text).toContain("f32[B, T, 768]");
    expect(hoverAt(a, at(text, "ffn(", 1))!.text).toContain("f32[B, T, 768]");
    // What the preview would say is not reported: the model is only half written.
    expect(a.diagnostics.map((d) => d.code)).toEqual([1004]);
  });
});
