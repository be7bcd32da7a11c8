import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { Poly } from "../../src/passes/cost.js";

async function explain(...args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await main(["explain", ...args], { out: (l) => lines.push(l), err: (l) => lines.push(l), color: false });
  return { code, text: lines.join("\n") };
}

describe("tfmc explain", () => {
  it("gives PEERS.md's FLOP count for one d=512 encoder layer, and memory as written and optimised", async () => {
    const { code, text } = await explain("examples/torch/encoder_layer.tfm", "--at", "S=128,4096");
    expect(code).toBe(0);
    // The matrix products of one layer: S(8d² + 4·d·d_ff) + 4·S²·d = 0.839 GFLOP at S = 128; the
    // few element-wise FLOPs on top keep it at 0.84 G.
    expect(text).toMatch(/FLOPs as optimised\s+841\.2M\s+60\.9G/);
    expect(text).toMatch(/total\s+3,152,384\s+2,088·B·S² \+ 6,304,256·B·S/);
    // Unfused, two [8, 4096, 4096] float32 score matrices are live at once (1 GB); fused, none is.
    expect(text).toMatch(/peak activations as written\s+\S+\s+1\.08GB/);
    expect(text).toMatch(/peak activations as optimised\s+\S+\s+50\.3MB/);
    // Its 'block' mask rules out the feature-map kernels; only local attention is offered.
    expect(text).toMatch(/attention self_attn \[softmax\]: local \(window 128\) cheaper than softmax from length 258; linear, performer and linformer cannot honour the mask 'block'\n/);
    expect(text).toMatch(/fuse-attention .*\n\s+1 × attention fused/);
  });

  it("costs linear attention as its kernel runs it, and --attention picks the kernel explain costs", async () => {
    // Per head, with L = S and D = Dv = 64: features (L + S)·D, Σ φ(k) vᵀ 2·S·D·Dv and Σ φ(k) S·D,
    // then per query φ(q)·KV 2·D·Dv, φ(q)·z 2·D and the quotient Dv:
    // 2·(L + S)·D·Dv + (3L + 2S)·D + L·Dv = 16,768·S. Eight heads: 134,144·S on top of the
    // 6,304,256·B·S the rest of the layer costs (the softmax layer's count, less its S² term).
    const { code, text } = await explain("bench/models/encoder.tfm", "--set", "kernel=linear");
    expect(code).toBe(0);
    expect(6_304_256 + 8 * (2 * 2 * 64 * 64 + 5 * 64 + 64)).toBe(6_438_400);
    expect(text).toMatch(/total\s+3,152,384\s+6,438,400·B·S\n/);
    // --attention is applied too: GPT's causal attention as linear attention has no T² term left.
    const gpt = await explain("examples/gpt.tfm", "--set", "layers=1", "--attention", "linear");
    expect(gpt.text).toMatch(/h\.0\s+7,087,872\s+[\d,]+·B·T\n/);
  });

  it("offers only the kernels the checker would accept for each attention", async () => {
    // Causal: no linformer.
    const gpt2 = await explain("examples/hf/gpt2.tfm", "--set", "n_layer=1");
    expect(gpt2.code).toBe(0);
    expect(gpt2.text).toContain(
      "attention transformer.h.0.attn [softmax]: linear cheaper than softmax from length 65; performer (256 features) cheaper than softmax from length 515; local (window 128) cheaper than softmax from length 258; linformer cannot honour causal masking\n",
    );
    // Grouped keys and values: softmax only.
    const llama = await explain("examples/hf/llama.tfm", "--set", "num_hidden_layers=1");
    expect(llama.text).toContain("[softmax]: no other kernel applies; linear, performer and local cannot honour grouped keys and values; linformer cannot honour causal masking\n");
    expect(llama.text).not.toMatch(/(linear|performer|linformer)[^;]* cheaper/);
  });

  it("describes the kernel --attention chose, not as an alternative to itself", async () => {
    const { code, text } = await explain("examples/gpt.tfm", "--set", "layers=1", "--attention", "linear");
    expect(code).toBe(0);
    expect(text).toContain("attention h.0.attn [linear]: this kernel is cheaper than softmax from length 65; softmax also applies; performer (256 features) cheaper");
    expect(text).not.toContain("linear cheaper");
  });

  it("says why something was not fused", async () => {
    const { text } = await explain("examples/gpt.tfm", "--set", "layers=2");
    expect(text).toMatch(/not done: residual add not fused into the norm: the sum is read elsewhere/);
  });

  it("refuses a malformed --at", async () => {
    expect((await explain("examples/gpt.tfm", "--at", "T=abc")).code).toBe(2);
  });

  it.each([
    ["Q=5", "explain: --at names Q, but model tiny_gpt has no symbol Q; its symbols are B, T"],
    ["T=17", "explain: --at T=17 is above the model's limit T <= 16"],
    ["T=8,17", "explain: --at T=17 is above the model's limit T <= 16"],
    ["B=2,3,T=4,5", "explain: --at can vary one symbol; B and T each have several values"],
    ["T=4,T=5", "explain: --at gives T twice"],
    ["T=0", "explain: --at T=0: a length is an integer from 1 to 2^53 - 1"],
  ])("refuses --at %s, naming the symbol or the bound", async (at, message) => {
    const { code, text } = await explain("test/models/tiny_gpt.tfm", "--at", at);
    expect(code).toBe(2);
    expect(text.split("\n")[0]).toBe(`tfmc: ${message}`);
  });

  it("--at B=2 alone holds the batch and keeps the default lengths", async () => {
    const { code, text } = await explain("examples/gpt.tfm", "--at", "B=2");
    expect(code).toBe(0);
    // The defaults stay within 'where T <= ctx' (1024), as given values must.
    expect(text.split("\n")[0]).toBe("model gpt: T at 128, 1024 (B = 2)");
    expect((await explain("test/models/tiny_gpt.tfm")).text.split("\n")[0]).toBe("model tiny_gpt: T at 16 (B = 1)");
  });

  it("sets several symbols at once: --at B=2,T=8,16", async () => {
    const { code, text } = await explain("test/models/tiny_gpt.tfm", "--at", "B=2,T=8,16");
    expect(code).toBe(0);
    expect(text.split("\n")[0]).toBe("model tiny_gpt: T at 8, 16 (B = 2)");
    // FLOPs are linear in B: B = 2 doubles the count of B = 1 at each length
    const value = (h: string) => parseFloat(h) * 1000 ** ["", "K", "M", "G", "T"].indexOf(h.replace(/^[\d.]+/, ""));
    const row = (t: string) => /FLOPs as optimised\s+(\S+)\s+(\S+)\n/.exec(t)!.slice(1).map(value);
    const one = await explain("test/models/tiny_gpt.tfm", "--at", "B=1,T=8,16");
    const [a, b] = row(text);
    const [c, d] = row(one.text);
    // (printed to 4 significant digits)
    expect(a / c).toBeCloseTo(2, 2);
    expect(b / d).toBeCloseTo(2, 2);
  });
});

describe("symbolic cost polynomials", () => {
  it("multiply, add and evaluate", () => {
    const p = Poly.dims([{ sym: "B" }, { sym: "T" }, { value: 3 }]).mul(Poly.dims([{ sym: "T" }])).add(Poly.const(2));
    expect(p.toString()).toBe("3·B·T² + 2");
    expect(p.at(new Map([["B", 2], ["T", 5]]))).toBe(152);
  });
});
