import { afterEach, describe, expect, it } from "vitest";
import { buildGraph } from "../../src/cli/pipeline.js";
import { printKernel, type KernelSource } from "../../src/codegen/kernelTypes.js";
import { emitModuleSource } from "../../src/codegen/module.js";
import { OPS } from "../../src/ir/ops.js";
import type { OpDef } from "../../src/ir/ops/opDef.js";

// Kernel templates declare the types of their parameters; the module printer writes those types
// and nothing else: no type comes from a parameter's name, and the body is never edited.

const SOURCE: KernelSource = {
  inputs: ["x"],
  params: [
    { name: "dims", type: "shape" },
    { name: "count", type: "number" },
    { name: "sums", type: "f64" },
    { name: "offsets", type: "i32" },
    { name: "cache", type: "f32" },
    { name: "label", type: "string" },
  ],
  scratch: "const $K_t = new Float64Array(4);",
  body: "  // (x, dims) => not a signature\n  out[0] = x[0] + dims.length + count;",
  extra: ["[1, 2]", "3", "sums", "offsets", "cache", '"x"'],
};

describe("kernel parameters", () => {
  it("are typed as the template declares them, whatever their names", () => {
    // By name, the old printer typed all six as `number`.
    expect(printKernel(SOURCE, ["Int32Array | BigInt64Array | null"], true)).toBe(
      `const $K_t = new Float64Array(4);
function $K(out: Float32Array, x: Int32Array | BigInt64Array | null, dims: readonly number[], count: number, sums: Float64Array, offsets: Int32Array, cache: Float32Array, label: string): void {
  // (x, dims) => not a signature
  out[0] = x[0] + dims.length + count;
}`,
    );
  });

  it("are plain for --emit js", () => {
    expect(printKernel({ ...SOURCE, scratch: undefined }, ["Float32Array"], false)).toBe(
      `function $K(out, x, dims, count, sums, offsets, cache, label) {
  // (x, dims) => not a signature
  out[0] = x[0] + dims.length + count;
}`,
    );
  });

  describe("in a generated module", () => {
    const original = OPS.permute;
    afterEach(() => {
      (OPS as Record<string, OpDef>).permute = original;
    });

    const graph = () => {
      const g = buildGraph("model m {\n  input x: f32[B, T, 4]\n  output y = permute(x, [0, 2, 1])\n}\n", [], { level: 0 }).graph;
      if (!g) throw new Error("the test model does not check");
      return g;
    };

    it("take the declared type, and so does the hoisted argument", () => {
      // A permute kernel whose shape parameter is called `dims`: a name the old printer typed `number`.
      (OPS as Record<string, OpDef>).permute = {
        ...original,
        kernel: (_n, _ins, ctx) => ({ inputs: ["x"], params: [{ name: "dims", type: "shape" }], body: "  permuteInto(out, x, dims, [0, 2, 1]);", extra: [ctx.shapeOf(0)], uses: ["permuteInto"] }),
      };
      const ts = emitModuleSource(graph(), { runtime: "tfmc/runtime" });
      expect(ts).toContain("function k0(out: Float32Array, x: Float32Array, dims: readonly number[]): void {\n  permuteInto(out, x, dims, [0, 2, 1]);\n}");
      expect(ts).toContain("let e0!: readonly number[];");
      expect(ts).toContain("e0 = [s0, s1, 4];");
      expect(ts).toContain("k0(v1, x0, e0);");
      const js = emitModuleSource(graph(), { runtime: "tfmc/runtime", typed: false });
      expect(js).toContain("function k0(out, x, dims) {\n  permuteInto(out, x, dims, [0, 2, 1]);\n}");
    });

    it("must match the arguments the template gives", () => {
      (OPS as Record<string, OpDef>).permute = {
        ...original,
        kernel: (_n, _ins, ctx) => ({ inputs: ["x"], params: [], body: "", extra: [ctx.shapeOf(0)] }),
      };
      expect(() => emitModuleSource(graph())).toThrow(/the kernel of 'permute' declares 0 parameters for 1 arguments/);
      (OPS as Record<string, OpDef>).permute = {
        ...original,
        kernel: () => ({ inputs: [], params: [], body: "", extra: [] }),
      };
      expect(() => emitModuleSource(graph())).toThrow(/the kernel of 'permute' names 0 inputs for 1/);
    });
  });
});
