// "Did you mean" suggestions, bounded: a name longer than MAX_SUGGESTED_NAME gets none, at most
// MAX_CANDIDATES candidates are looked at per name, the edit distance is computed only within a
// band of the allowed distance and stops once a row exceeds it, and every suggestion made in one
// check draws on one SuggestionBudget of table cells. The worst case is a fixed amount of work,
// however long or numerous the unknown names are.

export const MAX_SUGGESTED_NAME = 64;
export const MAX_CANDIDATES = 1000;
export const SUGGESTION_CELLS = 1_000_000;

/** Work spent on suggestions: edit-distance cells computed and candidates looked at. */
export class SuggestionBudget {
  cells = 0;
  candidates = 0;
  constructor(readonly maxCells = SUGGESTION_CELLS) {}
  get exhausted(): boolean {
    return this.cells >= this.maxCells;
  }
}

/**
 * Edit distance ignoring case, counting a swap of neighbours as one edit (`gleu` is one from
 * `gelu`); `limit + 1` for anything beyond `limit`. Only cells within `limit` of the diagonal are
 * computed.
 */
function editDistance(a: string, b: string, limit: number, budget: SuggestionBudget): number {
  const n = a.length;
  const m = b.length;
  const over = limit + 1;
  if (Math.abs(n - m) > limit) return over;
  let before = new Int32Array(m + 1);
  let prev = new Int32Array(m + 1);
  let cur = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j <= limit ? j : over;
  for (let i = 1; i <= n; i++) {
    const lo = Math.max(1, i - limit);
    const hi = Math.min(m, i + limit);
    cur[lo - 1] = lo === 1 ? Math.min(i, over) : over;
    if (hi < m) cur[hi + 1] = over;
    let rowMin = cur[lo - 1];
    const ai = a.charCodeAt(i - 1);
    for (let j = lo; j <= hi; j++) {
      const bj = b.charCodeAt(j - 1);
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ai === bj ? 0 : 1));
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj) d = Math.min(d, before[j - 2] + 1);
      cur[j] = Math.min(d, over);
      if (d < rowMin) rowMin = d;
    }
    budget.cells += hi - lo + 1;
    if (rowMin > limit) return over;
    const spare = before;
    before = prev;
    prev = cur;
    cur = spare;
  }
  return prev[m];
}

/** The closest candidate within a distance that scales with the name's length, if any. */
export function didYouMean(name: string, candidates: Iterable<string>, budget: SuggestionBudget = new SuggestionBudget()): string | undefined {
  if (name.length === 0 || name.length > MAX_SUGGESTED_NAME) return undefined;
  const limit = Math.max(1, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = limit + 1;
  let looked = 0;
  for (const c of candidates) {
    if (looked++ >= MAX_CANDIDATES || budget.exhausted) break;
    budget.candidates++;
    if (c === name || Math.abs(c.length - name.length) > limit) continue;
    const d = editDistance(lower, c.toLowerCase(), Math.min(limit, bestDistance), budget);
    if (d < bestDistance || (d === bestDistance && best !== undefined && c < best)) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

export function didYouMeanHint(name: string, candidates: Iterable<string>, budget?: SuggestionBudget): { hint?: string } {
  const s = didYouMean(name, candidates, budget);
  return s === undefined ? {} : { hint: `did you mean '${s}'?` };
}

/** At most this many names in a list of valid ones; the rest are counted. */
const LISTED = 24;

/**
 * The hint of an unknown keyword argument: the closest valid name, if any, and the valid names,
 * sorted (the first two dozen, then how many more).
 */
export function unknownArgumentHint(name: string, callee: string, valid: Iterable<string>, budget?: SuggestionBudget): { hint: string } {
  const names = [...new Set(valid)].sort();
  const close = didYouMean(name, names, budget);
  const shown = names.slice(0, LISTED).join(", ") + (names.length > LISTED ? `, and ${names.length - LISTED} more` : "");
  const list = names.length === 0 ? `'${callee}' takes no named arguments` : `'${callee}' takes ${shown}`;
  return { hint: close === undefined ? list : `did you mean '${close}'? ${list}` };
}
