import { dimEquals, formatShape, isConst, type Dim } from "./types.js";

/** NumPy broadcasting of two shapes, or undefined when they cannot be combined. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i];
    const db = b[b.length - n + i];
    if (da === undefined) out.push(db);
    else if (db === undefined) out.push(da);
    else if (dimEquals(da, db)) out.push(da);
    else if (isConst(da) && da.value === 1) out.push(db);
    else if (isConst(db) && db.value === 1) out.push(da);
    else return undefined;
  }
  return out;
}

export function shapesEqual(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEquals(d, b[i]));
}

/** Whether `mask` fits `target` when broadcast: same rank or lower, each dim equal or 1. */
export function broadcastsTo(mask: readonly Dim[], target: readonly Dim[]): boolean {
  if (mask.length > target.length) return false;
  const off = target.length - mask.length;
  return mask.every((d, i) => dimEquals(d, target[off + i]) || (isConst(d) && d.value === 1));
}

export { formatShape };
