/**
 * IEEE half (F16) and bfloat16 (BF16) conversions to and from float32, done on bit patterns so that
 * subnormals, infinities, signed zeros and NaN payloads come through exactly. Both widenings are
 * exact: every F16 and BF16 value is a float32.
 */

// Scratch views for reinterpreting one float32; module-level so conversions allocate nothing.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf, NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: shift the leading 1 up to the implicit bit; every shift costs one exponent step.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

export function f16BitsToNumber(h: number): number {
  scratchU32[0] = f16BitsToF32Bits(h);
  return scratchF32[0];
}

/** Round to nearest, ties to even, as numpy's and torch's float16 casts do. */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant === 0 ? 0 : 0x200 | (mant >>> 13)); // keep NaN quiet and non-zero
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): the value is full × 2^(e-38), the half unit is 2^-24.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(full, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent, up to infinity.
  return sign | (((e << 10) | (mant >>> 13)) + roundBit(mant, 13, mant >>> 13));
}

export function numberToF16Bits(v: number): number {
  scratchF32[0] = v;
  return f32BitsToF16Bits(scratchU32[0]);
}

export function bf16BitsToF32Bits(b: number): number {
  return (b << 16) >>> 0;
}

export function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40; // NaN: keep it a NaN after truncation
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

function roundShift(v: number, shift: number): number {
  const kept = v >>> shift;
  return kept + roundBit(v, shift, kept);
}

/** 1 if dropping the low `shift` bits of `v` should round `kept` up (nearest, ties to even). */
function roundBit(v: number, shift: number, kept: number): number {
  const rem = v & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rem > half || (rem === half && (kept & 1) === 1) ? 1 : 0;
}
