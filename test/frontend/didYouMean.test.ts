import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { didYouMean, MAX_CANDIDATES, MAX_SUGGESTED_NAME, SUGGESTION_CELLS, SuggestionBudget } from "../../src/diagnostics/didYouMean.js";
import { checkSource } from "../../src/semantics/check.js";

/** The full table, no band, no early exit: what the bounded version must agree with. */
function reference(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

function referenceSuggestion(name: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    if (c === name) continue;
    const d = reference(name, c);
    if (d < bestD || (d === bestD && best !== undefined && c < best)) [best, bestD] = [c, d];
  }
  return bestD <= limit ? best : undefined;
}

describe("did you mean", () => {
  it("suggests near misses, swaps of neighbours and case slips", () => {
    expect(didYouMean("gleu", ["relu", "gelu", "silu"])).toBe("gelu");
    expect(didYouMean("lienar", ["linear", "layer_norm"])).toBe("linear");
    expect(didYouMean("Linear", ["linear"])).toBe("linear");
    expect(didYouMean("banana", ["linear", "gelu"])).toBeUndefined();
  });

  it("agrees with the unbounded edit distance on random names", () => {
    const word = fc.string({ unit: fc.constantFrom("a", "b", "c", "A", "_", "1"), minLength: 1, maxLength: 14 });
    fc.assert(
      fc.property(word, fc.array(word, { maxLength: 12 }), (name, candidates) => {
        expect(didYouMean(name, candidates)).toBe(referenceSuggestion(name, candidates));
      }),
      { seed: 17, numRuns: 3000 },
    );
  });

  it("spends nothing on a name longer than the cap, however long", () => {
    const long = "a".repeat(40_000);
    const budget = new SuggestionBudget();
    expect(didYouMean(long + "b", [long, long + "c"], budget)).toBeUndefined();
    expect(budget.cells).toBe(0);
    expect(didYouMean("x".repeat(MAX_SUGGESTED_NAME), ["x".repeat(MAX_SUGGESTED_NAME - 1)])).toBe("x".repeat(MAX_SUGGESTED_NAME - 1));
  });

  it("looks at a bounded number of candidates, within a band of the allowed distance", () => {
    const name = "q".repeat(MAX_SUGGESTED_NAME);
    const candidates = Array.from({ length: 100_000 }, (_, i) => `${i}`.padStart(MAX_SUGGESTED_NAME, "q").replace(/q$/, "z"));
    const budget = new SuggestionBudget(Number.MAX_SAFE_INTEGER);
    didYouMean(name, candidates, budget);
    expect(budget.candidates).toBe(MAX_CANDIDATES);
    const limit = Math.floor(MAX_SUGGESTED_NAME / 3);
    expect(budget.cells).toBeLessThanOrEqual(MAX_CANDIDATES * MAX_SUGGESTED_NAME * (2 * limit + 1));
  });

  it("stops at a row that is already too far", () => {
    const budget = new SuggestionBudget();
    didYouMean("abcdefghijklmnopqrstuvwxyz0123", ["zyxwvutsrqponmlkjihgfedcba9876"], budget);
    // Ten edits allowed; every cell of the first rows is already a mismatch.
    expect(budget.cells).toBeLessThan(30 * 21);
  });

  it("one check spends a bounded total on thousands of unknown names", () => {
    const names = Array.from({ length: 1500 }, (_, i) => `variable_number_${i}_abcdefghij`);
    const src = `model m {\n  input x: f32[B, 4]\n${names.map((n) => `  ${n} = x`).join("\n")}\n${names.map((n) => `  ${n}z = ${n}q`).join("\n")}\n  output y = x\n}\n`;
    const { diagnostics } = checkSource(src);
    expect(diagnostics.items.filter((d) => d.code === 2003)).toHaveLength(1500);
    // The first ones still get their suggestion; the budget then runs out instead of the clock.
    expect(diagnostics.sorted()[0].hint).toBe(`did you mean '${names[0]}'?`);
    const table = MAX_SUGGESTED_NAME * (2 * Math.floor(MAX_SUGGESTED_NAME / 3) + 1);
    expect(diagnostics.suggestions.cells).toBeLessThanOrEqual(SUGGESTION_CELLS + table);
  });

  it("a 40,000-character near miss in a model costs no suggestion work", () => {
    const long = "a".repeat(40_000);
    const { diagnostics } = checkSource(`model m {\n  input x: f32[B, 4]\n  ${long} = x\n  output y = ${long}b\n}\n`);
    expect(diagnostics.items.map((d) => d.code)).toEqual([2003]);
    expect(diagnostics.suggestions.cells).toBe(0);
  });
});
