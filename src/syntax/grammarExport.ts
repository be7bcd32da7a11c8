import { readFileSync } from "node:fs";
import { createSyntaxDiagramsCode } from "./chevrotain.js";
import { TfmParser } from "./parser.js";
import * as T from "./tokens.js";

// What grammar/ holds, derived from the parser itself so it cannot drift from it: railroad
// diagrams, an EBNF summary and a TextMate grammar. scripts/generate-grammar.mjs writes the files;
// test/grammar.test.ts fails when they differ from what the parser gives now.

interface GNode {
  readonly type: string;
  readonly name?: string;
  readonly label?: string;
  readonly definition?: readonly GNode[];
  readonly separator?: GNode;
}

function productions(): readonly GNode[] {
  return new TfmParser().getSerializedGastProductions() as unknown as GNode[];
}

const TERMINAL_NAMES: Record<string, string> = { Identifier: "IDENT", NumberLiteral: "NUMBER", StringLiteral: "STRING" };

function ebnfOf(nodes: readonly GNode[]): string {
  return nodes.map(ebnfNode).join(" ");
}

function ebnfNode(n: GNode): string {
  const body = () => ebnfOf(n.definition ?? []);
  switch (n.type) {
    case "Terminal":
      return TERMINAL_NAMES[n.name!] ?? n.label ?? n.name!;
    case "NonTerminal":
      return n.name!;
    case "Alternation":
      return `( ${(n.definition ?? []).map((alt) => ebnfOf(alt.definition ?? [])).join(" | ")} )`;
    case "Alternative":
      return body();
    case "Option":
      return `[ ${body()} ]`;
    case "Repetition":
      return `{ ${body()} }`;
    case "RepetitionMandatory":
      return `${body()} { ${body()} }`;
    case "RepetitionWithSeparator":
      return `[ ${body()} { ${ebnfNode(n.separator!)} ${body()} } ]`;
    case "RepetitionMandatoryWithSeparator":
      return `${body()} { ${ebnfNode(n.separator!)} ${body()} }`;
    default:
      return `?${n.type}?`;
  }
}

/** An EBNF summary: `{ x }` repeats, `[ x ]` is optional, `( a | b )` chooses. */
export function grammarEbnf(): string {
  const rules = productions().map((r) => `${r.name!.padEnd(15)} = ${ebnfOf(r.definition ?? [])} ;`);
  return `(* The .tfm grammar, generated from tfmc's parser (src/syntax/parser.ts). Do not edit. *)
(* { x } repeats, [ x ] is optional, ( a | b ) chooses; quoted text is literal. *)

${rules.join("\n")}

(* Tokens *)
IDENT   = /${T.Identifier.PATTERN instanceof RegExp ? T.Identifier.PATTERN.source : ""}/ , not a keyword ;
NUMBER  = /${T.NumberLiteral.PATTERN instanceof RegExp ? T.NumberLiteral.PATTERN.source : ""}/ ;
STRING  = /${T.StringLiteral.PATTERN instanceof RegExp ? T.StringLiteral.PATTERN.source : ""}/ , escapes \\n \\t \\r \\" \\\\ \\0 \\uXXXX ;
(* Comments: // to the end of the line, and /* ... *\\/ ; whitespace separates tokens. *)
(* Keywords: ${T.KEYWORDS.join(", ")}; keywords may also name keyword arguments (block = m). *)
`;
}

/** Railroad diagrams of every rule, as one self-contained page (the renderer's scripts inlined). */
export function syntaxDiagramsHtml(): string {
  const base = new URL("../diagrams/", import.meta.resolve("chevrotain").replace(/lib\/src\/api\.js$/, "lib/"));
  const file = (rel: string) => readFileSync(new URL(rel, base), "utf8");
  let html = createSyntaxDiagramsCode(productions() as never, { resourceBase: "@base/", css: "@base/diagrams.css" });
  html = html.replace(/<link rel='stylesheet' href='@base\/diagrams\.css'>/, () => `<style>\n${file("diagrams.css")}\n</style>`);
  html = html.replace(/<script src='@base\/([^']+)'><\/script>/g, (_m, rel: string) => `<script>\n${file(rel)}\n</script>`);
  return html.replace(/<!-- This is a generated file -->/, "<!-- Generated from tfmc's parser by scripts/generate-grammar.mjs. Do not edit. -->");
}

/** A TextMate grammar for editors: keywords, layers, labels, keyword arguments, literals, comments. */
export function textMateGrammar(layers: readonly string[], functions: readonly string[]): string {
  const words = (ws: readonly string[]) => `\\b(?:${[...ws].sort().join("|")})\\b`;
  const grammar = {
    $schema: "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
    name: "tfm",
    scopeName: "source.tfm",
    fileTypes: ["tfm"],
    patterns: [
      { include: "#comments" },
      { include: "#strings" },
      // Before the keywords: a label's segments may be keywords (`model.embed_tokens: embedding(...)`).
      { name: "entity.name.tag.label.tfm", match: '(?:"[^"]*"|[A-Za-z_][A-Za-z0-9_]*(?:\\.(?:[A-Za-z_][A-Za-z0-9_]*|\\d+))*)(?=\\s*:\\s*[A-Za-z_][A-Za-z0-9_]*\\s*\\()' },
      { name: "keyword.control.tfm", match: words(["if", "else", "return", "where"]) },
      { name: "storage.type.tfm", match: words(["model", "config", "input", "output", "block"]) },
      { name: "keyword.operator.logical.tfm", match: words(["and", "or", "not"]) },
      { name: "constant.language.boolean.tfm", match: words(["true", "false"]) },
      { name: "support.type.dtype.tfm", match: words(["f32", "i32", "i64", "bool"]) },
      { name: "support.function.layer.tfm", match: `${words(layers)}(?=\\s*\\()` },
      { name: "support.function.tfm", match: `${words(functions)}(?=\\s*\\()` },
      { name: "variable.other.assignment.tfm", match: "^\\s*[A-Za-z_][A-Za-z0-9_]*(?=\\s*=(?!=))" },
      { name: "variable.parameter.keyword-argument.tfm", match: "\\b[A-Za-z_][A-Za-z0-9_]*(?=\\s*=(?!=))" },
      { name: "constant.numeric.tfm", match: "\\b\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b" },
      { name: "keyword.operator.tfm", match: "\\*\\*|==|!=|<=|>=|[-+*/%@<>=?]" },
      { name: "punctuation.separator.tfm", match: "[,;:.]" },
      { name: "variable.other.tfm", match: "\\b[A-Za-z_][A-Za-z0-9_]*\\b" },
    ],
    repository: {
      comments: {
        patterns: [
          { name: "comment.line.double-slash.tfm", match: "//.*$" },
          { name: "comment.block.tfm", begin: "/\\*", end: "\\*/" },
        ],
      },
      strings: {
        patterns: [
          {
            name: "string.quoted.double.tfm",
            begin: '"',
            end: '"',
            patterns: [{ name: "constant.character.escape.tfm", match: '\\\\(?:[ntr0"\\\\]|u[0-9A-Fa-f]{4})' }],
          },
        ],
      },
    },
  };
  return JSON.stringify(grammar, null, 2) + "\n";
}
