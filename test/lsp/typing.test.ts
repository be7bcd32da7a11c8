import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyze, hoverAt, type Analysis } from "../../src/lsp/analysis.js";
import { completionsAt } from "../../src/lsp/completion.js";
import { signatureAt } from "../../src/lsp/signature.js";
import { ROOT } from "../helpers.js";

// examples/gpt.tfm typed from its first character to its last: at every state the analysis must
// not throw, every line already complete must keep its hover, and completion must answer.

const GPT = readFileSync(join(ROOT, "examples", "gpt.tfm"), "utf8");
const LINES = GPT.split("\n");
const lineStart = (i: number) => LINES.slice(0, i).reduce((n, l) => n + l.length + 1, 0);
const typeOf = (a: Analysis, offset: number) => hoverAt(a, offset)?.text.split("\n")[1];

/** For each line, the first offset whose hover the finished file answers, with what it shows. */
function probes(): { line: number; offset: number; type: string }[] {
  const full = analyze(GPT);
  const out: { line: number; offset: number; type: string }[] = [];
  LINES.forEach((l, i) => {
    for (let c = 0; c < l.length; c++) {
      const type = typeOf(full, lineStart(i) + c);
      if (type !== undefined) {
        out.push({ line: i, offset: lineStart(i) + c, type });
        return;
      }
    }
  });
  return out;
}

describe("typing examples/gpt.tfm character by character", () => {
  it("keeps hover on every completed line and answers completion at every state", () => {
    const points = probes();
    // Config, input, the block's header and its three statements, and the three top-level statements.
    expect(points.map((p) => p.line + 1)).toEqual([3, 5, 7, 8, 9, 10, 13, 14, 15]);
    let hovers = 0;
    for (let n = 0; n <= GPT.length; n++) {
      const text = GPT.slice(0, n);
      const a = analyze(text);
      const currentLine = text.split("\n").length - 1;
      for (const p of points) {
        if (p.line >= currentLine) continue;
        expect(typeOf(a, p.offset), `line ${p.line + 1} with ${n} characters typed`).toBe(p.type);
        hovers++;
      }
      expect(Array.isArray(completionsAt(a, n).items)).toBe(true);
      signatureAt(a, n);
    }
    expect(hovers).toBeGreaterThan(2000);
  }, 120_000);

  it.each(["bert.tfm", "translator.tfm"])("the other examples, typed line by line (half a line, then all of it), keep their hovers too: %s", (file) => {
    const source = readFileSync(join(ROOT, "examples", file), "utf8");
    const lines = source.split("\n");
    const startOf = (i: number) => lines.slice(0, i).reduce((n, l) => n + l.length + 1, 0);
    const full = analyze(source);
    const points = lines.flatMap((l, i) => {
      for (let c = 0; c < l.length; c++) {
        const type = typeOf(full, startOf(i) + c);
        if (type !== undefined) return [{ line: i, offset: startOf(i) + c, type }];
      }
      return [];
    });
    expect(points.length).toBeGreaterThan(10);
    for (let i = 0; i < lines.length; i++) {
      for (const cut of [Math.floor(lines[i].length / 2), lines[i].length]) {
        const text = source.slice(0, startOf(i) + cut);
        const a = analyze(text);
        for (const p of points) if (p.line < i) expect(typeOf(a, p.offset), `line ${p.line + 1} with ${i} lines and ${cut} characters typed`).toBe(p.type);
        expect(Array.isArray(completionsAt(a, text.length).items)).toBe(true);
      }
    }
  });

  const labelsAt = (prefix: string) => completionsAt(analyze(prefix), prefix.length).items.map((i) => i.label);
  const upTo = (needle: string, extra = "") => GPT.slice(0, GPT.indexOf(needle)) + extra;

  it("offers what fits at chosen points of the typing", () => {
    expect(labelsAt("")).toEqual(["model"]);
    expect(labelsAt("model gpt {\n  ")).toEqual(expect.arrayContaining(["config", "input", "output", "block", "if"]));
    expect(labelsAt(upTo("i32["))).toEqual(["f32", "i32", "i64", "bool"]);
    expect(labelsAt(upTo("T <= ctx", "where "))).toEqual(expect.arrayContaining(["B", "T"]));
    expect(labelsAt(upTo("B, T, d]) {", "B, "))).toEqual(expect.arrayContaining(["d", "ctx", "T"]));
    // In a block: its statements' keywords, its parameter, and no `input` (not allowed there).
    const inBlock = labelsAt(upTo("    x = x + mlp", "    "));
    expect(inBlock).toEqual(expect.arrayContaining(["return", "if", "x"]));
    expect(inBlock).not.toContain("input");
    // A layer's arguments by name, those already given left out.
    const attn = labelsAt(upTo("heads, causal", "heads, "));
    expect(attn).toEqual(expect.arrayContaining(["causal =", "kernel =", "memory ="]));
    expect(attn).not.toContain("query =");
    expect(attn).not.toContain("heads =");
    expect(labelsAt(upTo("gelu_tanh)", "")).slice(0, 6)).toEqual(["relu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid"]);
    expect(labelsAt(upTo("true)", "")).slice(0, 2)).toEqual(["true", "false"]);
    // After a label, the layers and blocks that can be called.
    expect(labelsAt(upTo("embedding(tokens", ""))).toEqual(expect.arrayContaining(["embedding", "linear", "layer", "repeat"]));
    expect(labelsAt(upTo("layer, h)", ""))[0]).toBe("layer");
    // `tied =` takes a label: the labels written so far.
    expect(labelsAt(upTo("wte)\n}", "")).slice(0, 3)).toEqual(["attn", "ln_1", "mlp"]);
    expect(labelsAt(upTo("wte)\n}", ""))).toContain("wte");
    // Back at the top level after the block: inputs and variables, not the block's own.
    const top = labelsAt(upTo("  output", "  "));
    expect(top).toEqual(expect.arrayContaining(["output", "tokens", "h"]));
    expect(top).not.toContain("x");
  });

  it("signature help follows the argument being written", () => {
    const sig = (prefix: string) => {
      const s = signatureAt(analyze(prefix), prefix.length)!;
      return s.label.slice(s.params[s.active]?.label[0], s.params[s.active]?.label[1]);
    };
    expect(sig(upTo("ln_1: layer_norm(x), heads", ""))).toBe("query: tensor");
    expect(sig(upTo("heads, causal", ""))).toBe("heads: int");
    expect(sig(upTo("true)", ""))).toBe("causal?: bool");
    expect(sig(upTo("layer, h)", ""))).toBe("block: block");
    expect(sig(GPT.replace(/\}\n$/, "  y = layer(h"))).toBe("x: f32[B, T, d]");
    // Inside the inner call, the inner layer's signature.
    expect(signatureAt(analyze(upTo("x), heads", "")), GPT.indexOf("x), heads"))!.label).toMatch(/^layer_norm\(x: tensor, \*, eps/);
  });
});
