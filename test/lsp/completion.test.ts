import { describe, expect, it } from "vitest";
import { analyze, hoverAt } from "../../src/lsp/analysis.js";
import { ARG_DOCS } from "../../src/lsp/argDocs.js";
import { completionsAt } from "../../src/lsp/completion.js";
import { signatureAt } from "../../src/lsp/signature.js";
import { LAYERS } from "../../src/semantics/layers/index.js";

// Completion and signature help on small files, the cursor at the end of the text unless the
// text holds a '|'.

function split(source: string): { text: string; offset: number } {
  const i = source.indexOf("|");
  return i < 0 ? { text: source, offset: source.length } : { text: source.slice(0, i) + source.slice(i + 1), offset: i };
}
const items = (source: string) => {
  const { text, offset } = split(source);
  return completionsAt(analyze(text), offset).items;
};
const labels = (source: string) => items(source).map((i) => i.label);
const HEAD = "model m {\n  config d = 16, heads = 2, use_bias = true\n  input x: f32[B, T, d]\n";

describe("completion", () => {
  it("documents every argument of every layer, and no argument that does not exist", () => {
    // Each argument is documented once: in its own spec (the primitives) or in ARG_DOCS (the layers).
    for (const [name, layer] of Object.entries(LAYERS)) {
      const inSpec = layer.args.filter((a) => a.doc !== undefined).map((a) => a.name);
      expect(Object.keys(ARG_DOCS[name] ?? {}).sort(), name).toEqual(layer.args.map((a) => a.name).filter((a) => !inSpec.includes(a)).sort());
    }
    expect(Object.keys(ARG_DOCS).every((name) => Object.hasOwn(LAYERS, name))).toBe(true);
  });

  it("offers layers with their docs and signatures, keyword arguments with their types and docs", () => {
    const layer = items(`${HEAD}  y = `).find((i) => i.label === "layer_norm")!;
    expect(layer).toMatchObject({ kind: "layer", detail: "layer_norm(x: tensor, *, eps?: number, affine?: bool, bias?: bool)", doc: LAYERS.layer_norm.doc });
    const eps = items(`${HEAD}  y = layer_norm(x, `).find((i) => i.label === "eps =")!;
    expect(eps).toMatchObject({ kind: "argument", detail: "number (optional), by name only", insertText: "eps = " });
    expect(eps.doc).toMatch(/variance/);
    // Partly typed: still the arguments (the editor filters by the word).
    expect(labels(`${HEAD}  y = layer_norm(x, ep`)).toContain("eps =");
  });

  it("offers config names, inputs and variables with what the checker found them to be", () => {
    const all = items(`${HEAD}  h = linear(x, d)\n  y = `);
    expect(all.find((i) => i.label === "d")).toMatchObject({ kind: "config", detail: "config d: int = 16" });
    expect(all.find((i) => i.label === "x")).toMatchObject({ kind: "input", detail: "input: f32[B, T, 16]" });
    expect(all.find((i) => i.label === "h")).toMatchObject({ kind: "variable", detail: "variable: f32[B, T, 16]" });
    // The statement being written does not offer its own name.
    expect(labels(`${HEAD}  y = linear(x, d)\n  z = `)).not.toContain("z");
    expect(labels(`${HEAD}  if `)).toEqual(expect.arrayContaining(["use_bias", "d", "not", "true"]));
  });

  it("offers keywords where a statement begins: else after an if's body, return only in a block", () => {
    expect(labels(`${HEAD}  if use_bias {\n    y = x\n  } `)).toContain("else");
    expect(labels(`${HEAD}  if use_bias {\n    y = x\n  } else `)).toEqual(["if"]);
    expect(labels(`${HEAD}  block b(h: f32[B, T, d]) {\n    h = h\n  }\n  `)).not.toContain("else");
    expect(labels(`${HEAD}  block b(h: f32[B, T, d]) {\n    `)).toEqual(expect.arrayContaining(["return", "if", "h"]));
    expect(labels(`${HEAD}  output y = x\n}\n`)).toEqual(["model"]);
  });

  it("offers nothing in comments, strings, or where a new name is being declared", () => {
    expect(labels(`${HEAD}  // y = `)).toEqual([]);
    expect(labels(`${HEAD}  y = "lin`)).toEqual([]);
    expect(labels(`${HEAD}  block `)).toEqual([]);
    expect(labels(`${HEAD}  config `)).toEqual([]);
    expect(labels(`${HEAD}  config a = 1, b|`)).toEqual([]);
  });
});

describe("hover on a layer's name", () => {
  it("adds the layer's signature and documentation to the type, also where the call is wrong", () => {
    const text = `${HEAD}  y = layer_norm(x)\n  z = layer_norm()\n  output o = y\n}\n`;
    const a = analyze(text);
    const good = hoverAt(a, text.indexOf("layer_norm") + 2)!.text;
    expect(good).toContain("f32[B, T, 16]");
    expect(good).toContain("layer_norm(x: tensor, *, eps?: number, affine?: bool, bias?: bool)");
    expect(good).toContain(LAYERS.layer_norm.doc);
    const bad = hoverAt(a, text.lastIndexOf("layer_norm") + 2)!.text;
    expect(bad).not.toContain("f32");
    expect(bad).toContain(LAYERS.layer_norm.doc);
  });
});

describe("signature help", () => {
  const active = (source: string) => {
    const { text, offset } = split(source);
    const s = signatureAt(analyze(text), offset);
    return s && s.label.slice(s.params[s.active]?.label[0] ?? 0, s.params[s.active]?.label[1] ?? 0);
  };

  it("marks the parameter a positional or keyword argument fills, skipping those given by name", () => {
    expect(active(`${HEAD}  y = ffn(x, `)).toBe("hidden: int");
    expect(active(`${HEAD}  y = ffn(x, act = gelu, `)).toBe("hidden: int");
    expect(active(`${HEAD}  y = ffn(hidden = 4, x, `)).toBe("act?: relu | gelu | gelu_tanh | silu | tanh | sigmoid");
    expect(active(`${HEAD}  y = attention(x, heads, causal = `)).toBe("causal?: bool");
    // max is also the tensor reduction: its signature is the layer's.
    expect(active(`${HEAD}  y = max(x, dim = -1, `)).toBe("keepdim?: bool");
  });

  it("gives a block's parameters as declared, and nothing for what is not a layer or block", () => {
    const block = `${HEAD}  block b(h: f32[B, T, d], m?: bool[B, T]) {\n    return h\n  }\n`;
    expect(active(`${block}  y = b(x, `)).toBe("m?: bool[B, T]");
    expect(active(`${block}  y = b(m = x, `)).toBe("h: f32[B, T, d]");
    expect(active(`${HEAD}  y = toString(`)).toBeUndefined();
    expect(active(`${HEAD}  y = nothing(`)).toBeUndefined();
    expect(active(`${HEAD}  block f(`)).toBeUndefined();
  });
});
