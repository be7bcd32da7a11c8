import { describe, expect, it } from "vitest";
import { checkInputs } from "../../src/runtime/inputs.js";
import { randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";

// A bool input also takes an integer array, read as `x != 0`: tokenizers give attention masks as
// int64 (1 = a real token), and PyTorch users pass them so.

const SPEC = [{ name: "m", dtype: "bool" as const, shape: ["B", "T"], optional: true }];

describe("bool inputs from integer arrays", () => {
  it("checkInputs turns Int32Array and BigInt64Array into a Uint8Array of x != 0", () => {
    const i32 = checkInputs(SPEC, [], { m: { data: Int32Array.from([1, 0, 2, -1, 0, 1]), shape: [2, 3] } });
    expect(i32.data[0]).toEqual(Uint8Array.from([1, 0, 1, 1, 0, 1]));
    const i64 = checkInputs(SPEC, [], { m: { data: BigInt64Array.from([0n, 1n, 1n, 0n]), shape: [2, 2] } });
    expect(i64.data[0]).toEqual(Uint8Array.from([0, 1, 1, 0]));
    expect(i64.dims).toEqual({ B: 2, T: 2 });
  });

  it("a float array is still refused for a bool input, with the arrays it takes", () => {
    expect(() => checkInputs(SPEC, [], { m: { data: new Float32Array(4), shape: [2, 2] } })).toThrow(/Float32Array.*Uint8Array or Int32Array or BigInt64Array/);
  });

  it("a model computes the same with an int64, int32 or bool padding mask", async () => {
    const mod = await importGenerated(graphOf("examples/torch/encoder_layer.tfm", "d_model=16", "nhead=2", "dim_feedforward=24"));
    const model = mod.createModel(randomWeights(mod.spec.parameters, 3));
    const src = { data: Float32Array.from({ length: 2 * 4 * 16 }, (_, i) => Math.sin(i)), shape: [2, 4, 16] };
    const pad = [0, 0, 0, 1, 0, 0, 1, 1];
    const run = (data: Uint8Array | Int32Array | BigInt64Array) => model.forward({ src, src_key_padding_mask: { data, shape: [2, 4] } }).out.data.slice();
    const want = run(Uint8Array.from(pad));
    expect(run(Int32Array.from(pad))).toEqual(want);
    expect(run(BigInt64Array.from(pad.map(BigInt)))).toEqual(want);
    // ...and the mask matters: a different one gives different outputs.
    expect(run(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]))).not.toEqual(want);
  });
});
