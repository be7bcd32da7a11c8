import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Stmt } from "../../src/syntax/ast.js";
import { parseTfm } from "../../src/syntax/parse.js";
import { ROOT } from "../helpers.js";

// The parser's recovery: after a syntax error, the statements around it are still read, and the
// error is reported once, where the mistake is.

const GPT = readFileSync(join(ROOT, "examples", "gpt.tfm"), "utf8");

/** Statements as `kind@line`, nested bodies in brackets. */
function outline(stmts: readonly Stmt[]): string {
  return stmts.map((s) => `${s.kind}@${s.span.line}${s.kind === "block" ? `[${outline(s.body)}]` : ""}`).join(" ");
}
const FULL = "config@3 input@5 block@7[assign@8 assign@9 return@10] assign@13 assign@14 output@15";

function parse(text: string) {
  const r = parseTfm(text);
  const errors = r.diagnostics.sorted().map((d) => `${d.span.line}:${d.span.col} ${d.message}${d.related ? ` (${d.related.map((x) => `${x.span.line}:${x.span.col} ${x.message}`).join("; ")})` : ""}`);
  return { errors, outline: r.ast.models.map((m) => outline(m.body)).join(" | ") };
}

describe("parser recovery", () => {
  it("an unclosed block ends where the layout leaves it, and the rest stays in the model", () => {
    expect(parse(GPT.replace("    return x\n  }\n", "    return x\n"))).toEqual({
      errors: ["12:3 expected '}' but found 'h' (7:32 the '{' that is not closed)"],
      outline: FULL.replace("assign@13 assign@14 output@15", "assign@12 assign@13 output@14"),
    });
    // Typed in the middle of a file: a new block with no '}' yet.
    const typing = GPT.replace("  h = wte", "  block extra(y: f32[B, T, d]) {\n    y = y + 1\n\n  h = wte");
    expect(parse(typing).errors).toEqual(["16:3 expected '}' but found 'h' (13:32 the '{' that is not closed)"]);
    expect(parse(typing).outline).toBe(FULL.replace("assign@13 assign@14 output@15", "block@13[assign@14] assign@16 assign@17 output@18"));
  });

  it("an extra '}' out of line with its block is dropped, not taken to end the model", () => {
    expect(parse(GPT.replace("    return x\n", "    }\n    return x\n"))).toEqual({
      errors: ["10:5 unexpected '}': expected a statement (there is one '}' too many) (7:32 this '{' is closed further down)"],
      outline: FULL.replace("return@10", "return@11").replace(/@1([345])/g, (_, d) => `@1${Number(d) + 1}`),
    });
    expect(parse(GPT.replace("causal = true)", "causal = true) }")).outline).toBe(FULL);
  });

  it("a '{' inside an expression is dropped", () => {
    expect(parse(GPT.replace("attention(ln_1", "attention({ ln_1"))).toEqual({ errors: ["8:29 unexpected '{': expected an expression"], outline: FULL });
  });

  it("leaves balanced braces alone, and never closes a body that is not indented", () => {
    expect(parse("model m {\ninput x: f32[N]\nblock b(y: f32[N]) {\nreturn y\n}\noutput z = b(x)\n}\n").errors).toEqual([]);
    const flat = parse("model m {\ninput x: f32[N]\noutput z = x\n");
    expect(flat.errors).toEqual(["4:1 expected '}' but found end of file"]);
    expect(flat.outline).toBe("input@2 output@3");
  });

  it("a stray token in a block, an unfinished last statement and a missing ')' each give one error and lose no other statement", () => {
    expect(parse(GPT.replace("    return x", "    ) ]\n    return x"))).toEqual({
      errors: ["10:5 unexpected ')': expected a statement or '}'"],
      outline: FULL.replace("return@10", "return@11").replace(/@1([345])/g, (_, d) => `@1${Number(d) + 1}`),
    });
    expect(parse(GPT.replace(/\}\n$/, "  y = linear(h, "))).toEqual({ errors: ["16:17 unexpected end of file: expected an expression"], outline: `${FULL} assign@16` });
    expect(parse(GPT.replace("act = gelu_tanh)", "act = gelu_tanh"))).toEqual({ errors: ["10:5 expected ')' but found 'return'"], outline: FULL });
    expect(parse(GPT.replace("(T, ctx, d)", "(T, ctx, d"))).toEqual({ errors: ["14:3 expected ')' but found 'h'"], outline: FULL });
  });

  it("a misspelt or missing `model` keyword still gives the model", () => {
    expect(parse(GPT.replace("model gpt", "modle gpt"))).toEqual({ errors: ["2:1 expected 'model' but found 'modle'"], outline: FULL });
    expect(parse(GPT.replace("model gpt", "gpt"))).toEqual({ errors: ["2:1 expected 'model' but found 'gpt'"], outline: FULL });
    // Typed so far: not "after the end of the model", there is none yet.
    expect(parse("// a comment\nmod").errors).toEqual(["2:1 expected 'model' but found 'mod'"]);
    expect(parse("model m {\n  output y = 1\n}\nx").errors).toEqual(["4:1 unexpected 'x' after the end of the model"]);
  });

  it("an error straight after a line with an error is taken for its echo", () => {
    const text = "model m {\n  input x: f32[N]\n  y = x $ x\n  output out = y\n}\n";
    expect(parse(text).errors).toEqual(["3:9 unexpected character '$'"]);
  });

  it("a brace added or removed on any line of gpt.tfm loses no statement on another line", () => {
    const lines = GPT.split("\n");
    let tried = 0;
    for (let i = 2; i < lines.length - 2; i++) {
      if (lines[i].trim() === "") continue;
      for (const edited of [`${lines[i]} }`, `  }${lines[i]}`, `${lines[i]} {`, lines[i].replace(/[{}]/, "")]) {
        if (edited === lines[i]) continue;
        const text = [...lines.slice(0, i), edited, ...lines.slice(i + 1)].join("\n");
        const r = parseTfm(text);
        const kept = new Set(r.ast.models.flatMap((m) => m.body.flatMap((s) => (s.kind === "block" ? [s, ...s.body] : [s]))).map((s) => s.span.line));
        for (const line of [3, 5, 8, 9, 10, 13, 14, 15]) if (line !== i + 1) expect(kept.has(line), `line ${line} after editing line ${i + 1} to ${JSON.stringify(edited)}`).toBe(true);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(30);
  });
});
