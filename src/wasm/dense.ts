import { Code, I32, V128, type WasmFunction } from "./binary.js";
import { SimdMath, type Activation } from "./simdMath.js";

// The dense kernel in WebAssembly SIMD: out[r, j] = sum_k x[r, k] * w[j, k] + b[j] for rows
// 0..rows and columns c0..c1 (multiples of 4). The weights are packed once into panels of four
// output columns, k-major — panel p holds w[4p..4p+3, k] at (p·K + k)·4 — so one v128 load gives
// the four weights a broadcast x[r, k] (v128.load32_splat) multiplies. A micro-kernel keeps 4 rows
// × 8 columns (eight f32x4 accumulators) in registers while k runs (measured here: wider blocks
// spill, and unrolling k is slower); leftovers take 1-row and narrower variants.
// Each group of panels is walked by every row before the next, so its weights stay in L1.
// The bias and the activation (SimdMath's, its constants inline so that they take no registers from
// the accumulators) are applied to the block in registers before it is stored.
// Accumulation is in float32, as PyTorch's. Pointers are byte offsets into the memory. The runtime's
// packPanels (src/runtime/wasmMemory.ts) writes the panel layout.

/** Rows and panels of four columns in the register block. */
const ROWS_PER_BLOCK = 4;
const PANELS_PER_BLOCK = 2;

/**
 * The loops around a micro-kernel: columns c0..c1 in groups of PANELS_PER_BLOCK panels, then what
 * is left one panel narrower at a time; for each group, every row, ROWS_PER_BLOCK at a time and
 * then one. `micro(R, P)` computes rows r..r+R-1 against panels j/4..j/4+P-1.
 */
function blockLoops(c: Code, at: { r: number; j: number; rows: number; c0: number; c1: number }, micro: (R: number, P: number) => void): void {
  const { r, j } = at;
  const rowsOf = (P: number) => {
    c.i32(0).set(r);
    for (const R of [ROWS_PER_BLOCK, 1]) {
      c.block(() =>
        c.loop(() => {
          c.get(r).i32(R).add().get(at.rows).gtS().brIf(1);
          micro(R, P);
          c.get(r).i32(R).add().set(r);
          c.br(0);
        }),
      );
    }
  };
  c.get(at.c0).set(j);
  c.block(() =>
    c.loop(() => {
      c.get(j).i32(4 * PANELS_PER_BLOCK).add().get(at.c1).gtS().brIf(1);
      rowsOf(PANELS_PER_BLOCK);
      c.get(j).i32(4 * PANELS_PER_BLOCK).add().set(j);
      c.br(0);
    }),
  );
  for (let P = PANELS_PER_BLOCK - 1; P >= 1; P--) {
    c.block(() => {
      c.get(j).i32(4 * P).add().get(at.c1).gtS().brIf(0);
      rowsOf(P);
      c.get(j).i32(4 * P).add().set(j);
    });
  }
}

export function denseFunction(name: string, K: number, N: number, bias: boolean, act?: Activation): WasmFunction {
  if (N % 4 !== 0) throw new Error(`wasm dense needs N a multiple of 4, got ${N}`);
  const [OUT, X, W, B, ROWS, C0, C1] = [0, 1, 2, 3, 4, 5, 6];
  const c = new Code([I32, I32, I32, I32, I32, I32, I32]);
  const j = c.local(I32);
  const r = c.local(I32);
  const xp = c.local(I32);
  const wp = c.local(I32);
  const kEnd = c.local(I32);
  const base = c.local(I32);
  const a = c.local(V128);
  const wv = Array.from({ length: PANELS_PER_BLOCK }, () => c.local(V128));
  const acc = Array.from({ length: ROWS_PER_BLOCK }, () => Array.from({ length: PANELS_PER_BLOCK }, () => c.local(V128)));
  const math = act ? new SimdMath(c, true) : undefined;

  /** Rows r.. r+R-1 against panels j/4 .. j/4+P-1. */
  const micro = (R: number, P: number) => {
    // xp = x + r·K·4; wp = w + j·K·4; kEnd = xp + K·4
    c.get(X).get(r).i32(K * 4).mul().add().set(xp);
    c.get(W).get(j).i32(K * 4).mul().add().set(wp);
    c.get(xp).i32(K * 4).add().set(kEnd);
    for (let i = 0; i < R; i++) for (let p = 0; p < P; p++) c.v128Zero().set(acc[i][p]);
    c.loop(() => {
      for (let p = 0; p < P; p++) c.get(wp).v128Load(p * K * 16).set(wv[p]);
      for (let i = 0; i < R; i++) {
        c.get(xp).loadSplat(i * K * 4).set(a);
        for (let p = 0; p < P; p++) c.get(acc[i][p]).get(a).get(wv[p]).f32x4Mul().f32x4Add().set(acc[i][p]);
      }
      c.get(xp).i32(4).add().set(xp);
      c.get(wp).i32(16).add().set(wp);
      c.get(xp).get(kEnd).ltS().brIf(0);
    });
    if (bias) {
      for (let p = 0; p < P; p++) {
        c.get(B).get(j).i32(4).mul().add().v128Load(p * 16).set(wv[p]);
        for (let i = 0; i < R; i++) c.get(acc[i][p]).get(wv[p]).f32x4Add().set(acc[i][p]);
      }
    }
    if (act) for (let i = 0; i < R; i++) for (let p = 0; p < P; p++) math!.activation(act, acc[i][p]);
    // base = out + (r·N + j)·4
    c.get(OUT).get(r).i32(N).mul().get(j).add().i32(4).mul().add().set(base);
    for (let i = 0; i < R; i++) for (let p = 0; p < P; p++) c.get(base).get(acc[i][p]).v128Store((i * N + 4 * p) * 4);
  };

  blockLoops(c, { r, j, rows: ROWS, c0: C0, c1: C1 }, micro);
  return { name, code: c };
}

/**
 * The same product with K and N given at run time — `(out, x, w, rows, c0, c1, K, N)`, no bias — for
 * attention, whose sequence lengths are known only then: scores Q·Kᵀ (N the keys) and P·V (K the
 * keys). Row and panel pointers advance as k runs, since offsets cannot be constants here.
 */
export function denseDynamicFunction(name: string): WasmFunction {
  const [OUT, X, W, ROWS, C0, C1, K, N] = [0, 1, 2, 3, 4, 5, 6, 7];
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32]);
  const j = c.local(I32);
  const r = c.local(I32);
  const kEnd = c.local(I32);
  const base = c.local(I32);
  const xr = Array.from({ length: ROWS_PER_BLOCK }, () => c.local(I32));
  const wr = Array.from({ length: PANELS_PER_BLOCK }, () => c.local(I32));
  const a = c.local(V128);
  const wv = Array.from({ length: PANELS_PER_BLOCK }, () => c.local(V128));
  const acc = Array.from({ length: ROWS_PER_BLOCK }, () => Array.from({ length: PANELS_PER_BLOCK }, () => c.local(V128)));

  const micro = (R: number, P: number) => {
    // xr[i] = x + (r + i)·K·4; wr[p] = w + (j + 4p)·K·4; kEnd = xr[0] + K·4
    for (let i = 0; i < R; i++) c.get(X).get(r).i32(i).add().get(K).mul().i32(4).mul().add().set(xr[i]);
    for (let p = 0; p < P; p++) c.get(W).get(j).i32(4 * p).add().get(K).mul().i32(4).mul().add().set(wr[p]);
    c.get(xr[0]).get(K).i32(4).mul().add().set(kEnd);
    for (let i = 0; i < R; i++) for (let p = 0; p < P; p++) c.v128Zero().set(acc[i][p]);
    c.loop(() => {
      for (let p = 0; p < P; p++) c.get(wr[p]).v128Load().set(wv[p]);
      for (let i = 0; i < R; i++) {
        c.get(xr[i]).loadSplat().set(a);
        for (let p = 0; p < P; p++) c.get(acc[i][p]).get(a).get(wv[p]).f32x4Mul().f32x4Add().set(acc[i][p]);
      }
      for (let i = 0; i < R; i++) c.get(xr[i]).i32(4).add().set(xr[i]);
      for (let p = 0; p < P; p++) c.get(wr[p]).i32(16).add().set(wr[p]);
      c.get(xr[0]).get(kEnd).ltS().brIf(0);
    });
    // base = out + (r·N + j)·4, then one row of N further for each row
    c.get(OUT).get(r).get(N).mul().get(j).add().i32(4).mul().add().set(base);
    for (let i = 0; i < R; i++) {
      for (let p = 0; p < P; p++) c.get(base).get(acc[i][p]).v128Store(16 * p);
      if (i + 1 < R) c.get(base).get(N).i32(4).mul().add().set(base);
    }
  };

  blockLoops(c, { r, j, rows: ROWS, c0: C0, c1: C1 }, micro);
  return { name, code: c };
}
