import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capped, printable, printableLines } from "../../src/runtime/printable.js";

// The one place outside text is made safe to print: nothing that moves the cursor, ends a line,
// recolours or reorders text survives, and applying it twice is applying it once.

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe("printable", () => {
  it("escapes escape sequences, line ends, bidi overrides and lone surrogates, in JSON's forms", () => {
    expect(printable("a\u001b[31mb\r\nc\td\u009be\u202ef\ud800g")).toBe("a\\u001b[31mb\\r\\nc\\td\\u009be\\u202ef\\ud800g");
    expect(JSON.parse(`"${printable("x\u0085\u2028y")}"`)).toBe("x\u0085\u2028y");
    expect(printable("naïve 名前 😀")).toBe("naïve 名前 😀");
  });

  it("never lets an unsafe character through, and is idempotent", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 100 }), (s) => {
        const once = printable(s, 1000);
        expect(once).not.toMatch(UNSAFE);
        expect(printable(once, 10_000)).toBe(once);
        const lines = printableLines(s, Infinity);
        expect(lines.replace(/[\n\t]/g, "")).not.toMatch(UNSAFE);
      }),
    );
  });

  it("cuts long text, saying how long it was, and long messages and lists, saying how many more", () => {
    expect(printable("x".repeat(40_000))).toBe(`${"x".repeat(200)}... (40000 characters)`);
    expect(printableLines(Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n"), 3)).toBe("line 0\nline 1\nline 2\n... and 97 more lines");
    expect(capped(["a", "b", "c", "d"], 2)).toEqual(["a", "b", "and 2 more"]);
    expect(capped(["a", "b"], 2)).toEqual(["a", "b"]);
  });
});
