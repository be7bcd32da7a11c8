// Generators of hostile inputs for the fuzz run in hostile.test.ts: .tfm sources, `--set` arguments,
// safetensors bytes and `forward` feeds. Deterministic: every generator draws from a seeded Random.

/** A small seeded generator (mulberry32): the same seed gives the same inputs on every machine. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Every name an object literal holds without being told, and names with a meaning elsewhere. */
export const HOSTILE_NAMES = [
  ...Object.getOwnPropertyNames(Object.prototype),
  ...["prototype", "length", "name", "call", "apply", "bind", "then", "toJSON", "__metadata__", "NaN", "Infinity", "undefined", "null"],
  ...["model", "config", "if", "repeat", "attention", "linear", "gelu", "f32", "B", "T", "x", "_", "_0", "a".repeat(70), "n".repeat(5000)],
];

export const HUGE_NUMBERS = [
  "9007199254740991", "9007199254740992", "9007199254740993", "99999999999999999999999", "1" + "0".repeat(400), "1e21", "1e308", "1e309",
  "1e-400", "0", "00", "0.0", "4294967296", "4294967297", "2147483647", "2147483648", "1e15", "3e9", "65536", "0.5", "123456789012",
];

export const ODD_TEXT = [
  "\u0000", "\u0007", "\u001b[31m", "\u001b]0;title\u0007", "\r", "\r\n", "\n", "\t", "\v", "\f", "\u0085", "\u2028", "\u2029", "\ud800", "\udfff", "\ufeff",
  "\u202e", "\u200b", "é", "∑", "ℵ", "🤖", "\uffff", "\\", '"', "'", "`", "${x}", "*/", "/*", "//", "%", "@", "#",
];

const TOKENS = [
  "model", "config", "input", "output", "block", "return", "if", "else", "where", "true", "false", "and", "or", "not",
  "{", "}", "(", ")", "[", "]", ",", ";", ":", "?", ".", "==", "!=", "<=", ">=", "<", ">", "=", "+", "-", "**", "*", "/", "%", "@",
  "x", "attention", "linear", "repeat", "heads", "d", "B", "T", "f32", "i32", "bool", "0", "1.5e3", '"s"', "//c\n", "\n", " ",
];

const atom = (r: Random): string => {
  const k = r.int(4);
  if (k === 0) return r.pick(HOSTILE_NAMES);
  if (k === 1) return r.pick(HUGE_NUMBERS);
  if (k === 2) return r.pick(ODD_TEXT);
  return r.pick(TOKENS);
};
const name = (r: Random): string => r.pick(HOSTILE_NAMES);
const num = (r: Random): string => r.pick(HUGE_NUMBERS);

/** Models with holes for names and numbers; most are valid when the holes are filled with ordinary words. */
const TEMPLATES: ((r: Random) => string)[] = [
  (r) => { const n = name(r); return `model m {\n  input x: f32[B, 4]\n  output y = ${n}(x)\n}\n`; },
  (r) => { const n = name(r); return `model m {\n  config ${n} = ${num(r)}\n  input x: f32[B, ${n}]\n  output y = linear(x, ${n})\n}\n`; },
  (r) => `model m {\n  config act = ${name(r)}\n  input x: f32[B, 4]\n  output y = ffn(x, 8, act = act)\n}\n`,
  (r) => { const n = name(r); return `model m {\n  input x: f32[B, 4]\n  h = ${n}: linear(x, 4)\n  output y = linear(h, 4, tied = ${name(r)})\n}\n`; },
  (r) => { const n = name(r); return `model m {\n  input ${n}: f32[B, ${num(r)}]\n  output ${name(r)} = linear(${n}, ${num(r)})\n}\n`; },
  (r) => { const n = name(r); return `model m {\n  block ${n}(${name(r)}: f32[B, 4]) { return linear(x, 4) }\n  input x: f32[B, 4]\n  output y = repeat(${num(r)}, ${n}, x)\n}\n`; },
  (r) => `model m {\n  input x: f32[B, 4]\n  output y = linear(x, 4, ${name(r)} = ${atom(r)})\n}\n`,
  (r) => `model m {\n  config d = ${num(r)}, e = d * ${num(r)}\n  input x: f32[B, d]\n  output y = x * e\n}\n`,
  (r) => `model m {\n  config vocab = ${num(r)}, d = ${num(r)}\n  input t: i32[B, T] where T <= ${num(r)}\n  output y = embedding(t, vocab, d)\n}\n`,
  (r) => `model m {\n  input x: f32[B, T, ${num(r)}]\n  output y = attention(x, ${num(r)}, kernel = ${name(r)})\n}\n`,
  (r) => `model m {\n  input x: f32[B, 4]\n  output y = "${r.pick(ODD_TEXT)}${r.pick(ODD_TEXT)}": linear(x, 4)\n}\n`,
  (r) => `model m${r.pick(ODD_TEXT)} {\n  input x: f32[B, 4]${r.pick(ODD_TEXT)}\n  output y = x${r.pick(ODD_TEXT)}\n}\n`,
  (r) => { const d = 100 + r.int(60); return `model m {\n  input x: f32[B, 4]\n  output y = ${"(".repeat(d)}x${")".repeat(d)}\n}\n`; },
  (r) => `model m {\n  input x: f32[B, 4]\n  output y = ${r.pick(["- ", "not ", "x ** "]).repeat(100 + r.int(60))}x\n}\n`,
  (r) => `model m {\n  input x: f32[B, 4]\n  output y = x${` ${r.pick(["+", "-", "*"])} x`.repeat(100 + r.int(1100))}\n}\n`,
  (r) => { const n = 50 + r.int(30); return `model m {\n${Array.from({ length: n }, (_, i) => `  block b${i}(x: f32[B, 4]) { return b${i + 1}(x) }`).join("\n")}\n  block b${n}(x: f32[B, 4]) { return x }\n  input x: f32[B, 4]\n  output y = b0(x)\n}\n`; },
  (r) => `model m {\n  block b(x: f32[B, 4]) { return b(x) }\n  input x: f32[B, 4]\n  output y = repeat(${num(r)}, b, x)\n}\n`,
  (r) => `model m {\n  input x: f32[B, 4]\n${Array.from({ length: 50 + r.int(400) }, (_, i) => `  v${i}_${name(r).slice(0, 30)} = x`).join("\n")}\n  output y = ${name(r)}_typo\n}\n`,
];

/** One mutation of a text: delete, duplicate, insert a hostile atom, or replace a character. */
function mutate(r: Random, s: string): string {
  const at = s.length === 0 ? 0 : r.int(s.length);
  switch (r.int(4)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1 + r.int(40));
    case 1:
      return s.slice(0, at) + s.slice(at, at + 1 + r.int(80)) + s.slice(at);
    case 2:
      return s.slice(0, at) + " " + atom(r) + " " + s.slice(at);
    default:
      return s.slice(0, at) + r.pick(ODD_TEXT) + s.slice(at + 1);
  }
}

/** A hostile source: a filled template, a mutated example, a token soup, or random UTF-16. */
export function hostileSource(r: Random, examples: readonly string[]): { kind: string; text: string } {
  const k = r.int(20);
  if (k < 9) {
    let text = r.pick(TEMPLATES)(r);
    if (r.chance(0.3)) text = mutate(r, text);
    return { kind: "template", text };
  }
  if (k < 13) {
    let text = r.pick(examples);
    for (let i = 1 + r.int(5); i > 0; i--) text = mutate(r, text);
    return { kind: "mutated example", text };
  }
  if (k < 17) return { kind: "token soup", text: Array.from({ length: r.int(300) }, () => atom(r)).join(r.chance(0.5) ? " " : "") };
  return { kind: "random text", text: Array.from({ length: r.int(400) }, () => String.fromCharCode(r.int(0x10000))).join("") };
}

/** A hostile `--set` argument: names and values of every awkward kind, sometimes no `=` at all. */
export function hostileSet(r: Random, configNames: readonly string[]): string {
  const key = r.chance(0.5) ? r.pick(configNames) : r.chance(0.5) ? name(r) : atom(r);
  const value = r.pick([() => name(r), () => num(r), () => `-${num(r)}`, () => atom(r) + atom(r), () => r.pick(["true", "false", "", " ", "=", "1=2", "0x10", "1_000", "+1", ".5", "5.", "1e", "--1"])])();
  const k = r.int(10);
  return k === 0 ? key : k === 1 ? `=${value}` : `${key}=${value}`;
}

function writeHeaderBytes(header: string, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Hostile safetensors bytes, starting from a valid file of the model's weights. */
export function hostileWeights(r: Random, valid: Uint8Array): Uint8Array {
  const headerLength = Number(new DataView(valid.buffer, valid.byteOffset).getBigUint64(0, true));
  const header = new TextDecoder().decode(valid.subarray(8, 8 + headerLength));
  const data = valid.subarray(8 + headerLength);
  const json = JSON.parse(header) as Record<string, { dtype: string; shape: unknown[]; data_offsets: unknown[] }>;
  const names = Object.keys(json).filter((k) => k !== "__metadata__");
  const victim = r.pick(names);
  switch (r.int(9)) {
    case 0: {
      const out = valid.slice();
      for (let i = 1 + r.int(8); i > 0; i--) out[r.int(out.length)] = r.int(256);
      return out;
    }
    case 1:
      return valid.slice(0, r.int(valid.length));
    case 2:
      return writeHeaderBytes(header, data, r.pick([0n, 1n, 7n, BigInt(headerLength + 1), 2n ** 32n, 2n ** 53n + 1n, 2n ** 64n - 1n]));
    case 3:
      json[victim].shape = r.pick([[1e9], [-1], ["2"], [2 ** 53], [1.5], [], [0], [null], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]]);
      return writeHeaderBytes(JSON.stringify(json), data);
    case 4:
      json[victim].data_offsets = r.pick([[0, 2 ** 53], [-4, 0], [4, 0], [0, 1e300], ["0", "4"], [0], [0, data.length + 4], [2 ** 32, 2 ** 32 + 4]]);
      return writeHeaderBytes(JSON.stringify(json), data);
    case 5:
      json[victim].dtype = r.pick(["F64", "I8", "f32", "", "__proto__", "toString", "F32\u0000", "BOOL", "U8", "F16", "BF16", "I64", "X".repeat(1000)]);
      return writeHeaderBytes(JSON.stringify(json), data);
    case 6: {
      const hostile = name(r);
      const text = JSON.stringify(json).replace(`"${victim}"`, JSON.stringify(r.chance(0.5) ? hostile : victim + r.pick(ODD_TEXT)));
      return writeHeaderBytes(text, data);
    }
    case 7:
      return writeHeaderBytes(
        r.pick([
          "{}", "[]", "null", "{", `{"a":1,"a":2}`, `{"__metadata__":{"a":1}}`, `{"__metadata__":"x"}`, `{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
          "[".repeat(10000), `{"x":${"[".repeat(600)}${"]".repeat(600)}}`, "\u0000", "{\"a\":\"\\ud800\"}", " ".repeat(64),
        ]),
        data,
      );
    default: {
      const out = new Uint8Array(valid.length + 1 + r.int(64));
      out.set(valid);
      for (let i = valid.length; i < out.length; i++) out[i] = r.int(256);
      return out;
    }
  }
}

type Feed = Record<string, unknown>;

/** Hostile `forward` feeds for inputs given by name, dtype and a valid shape. */
export function hostileFeeds(r: Random, inputs: readonly { name: string; dtype: string; shape: number[] }[]): Feed {
  const feeds: Feed = r.chance(0.2) ? Object.create(null) : {};
  const arrays: Record<string, (n: number) => unknown> = {
    f32: (n) => new Float32Array(n).map(() => r.pick([0, 1, -1, 0.5, NaN, Infinity, -Infinity, 1e30, -0, 3.4e38])),
    i32: (n) => new Int32Array(n).map(() => r.pick([0, 1, 5, 19, 0, 1, 5, 19, 0, 1, 5, 19, 20, -1, 2147483647, -2147483648])),
    i64: (n) => BigInt64Array.from({ length: n }, () => r.pick([0n, 1n, 19n, 20n, -1n, -(2n ** 63n), 2n ** 63n - 1n])),
    bool: (n) => new Uint8Array(n).map(() => r.pick([0, 1, 0, 1, 0, 1, 2, 255])),
  };
  // A third of the feeds are well formed but for their values (NaN, infinities, ids past the table).
  const mild = r.chance(0.35);
  for (const input of inputs) {
    if (!mild && r.chance(0.05)) continue;
    const shape = mild || r.chance(0.6) ? [...input.shape] : r.pick([
      () => input.shape.map((d) => d + 1),
      () => input.shape.slice(1),
      () => [...input.shape, 1],
      () => input.shape.map(() => r.pick([0, -1, 1.5, NaN, 2 ** 31, 2 ** 53, 1e9])),
      () => input.shape.map(String),
      () => null,
      () => "2,4",
    ])();
    const n = Array.isArray(shape) ? shape.reduce((a: number, b) => a * (typeof b === "number" && Number.isFinite(b) && b > 0 && b < 64 ? b : 1), 1) : 4;
    const dtype = mild || r.chance(0.8) ? input.dtype : r.pick(["f32", "i32", "i64", "bool"]);
    const data = mild || r.chance(0.9)
      ? arrays[dtype](mild || r.chance(0.85) ? n : r.int(2 * n + 2))
      : r.pick([() => null, () => [1, 2, 3], () => "data", () => new Float64Array(n), () => new DataView(new ArrayBuffer(4 * n)), () => ({ length: n })])();
    const tensor = !mild && r.chance(0.03) ? r.pick([null, undefined, 0, "tensor", [], {}]) : { data, shape };
    feeds[input.name] = tensor;
  }
  if (!mild && r.chance(0.2)) Object.defineProperty(feeds, name(r), { value: { data: new Float32Array(1), shape: [1] }, enumerable: true, configurable: true, writable: true });
  return feeds;
}
