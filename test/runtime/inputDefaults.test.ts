import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";

// `input x: i32[B, T] = 0`: the caller may leave x out, and the model then computes as if it were
// given filled with the value (BertModel's token_type_ids default to zeros).

const ids = { data: Int32Array.from([1, 4, 2, 9, 0, 3]), shape: [2, 3] };
const given = {
  ids,
  types: { data: new Int32Array(6).fill(1), shape: [2, 3] },
  offsets: { data: BigInt64Array.from([2n, 2n]), shape: [2] },
  keep: { data: new Uint8Array(6).fill(1), shape: [2, 3] },
  shift: { data: new Float32Array(8).fill(0.5), shape: [8] },
};

describe("inputs with a default", () => {
  for (const [level, target] of [["-O0", "ts"], ["-O2", "ts"], ["-O2", "wasm"]] as const) {
    it(`left out, each is its value everywhere (${level}, ${target})`, async () => {
      const mod = await importGenerated(graphOf("test/models/input_defaults.tfm", level), { target });
      const model = mod.createModel(randomWeights(mod.spec.parameters, 5));
      const want = model.forward(given).y.data.slice();
      expect(model.forward({ ids }).y.data).toEqual(want);
      // ...and the inputs matter when they are given otherwise.
      for (const [name, other] of [
        ["types", { data: Int32Array.from([0, 2, 1, 0, 2, 1]), shape: [2, 3] }],
        ["offsets", { data: BigInt64Array.from([0n, 2n]), shape: [2] }],
        ["keep", { data: Uint8Array.from([1, 0, 1, 1, 1, 0]), shape: [2, 3] }],
        ["shift", { data: new Float32Array(8).fill(-1), shape: [8] }],
      ] as const) {
        expect(model.forward({ ...given, [name]: other }).y.data, name).not.toEqual(want);
      }
    });
  }

  it("the spec and tfmc check show each default", async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), color: false };
    expect(await main(["check", join(ROOT, "test/models/input_defaults.tfm")], io)).toBe(0);
    expect(lines.join("\n")).toMatch(/input {2}types: i32\[B, T\] = 1\n.*\n {2}input {2}keep: bool\[B, T\] = true/);
    const mod = await importGenerated(graphOf("test/models/input_defaults.tfm"));
    expect((mod.spec as unknown as { inputs: { name: string; default?: number }[] }).inputs.map((i) => i.default)).toEqual([undefined, 1, 2, 1, 0.5]);
  });

  it("refuses a default of the wrong kind, with '?', or with a dimension no given input binds", async () => {
    const dir = join(ROOT, "test", ".generated", "input-defaults");
    mkdirSync(dir, { recursive: true });
    const cases: [string, RegExp][] = [
      ["input ids: i32[B, T]\n  input t: i32[B, T] = 1.5", /3:24: error TFM2053: input 't' cannot have this default: an i32 input takes an integer, got number 1.5/],
      ["input ids: i32[B, T]\n  input m: bool[B, T] = 1", /3:25: error TFM2053: .*a bool input takes true or false/],
      ["input ids: i32[B, T]\n  input t?: i32[B, T] = 0", /3:9: error TFM2053: .*'\?' marks an input that may be absent/],
      ["input t: i32[B, T] = 0\n  input ids: i32[B, T]", /2:9: error TFM2053: .*dimension 'B' must be bound by an input declared before it/],
      ["input ids: i32[B, T]\n  input t: i32[B, S] = 0", /3:9: error TFM2053: .*dimension 'S'/],
      ["input ids: i32[B, T]\n  input t: i32[B, T] = 4294967296", /3:24: error TFM2053: .*outside i32/],
      // Past float32's largest value, a default would be infinite everywhere.
      ["input ids: i32[B, T]\n  input s: f32[B, T] = 1e39", /3:24: error TFM2053: input 's' cannot have this default: 1e\+39 is outside f32 \(it would be infinite\)/],
      ["input ids: i32[B, T]\n  input s: f32[B, T] = -3.5e38", /3:24: error TFM2053: .*-3\.5e\+38 is outside f32/],
    ];
    for (const [decl, want] of cases) {
      const file = join(dir, "bad.tfm");
      writeFileSync(file, `model m {\n  ${decl}\n  output y = cast(ids, f32)\n}\n`);
      const lines: string[] = [];
      const code = await main(["check", file], { out: (l) => lines.push(l), err: (l) => lines.push(l), color: false });
      expect(code, decl).toBe(1);
      expect(lines.join("\n"), decl).toMatch(want);
      expect(lines.join("\n")).not.toMatch(/internal error/);
    }
  });
});
