import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { beamSearch, drawToken, greedy, logSoftmax, sample, SEARCH_LIMITS, SearchOptionsError, topTokens, type Decoder } from "../../src/runtime/search.js";
import { ROOT } from "../helpers.js";

// The toy model of scripts/fixtures/make_search_fixtures.py: logits are exact quarters, a function
// of the prefix's last token and length, so both sides see the same numbers.
const fixture = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "search", "toy.json"), "utf8"));
const V: number = fixture.vocab;
const toyLogits = (prefix: readonly number[]) => {
  const last = prefix.length > 0 ? prefix[prefix.length - 1] : 0;
  return Float32Array.from({ length: V }, (_, v) => ((last * 31 + v * 17 + prefix.length * 7 + v * v * 3) % 23) / 4);
};

/** A decoder whose state is the whole prefix; counts the steps it is asked for. */
function toyDecoder(): Decoder<number[]> & { steps: number } {
  const d = {
    steps: 0,
    start: (prompt: readonly number[]) => ({ state: [...prompt], logits: toyLogits(prompt) }),
    step: (state: number[], token: number) => {
      d.steps++;
      const next = [...state, token];
      return { state: next, logits: toyLogits(next) };
    },
  };
  return d;
}

interface Expected {
  tokens: number[];
  logProb: number;
  score: number;
}

const close = (got: { tokens: number[]; logProb: number; score: number }, want: Expected) => {
  expect(got.tokens).toEqual(want.tokens);
  expect(Math.abs(got.logProb - want.logProb)).toBeLessThan(1e-9);
  expect(Math.abs(got.score - want.score)).toBeLessThan(1e-9);
};

describe("search strategies against the PyTorch reference", () => {
  it(`greedy and beam search give the reference's tokens and scores on all ${fixture.cases.length} cases`, () => {
    let beams = 0;
    for (const c of fixture.cases) {
      const eos = c.eos >= 0 ? c.eos : undefined;
      if (c.kind === "greedy") {
        close(greedy(toyDecoder(), c.prompt, { maxNewTokens: c.maxNewTokens, ...(eos !== undefined ? { eos } : {}) }), c.expected);
        continue;
      }
      const got = beamSearch(toyDecoder(), c.prompt, { beams: c.beams, maxNewTokens: c.maxNewTokens, lengthPenalty: c.lengthPenalty, nBest: c.nBest, ...(eos !== undefined ? { eos } : {}) });
      expect(got.length, JSON.stringify(c)).toBe(c.expected.length);
      got.forEach((g, i) => close(g, c.expected[i]));
      beams++;
    }
    expect(beams).toBeGreaterThan(400);
  });

  it("beam search of width 1 is greedy search", () => {
    for (const prompt of [[1], [4, 2]]) {
      const g = greedy(toyDecoder(), prompt, { maxNewTokens: 6, eos: 3 });
      const [b] = beamSearch(toyDecoder(), prompt, { beams: 1, maxNewTokens: 6, eos: 3, lengthPenalty: 0 });
      expect(b.tokens).toEqual(g.tokens);
      expect(b.logProb).toBeCloseTo(g.logProb, 12);
    }
  });

  it("beam search stops early once no live beam can beat the finished ones", () => {
    // EOS = 2 finishes a hypothesis at once here; with α = 0 nothing can beat it afterwards.
    const full = toyDecoder();
    const early = beamSearch(full, [1], { beams: 2, maxNewTokens: 50, eos: 2, lengthPenalty: 0 });
    expect(early[0].tokens[early[0].tokens.length - 1]).toBe(2);
    expect(full.steps).toBeLessThan(2 * 50);
  });

  it("rejects meaningless options with a clear error", () => {
    expect(() => beamSearch(toyDecoder(), [1], { beams: 0, maxNewTokens: 3 })).toThrow(SearchOptionsError);
    expect(() => beamSearch(toyDecoder(), [1], { beams: 2, maxNewTokens: 3, lengthPenalty: -1 })).toThrow(/lengthPenalty/);
    expect(() => sample(toyDecoder(), [1], { maxNewTokens: 3, temperature: 0 })).toThrow(/temperature/);
    expect(() => sample(toyDecoder(), [1], { maxNewTokens: 3, topP: 1.5 })).toThrow(/topP/);
    expect(() => greedy(toyDecoder(), [1], { maxNewTokens: 2.5 })).toThrow(/maxNewTokens/);
  });

  it("bounds every option, and says which one by its API name", () => {
    const failing = (f: () => unknown): [string, string] => {
      try {
        f();
      } catch (e) {
        if (e instanceof SearchOptionsError) return [e.option, e.message];
      }
      throw new Error("expected a SearchOptionsError");
    };
    const d = toyDecoder();
    expect(failing(() => beamSearch(d, [1], { beams: SEARCH_LIMITS.beams + 1, maxNewTokens: 3 }))).toEqual(["beams", "beams must be an integer from 1 to 256, got 257"]);
    expect(failing(() => beamSearch(d, [1], { beams: 2, nBest: 3, maxNewTokens: 3 }))).toEqual(["nBest", "nBest must be an integer from 1 to the number of beams, 2, got 3"]);
    expect(failing(() => beamSearch(d, [1], { beams: 2, maxNewTokens: 3, lengthPenalty: 11 }))[0]).toBe("lengthPenalty");
    expect(failing(() => greedy(d, [1], { maxNewTokens: 2 ** 20 + 1 }))[0]).toBe("maxNewTokens");
    expect(failing(() => sample(d, [1], { maxNewTokens: 3, temperature: 1e-300 }))[0]).toBe("temperature");
    expect(failing(() => sample(d, [1], { maxNewTokens: 3, seed: 2 ** 32 }))[0]).toBe("seed");
    expect(failing(() => sample(d, [1], { maxNewTokens: 3, topK: -1 }))[0]).toBe("topK");
    for (const run of [
      () => greedy(toyDecoder(), [1], { maxNewTokens: 3, eos: V }),
      () => beamSearch(toyDecoder(), [1], { beams: 2, maxNewTokens: 3, eos: V }),
      () => sample(toyDecoder(), [1], { maxNewTokens: 3, eos: V }),
    ]) {
      expect(failing(run)).toEqual(["eos", `eos must be a token id below the vocabulary size, ${V}, got ${V}`]);
    }
  });

  it("a beam step weighs at most beams² candidates: topTokens keeps the k best, ties to the lower id", () => {
    const lp = Float64Array.from([0.1, 0.5, 0.5, 0.9, 0.5, -1]);
    expect(topTokens(lp, 3).sort()).toEqual([1, 2, 3]);
    expect(topTokens(lp, 1)).toEqual([3]);
    expect(topTokens(lp, 10).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe("sampling", () => {
  it("is reproducible with a seed and differs between seeds", () => {
    const run = (seed: number) => sample(toyDecoder(), [1], { maxNewTokens: 20, seed }).tokens;
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it("top-k = 1 and a tiny top-p are greedy", () => {
    const g = greedy(toyDecoder(), [5], { maxNewTokens: 8 }).tokens;
    expect(sample(toyDecoder(), [5], { maxNewTokens: 8, topK: 1, seed: 3 }).tokens).toEqual(g);
    expect(sample(toyDecoder(), [5], { maxNewTokens: 8, topP: 1e-9, seed: 3 }).tokens).toEqual(g);
  });

  it("draws tokens with the filtered distribution's frequencies", () => {
    const logits = Float32Array.from([2, 1, 0.5, 0, -1]);
    const count = (temperature: number, topK: number, topP: number) => {
      const lp = logSoftmax(logits, temperature);
      const hits = new Array<number>(5).fill(0);
      const n = 20000;
      for (let i = 0; i < n; i++) hits[drawToken(lp, topK, topP, (i + 0.5) / n)]++;
      return hits.map((h) => h / n);
    };
    const p = Array.from(logSoftmax(logits, 0.7), Math.exp);
    count(0.7, 0, 1).forEach((f, i) => expect(Math.abs(f - p[i])).toBeLessThan(1e-3));
    // top-k = 2 renormalises the two most probable tokens.
    const k2 = count(1, 2, 1);
    const q = Array.from(logSoftmax(logits), Math.exp);
    expect(Math.abs(k2[0] - q[0] / (q[0] + q[1]))).toBeLessThan(1e-3);
    expect(k2.slice(2)).toEqual([0, 0, 0]);
    // top-p = 0.8 keeps the smallest prefix reaching 0.8: here the first three tokens.
    expect(q[0] + q[1]).toBeLessThan(0.8);
    expect(q[0] + q[1] + q[2]).toBeGreaterThanOrEqual(0.8);
    const p8 = count(1, 0, 0.8);
    expect(p8.slice(3)).toEqual([0, 0]);
    expect(Math.abs(p8[2] - q[2] / (q[0] + q[1] + q[2]))).toBeLessThan(1e-3);
  });
});
