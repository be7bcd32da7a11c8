import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { checkSource } from "../../src/semantics/check.js";
import { MAX_TENSOR_ELEMENTS } from "../../src/semantics/elaborator.js";
import { parseOverride } from "../../src/semantics/overrides.js";
import { ROOT } from "../helpers.js";

const dir = join(ROOT, "test", ".generated", "numeric-limits");
mkdirSync(dir, { recursive: true });

async function tfmc(...argv: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await main(argv, { out: (l) => lines.push(l), err: (l) => lines.push(l), color: false });
  return { code, text: lines.join("\n") };
}

const codes = (text: string) => checkSource(text).diagnostics.items.map((d) => d.code);

describe("integers stay exact", () => {
  it("an integer literal past 2^53 - 1 is refused where it is written; 2^53 - 1 itself is fine", () => {
    const src = (n: string) => `model m {\n  config d = ${n}\n  input x: f32[B, 4]\n  output y = x * d\n}\n`;
    expect(codes(src("9007199254740991"))).toEqual([]);
    for (const n of ["9007199254740992", "9007199254740993", "99999999999999999999999", "1".repeat(100)]) {
      const d = checkSource(src(n)).diagnostics.items;
      expect(d.map((x) => x.code), n).toEqual([1011]);
      expect(d[0].span).toMatchObject({ line: 2, col: 14 });
      expect(d[0].message).toContain("9007199254740991 (2^53 - 1)");
    }
    // Written as a float it is a float, as before.
    expect(codes(src("1e21"))).toEqual([]);
  });

  it("integer arithmetic past 2^53 - 1 is an error, not a silent float", () => {
    const src = (e: string) => `model m {\n  config d = 100000000\n  input x: f32[B, 4]\n  output y = x * (${e})\n}\n`;
    expect(codes(src("d * d"))).toEqual([2051]);
    expect(codes(src("d ** 3"))).toEqual([2051]);
    expect(codes(src("9007199254740991 + 1"))).toEqual([2051]);
    expect(codes(src("d * 90"))).toEqual([]);
    expect(codes(src("d * 1e10"))).toEqual([]);
  });

  it("--set refuses an integer it cannot hold exactly, and a float past the largest number", () => {
    for (const v of ["99999999999999999999999", "9007199254740993", "-9007199254740993"]) {
      const o = parseOverride(`d=${v}`);
      expect(typeof o, v).toBe("string");
      expect(o).toContain("9007199254740991 (2^53 - 1)");
    }
    expect(parseOverride("d=1e400")).toMatch(/too large/);
    expect(parseOverride("d=9007199254740991")).toMatchObject({ value: { kind: "int", value: 9007199254740991 } });
  });

  it("through the CLI: --set d=99999999999999999999999 and --set d=1e21 are both refused", async () => {
    const file = join(dir, "set.tfm");
    writeFileSync(file, "model m {\n  config d = 4\n  input x: f32[B, d]\n  output y = x\n}\n");
    const huge = await tfmc("check", file, "--set", "d=99999999999999999999999");
    expect(huge.code).toBe(2);
    expect(huge.text).toMatch(/^tfmc: --set d: the integer 99999999999999999999999 is too large to be exact: the limit is 9007199254740991/);
    const float = await tfmc("check", file, "--set", "d=1e21");
    expect(float.code).toBe(1);
    expect(float.text).toContain("error TFM2011");
  });
});

describe("tensor sizes", () => {
  const linear = (d: string) => `model m {\n  config d = ${d}\n  input x: f32[B, 4]\n  output y = linear(x, d, bias = false)\n}\n`;

  it("a parameter or a tensor past 2^31 - 1 elements is refused, located, with the limit", () => {
    const ok = checkSource(linear(String(Math.floor(MAX_TENSOR_ELEMENTS / 4))));
    expect(ok.diagnostics.items).toEqual([]);
    const d = checkSource(linear(String(Math.floor(MAX_TENSOR_ELEMENTS / 4) + 1))).diagnostics.items;
    expect(d.map((x) => x.code)).toEqual([2050]);
    expect(d[0].message).toMatch(/^parameter 'weight' of shape \[536870912, 4\] would hold 2,147,483,648 elements: a tensor holds at most 2147483647/);
    expect(d[0].span).toMatchObject({ line: 4, col: 14 });
  });

  it("a head tied to a too-large embedding: the embedding is reported, the head reads it back without failing", () => {
    const gpt = "model m {\n  config vocab = 4294967296\n  input t: i32[B, T]\n  h = wte: embedding(t, vocab, 8)\n  output y = linear(h, tied = wte)\n}\n";
    const d = checkSource(gpt).diagnostics.items;
    expect(d.map((x) => [x.code, x.span.line])).toEqual([[2050, 4], [2050, 5]]);
  });

  it("known dimensions of an input multiply past the limit: one error, no cascade", () => {
    const d = checkSource("model m {\n  config d = 3000\n  input x: f32[d, B, d, d]\n  y = x + x\n  output z = y * 2\n}\n").diagnostics.items;
    expect(d.map((x) => x.code)).toEqual([2050]);
    expect(d[0].span.line).toBe(3);
  });

  it("tfmc run on a model with a too-large parameter: exit 1 with the located error, no internal error", async () => {
    const file = join(dir, "run.tfm");
    writeFileSync(file, linear("4"));
    const r = await tfmc("run", file, "--set", "d=3000000000", "--out", join(dir, "out.safetensors"));
    expect(r.text).not.toMatch(/internal error|Invalid typed array length/);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/run\.tfm:4:14: error TFM2050: /);
  });
});
