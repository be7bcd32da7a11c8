import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { grammarInputs } from "../src/cli/grammarInputs.js";
import { grammarEbnf, syntaxDiagramsHtml, textMateGrammar } from "../src/syntax/grammarExport.js";
import { TfmParser } from "../src/syntax/parser.js";
import { ROOT } from "./helpers.js";

const committed = (name: string) => readFileSync(join(ROOT, "grammar", name), "utf8");
const { layers, functions } = grammarInputs();

describe("grammar/ is derived from the parser", () => {
  it("passes chevrotain's own grammar validations", () => {
    expect(() => new TfmParser({ validate: true })).not.toThrow();
  });

  it.each([
    ["tfm.ebnf", () => grammarEbnf()],
    ["syntax-diagrams.html", () => syntaxDiagramsHtml()],
    ["tfm.tmLanguage.json", () => textMateGrammar(layers, functions)],
  ])("grammar/%s matches what the parser gives (run `npm run grammar` if not)", (name, make) => {
    expect(make() === committed(name), `grammar/${name} is stale: run npm run grammar`).toBe(true);
  });

  it("the VS Code extension carries the same TextMate grammar (run `npm run grammar` if not)", () => {
    expect(readFileSync(join(ROOT, "editors", "vscode", "syntaxes", "tfm.tmLanguage.json"), "utf8")).toBe(textMateGrammar(layers, functions));
    const manifest = JSON.parse(readFileSync(join(ROOT, "editors", "vscode", "package.json"), "utf8"));
    expect(manifest.contributes.grammars[0]).toMatchObject({ language: "tfm", scopeName: "source.tfm", path: "./syntaxes/tfm.tmLanguage.json" });
    expect(manifest.contributes.languages[0].extensions).toEqual([".tfm"]);
  });

  it("the EBNF names every parser rule", () => {
    const ebnf = committed("tfm.ebnf");
    for (const rule of Object.keys(new TfmParser().getGAstProductions())) expect(ebnf).toMatch(new RegExp(`^${rule}\\s+=`, "m"));
  });

  it("the TextMate grammar's patterns compile and highlight a sample line", () => {
    const g = JSON.parse(committed("tfm.tmLanguage.json"));
    expect(g.scopeName).toBe("source.tfm");
    // In the grammar's own order: comments and strings are included first.
    const patterns: { name: string; match?: string; begin?: string }[] = [
      ...g.repository.comments.patterns,
      ...g.patterns.filter((p: { match?: string }) => p.match),
    ];
    const scopeAt = (line: string, text: string): string | undefined => {
      const at = line.indexOf(text);
      for (const p of patterns) {
        const re = new RegExp(p.match ?? p.begin!, "g");
        for (const m of line.matchAll(re)) if (m.index! <= at && at < m.index! + m[0].length) return p.name;
      }
      return undefined;
    };
    const line = "  x = x + attn: attention(x, heads = 8, causal = true) // 1e-5";
    expect(scopeAt(line, "attention")).toBe("support.function.layer.tfm");
    expect(scopeAt(line, "attn")).toBe("entity.name.tag.label.tfm");
    expect(scopeAt(line, "true")).toBe("constant.language.boolean.tfm");
    expect(scopeAt(line, "// 1e-5")).toBe("comment.line.double-slash.tfm");
    expect(scopeAt("config d = 768", "config")).toBe("storage.type.tfm");
    expect(scopeAt("config d = 768", "768")).toBe("constant.numeric.tfm");
    // A label's keyword segments are the label's, the keywords elsewhere keywords.
    expect(scopeAt("  h = model.embed_tokens: embedding(ids, v, d)", "model")).toBe("entity.name.tag.label.tfm");
    expect(scopeAt("  h = output.dense: linear(h, d)", "dense")).toBe("entity.name.tag.label.tfm");
    expect(scopeAt("model m {", "model")).toBe("storage.type.tfm");
    expect(scopeAt("  input x: f32[B, T, d]", "input")).toBe("storage.type.tfm");
  });

  it("the syntax diagrams draw every rule in Chromium without the network", async () => {
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) errors.push(`network request: ${r.url()}`);
      });
      await page.goto(pathToFileURL(join(ROOT, "grammar", "syntax-diagrams.html")).href);
      const rules = Object.keys(new TfmParser().getGAstProductions()).length;
      await expect.poll(() => page.locator("svg.railroad-diagram").count()).toBe(rules);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
