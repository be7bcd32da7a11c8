import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/diagnostics/format.js";
import { checkSource } from "../../src/semantics/check.js";

function frame(text: string): string {
  const d = checkSource(text).diagnostics.sorted()[0];
  return formatDiagnostic(d, "m.tfm", text, { color: false });
}

describe("code frames under every line ending", () => {
  const lines = ["model m {", "  input x: f32[B, 4]", "  output y = lnear(x, 4)", "}", ""];
  const expected = [
    "m.tfm:3:14: error TFM2004: unknown layer or block 'lnear'",
    "  |",
    "3 |   output y = lnear(x, 4)",
    "  |              ^^^^^",
    "  = help: did you mean 'linear'?",
  ].join("\n");

  it.each([
    ["LF", "\n"],
    ["CRLF", "\r\n"],
    ["CR only", "\r"],
  ])("%s: the frame shows the line and marks the name", (_name, eol) => {
    expect(frame(lines.join(eol))).toBe(expected);
  });

  it("CR only: an error at the end of the file is on the last line, not the first", () => {
    const text = ["model m {", "  input x: f32[B, 4]", "  output y = x", ""].join("\r");
    const d = checkSource(text).diagnostics.sorted()[0];
    expect(d.code).toBe(1004);
    expect(d.span.line).toBe(4);
  });

  it("mixed endings count as the lexer counts them", () => {
    const text = "model m {\r  input x: f32[B, 4]\r\n\n  output y = lnear(x, 4)\n}\n";
    expect(frame(text)).toContain("4 |   output y = lnear(x, 4)");
  });
});

describe("control characters from the source never reach the terminal raw", () => {
  const printed = (text: string) =>
    checkSource(text)
      .diagnostics.sorted()
      .map((d) => formatDiagnostic(d, "m.tfm", text, { color: false }))
      .join("\n");
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

  it("an unexpected line separator, bidi override or escape is named by its code", () => {
    for (const [ch, shown] of [["\u2028", "\\u2028"], ["\u202e", "\\u202e"], ["\u0085", "\\u0085"], ["\u001b", "\\u001b"]]) {
      const out = printed(`model m {\n  input x: f32[B, 4]\n  output y = x ${ch} + x\n}\n`);
      expect(out).toContain(`error TFM1001: unexpected character '${shown}'`);
      expect(out).not.toMatch(RAW);
    }
  });

  it("an astral character is shown whole, not as half a surrogate pair", () => {
    expect(printed("model m {\n  input x: f32[B, 4]\n  output y = x 🤖\n}\n")).toContain("unexpected character '🤖'");
  });

  it("a label string with an escape sequence appears escaped in the message, the hint and the frame", () => {
    const out = printed('model m {\n  input x: f32[B, 4]\n  z = "\u001b[31mred": linear(x, 4)\n  output w = linear(x, 4, tied = "\u001b[31mrex")\n}\n');
    expect(out).toContain("error TFM2031: no layer is labelled '\\u001b[31mrex'");
    expect(out).toContain("= help: did you mean '\\u001b[31mred'?");
    expect(out).not.toMatch(RAW);
  });
});
