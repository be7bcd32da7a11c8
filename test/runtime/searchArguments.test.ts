import { describe, expect, it } from "vitest";
import { TfmcRuntimeError } from "../../src/runtime/errors.js";
import { beamSearch, greedy, sample, type Decoder } from "../../src/runtime/search.js";
import { thrown } from "../helpers.js";

// The decoding helpers check their arguments before any step: a call in the wrong form is a
// TfmcRuntimeError saying the right one, not a TypeError from deep inside.

const decoder: Decoder<number> = {
  start: () => ({ state: 0, logits: [0, 1, 0] }),
  step: (s) => ({ state: s + 1, logits: [0, 1, 0] }),
};

describe("greedy, beamSearch and sample check their arguments", () => {
  it("greedy(decoder, { prompt, maxNewTokens }) says the form is (decoder, prompt, options)", () => {
    const e = thrown(() => greedy(decoder, { prompt: [1], maxNewTokens: 2 } as never, undefined as never));
    expect(e).toBeInstanceOf(TfmcRuntimeError);
    expect((e as TfmcRuntimeError).code).toBe("TFM5022");
    expect(e.message).toBe("greedy takes (decoder, prompt, options) as in greedy(decoder, [1, 2, 3], { maxNewTokens: 20 }): the prompt must be an array of token ids, got an object");
  });

  it("names a missing options object and a decoder without start()", () => {
    expect(thrown(() => sample(decoder, [1], undefined as never)).message).toMatch(/^sample takes .*: the options must be an object such as \{ maxNewTokens: 20 \}, got undefined$/);
    expect(thrown(() => beamSearch({} as never, [1], { maxNewTokens: 2, beams: 2 })).message).toMatch(/^beamSearch takes .*: the decoder must have start\(\) and step\(\)/);
  });

  it("runs when called in the right form", () => {
    expect(greedy(decoder, [1], { maxNewTokens: 2 }).tokens).toEqual([1, 1]);
    expect(greedy(decoder, Int32Array.from([1]) as unknown as number[], { maxNewTokens: 1 }).tokens).toEqual([1]);
  });
});
