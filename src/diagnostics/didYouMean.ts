/** Edit distance counting a swap of neighbours as one edit (`gleu` is one from `gelu`). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const same = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1));
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) cur[j] = Math.min(cur[j], before[j - 2] + 1);
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin > limit) return limit + 1;
    before = prev;
    prev = cur;
  }
  return prev[b.length];
}

/** The closest candidate within a distance that scales with the name's length, if any. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(name, c, limit);
    if (d < bestDistance || (d === bestDistance && best !== undefined && c < best)) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

export function didYouMeanHint(name: string, candidates: Iterable<string>): { hint?: string } {
  const s = didYouMean(name, candidates);
  return s === undefined ? {} : { hint: `did you mean '${s}'?` };
}

/** At most this many names in a list of valid ones; the rest are counted. */
const LISTED = 24;

/**
 * The hint of an unknown keyword argument: the closest valid name, if any, and the valid names,
 * sorted (the first two dozen, then how many more).
 */
export function unknownArgumentHint(name: string, callee: string, valid: Iterable<string>): { hint: string } {
  const names = [...new Set(valid)].sort();
  const close = didYouMean(name, names);
  const shown = names.slice(0, LISTED).join(", ") + (names.length > LISTED ? `, and ${names.length - LISTED} more` : "");
  const list = names.length === 0 ? `'${callee}' takes no named arguments` : `'${callee}' takes ${shown}`;
  return { hint: close === undefined ? list : `did you mean '${close}'? ${list}` };
}
