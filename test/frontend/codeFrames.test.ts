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
