import type { WasmMemory } from "./wasmMemory.js";

// Softmax attention on the wasm target: the two products go through the WebAssembly kernel with
// run-time sizes (`dense_dynamic`), the softmax in between stays here. For each (batch, head):
// the keys and values are packed into the kernel's panel layout, then for each block of queries
// the scores Q·Kᵀ fill a scratch block, each row becomes its softmax (scaled; causal rows see the
// keys up to their own position) and P·V writes the output rows. Keys are padded to a multiple of
// 4 with zeros whose probabilities are 0. Only attention without mask inputs comes here.

/** Query rows per block: the block's scores are QUERY_BLOCK × keys floats of scratch. */
export const QUERY_BLOCK = 128;

/** Floats of scratch `wasmAttention` needs for S keys. */
export function wasmAttentionScratch(S: number, D: number, Dv: number): number {
  const S4 = (S + 3) & ~3;
  return S4 * (D + Dv + QUERY_BLOCK);
}

export function wasmAttention(
  wasm: WasmMemory,
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
): void {
  const product = wasm.fn.dense_dynamic;
  const S4 = (S + 3) & ~3;
  const kp = scratch.subarray(0, S4 * D);
  const vp = scratch.subarray(S4 * D, S4 * (D + Dv));
  const sc = scratch.subarray(S4 * (D + Dv));
  for (let bh = 0; bh < B * H; bh++) {
    // Keys: panel p holds keys 4p..4p+3 for every d; values: panel e holds columns 4e..4e+3 for every key.
    const ko = bh * S * D;
    for (let j = 0; j < S4; j++)
      for (let d = 0; d < D; d++) kp[((j >> 2) * D + d) * 4 + (j & 3)] = j < S ? k[ko + j * D + d] : 0;
    const vo = bh * S * Dv;
    for (let e = 0; e < Dv; e += 4)
      for (let j = 0; j < S4; j++) {
        const at = ((e >> 2) * S4 + j) * 4;
        for (let c = 0; c < 4; c++) vp[at + c] = j < S ? v[vo + j * Dv + e + c] : 0;
      }
    for (let i0 = 0; i0 < L; i0 += QUERY_BLOCK) {
      const rows = Math.min(QUERY_BLOCK, L - i0);
      // Causal blocks need the keys up to their last query only.
      const keys = causal ? Math.min(S, i0 + rows) : S;
      const N4 = (keys + 3) & ~3;
      product(sc.byteOffset, q.byteOffset + (bh * L + i0) * D * 4, kp.byteOffset, rows, 0, N4, D, S4);
      for (let r = 0; r < rows; r++) {
        const row = r * S4;
        const last = causal ? Math.min(i0 + r, S - 1) : S - 1;
        let max = -Infinity;
        for (let j = 0; j <= last; j++) {
          const s = sc[row + j] * scale;
          sc[row + j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = 0; j <= last; j++) {
          const e = Math.exp(sc[row + j] - max);
          sc[row + j] = e;
          sum += e;
        }
        const inv = last >= 0 ? 1 / sum : 0;
        for (let j = 0; j <= last; j++) sc[row + j] *= inv;
        for (let j = last + 1; j < S4; j++) sc[row + j] = 0;
      }
      product(out.byteOffset + (bh * L + i0) * Dv * 4, sc.byteOffset, vp.byteOffset, rows, 0, Dv, S4, Dv);
    }
  }
}
