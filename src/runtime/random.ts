import type { Tensor } from "./tensor.js";

/** A small seeded generator (SplitMix32-style): the same seed gives the same weights everywhere. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * Seeded random weights of the right shapes: matrices uniform in +-1/sqrt(fan_in) (PyTorch's
 * nn.Linear scale), vectors named `weight` (norm scales) near 1, other vectors small.
 */
export function randomWeights(params: readonly ParamSpec[], seed = 0): Record<string, Tensor<Float32Array>> {
  const rand = seededRandom(seed);
  const out: Record<string, Tensor<Float32Array>> = Object.create(null);
  for (const p of params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNormScale = p.shape.length === 1 && /(^|\.)weight$/.test(p.name);
    const bound = p.shape.length >= 2 ? 1 / Math.sqrt(p.shape[p.shape.length - 1]) : 0.1;
    for (let i = 0; i < n; i++) data[i] = (isNormScale ? 1 : 0) + (2 * rand() - 1) * bound;
    out[p.name] = { data, shape: [...p.shape] };
  }
  return out;
}
