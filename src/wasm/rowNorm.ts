import { Code, F32, I32, V128 } from "./binary.js";

// The row loop LayerNorm and RMSNorm share in WebAssembly SIMD, optionally of a sum (add & norm):
// `(out, a, c, w, b, rows, d, eps)` with t = a (+ c) per row of d floats (a multiple of 4). A pass
// takes the largest |t| (with add, t is written to out on the way); a row whose largest |t| passes
// 2^56 is first scaled by ks = 1/max (and eps by ks²), so the sums and squares stay within float32
// where the float64 reference computes them exactly; other rows are scaled by 1, which changes
// nothing. LayerNorm then takes the mean and the squared deviations from it; RMSNorm the squares of
// t itself (and leaves a row holding ±∞ unscaled, giving what the reference gives). Sums are four
// float32 lanes, added across at the end. A variant without c, w or b ignores those pointers.

export interface RowNormVariant {
  /** LayerNorm: subtract the mean (and add `b` with `shift`); RMSNorm: neither. */
  readonly center: boolean;
  readonly add: boolean;
  readonly scale: boolean;
  readonly shift: boolean;
}

export function rowNormCode(v: RowNormVariant): Code {
  const [OUT, A, C, W, B, ROWS, D, EPS] = [0, 1, 2, 3, 4, 5, 6, 7];
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, F32]);
  const r = c.local(I32);
  const j = c.local(I32);
  const src = c.local(I32);
  const dst = c.local(I32);
  const end = c.local(I32);
  const acc = c.local(V128);
  const t = c.local(V128);
  const mean = v.center ? c.local(V128) : undefined;
  const inv = c.local(V128);
  const k = c.local(V128);
  const s = c.local(F32);
  const ks = c.local(F32);

  /** A loop over the row's bytes j = 0, 16, .. < d·4. */
  const overRow = (body: () => void) => {
    c.i32(0).set(j);
    c.block(() =>
      c.loop(() => {
        c.get(j).get(end).geS().brIf(1);
        body();
        c.get(j).i32(16).add().set(j);
        c.br(0);
      }),
    );
  };
  const hsum = () => c.get(acc).lane(0).get(acc).lane(1).f32Add().get(acc).lane(2).f32Add().get(acc).lane(3).f32Add();
  /** t·ks, minus the mean when centering. */
  const scaled = () => {
    c.get(src).get(j).add().v128Load().get(k).f32x4Mul();
    if (mean !== undefined) c.get(mean).f32x4Sub();
  };

  c.get(D).i32(4).mul().set(end);
  c.i32(0).set(r);
  c.block(() =>
    c.loop(() => {
      c.get(r).get(ROWS).geS().brIf(1);
      // src = a + r·d·4 (out's row, with add); dst = out + r·d·4
      c.get(OUT).get(r).get(end).mul().add().set(dst);
      c.get(A).get(r).get(end).mul().add().set(src);
      c.v128Zero().set(acc);
      overRow(() => {
        c.get(src).get(j).add().v128Load();
        if (v.add) c.get(C).get(r).get(end).mul().add().get(j).add().v128Load().f32x4Add().set(t).get(dst).get(j).add().get(t).v128Store().get(t);
        c.f32x4Abs().get(acc).f32x4Max().set(acc);
      });
      if (v.add) c.get(dst).set(src);
      // ks = 1/max|t| past 2^56 (and, for RMSNorm, below ∞), else 1
      c.get(acc).lane(0).get(acc).lane(1).f32Max().get(acc).lane(2).f32Max().get(acc).lane(3).f32Max().set(s);
      c.f32Const(1).get(s).f32Div().f32Const(1).get(s).f32Const(2 ** 56).f32Gt();
      if (!v.center) c.get(s).f32Const(Infinity).f32Lt().and();
      c.select().tee(ks).splat().set(k);
      c.v128Zero().set(acc);
      if (mean !== undefined) {
        overRow(() => {
          c.get(src).get(j).add().v128Load().get(k).f32x4Mul();
          c.get(acc).f32x4Add().set(acc);
        });
        hsum().get(D).f32ConvertI32S().f32Div().splat().set(mean);
        c.v128Zero().set(acc);
      }
      overRow(() => {
        scaled();
        c.set(t);
        c.get(acc).get(t).get(t).f32x4Mul().f32x4Add().set(acc);
      });
      // eps·ks² (eps itself when ks is 1), kept above zero so a constant scaled row gives 0/√tiny = 0.
      hsum().get(D).f32ConvertI32S().f32Div().get(EPS).get(ks).f32Mul().get(ks).f32Mul().f32Const(1.1754944e-38).f32Max().f32Add().f32Sqrt().set(s);
      c.f32Const(1).get(s).f32Div().splat().set(inv);
      overRow(() => {
        c.get(dst).get(j).add();
        scaled();
        c.get(inv).f32x4Mul();
        if (v.scale) c.get(W).get(j).add().v128Load().f32x4Mul();
        if (v.center && v.shift) c.get(B).get(j).add().v128Load().f32x4Add();
        c.v128Store();
      });
      c.get(r).i32(1).add().set(r);
      c.br(0);
    }),
  );
  return c;
}
