import { Code, F32, I32, V128, type WasmFunction } from "./binary.js";

// RMSNorm of rows in WebAssembly SIMD, optionally of a sum (add & norm), with LayerNorm's signature
// so the glue calls both alike: `(out, a, c, w, b, rows, d, eps)` with t = a (+ c) per row of d
// floats (a multiple of 4), out = t/√(mean(t²) + eps) (· w); `b` is ignored. Three passes over a
// row: the largest |t| (with add, t is written to out on the way), the sum of squares, the result.
// Sums are four float32 lanes, added across at the end. As in LayerNorm, a row whose largest |t|
// passes 2^56 (but is finite) is first scaled by 1/max (and eps by its square), so the squares stay
// within float32 where the float64 reference computes them exactly; other rows are scaled by 1,
// which changes nothing (a row holding ±∞ then gives what the reference gives: 0, and NaN at ±∞).

export interface RmsNormVariant {
  readonly add: boolean;
  readonly scale: boolean;
}

export function rmsNormName(v: RmsNormVariant): string {
  return `rms_norm${v.add ? "_add" : ""}${v.scale ? "_w" : ""}`;
}

export function rmsNormFunction(v: RmsNormVariant): WasmFunction {
  const [OUT, A, C, W, , ROWS, D, EPS] = [0, 1, 2, 3, 4, 5, 6, 7];
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, F32]);
  const r = c.local(I32);
  const j = c.local(I32);
  const src = c.local(I32);
  const dst = c.local(I32);
  const end = c.local(I32);
  const [acc, t, inv, k] = [0, 0, 0, 0].map(() => c.local(V128));
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
      // ks = 1/max|t| when 2^56 < max|t| < ∞, else 1
      c.get(acc).lane(0).get(acc).lane(1).f32Max().get(acc).lane(2).f32Max().get(acc).lane(3).f32Max().set(s);
      c.f32Const(1).get(s).f32Div().f32Const(1);
      c.get(s).f32Const(2 ** 56).f32Gt().get(s).f32Const(Infinity).f32Lt().and();
      c.select().tee(ks).splat().set(k);
      c.v128Zero().set(acc);
      overRow(() => {
        c.get(src).get(j).add().v128Load().get(k).f32x4Mul().set(t);
        c.get(acc).get(t).get(t).f32x4Mul().f32x4Add().set(acc);
      });
      // eps·ks² (eps itself when ks is 1), kept above zero.
      c.get(acc).lane(0).get(acc).lane(1).f32Add().get(acc).lane(2).f32Add().get(acc).lane(3).f32Add();
      c.get(D).f32ConvertI32S().f32Div().get(EPS).get(ks).f32Mul().get(ks).f32Mul().f32Const(1.1754944e-38).f32Max().f32Add().f32Sqrt().set(s);
      c.f32Const(1).get(s).f32Div().splat().set(inv);
      overRow(() => {
        c.get(dst).get(j).add();
        c.get(src).get(j).add().v128Load().get(k).f32x4Mul().get(inv).f32x4Mul();
        if (v.scale) c.get(W).get(j).add().v128Load().f32x4Mul();
        c.v128Store();
      });
      c.get(r).i32(1).add().set(r);
      c.br(0);
    }),
  );
  return { name: rmsNormName(v), code: c };
}
