import { Code, F32, I32, V128, type WasmFunction } from "./binary.js";
import { SimdMath } from "./simdMath.js";

// Softmax rows for the wasm target's attention, in place, four lanes at a time:
// `(ptr, rows, stride, first, step, last, scale, sums)`. Row r holds `stride` scores (a multiple
// of 4) of which the first min(first + r·step, last) count; each of those becomes
// exp((s − max)·scale), the rest 0, and the row's sum goes to sums[r] (the caller divides the
// output by it). Masked scores are −∞ and become exactly 0, as does anything whose exp is below
// float32's normal range; a row with every score masked is all 0 with sum 0. exp is SimdMath's.

export function softmaxRowsFunction(name: string): WasmFunction {
  const [PTR, ROWS, STRIDE, FIRST, STEP, LAST, SCALE, SUMS] = [0, 1, 2, 3, 4, 5, 6, 7];
  const c = new Code([I32, I32, I32, I32, I32, I32, F32, I32]);
  const r = c.local(I32);
  const row = c.local(I32);
  const count = c.local(I32);
  const j = c.local(I32);
  const [m, mx, scv, acc, v, mask, x, keep, ninf, zero, iota] = Array.from({ length: 11 }, () => c.local(V128));
  const top = c.local(F32);
  const math = new SimdMath(c, false);

  c.f32x4Const(-Infinity).set(ninf);
  c.v128Zero().set(zero);
  c.i32x4Const([0, 1, 2, 3]).set(iota);
  c.get(SCALE).splat().set(scv);

  /**
   * exp((s − max)·scale) of the four scores at row + 4j, left in v; lanes whose exp underflows are
   * 0. A NaN (an infinite score: ∞ − ∞) stays NaN, as in the reference's softmax.
   */
  const scores = () => {
    c.get(row).get(j).i32(4).mul().add().v128Load().get(mx).f32x4Sub().get(scv).f32x4Mul().set(x);
    c.get(x).apply(() => math.k(-87)).f32x4Lt().set(keep); // the lanes to zero
    math.exp(x);
    c.set(v).get(zero).get(v).get(keep).bitselect().set(v);
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
      // Every score masked: any finite maximum makes them all 0.
      c.get(top).f32Const(-Infinity).f32Eq().ifThen(() => c.f32Const(0).set(top));
      c.get(top).splat().set(mx);
      // exp((s − max)·scale), and their sum.
      c.get(zero).set(acc);
      c.i32(0).set(j);
      c.block(() =>
        c.loop(() => {
          c.get(j).i32(4).add().get(count).gtS().brIf(1);
          scores();
          c.get(row).get(j).i32(4).mul().add().get(v).v128Store();
          c.get(acc).get(v).f32x4Add().set(acc);
          c.get(j).i32(4).add().set(j);
          c.br(0);
        }),
      );
      c.get(j).get(count).ltS().ifThen(() => {
        tailMask();
        scores();
        c.get(v).get(zero).get(mask).bitselect().set(v);
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
