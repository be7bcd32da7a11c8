import { describe, expect, it } from "vitest";
import { formatTfm } from "../../src/format/format.js";
import { analyze, definitionAt, hoverAt } from "../../src/lsp/analysis.js";
import { completionsAt } from "../../src/lsp/completion.js";
import { checkSource } from "../../src/semantics/check.js";
import type { Expr, Stmt } from "../../src/syntax/ast.js";
import { parseTfm } from "../../src/syntax/parse.js";

// Labels whose segments are keywords, as Hugging Face's names have them (`model.embed_tokens`,
// `output.dense`): declared before ':' and referred to by name (`tied = model.embed_tokens`).

const MODEL = `model m {
  config vocab = 10, d = 8
  input input_ids: i32[B, T]
  h = model.embed_tokens: embedding(input_ids, vocab, d)
  h = input.x: linear(h, d)
  h = output.dense: linear(h, d, bias = false)
  h = config.y.0.not: linear(h, d)
  h = output: linear(h, d)
  ok = not true
  h = where(ok, h, -h)
  output logits = linear(h, vocab, tied = model.embed_tokens)
}
`;

function errors(text: string): string[] {
  return parseTfm(text).diagnostics.sorted().map((d) => `${d.span.line}:${d.span.col} ${d.message}`);
}

function rhs(text: string): Expr[] {
  const r = parseTfm(text);
  expect(errors(text)).toEqual([]);
  return r.ast.models[0].body.flatMap((s: Stmt) => (s.kind === "assign" ? [s.value] : s.kind === "output" && s.value ? [s.value] : []));
}

describe("keywords as label segments", () => {
  it("parses labels with keyword segments, and keeps keywords' own syntax elsewhere", () => {
    const values = rhs(MODEL);
    const labelsOf = values.filter((e) => e.kind === "labeled").map((e) => (e.kind === "labeled" ? e.label.parts.join(".") : ""));
    expect(labelsOf).toEqual(["model.embed_tokens", "input.x", "output.dense", "config.y.0.not", "output"]);
    expect(values[5]).toMatchObject({ kind: "unary", op: "not", operand: { kind: "bool", value: true } });
    expect(values[6]).toMatchObject({ kind: "call", callee: { name: "where" } });
    const tied = values[7];
    expect(tied.kind === "call" && tied.args[2].value).toMatchObject({ kind: "name", name: "model.embed_tokens" });
    // A parameter named by its label checks: the tied head finds `model.embed_tokens`.
    expect(analyze(MODEL).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });

  it("reports real syntax errors next to such labels where they are", () => {
    const at = (line: string) => errors(`model m {\n  config d = 8\n  input x: f32[B, T, d]\n  h = x\n  ${line}\n  output y = h\n}\n`);
    expect(at("h = output.dense: ")).toEqual(["6:3 unexpected 'output': expected a name"]);
    expect(at("h = model.layers: linear(h d)")).toEqual(["5:30 expected ')' but found 'd'"]);
    expect(at("h = input.x linear(h, d)")).toEqual(["5:15 unexpected 'linear': expected a statement (config, input, output, block, if, return or an assignment)"]);
    expect(at("h = model linear(h, d)")).toEqual(["5:7 unexpected 'model': expected an expression"]);
    expect(at("h = model.x: linear(h, d) +")).toEqual(["6:3 unexpected 'output': expected an expression"]);
  });

  it("refuses a label in quotes that could never be part of a checkpoint's name, where it is written", () => {
    const at = (label: string) =>
      checkSource(`model m {\n  input x: f32[B, T, 8]\n  output y = ${label}: linear(x, 8)\n}\n`)
        .diagnostics.sorted()
        .map((d) => `${d.span.line}:${d.span.col} ${d.message}`);
    expect(at('"h.0"')).toEqual([]);
    expect(at('""')).toEqual(["3:14 expected a label whose dot-separated parts are non-empty, got an empty string"]);
    expect(at('"h..0"')).toEqual(["3:14 expected a label whose dot-separated parts are non-empty, got 'h..0', which has an empty part between dots"]);
    expect(at('model."h.0."')).toEqual(["3:14 expected a label whose dot-separated parts are non-empty, got 'h.0.', which has an empty part between dots"]);
    expect(at('"my.odd name"')).toEqual([]);
  });

  it("tfmc fmt keeps them as written", () => {
    const formatSource = (t: string) => {
      const r = formatTfm(t);
      return r.ok ? r.text : "";
    };
    expect(formatSource(MODEL)).toBe(MODEL);
    const messy = MODEL.replace("h = output: linear(h, d)", "h = output  :linear( h,d )").replace("tied = model.embed_tokens", "tied=model . embed_tokens");
    expect(formatSource(messy)).toBe(MODEL);
  });

  it("the editor offers layers after such a label, and hovers show the call", () => {
    const text = `${MODEL.split("\n").slice(0, 4).join("\n")}\n  h = model.layers: `;
    const items = completionsAt(analyze(text), text.length).items.map((i) => i.label);
    expect(items).toContain("linear");
    expect(items).not.toContain("f32");
    const inputLabel = `${MODEL.split("\n").slice(0, 4).join("\n")}\n  h = input.x: `;
    expect(completionsAt(analyze(inputLabel), inputLabel.length).items.map((i) => i.label)).toContain("layer_norm");
    const bare = `${MODEL.split("\n").slice(0, 4).join("\n")}\n  h = output: `;
    expect(completionsAt(analyze(bare), bare.length).items.map((i) => i.label)).toContain("linear");
    // Go to definition from the tied head's reference to the label's declaration.
    const def = definitionAt(analyze(MODEL), MODEL.indexOf("embed_tokens)") - 2);
    expect(def && MODEL.slice(def.start, def.end)).toBe("model.embed_tokens");
    expect(def?.line).toBe(4);
    const hover = hoverAt(analyze(MODEL), MODEL.indexOf("linear(h, d, bias"));
    expect(hover?.text).toMatch(/linear\(x: tensor/);
  });
});
