import { describe, expect, it } from "vitest";
import { checkSource } from "../../src/semantics/check.js";
import { ACTIVATIONS } from "../../src/semantics/layers/index.js";
import { overrides } from "../helpers.js";

// Mistakes a new user makes from docs/language.md alone: each gets an error that says what to do.

function diagnostics(text: string, ...sets: string[]) {
  return checkSource(text, overrides(...sets)).diagnostics.sorted().map((d) => ({ code: d.code, message: d.message, hint: d.hint }));
}

describe("unknown names that exist elsewhere", () => {
  it("says an output binds no name", () => {
    const src = `model m {\n  input x: f32[B, 4]\n  output logits = linear(x, 3)\n  output p = softmax(logits)\n}\n`;
    expect(diagnostics(src)).toEqual([
      { code: 2003, message: "unknown name 'logits'", hint: "an output is not a name to read back: write 'logits = ...' then 'output logits'" },
    ]);
  });

  it("says a block does not see the model's variables", () => {
    const src = `model m {\n  config d = 4\n  input x: f32[B, d]\n  block f(y: f32[B, d]) {\n    return y * scale\n  }\n  scale = x\n  output z = f(x)\n}\n`;
    const [d] = diagnostics(src);
    expect(d).toEqual({
      code: 2003,
      message: "unknown name 'scale'",
      hint: "'scale' is a variable of the model: a block sees config values and its own parameters only; pass it as an argument",
    });
  });

  it("keeps did-you-mean for a plain slip", () => {
    const src = `model m {\n  input x: f32[B, 4]\n  output y = relu(xx)\n}\n`;
    expect(diagnostics(src)[0].hint).toBe("did you mean 'x'?");
  });
});

describe("activations through a config value", () => {
  const src = `model m {\n  config act = gelu\n  input x: f32[B, 4]\n  output y = act(x)\n  output z = ffn(x, 8, act = act)\n}\n`;

  it.each(ACTIVATIONS)("accepts --set act=%s for act(x) as for ffn's act", (act) => {
    expect(diagnostics(src, `act=${act}`)).toEqual([]);
  });

  it("gelu_tanh(x) is gelu(x, approximate = tanh)", () => {
    const a = checkSource(`model m {\n  input x: f32[B, 4]\n  output y = gelu_tanh(x)\n}\n`).model!;
    const b = checkSource(`model m {\n  input x: f32[B, 4]\n  output y = gelu(x, approximate = tanh)\n}\n`).model!;
    expect(a.nodes.at(-1)!.attrs).toEqual({ fn: "gelu_tanh" });
    expect(b.nodes.at(-1)!.attrs).toEqual(a.nodes.at(-1)!.attrs);
  });

  it("says what a config value that names no activation holds", () => {
    const text = `model m {\n  config act = swish\n  input x: f32[B, 4]\n  output y = act(x)\n}\n`;
    expect(diagnostics(text)).toEqual([
      { code: 2004, message: "unknown layer or block 'act'", hint: "'act' holds 'swish', which names no layer; an activation is one of relu, gelu, gelu_tanh, silu, tanh, sigmoid" },
    ]);
  });
});

describe("concat and split", () => {
  it("shows the shapes of concat's mismatched inputs", () => {
    const src = `model m {\n  input a: f32[2, 3]\n  input b: f32[4, 5]\n  output y = concat([a, b])\n}\n`;
    const [d] = diagnostics(src);
    expect(d.message).toContain("the inputs differ in a dimension other than the one joined (axis 1): [2, 3] and [4, 5]");
  });

  it("splits and chunks the last axis by default", () => {
    const model = checkSource(`model m {\n  input x: f32[2, 6]\n  a, b = split(x, 2)\n  c, d = chunk(x, 2)\n  output y = a + d\n}\n`).model!;
    const out = model.nodes.filter((n) => n.attrs.op === "slice").map((n) => n.type.shape);
    expect(out).toEqual([[{ value: 2 }, { value: 3 }], [{ value: 2 }, { value: 3 }], [{ value: 2 }, { value: 3 }], [{ value: 2 }, { value: 3 }]]);
  });
});
