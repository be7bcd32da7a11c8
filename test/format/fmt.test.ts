import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { formatTfm } from "../../src/format/format.js";
import { parseTfm } from "../../src/syntax/parse.js";
import { modelSource, modelSpec } from "../differential/modelGenerator.js";
import { ROOT } from "../helpers.js";

/** The AST without positions: what must survive formatting unchanged. */
function shape(text: string): unknown {
  const { ast, diagnostics } = parseTfm(text);
  expect(diagnostics.errorCount, text).toBe(0);
  return JSON.parse(JSON.stringify(ast.models, (k, v) => (k === "span" || k === "opSpan" ? undefined : v)));
}

const commentsOf = (text: string) => parseTfm(text).ast.comments.map((c) => c.text.trim());

function formatted(text: string): string {
  const r = formatTfm(text);
  if (!r.ok) throw new Error(r.diagnostics.items.map((d) => d.message).join("; "));
  return r.text;
}

/** Formatting keeps the tree and every comment, and formatting twice changes nothing. */
function expectCanonical(text: string): string {
  const once = formatted(text);
  expect(shape(once)).toEqual(shape(text));
  expect(commentsOf(once).sort()).toEqual(commentsOf(text).sort());
  expect(formatted(once)).toBe(once);
  for (const line of once.split("\n")) expect(line).not.toMatch(/\s$/);
  return once;
}

const tfmFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tfmFiles(join(dir, e.name)) : e.name.endsWith(".tfm") ? [join(dir, e.name)] : []));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (s) => void (out += s + "\n"), err: (s) => void (err += s + "\n"), color: false });
  return { code, out, err };
}

describe("tfmc fmt", () => {
  it("lays out a messy file canonically", () => {
    const messy = [
      "// a model",
      "model   m{config d=64,heads=4 ,  layers=2",
      "",
      "",
      "  input x : f32[ B,T , d ] where T<=128   // the tokens",
      "block layer( x:f32[B,T,d] ){",
      "x=x+attn : attention( x,heads , causal=true )",
      "   return x }",
      "output y=layers:repeat(layers,layer,x)}",
    ].join("\n");
    expect(expectCanonical(messy)).toBe(
      [
        "// a model",
        "model m {",
        "  config d = 64, heads = 4, layers = 2",
        "",
        "  input x: f32[B, T, d] where T <= 128 // the tokens",
        "  block layer(x: f32[B, T, d]) {",
        "    x = x + attn: attention(x, heads, causal = true)",
        "    return x",
        "  }",
        "  output y = layers: repeat(layers, layer, x)",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("keeps only the parentheses the grammar needs", () => {
    const text = "model m { config a = ((1 + 2)) * 3, b = 1 - (2 - 3), c = (1 - 2) - 3, d = -(2 ** 3), e = (-2) ** 3, f = 2 ** (3 ** 2), g = (2 ** 3) ** 2, h = not (1 < 2 and true), i = (1 < 2) == true }\n";
    // Too wide for one line, so one config value per line.
    expect(expectCanonical(text)).toBe(
      [
        "model m {",
        "  config a = (1 + 2) * 3,",
        "    b = 1 - (2 - 3),",
        "    c = 1 - 2 - 3,",
        "    d = -2 ** 3,",
        "    e = (-2) ** 3,",
        "    f = 2 ** 3 ** 2,",
        "    g = (2 ** 3) ** 2,",
        "    h = not (1 < 2 and true),",
        "    i = (1 < 2) == true",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("breaks a call that does not fit in 100 columns one argument per line, and aligns end-of-line comments", () => {
    const text = [
      "model m {",
      "  config d_model = 512, nhead = 8",
      "  input src: f32[B, S, d_model]",
      "  input mask?: bool[S, S] // true = blocked",
      "  input padding?: bool[B, S]   /* true = padding */",
      "  output out = attention(norm1: layer_norm(src, eps = 0.00001), nhead, block = mask, block_keys = padding, causal = false)",
      "}",
    ].join("\n");
    const out = expectCanonical(text);
    expect(out).toContain("  output out = attention(\n    norm1: layer_norm(src, eps = 0.00001),\n    nhead,\n");
    expect(out).toContain("  input mask?: bool[S, S]    // true = blocked\n  input padding?: bool[B, S] /* true = padding */\n");
    for (const line of out.split("\n")) expect(line.length).toBeLessThanOrEqual(100);
  });

  it("keeps blank lines between statements (at most one) and comments in place, including inside blocks and ifs", () => {
    const text = [
      "model m {",
      "  config big = true",
      "  // before the input",
      "  input x: f32[B, T, 8]",
      "",
      "",
      "",
      "  /* a block",
      "     comment */",
      "  if big {",
      "    y = linear(x, 8) // wide",
      "    // last in then",
      "  } else {",
      "    y = x",
      "  }",
      "  output out = y",
      "  // at the end",
      "}",
      "// after the model",
    ].join("\n");
    const out = expectCanonical(text);
    expect(out).toContain("  input x: f32[B, T, 8]\n\n  /* a block\n     comment */\n  if big {\n    y = linear(x, 8) // wide\n    // last in then\n  } else {\n");
    expect(out.endsWith("  output out = y\n  // at the end\n}\n// after the model\n")).toBe(true);
  });

  it("prints an else holding only an if as else if", () => {
    const out = expectCanonical("model m { config k = 1\n input x: f32[N]\n if k == 0 { y = x } else { if k == 1 { y = x + x } else { y = x * x } }\n output out = y }");
    expect(out).toContain("  } else if k == 1 {\n");
  });

  it("moves a comment from inside an expression to the line before its statement", () => {
    const out = expectCanonical("model m {\n  input x: f32[N]\n  output out = linear(x, /* width */ 4)\n}\n");
    expect(out).toBe("model m {\n  input x: f32[N]\n  /* width */\n  output out = linear(x, 4)\n}\n");
  });

  it("keeps quoted and dotted labels as written", () => {
    expectCanonical('model m { input x: f32[B, T, 8]\n output out = "h.0".attn: linear(x, 8) + h."1": linear(x, 8) + a . b: linear(x, 8) }');
  });

  it("formats every example and model in the repository to a fixed point with the same tree", () => {
    const files = [...tfmFiles("examples"), ...tfmFiles("test/models"), ...tfmFiles("bench/models")];
    expect(files.length).toBeGreaterThan(8);
    for (const f of files) expectCanonical(readFileSync(join(ROOT, f), "utf8"));
  });

  it("the repository's models are formatted: examples, test models, bench models (the error cases are left as written)", () => {
    for (const f of [...tfmFiles("examples"), ...tfmFiles("test/models"), ...tfmFiles("bench/models")]) expect(formatted(readFileSync(join(ROOT, f), "utf8")), f).toBe(readFileSync(join(ROOT, f), "utf8"));
  });

  it("round-trips the error-case files that parse", () => {
    let parsed = 0;
    for (const f of tfmFiles("test/cases/errors")) {
      const text = readFileSync(join(ROOT, f), "utf8");
      if (parseTfm(text).diagnostics.errorCount > 0) {
        expect(formatTfm(text).ok).toBe(false);
        continue;
      }
      expectCanonical(text);
      parsed++;
    }
    expect(parsed).toBeGreaterThan(20);
  });

  it("round-trips random models", () => {
    fc.assert(fc.property(modelSpec, (spec) => void expectCanonical(modelSource(spec))), { numRuns: 100, seed: 7 });
  });

  it("round-trips random expressions: parentheses exactly where the grammar needs them", () => {
    const leaf = fc.constantFrom("a", "b", "1", "2.5", "true", "f(a, k = 1)", "l: g(b)");
    const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        leaf,
        fc.tuple(tie("e"), fc.constantFrom("+", "-", "*", "/", "%", "@", "**", "==", "<", ">=", "and", "or"), tie("e")).map(([l, op, r]) => `(${l}) ${op} (${r})`),
        tie("e").map((x) => `-(${x})`),
        tie("e").map((x) => `not (${x})`),
        fc.tuple(tie("e"), tie("e")).map(([x, y]) => `h(${x}, key = ${y})`),
      ),
    })).e;
    fc.assert(
      fc.property(expr, (e) => {
        const text = `model m {\n  y = ${e}\n}\n`;
        if (parseTfm(text).diagnostics.errorCount > 0) return; // a ** (b) ** ... can nest beyond the limit
        expectCanonical(text);
      }),
      { numRuns: 500, seed: 11 },
    );
  });

  it("refuses a file with syntax errors and leaves it untouched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfmc-fmt-"));
    const bad = join(dir, "bad.tfm");
    writeFileSync(bad, "model m {\n  output y = (\n}\n");
    const r = await cli("fmt", bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.tfm:3:1: error TFM\d+/);
    expect(r.err).toContain("not formatted");
    expect(readFileSync(bad, "utf8")).toBe("model m {\n  output y = (\n}\n");
  });

  it("--check exits 1 and writes nothing when a file would change; fmt then rewrites it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfmc-fmt-"));
    const file = join(dir, "m.tfm");
    const messy = "model m{input x:f32[N]\noutput y=x+x}";
    writeFileSync(file, messy);
    const check = await cli("fmt", "--check", file);
    expect(check.code).toBe(1);
    expect(check.err).toContain("not formatted");
    expect(readFileSync(file, "utf8")).toBe(messy);
    const fmt = await cli("fmt", file);
    expect(fmt.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe("model m {\n  input x: f32[N]\n  output y = x + x\n}\n");
    expect((await cli("fmt", "--check", file)).code).toBe(0);
  });
});
