import { seededRandom } from "./random.js";

/**
 * Performer's orthogonal random features (FAVOR+): `m` rows of dimension `d`, in blocks of `d`
 * Gaussian vectors made orthonormal by Gram-Schmidt, each row then scaled by the norm of a fresh
 * Gaussian vector (so rows are marginally Gaussian). Deterministic for a seed: the compiler and
 * every generated module draw the same features.
 */
export function orthogonalFeatures(m: number, d: number, seed: number): Float64Array {
  const rand = seededRandom(seed);
  const gauss = () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const out = new Float64Array(m * d);
  for (let row0 = 0; row0 < m; row0 += d) {
    const rows = Math.min(d, m - row0);
    const block: Float64Array[] = [];
    for (let r = 0; r < rows; r++) {
      const v = Float64Array.from({ length: d }, gauss);
      for (const b of block) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += v[i] * b[i];
        for (let i = 0; i < d; i++) v[i] -= dot * b[i];
      }
      let norm = 0;
      for (let i = 0; i < d; i++) norm += v[i] * v[i];
      norm = Math.sqrt(norm);
      for (let i = 0; i < d; i++) v[i] /= norm;
      block.push(v);
      let scale = 0;
      for (let i = 0; i < d; i++) scale += gauss() ** 2;
      scale = Math.sqrt(scale);
      for (let i = 0; i < d; i++) out[(row0 + r) * d + i] = v[i] * scale;
    }
  }
  return out;
}
