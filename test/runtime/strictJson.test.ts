import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonError, JsonNonInteger, parseStrictJson, type JsonValue } from "../../src/runtime/strictJson.js";

/** What JSON.parse would have produced, for comparison. */
function plain(v: JsonValue): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof JsonNonInteger) return v.value;
  return v;
}

const kindOf = (text: string): string => {
  try {
    parseStrictJson(text);
    return "ok";
  } catch (e) {
    if (e instanceof JsonError) return e.kind;
    throw e;
  }
};

describe("strict JSON", () => {
  it("agrees with JSON.parse on valid JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? "\t \n" : undefined);
        expect(plain(parseStrictJson(text, 64))).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it("refuses whatever JSON.parse refuses, with only JsonErrors, on near-JSON noise", () => {
    const noise = fc.string({ unit: fc.constantFrom(...'{}[]":,01-+.eE \ttrufalsn\\u"a'.split("")), maxLength: 24 });
    fc.assert(
      fc.property(noise, (text) => {
        let native = true;
        try {
          JSON.parse(text);
        } catch {
          native = false;
        }
        const kind = kindOf(text);
        if (!native) expect(kind).toBe("syntax");
        else expect(["ok", "duplicate-key", "too-deep"]).toContain(kind);
      }),
      { numRuns: 3000 },
    );
  });

  it.each(["", "{", "{,}", "[1,]", "01", "1.", ".5", "+1", "-", "1e", '"\\x"', '"\t"', "tru", '{"a" 1}', "{'a':1}", "[1 2]", '"\\u12G4"', "1 2", "\u00a0{}"])(
    "refuses %j",
    (text) => expect(kindOf(text)).toBe("syntax"),
  );

  it("keeps integer literals apart from fractions and exponents", () => {
    expect(parseStrictJson("[2, -3, 0]")).toEqual([2, -3, 0]);
    const [a, b] = parseStrictJson("[2.0, 1e2]") as JsonNonInteger[];
    expect([a.text, a.value, b.text, b.value]).toEqual(["2.0", 2, "1e2", 100]);
  });

  it("reports duplicate keys with their path, after unescaping", () => {
    const e = (() => {
      try {
        parseStrictJson('{"t":{"x":1,"\\u0078":2}}');
      } catch (err) {
        return err as JsonError;
      }
    })()!;
    expect([e.kind, e.path]).toEqual(["duplicate-key", ["t", "x"]]);
  });

  it("keeps __proto__ as an ordinary key", () => {
    const m = parseStrictJson('{"__proto__":{"a":1}}') as Map<string, JsonValue>;
    expect([...m.keys()]).toEqual(["__proto__"]);
  });

  it("caps nesting and refuses escaped lone surrogates", () => {
    expect(kindOf("[".repeat(17) + "]".repeat(17))).toBe("too-deep");
    expect(kindOf("[".repeat(16) + "]".repeat(16))).toBe("ok");
    expect(kindOf('"\\ud800"')).toBe("syntax");
    expect(kindOf('"\\ud83d\\ude00"')).toBe("ok");
  });
});
