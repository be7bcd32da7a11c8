import { Code, F32, I32, V128, type WasmFunction } from "./binary.js";

// Softmax rows for the wasm target's attention, in place, four lanes at a time:
// `(ptr, rows, stride, first, step, last, scale, sums)`. Row r holds `stride` scores (a multiple
// of 4) of which the first min(first + r·step, last) count; each of those becomes
// exp((s − max)·scale), the rest 0, and the row's sum goes to sums[r] (the caller divides the
// output by it). exp is 2ⁿ·p(r) with n = round(x·log₂e), r = x − n·ln2 (in two parts) and p
// Taylor's polynomial of degree 6: relative error about 1e-7 on |r| ≤ ln2/2; x below −87 is
// taken as −87, whose exp (1.6e-38) no sum notices.

const LOG2E = Math.LOG2E;
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;

export function softmaxRowsFunction(name: string): WasmFunction {
  const [PTR, ROWS, STRIDE, FIRST, STEP, LAST, SCALE, SUMS] = [0, 1, 2, 3, 4, 5, 6, 7];
  const c = new Code([I32, I32, I32, I32, I32, I32, F32, I32]);
  const r = c.local(I32);
  const row = c.local(I32);
  const count = c.local(I32);
  const j = c.local(I32);
  const [m, mx, scv, acc, v, mask, x, n, p, lo, l2e, hi, loC, ninf, zero, iota] = Array.from({ length: 16 }, () => c.local(V128));
  const coeffs = [1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1].map(() => c.local(V128));
  const top = c.local(F32);

  const vconst = (value: number, into: number) => c.f32Const(value).splat().set(into);
  vconst(-87, lo);
  vconst(LOG2E, l2e);
  vconst(LN2_HI, hi);
  vconst(LN2_LO, loC);
  vconst(-Infinity, ninf);
  vconst(0, zero);
  [1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1].forEach((k, i) => vconst(k, coeffs[i]));
  c.i32x4Const([0, 1, 2, 3]).set(iota);
  c.get(SCALE).splat().set(scv);

  /** exp of the vector in local x, left on the stack. */
  const exp = () => {
    c.get(x).get(lo).f32x4Max().set(x);
    c.get(x).get(l2e).f32x4Mul().f32x4Nearest().set(n);
    c.get(x).get(n).get(hi).f32x4Mul().f32x4Sub().get(n).get(loC).f32x4Mul().f32x4Sub().set(x);
    c.get(coeffs[0]).set(p);
    for (let i = 1; i < coeffs.length; i++) c.get(p).get(x).f32x4Mul().get(coeffs[i]).f32x4Add().set(p);
    // 2ⁿ from its bits: (n + 127) << 23
    c.get(p).get(n).i32x4TruncSatF32x4S().i32(127).i32x4Splat().i32x4Add().i32(23).i32x4Shl().f32x4Mul();
  };
  /** Lanes j..j+3 that are below count, as a mask. */
  const tailMask = () => c.get(iota).get(j).i32x4Splat().i32x4Add().get(count).i32x4Splat().i32x4LtS().set(mask);

  c.i32(0).set(r);
  c.block(() =>
    c.loop(() => {
      c.get(r).get(ROWS).geS().brIf(1);
      // count = min(first + r·step, last); row = ptr + r·stride·4
      c.get(FIRST).get(r).get(STEP).mul().add().set(count);
      c.get(LAST).get(count).get(count).get(LAST).gtS().select().set(count);
      c.get(PTR).get(r).get(STRIDE).mul().i32(4).mul().add().set(row);
      // The maximum.
      c.get(ninf).set(m);
      c.i32(0).set(j);
      c.block(() =>
        c.loop(() => {
          c.get(j).i32(4).add().get(count).gtS().brIf(1);
          c.get(m).get(row).get(j).i32(4).mul().add().v128Load().f32x4Max().set(m);
          c.get(j).i32(4).add().set(j);
          c.br(0);
        }),
      );
      c.get(j).get(count).ltS().ifThen(() => {
        tailMask();
        c.get(m).get(row).get(j).i32(4).mul().add().v128Load().get(ninf).get(mask).bitselect().f32x4Max().set(m);
      });
      c.get(m).lane(0).get(m).lane(1).f32Max().get(m).lane(2).f32Max().get(m).lane(3).f32Max().set(top);
      c.get(top).splat().set(mx);
      // exp((s − max)·scale), and their sum.
      c.get(zero).set(acc);
      c.i32(0).set(j);
      c.block(() =>
        c.loop(() => {
          c.get(j).i32(4).add().get(count).gtS().brIf(1);
          c.get(row).get(j).i32(4).mul().add().v128Load().get(mx).f32x4Sub().get(scv).f32x4Mul().set(x);
          exp();
          c.set(v);
          c.get(row).get(j).i32(4).mul().add().get(v).v128Store();
          c.get(acc).get(v).f32x4Add().set(acc);
          c.get(j).i32(4).add().set(j);
          c.br(0);
        }),
      );
      c.get(j).get(count).ltS().ifThen(() => {
        tailMask();
        c.get(row).get(j).i32(4).mul().add().v128Load().get(mx).f32x4Sub().get(scv).f32x4Mul().set(x);
        exp();
        c.get(zero).get(mask).bitselect().set(v);
        c.get(row).get(j).i32(4).mul().add().get(v).v128Store();
        c.get(acc).get(v).f32x4Add().set(acc);
        c.get(j).i32(4).add().set(j);
      });
      // The rest of the row: 0.
      c.block(() =>
        c.loop(() => {
          c.get(j).get(STRIDE).geS().brIf(1);
          c.get(row).get(j).i32(4).mul().add().get(zero).v128Store();
          c.get(j).i32(4).add().set(j);
          c.br(0);
        }),
      );
      c.get(SUMS).get(r).i32(4).mul().add().get(acc).lane(0).get(acc).lane(1).f32Add().get(acc).lane(2).f32Add().get(acc).lane(3).f32Add().f32Store();
      c.get(r).i32(1).add().set(r);
      c.br(0);
    }),
  );
  return { name, code: c };
}
