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
      const v = bias ? `c${i}${c} + b[j + ${c}]` : `c${i}${c}`;
      lines.push(`out[(r + ${i}) * ${N} + j + ${c}] = ${act(bias ? `(${v})` : v)};`);
    }
  return lines.join("\n");
}

/** The body of a dense kernel for fixed K and N; `rows` is a literal or a parameter name. */
export function denseBody(rows: string, K: number, N: number, bias: boolean, act: (v: string) => string): string {
  const fullCols = N - (N % C);
  const colLoops = (rr: number) =>
    [
      fullCols > 0 ? `for (let j = 0; j < ${fullCols}; j += ${C}) {\n${block(rr, C, K, N, bias, act)}\n}` : "",
      N % C > 0 ? `for (let j = ${fullCols}; j < ${N}; j++) {\n${block(rr, 1, K, N, bias, act)}\n}` : "",
    ].join("\n");
  return `let r = 0;
for (; r + ${R} <= ${rows}; r += ${R}) {
${colLoops(R)}
}
for (; r < ${rows}; r++) {
${colLoops(1)}
}`;
}
