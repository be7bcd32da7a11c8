// The fused attention kernel: FlashAttention's tiling in scalar JavaScript. A tile of query rows is
// held against one block of keys at a time: scores of the tile come from a register-blocked product
// (4 queries x 4 keys per inner loop), then each row's running maximum and sum are updated (the
// online softmax) and the probabilities times the values are added to the tile's accumulators. The
// [L, S] score matrix is never stored; key blocks that causality masks entirely are never visited.

export const QUERY_TILE = 16;
export const KEY_BLOCK = 64;

export interface FlashParams {
  readonly H: number;
  readonly D: number;
  readonly Dv: number;
  /** Query heads per key/value head (grouped-query attention); 1 when every head has its own. */
  readonly G: number;
  readonly scale: string;
  readonly causal: boolean;
  /** Statements that clear `ok` or add to `add` for the element (b, h, i, j). */
  readonly maskTests: string;
  readonly hasMasks: boolean;
}

/** The (batch, head) row of keys and values: the query's own, or its group's. */
const kvRow = (p: FlashParams) => (p.G === 1 ? "bh" : "bk");

/** Scores of query rows i..i+rr-1 against keys j..j+cc-1, by a rr x cc block of dot products. */
function scoreBlock(rr: number, cc: number, p: FlashParams): string {
  const lines: string[] = [];
  for (let a = 0; a < rr; a++) lines.push(`const qo${a} = (bh * L + i + ${a}) * ${p.D};`);
  for (let c = 0; c < cc; c++) lines.push(`const ko${c} = (${kvRow(p)} * S + j + ${c}) * ${p.D};`);
  const acc: string[] = [];
  for (let a = 0; a < rr; a++) for (let c = 0; c < cc; c++) acc.push(`s${a}${c} = 0`);
  lines.push(`let ${acc.join(", ")};`);
  lines.push(`for (let d = 0; d < ${p.D}; d++) {`);
  for (let a = 0; a < rr; a++) lines.push(`const q${a} = q[qo${a} + d];`);
  for (let c = 0; c < cc; c++) lines.push(`const k${c} = k[ko${c} + d];`);
  for (let a = 0; a < rr; a++) lines.push(Array.from({ length: cc }, (_, c) => `s${a}${c} += q${a} * k${c};`).join(" "));
  lines.push(`}`);
  for (let a = 0; a < rr; a++)
    for (let c = 0; c < cc; c++) lines.push(`sc[(i - i0 + ${a}) * ${KEY_BLOCK} + j - j0 + ${c}] = Math.fround(Math.fround(s${a}${c}) * ${p.scale});`);
  return lines.join("\n");
}

/** acc[row, d..d+3] += sum over the block's keys of p[row, j] * v[j, d..d+3], four rows at a time. */
function valueBlock(rr: number, cc: number, p: FlashParams): string {
  const lines: string[] = [];
  const acc: string[] = [];
  for (let a = 0; a < rr; a++) for (let c = 0; c < cc; c++) acc.push(`a${a}${c} = 0`);
  lines.push(`let ${acc.join(", ")};`);
  lines.push(`for (let j = j0; j < j1; j++) {`);
  lines.push(`const vo = (${kvRow(p)} * S + j) * ${p.Dv} + d;`);
  for (let c = 0; c < cc; c++) lines.push(`const v${c} = v[vo + ${c}];`);
  for (let a = 0; a < rr; a++) lines.push(`const p${a} = sc[(r + ${a}) * ${KEY_BLOCK} + j - j0];`);
  for (let a = 0; a < rr; a++) lines.push(Array.from({ length: cc }, (_, c) => `a${a}${c} += p${a} * v${c};`).join(" "));
  lines.push(`}`);
  for (let a = 0; a < rr; a++) for (let c = 0; c < cc; c++) lines.push(`acc[(r + ${a}) * ${p.Dv} + d + ${c}] += a${a}${c};`);
  return lines.join("\n");
}

/** A loop over `from..to` in steps of 4 with a 1-wide remainder, around a block generator. */
function blocked(v: string, from: string, to: string, body: (n: number) => string): string {
  return `let ${v} = ${from};
for (; ${v} + 4 <= ${to}; ${v} += 4) {
${body(4)}
}
for (; ${v} < ${to}; ${v}++) {
${body(1)}
}`;
}

/** The body of the fused attention kernel (parameters out, q, k, v, masks, B, L, S, strides). */
export function flashAttentionBody(p: FlashParams): string {
  const Q = QUERY_TILE;
  const K = KEY_BLOCK;
  const valueCols = (rr: number) => blocked("d", "0", String(p.Dv), (cc) => valueBlock(rr, cc, p));
  return `const sc = $K_scores, acc = $K_acc, mx = $K_max, sum = $K_sum;
for (let b = 0; b < B; b++) for (let h = hStart; h < hEnd; h++) {
  const bh = b * ${p.H} + h;${p.G === 1 ? "" : `
  const bk = b * ${p.H / p.G} + Math.floor(h / ${p.G});`}
  for (let i0 = 0; i0 < L; i0 += ${Q}) {
    const i1 = Math.min(i0 + ${Q}, L), rows = i1 - i0;
    mx.fill(-Infinity);
    sum.fill(0);
    acc.fill(0);
    const end = ${p.causal ? "Math.min(S, i1)" : "S"};
    for (let j0 = 0; j0 < end; j0 += ${K}) {
      const j1 = Math.min(j0 + ${K}, end);
      ${blocked("i", "i0", "i1", (rr) => blocked("j", "j0", "j1", (cc) => scoreBlock(rr, cc, p)))}
      for (let r = 0; r < rows; r++) {
        const i = i0 + r;
        const so = r * ${K};
        let bm = -Infinity;
        for (let j = j0; j < j1; j++) {
          let ok = ${p.causal ? "j <= i" : "true"};
          ${p.hasMasks ? `let add = 0;\n${p.maskTests}\nconst s = ok ? Math.fround(sc[so + j - j0] + add) : -Infinity;` : "const s = ok ? sc[so + j - j0] : -Infinity;"}
          sc[so + j - j0] = s;
          if (s > bm) bm = s;
        }
        const m = mx[r];
        if (bm === -Infinity) {
          for (let j = j0; j < j1; j++) sc[so + j - j0] = 0;
          continue;
        }
        const mNew = m > bm ? m : bm;
        const corr = Math.exp(m - mNew);
        let l = sum[r] * corr;
        for (let j = j0; j < j1; j++) {
          const e = Math.exp(sc[so + j - j0] - mNew);
          sc[so + j - j0] = e;
          l += e;
        }
        sum[r] = l;
        mx[r] = mNew;
        if (corr !== 1) for (let d = 0, o = r * ${p.Dv}; d < ${p.Dv}; d++) acc[o + d] *= corr;
      }
      ${blocked("r", "0", "rows", valueCols)}
    }
    for (let r = 0; r < rows; r++) {
      const inv = sum[r] > 0 ? 1 / sum[r] : 0;
      const oo = (bh * L + i0 + r) * ${p.Dv};
      for (let d = 0; d < ${p.Dv}; d++) out[oo + d] = acc[r * ${p.Dv} + d] * inv;
    }
  }
}`;
}

/** Scratch buffers, allocated once with the module. */
export function flashAttentionScratch(Dv: number): string {
  return `const $K_scores = new Float64Array(${QUERY_TILE * KEY_BLOCK});
const $K_acc = new Float64Array(${QUERY_TILE * Dv});
const $K_max = new Float64Array(${QUERY_TILE});
const $K_sum = new Float64Array(${QUERY_TILE});`;
}
