// Scalar functions shared by the generated kernels and the float64 reference interpreter.
// JavaScript has no Math.erf; this one is accurate to about 1e-14, far below float32's resolution.

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const SQRT_PI = 1.772453850905516;

export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series; at |x| < 2.5 its cancellation costs under two digits.
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return sum * TWO_OVER_SQRT_PI;
  }
  if (ax > 6.5) return x > 0 ? 1 : -1;
  // erfc by its continued fraction, evaluated from the tail.
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / (SQRT_PI * f);
  return x > 0 ? 1 - erfc : erfc - 1;
}

export const gelu = (x: number): number => 0.5 * x * (1 + erf(x * Math.SQRT1_2));

const GELU_TANH_C = Math.sqrt(2 / Math.PI);
export const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(GELU_TANH_C * (x + 0.044715 * x * x * x)));

export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
export const silu = (x: number): number => x * sigmoid(x);
export const relu = (x: number): number => (x > 0 ? x : 0);

/** Vaswani et al.'s position table: sin on even columns, cos on odd, frequencies base^(-2i/d). */
export function sinusoid(pos: number, col: number, dim: number, base: number): number {
  const i2 = col - (col % 2);
  const angle = pos / Math.pow(base, i2 / dim);
  return col % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
}
