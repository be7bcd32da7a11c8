// The matrix-product kernel of `dense`: out[r, j] = act(sum_k x[r, k] * w[j, k] + b[j]).
// Register-blocked 4 x 4: sixteen accumulators live in registers while k runs, so each load of x
// and w feeds four multiply-adds. Rows and columns left over are handled by narrower loops.
// Accumulation is in JavaScript numbers (float64); results are stored as float32.

const R = 4;
const C = 4;

function block(rows: number, cols: number, K: number, N: number, bias: boolean, act: (v: string) => string): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) lines.push(`const xo${i} = (r + ${i}) * ${K};`);
  for (let c = 0; c < cols; c++) lines.push(`const wo${c} = (j + ${c}) * ${K};`);
  const acc: string[] = [];
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) acc.push(`c${i}${c} = 0`);
  lines.push(`let ${acc.join(", ")};`);
  lines.push(`for (let k = 0; k < ${K}; k++) {`);
  for (let i = 0; i < rows; i++) lines.push(`const a${i} = x[xo${i} + k];`);
  for (let c = 0; c < cols; c++) lines.push(`const b${c} = w[wo${c} + k];`);
  for (let i = 0; i < rows; i++) lines.push(Array.from({ length: cols }, (_, c) => `c${i}${c} += a${i} * b${c};`).join(" "));
  lines.push(`}`);
  for (let i = 0; i < rows; i++)
    for (let c = 0; c < cols; c++) {
      // The bias is added to the product as float32 would have stored it unfused (same overflow).
      const v = bias ? `Math.fround(Math.fround(c${i}${c}) + b[j + ${c}])` : `c${i}${c}`;
      lines.push(`out[(r + ${i}) * ${N} + j + ${c}] = ${act(v)};`);
    }
  return lines.join("\n");
}

/** Bytes of weight rows one column tile may take: they stay in a core's L2 while every row passes. */
const TILE_BYTES = 128 * 1024;

/**
 * The body of a dense kernel for fixed K and N over rows `0..rows` and output columns `c0..c1`
 * (multiples of 4 but for a last c1 = N; threads split the columns when the rows are few). Columns
 * go in tiles whose weight rows fit in L2, and every row of x passes over a tile before the next:
 * the weights are read from memory once per call instead of once per block of rows. Each output is
 * still one dot product over all of K, in the same order, so tiling does not change the numerics.
 */
export function denseBody(rows: string, K: number, N: number, bias: boolean, act: (v: string) => string): string {
  const fullCols = N - (N % C);
  const tile = Math.max(C, Math.floor(TILE_BYTES / (4 * K) / C) * C);
  const tiled =
    fullCols > 0
      ? `const cEnd = Math.min(c1, ${fullCols});
for (let j0 = c0; j0 < cEnd; j0 += ${tile}) {
const j1 = Math.min(j0 + ${tile}, cEnd);
let r = 0;
for (; r + ${R} <= ${rows}; r += ${R}) for (let j = j0; j < j1; j += ${C}) {
${block(R, C, K, N, bias, act)}
}
for (; r < ${rows}; r++) for (let j = j0; j < j1; j += ${C}) {
${block(1, C, K, N, bias, act)}
}
}`
      : "";
  const rest =
    N % C > 0
      ? `if (c1 > ${fullCols}) {
let r = 0;
for (; r + ${R} <= ${rows}; r += ${R}) for (let j = ${fullCols}; j < ${N}; j++) {
${block(R, 1, K, N, bias, act)}
}
for (; r < ${rows}; r++) for (let j = ${fullCols}; j < ${N}; j++) {
${block(1, 1, K, N, bias, act)}
}
}`
      : "";
  return [tiled, rest].filter(Boolean).join("\n");
}
