import { Code, V128 } from "./binary.js";

// exp and the activations on four f32 lanes, for the wasm target's kernels.
//
// exp(x) is 2ⁿ·p(r) with n = round(x·log₂e), r = x − n·ln2 (in two parts) and p Taylor's polynomial
// of degree 6: relative error about 1e-7 on |r| ≤ ln2/2. x is clamped to [−87, 88]: exp(−87)
// (1.6e-38) is 0 to any sum, exp(88) is near float32's largest.
// GELU uses erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2), with Numerical Recipes' P (fractional error
// below 1.2e-7 everywhere), so the left tail keeps its relative accuracy; tanh-GELU is x·σ(2u);
// tanh is (1 − e)/(1 + e) with e = exp(−2|x|) and the sign of x.
//
// Constants are either locals set once where the SimdMath is made (for hot loops) or v128.const
// at each use (for epilogues, where locals would compete with a kernel's accumulators for registers).

const LOG2E = Math.LOG2E;
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
const TAYLOR = [1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];
/** Numerical Recipes' erfc polynomial in t, highest power first. */
const ERFC = [0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export type Activation = "relu" | "gelu" | "gelu_tanh" | "silu" | "sigmoid" | "tanh";
export const SIMD_ACTIVATIONS: readonly string[] = ["relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"];

export class SimdMath {
  private readonly locals = new Map<number, number>();
  private readonly n: number;
  private readonly p: number;
  private readonly u: number;
  private readonly w: number;
  private readonly m: number;

  /** `inline`: constants as v128.const at each use; otherwise locals set here, at the current position. */
  constructor(
    private readonly c: Code,
    private readonly inline: boolean,
  ) {
    [this.n, this.p, this.u, this.w, this.m] = [0, 0, 0, 0, 0].map(() => c.local(V128));
    if (!inline)
      for (const v of [-87, 88, LOG2E, LN2_HI, LN2_LO, ...TAYLOR, 0, 0.5, 1, -2, 0.044715, -2 * SQRT_2_OVER_PI, Math.SQRT1_2, ...ERFC]) {
        if (this.locals.has(v)) continue;
        const l = c.local(V128);
        this.locals.set(v, l);
        c.f32x4Const(v).set(l);
      }
  }

  /** Pushes splat(v). */
  k(v: number): Code {
    if (this.inline) return this.c.f32x4Const(v);
    const l = this.locals.get(v);
    if (l === undefined) throw new Error(`SimdMath: no local for the constant ${v}`);
    return this.c.get(l);
  }

  /** exp of local `x` (which it clobbers), left on the stack. */
  exp(x: number): void {
    const { c, n, p } = this;
    c.get(x).apply(() => this.k(-87)).f32x4Max().apply(() => this.k(88)).f32x4Min().set(x);
    c.get(x).apply(() => this.k(LOG2E)).f32x4Mul().f32x4Nearest().set(n);
    c.get(x).get(n).apply(() => this.k(LN2_HI)).f32x4Mul().f32x4Sub().get(n).apply(() => this.k(LN2_LO)).f32x4Mul().f32x4Sub().set(x);
    this.k(TAYLOR[0]).set(p);
    for (let i = 1; i < TAYLOR.length; i++) c.get(p).get(x).f32x4Mul().apply(() => this.k(TAYLOR[i])).f32x4Add().set(p);
    // 2ⁿ from its bits: (n + 127) << 23
    c.get(p).get(n).i32x4TruncSatF32x4S().i32(127).i32x4Splat().i32x4Add().i32(23).i32x4Shl().f32x4Mul();
  }

  /** 1 / (1 + exp(local x)), left on the stack; clobbers x. */
  private reciprocalOnePlusExp(x: number): void {
    this.k(1);
    this.exp(x);
    this.k(1).f32x4Add().f32x4Div();
  }

  /** The activation of local `v`, written back to `v`. */
  activation(act: Activation, v: number): void {
    const { c, u, w, m } = this;
    switch (act) {
      case "relu":
        c.get(v).apply(() => this.k(0)).f32x4Max().set(v);
        return;
      case "sigmoid":
        c.get(v).f32x4Neg().set(u);
        this.reciprocalOnePlusExp(u);
        c.set(v);
        return;
      case "silu":
        c.get(v).f32x4Neg().set(u);
        this.reciprocalOnePlusExp(u);
        c.get(v).f32x4Mul().set(v);
        return;
      case "gelu_tanh":
        // x·σ(2u), u = √(2/π)(x + 0.044715x³)
        c.get(v).get(v).f32x4Mul().get(v).f32x4Mul().apply(() => this.k(0.044715)).f32x4Mul().get(v).f32x4Add();
        this.k(-2 * SQRT_2_OVER_PI).f32x4Mul().set(u);
        this.reciprocalOnePlusExp(u);
        c.get(v).f32x4Mul().set(v);
        return;
      case "tanh":
        // e = exp(−2|x|); (1 − e)/(1 + e) with x's sign
        c.get(v).f32x4Abs().apply(() => this.k(-2)).f32x4Mul().set(u);
        this.exp(u);
        c.set(w);
        this.k(1).get(w).f32x4Sub().apply(() => this.k(1)).get(w).f32x4Add().f32x4Div().set(w);
        c.get(w).get(w).f32x4Neg().get(v).apply(() => this.k(0)).f32x4Ge().bitselect().set(v);
        return;
      case "gelu": {
        // z = |x|/√2, t = 1/(1 + z/2), y = erfc(z) = t·exp(−z² + P(t)); h = x·y/2; x ≥ 0 ? x − h : h
        c.get(v).f32x4Abs().apply(() => this.k(Math.SQRT1_2)).f32x4Mul().set(u);
        this.k(1).apply(() => this.k(1)).get(u).apply(() => this.k(0.5)).f32x4Mul().f32x4Add().f32x4Div().set(w);
        this.k(ERFC[0]).set(m);
        for (let i = 1; i < ERFC.length; i++) c.get(m).get(w).f32x4Mul().apply(() => this.k(ERFC[i])).f32x4Add().set(m);
        c.get(m).get(u).get(u).f32x4Mul().f32x4Sub().set(m);
        this.exp(m);
        c.get(w).f32x4Mul().get(v).f32x4Mul().apply(() => this.k(0.5)).f32x4Mul().set(w);
        c.get(v).get(w).f32x4Sub().get(w).get(v).apply(() => this.k(0)).f32x4Ge().bitselect().set(v);
        return;
      }
    }
  }
}
