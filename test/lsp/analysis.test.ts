import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyze, definitionAt, hoverAt } from "../../src/lsp/analysis.js";
import { ROOT } from "../helpers.js";

const GPT = readFileSync(join(ROOT, "examples", "gpt.tfm"), "utf8");

/** The offset of the `n`th occurrence of `needle`, plus `delta`. */
function at(text: string, needle: string, delta = 0, n = 1): number {
  let i = -1;
  for (let k = 0; k < n; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`'${needle}' not found`);
  }
  return i + delta;
}

const lineCol = (text: string, offset: number) => {
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${before[before.length - 1].length + 1}`;
};

describe("language server analysis", () => {
  it("hover shows the inferred type of an expression and the parameters a layer declares", () => {
    const a = analyze(GPT);
    expect(a.diagnostics).toEqual([]);
    const attn = hoverAt(a, at(GPT, "attention(") + 2)!;
    expect(attn.text).toContain("f32[B, T, 768]");
    // One attention of GPT-2 small (in_proj 768x2304 + 2304, out_proj 768x768 + 768) and the
    // layer_norm in its argument (768 + 768), in each of 12 layers.
    const perLayer = 768 * 2304 + 2304 + 768 * 768 + 768 + 2 * 768;
    expect(attn.text).toContain(`parameters: ${(12 * perLayer).toLocaleString("en-US")} (${perLayer.toLocaleString("en-US")} per evaluation)`);
    const logits = hoverAt(a, at(GPT, "output logits") + 8)!;
    expect(logits.text).toContain("f32[B, T, 50257]");
  });

  it("hover on a name shows its value: a config integer, an input's type, a block parameter", () => {
    const a = analyze(GPT);
    expect(hoverAt(a, at(GPT, "vocab = ") + 1)!.text).toContain("int = 50257");
    expect(hoverAt(a, at(GPT, "input tokens") + 7)!.text).toContain("i32[B, T]");
    expect(hoverAt(a, at(GPT, "block layer(x") + 12)!.text).toContain("f32[B, T, 768]");
  });

  it("hover follows --set-free config arithmetic: `4 * d` is the integer it evaluates to", () => {
    const a = analyze(GPT);
    expect(hoverAt(a, at(GPT, "4 * d") + 2)!.text).toContain("int = 3072");
  });

  it("go to definition finds variables, block parameters, config values, blocks, labels and dimensions", () => {
    const text = [
      "model m {",
      "  config d = 16, heads = 2",
      "  input ids: i32[B, T] where T <= 64",
      "  block layer(x: f32[B, T, d]) {",
      "    y = x + attn: attention(x, heads)",
      "    return y",
      "  }",
      "  h = wte: embedding(ids, 100, d)",
      "  h = layers: repeat(2, layer, h)",
      "  output logits = linear(h, 100, tied = wte)",
      "}",
    ].join("\n");
    const a = analyze(text);
    expect(a.diagnostics).toEqual([]);
    const def = (needle: string, delta = 0, n = 1) => {
      const span = definitionAt(a, at(text, needle, delta, n));
      return span ? lineCol(text, span.start) : undefined;
    };
    expect(def("return y", 7)).toBe("5:5"); // y = ...
    expect(def("attention(x", 10)).toBe("4:15"); // the block parameter x
    expect(def("heads)", 0)).toBe("2:18"); // config heads
    expect(def("layer, h", 0)).toBe("4:9"); // block layer
    expect(def("layer, h", 7)).toBe("8:3"); // the first h = ... (the use is on line 9's right-hand side)
    expect(def("tied = wte", 7)).toBe("8:7"); // the label wte
    expect(def("T <= 64", 0)).toBe("3:21"); // the dimension T of input ids
    expect(def("(ids,", 1)).toBe("3:9"); // the input
    expect(def("f32[B, T, d]", 10)).toBe("2:10"); // config d inside a block's parameter type
    expect(def("embedding(", 2)).toBeUndefined(); // a built-in layer has no declaration
  });

  it("reports syntax and semantic errors with spans, and still answers hovers in a file with a semantic error", () => {
    const broken = analyze("model m {\n  input x: f32[B, 8]\n  output y = linear(x, 4) + x\n}\n");
    expect(broken.diagnostics.map((d) => d.code)).toHaveLength(1);
    expect(lineCol("model m {\n  input x: f32[B, 8]\n  output y = linear(x, 4) + x\n}\n", broken.diagnostics[0].span.start)).toMatch(/^3:/);
    expect(hoverAt(broken, at("model m {\n  input x: f32[B, 8]\n  output y = linear(x, 4) + x\n}\n", "linear(") + 1)!.text).toContain("f32[B, 4]");
    const syntax = analyze("model m {\n  output y = (\n}\n");
    expect(syntax.diagnostics.length).toBeGreaterThan(0);
    expect(syntax.diagnostics[0].category).toBe("error");
  });
});
