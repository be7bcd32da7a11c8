import type { WasmMemory } from "./wasmMemory.js";

// Softmax attention on the wasm target, through three WebAssembly kernels: the two products with
// run-time sizes (`dense_dynamic`) and the softmax of rows (`softmax_rows`). For each (batch,
// head): the keys and values are packed into the product's panel layout, then for each block of
// queries the scores Q·Kᵀ fill a scratch block, each row becomes exp((s − max)·scale) (causal
// rows over the keys up to their own position) with its sum, P·V writes the output rows and they
// are divided by the sums. Keys are padded to a multiple of 4 with zeros whose weights are 0.
// Mask inputs (read through four strides aligning them with [B, H, L, S], as the TypeScript
// kernels do) are applied to the block's scores before the softmax: a blocked key's score becomes
// −∞ (weight exactly 0), a float mask is added to the scaled score. A row with every key masked
// gives zeros.
// With grouped keys and values (kvHeads < H), query head h reads key/value head h / (H / kvHeads):
// they are never repeated.

/** Query rows per block: the block's scores are QUERY_BLOCK × keys floats of scratch. */
export const QUERY_BLOCK = 128;

/** Floats of scratch `wasmAttention` needs for S keys. */
export function wasmAttentionScratch(S: number, D: number, Dv: number): number {
  const S4 = (S + 3) & ~3;
  return S4 * (D + Dv + QUERY_BLOCK) + QUERY_BLOCK;
}

/** How a mask input is read: true blocks, true keeps, or added to the scores. */
export const MASK_BLOCK = 0;
export const MASK_KEEP = 1;
export const MASK_ADD = 2;

/** The masks of one attention: kinds and strides fixed for the model, data given per call (null: an absent optional mask). */
interface Masks {
  readonly kinds: readonly number[];
  readonly data: readonly (ArrayLike<number> | null)[];
  readonly strides: readonly (readonly number[])[];
}

export function wasmAttention(
  wasm: Pick<WasmMemory, "fn">,
  out: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  B: number,
  H: number,
  L: number,
  S: number,
  D: number,
  Dv: number,
  scale: number,
  causal: boolean,
  scratch: Float32Array,
  hStart: number,
  hEnd: number,
  kinds?: readonly number[],
  maskData?: readonly (ArrayLike<number> | null)[],
  maskStrides?: readonly (readonly number[])[],
  kvHeads = H,
): void {
  const masks = kinds && maskData && maskStrides && kinds.length > 0 ? { kinds, data: maskData, strides: maskStrides } : null;
  const product = wasm.fn.dense_dynamic;
  const softmax = wasm.fn.softmax_rows;
  const S4 = (S + 3) & ~3;
  // One scratch for all heads, or (threads running heads at once) one per head.
  const per = wasmAttentionScratch(S, D, Dv);
  const own = scratch.length >= H * per;
  // Grouped-query attention: query head h reads key/value head h / (H / kvHeads) of its batch; the
  // heads of one group in a row reuse the keys and values packed for the first.
  let packedRow = -1;
  let packedBase = -1;
  const run = (b: number, h: number) => {
    const base = own ? h * per : 0;
    const kp = scratch.subarray(base, base + S4 * D);
    const vp = scratch.subarray(base + S4 * D, base + S4 * (D + Dv));
    const sc = scratch.subarray(base + S4 * (D + Dv), base + S4 * (D + Dv + QUERY_BLOCK));
    const sums = scratch.subarray(base + S4 * (D + Dv + QUERY_BLOCK), base + per);
    const row = b * kvHeads + Math.floor(h / (H / kvHeads));
    const pack = row !== packedRow || base !== packedBase;
    headAttention(product, softmax, out, q, k, v, b, h, H, row, pack, L, S, S4, D, Dv, scale, causal, kp, vp, sc, sums, masks);
    [packedRow, packedBase] = [row, base];
  };
  if (own) for (let h = hStart; h < hEnd; h++) for (let b = 0; b < B; b++) run(b, h);
  else for (let b = 0; b < B; b++) for (let h = hStart; h < hEnd; h++) run(b, h);
}

function headAttention(
  product: (...args: number[]) => void,
  softmax: (...args: number[]) => void,
  out: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  b: number,
  h: number,
  H: number,
  bk: number,
  pack: boolean,
  L: number,
  S: number,
  S4: number,
  D: number,
  Dv: number,
  scale: number,
  causal: boolean,
  kp: Float32Array,
  vp: Float32Array,
  sc: Float32Array,
  sums: Float32Array,
  masks: Masks | null,
): void {
  const bh = b * H + h;
  if (pack) packKeysValues(k, v, bk, S, S4, D, Dv, kp, vp);
  for (let i0 = 0; i0 < L; i0 += QUERY_BLOCK) {
    const rows = Math.min(QUERY_BLOCK, L - i0);
    // Causal blocks need the keys up to their last query only.
    const keys = causal ? Math.min(S, i0 + rows) : S;
    const N4 = (keys + 3) & ~3;
    product(sc.byteOffset, q.byteOffset + (bh * L + i0) * D * 4, kp.byteOffset, rows, 0, N4, D, S4);
    if (masks) applyMasks(sc, masks, b, h, i0, rows, keys, S4, scale);
    softmax(sc.byteOffset, rows, S4, causal ? Math.min(i0 + 1, S) : S, causal ? 1 : 0, S, scale, sums.byteOffset);
    const oo = (bh * L + i0) * Dv;
    product(out.byteOffset + oo * 4, sc.byteOffset, vp.byteOffset, rows, 0, Dv, S4, Dv);
    for (let r = 0; r < rows; r++) {
      const inv = sums[r] > 0 ? 1 / sums[r] : 0;
      for (let e = 0, o = oo + r * Dv; e < Dv; e++) out[o + e] *= inv;
    }
  }
}

/** Scores of query rows i0.. (row stride S4) against keys 0..keys: −∞ where a mask blocks, plus float masks over scale. */
function applyMasks(sc: Float32Array, masks: Masks, b: number, h: number, i0: number, rows: number, keys: number, S4: number, scale: number): void {
  const { kinds, data, strides } = masks;
  for (let r = 0; r < rows; r++) {
    const i = i0 + r;
    for (let j = 0; j < keys; j++) {
      let ok = true;
      let add = 0;
      for (let m = 0; m < kinds.length; m++) {
        const d = data[m];
        if (d === null) continue;
        const t = strides[m];
        const x = d[b * t[0] + h * t[1] + i * t[2] + j * t[3]];
        if (kinds[m] === MASK_ADD) add += x;
        else if ((kinds[m] === MASK_BLOCK) === Boolean(x)) ok = false;
      }
      const at = r * S4 + j;
      sc[at] = ok ? sc[at] + add / scale : -Infinity;
    }
  }
}

/** Keys of (batch, key/value head) row `bk` into panels (panel p: keys 4p..4p+3 for every d), values by columns (panel e: columns 4e..4e+3 for every key). */
function packKeysValues(k: Float32Array, v: Float32Array, bk: number, S: number, S4: number, D: number, Dv: number, kp: Float32Array, vp: Float32Array): void {
  const ko = bk * S * D;
  for (let j = 0; j < S4; j++)
    for (let d = 0; d < D; d++) kp[((j >> 2) * D + d) * 4 + (j & 3)] = j < S ? k[ko + j * D + d] : 0;
  const vo = bk * S * Dv;
  for (let e = 0; e < Dv; e += 4)
    for (let j = 0; j < S4; j++) {
      const at = ((e >> 2) * S4 + j) * 4;
      for (let c = 0; c < 4; c++) vp[at + c] = j < S ? v[vo + j * Dv + e + c] : 0;
    }
}
