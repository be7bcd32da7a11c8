import { describe, expect, it } from "vitest";
import { WeightsError } from "../../src/runtime/errors.js";
import { loadWeights } from "../../src/runtime/weights.js";
import { checkFile } from "../helpers.js";

// The hints a WeightsError gives must lead to options that load the file: the prefix options that
// make the most of the file's names parameters, never an ignore of a weight the model needs, and
// never advice that, once followed, is given again.

const SMALL = ["num_hidden_layers=2", "hidden_size=64", "intermediate_size=128", "num_attention_heads=4", "num_key_value_heads=2", "vocab_size=300"];
const params = checkFile("examples/hf/llama.tfm", ...SMALL).model!.params.map((p) => ({ name: p.name, shape: p.shape }));
const zeros = (shape: readonly number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape: [...shape] });
/** A file with the model's exact names: model.embed_tokens.weight, ..., lm_head.weight. */
const exact = Object.fromEntries(params.map((p) => [p.name, zeros(p.shape)]));

function hints(file: Record<string, unknown>, options?: unknown): string[] {
  try {
    loadWeights(params, file, options);
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsError);
    return (e as WeightsError).hints;
  }
  throw new Error("expected a WeightsError");
}

describe("weight-name hints on Llama's names", () => {
  it("the file holds both model. and lm_head. names", () => {
    expect(params.some((p) => p.name === "lm_head.weight")).toBe(true);
    expect(params.filter((p) => p.name.startsWith("model.")).length).toBe(params.length - 1);
    expect(() => loadWeights(params, exact)).not.toThrow();
  });

  it.each([
    [{ strip: "model." }, "--weights-prefix-strip model."],
    [{ strip: "model.", add: "model." }, "--weights-prefix-strip model. --weights-prefix-add model."],
    [{ strip: "model" }, "--weights-prefix-strip model"],
    [{ add: "model." }, "--weights-prefix-add model."],
  ])("with prefix %j on a file of the model's own names, says to drop the options", (prefix, flags) => {
    // lm_head.weight does not start with the prefix stripped: only `add` loses it.
    const n = prefix.add ? (prefix.strip ? 1 : params.length) : params.length - 1;
    expect(hints(exact, { prefix })).toEqual([`${n === 1 ? "1 missing parameter is" : `${n} missing parameters are`} in the file under their own names: drop the prefix options (${flags})`]);
  });

  it("following a hint loads the file or gives no hint to change the prefix again", () => {
    const transformers = Object.fromEntries(Object.entries(exact).map(([k, v]) => [k.startsWith("model.") ? `base.${k.slice(6)}` : k, v]));
    // add applies to every name: lm_head.weight becomes model.lm_head.weight, and no options fit both.
    const noFit = `no one set of prefix options fits all of the file's names (they apply to every name): 'lm_head.weight' is the parameter 'lm_head.weight' only with no prefix options`;
    expect(hints(transformers)).toEqual([
      `${params.length - 2} missing parameters are in the file with the prefix 'base.' in place of 'model.': use prefix: { strip: "base.", add: "model." } (--weights-prefix-strip base. --weights-prefix-add model.)`,
      noFit,
    ]);
    expect(hints(transformers, { prefix: { strip: "base.", add: "model." } })).toEqual([noFit]);
    const gpt = { "transformer.wte.weight": zeros([2]), "transformer.h.0.w": zeros([2]) };
    const model = [{ name: "wte.weight", shape: [2] }, { name: "h.0.w", shape: [2] }];
    expect(() => loadWeights(model, gpt, { prefix: { strip: "transformer." } })).not.toThrow();
  });

  it("never offers to ignore an entry that some prefix options turn into a parameter", () => {
    for (const prefix of [{ strip: "model" }, { strip: "model." }, { add: "x." }, { strip: "model.", add: "model." }]) {
      const hs = hints(exact, { prefix });
      expect(hs.filter((h) => h.includes("ignore")), JSON.stringify(prefix)).toEqual([]);
    }
  });
});

describe("weight-name hints count in the singular for one name", () => {
  it("says '1 unexpected name is a parameter' and, for more, 'names are parameters'", async () => {
    const { weightHints } = await import("../../src/runtime/weightNames.js");
    expect(weightHints(["a", "b"], ["m.a", "m.z", "b"], { strip: "", add: "" })[0]).toMatch(/^1 unexpected name is a parameter without the prefix 'm\.'/);
    expect(weightHints(["a", "b"], ["m.a", "m.b"], { strip: "", add: "" })[0]).toMatch(/^2 unexpected names are parameters without the prefix 'm\.'/);
  });
});
