/**
 * A small JSON parser for safetensors headers.
 *
 * JSON.parse is not enough for an untrusted header: it silently keeps the last of two equal keys
 * (so a duplicated tensor name would hide a tensor), it turns `2.0` and `1e2` into integers that
 * can no longer be told apart from `2` and `100`, and it builds plain objects in which a key
 * named `__proto__` needs care. This parser follows RFC 8259 exactly and differs from JSON.parse
 * only where that matters here:
 *   - every object is a Map, and a repeated key (after unescaping) is an error;
 *   - a number written with a fraction or exponent comes back as a `JsonNonInteger`, so only a
 *     plain integer literal can ever be read as a count or an offset;
 *   - a `\u` escape that leaves a lone surrogate is an error, as in the reference (Rust) reader,
 *     since such a string cannot be a tensor name there;
 *   - nesting is capped, so a hostile header cannot exhaust the stack.
 * It scans characters by hand rather than with regular expressions because V8 can throw a
 * RangeError on very long regex matches, and the caller promises to throw only its own errors.
 */

export class JsonNonInteger {
  constructor(
    readonly text: string,
    readonly value: number,
  ) {}
}

export type JsonValue = null | boolean | number | string | JsonNonInteger | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export type JsonErrorKind = "syntax" | "duplicate-key" | "too-deep";

export class JsonError extends Error {
  override readonly name = "JsonError";
  constructor(
    readonly kind: JsonErrorKind,
    message: string,
    /** Character index into the parsed text. */
    readonly offset: number,
    /** Keys of the enclosing objects, outermost first; for duplicate-key, ends with the key itself. */
    readonly path: readonly string[] = [],
  ) {
    super(message);
  }
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export function parseStrictJson(text: string, maxDepth = 16): JsonValue {
  const p = new Parser(text, maxDepth);
  p.ws();
  const value = p.value();
  p.ws();
  if (p.pos < text.length) p.fail(`unexpected ${p.show()} after the end of the JSON value`);
  return value;
}

class Parser {
  pos = 0;
  /** Keys of the enclosing objects (array indices are left out: they cannot repeat). */
  readonly path: string[] = [];
  constructor(
    readonly text: string,
    readonly maxDepth: number,
  ) {}

  fail(message: string, at = this.pos): never {
    throw new JsonError("syntax", `${message} at character ${at}`, at);
  }

  show(): string {
    return this.pos >= this.text.length ? "end of text" : JSON.stringify(this.text[this.pos]);
  }

  ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.pos++;
    }
  }

  value(): JsonValue {
    const c = this.text[this.pos];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    for (const [word, v] of LITERALS) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail(`expected a JSON value but found ${this.show()}`);
  }

  private depth = 0;

  enter(): void {
    if (++this.depth > this.maxDepth) {
      throw new JsonError("too-deep", `nesting deeper than ${this.maxDepth} at character ${this.pos}`, this.pos, [...this.path]);
    }
  }

  object(): JsonObject {
    this.enter();
    const out: JsonObject = new Map();
    this.pos++; // '{'
    this.ws();
    if (this.text[this.pos] === "}") {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail(`expected a string key but found ${this.show()}`);
      const keyAt = this.pos;
      const key = this.string();
      if (out.has(key)) {
        const path = [...this.path, key];
        throw new JsonError("duplicate-key", `duplicate key ${JSON.stringify(key)} at character ${keyAt}`, keyAt, path);
      }
      this.ws();
      if (this.text[this.pos] !== ":") this.fail(`expected ':' but found ${this.show()}`);
      this.pos++;
      this.ws();
      this.path.push(key);
      out.set(key, this.value());
      this.path.pop();
      this.ws();
      const c = this.text[this.pos++];
      if (c === "}") {
        this.depth--;
        return out;
      }
      if (c !== ",") this.fail(`expected ',' or '}' but found ${c === undefined ? "end of text" : JSON.stringify(c)}`, this.pos - 1);
      this.ws();
    }
  }

  array(): JsonValue[] {
    this.enter();
    const out: JsonValue[] = [];
    this.pos++; // '['
    this.ws();
    if (this.text[this.pos] === "]") {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.text[this.pos++];
      if (c === "]") {
        this.depth--;
        return out;
      }
      if (c !== ",") this.fail(`expected ',' or ']' but found ${c === undefined ? "end of text" : JSON.stringify(c)}`, this.pos - 1);
      this.ws();
    }
  }

  string(): string {
    const t = this.text;
    const start = this.pos;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      if (i >= t.length) this.fail("unterminated string", start);
      const c = t.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) this.fail("control character in string", i);
      if (c === 0x5c) {
        escaped = true;
        const e = t[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) this.fail("bad \\u escape", i);
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          this.fail("bad escape", i);
        }
        continue;
      }
      i++;
    }
    this.pos = i + 1;
    if (!escaped) return t.slice(start + 1, i);
    // The token is now known to be well-formed JSON, so JSON.parse only unescapes it.
    const s = JSON.parse(t.slice(start, i + 1)) as string;
    if (LONE_SURROGATE.test(s)) this.fail("\\u escape leaves a lone surrogate", start);
    return s;
  }

  number(): number | JsonNonInteger {
    const t = this.text;
    const start = this.pos;
    let i = start;
    const digits = (): void => {
      const from = i;
      while (i < t.length && t[i] >= "0" && t[i] <= "9") i++;
      if (i === from) this.fail("expected a digit", i);
    };
    if (t[i] === "-") i++;
    if (t[i] === "0") i++;
    else digits();
    const integral = i;
    if (t[i] === ".") {
      i++;
      digits();
    }
    if (t[i] === "e" || t[i] === "E") {
      i++;
      if (t[i] === "+" || t[i] === "-") i++;
      digits();
    }
    this.pos = i;
    const text = t.slice(start, i);
    return i === integral ? Number(text) : new JsonNonInteger(text, Number(text));
  }
}

const LITERALS: readonly [string, JsonValue][] = [
  ["true", true],
  ["false", false],
  ["null", null],
];
