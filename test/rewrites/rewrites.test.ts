import { describe, expect, it } from "vitest";
import type { NodeLabel } from "../../src/ir/node.js";
import { interpret } from "../../src/ir/interpret.js";
import { linearAttention, linformerAttention, performerAttention } from "../../src/ir/interpretAttention.js";
import { seededRandom, randomWeights } from "../../src/runtime/random.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { maxAbsDiff, randomInputs } from "../randomInputs.js";

type T = { data: Float64Array; shape: number[] };
const rand = seededRandom(11);
const tensor = (shape: number[], scale = 1): T => ({ data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (2 * rand() - 1) * scale), shape });
const node = (attrs: Record<string, unknown>) => ({ attrs }) as unknown as NodeLabel;
const at = (t: T, ...i: number[]) => t.data[i.reduce((o, x, k) => o * t.shape[k] + x, 0)];

/** Attention written as the sums over keys that the papers define, one query at a time. */
function byQuery(q: T, k: T, v: T, weight: (b: number, h: number, i: number, j: number) => number): T {
  const [B, H, L, D] = q.shape;
  const [S, Dv] = [k.shape[2], v.shape[3]];
  const out = new Float64Array(B * H * L * Dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < L; i++) {
        const ws = Array.from({ length: S }, (_, j) => weight(b, h, i, j));
        const sum = ws.reduce((a, x) => a + x, 0);
        for (let e = 0; e < Dv; e++) out[((b * H + h) * L + i) * Dv + e] = sum > 0 ? ws.reduce((a, w, j) => a + w * at(v, b, h, j, e), 0) / sum : 0;
      }
  void D;
  return { data: out, shape: [B, H, L, Dv] };
}

const dot = (a: T, b: T, bb: number, h: number, i: number, j: number) => {
  let s = 0;
  for (let d = 0; d < a.shape[3]; d++) s += at(a, bb, h, i, d) * at(b, bb, h, j, d);
  return s;
};
const phi = (t: T) => ({ data: t.data.map((x) => (x > 0 ? x + 1 : Math.exp(x))), shape: t.shape });
const relClose = (a: Float64Array, b: Float64Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.max(1, Math.abs(b[i]))));

describe("rewrites agree with their reference formulas", () => {
  const [q, k, v] = [tensor([2, 2, 5, 4]), tensor([2, 2, 5, 4]), tensor([2, 2, 5, 3])];
  const pad = { data: Float64Array.from([0, 0, 1, 0, 1, 0, 0, 0, 0, 1]), shape: [2, 5] };

  it("linear attention, with key padding", () => {
    const got = linearAttention(node({ roles: "block_keys", causal: false }), [q, k, v, pad]);
    const [fq, fk] = [phi(q), phi(k)];
    const want = byQuery(q, k, v, (b, h, i, j) => (pad.data[b * 5 + j] ? 0 : dot(fq, fk, b, h, i, j)));
    expect(relClose(got.data, want.data)).toBeLessThan(1e-12);
  });

  it("causal linear attention by prefix sums", () => {
    const got = linearAttention(node({ roles: "", causal: true }), [q, k, v]);
    const [fq, fk] = [phi(q), phi(k)];
    const want = byQuery(q, k, v, (b, h, i, j) => (j <= i ? dot(fq, fk, b, h, i, j) : 0));
    expect(relClose(got.data, want.data)).toBeLessThan(1e-12);
  });

  it("Linformer: softmax against E·K and F·V", () => {
    const [E, F] = [tensor([3, 8]), tensor([3, 8])];
    const scale = 0.5;
    const got = linformerAttention(node({ roles: "", scale }), [q, k, v, E, F]);
    const [B, H, L, D] = q.shape;
    const S = 5;
    const kp = (b: number, h: number, r: number, d: number) => Array.from({ length: S }, (_, j) => at(E, r, j) * at(k, b, h, j, d)).reduce((a, x) => a + x, 0);
    const vp = (b: number, h: number, r: number, d: number) => Array.from({ length: S }, (_, j) => at(F, r, j) * at(v, b, h, j, d)).reduce((a, x) => a + x, 0);
    const want = new Float64Array(got.data.length);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < L; i++) {
          const s = [0, 1, 2].map((r) => Array.from({ length: D }, (_, d) => at(q, b, h, i, d) * kp(b, h, r, d)).reduce((a, x) => a + x, 0) * scale);
          const e = s.map((x) => Math.exp(x));
          const z = e.reduce((a, x) => a + x, 0);
          for (let d = 0; d < 3; d++) want[((b * H + h) * L + i) * 3 + d] = [0, 1, 2].reduce((a, r) => a + (e[r] / z) * vp(b, h, r, d), 0);
        }
    expect(relClose(got.data, want)).toBeLessThan(1e-12);
  });

  it("Performer's error against softmax attention falls as features grow (fixed seed)", () => {
    const [qq, kk, vv] = [tensor([1, 2, 24, 8], 0.7), tensor([1, 2, 24, 8], 0.7), tensor([1, 2, 24, 8])];
    const scale = 1 / Math.sqrt(8);
    const exact = byQuery(qq, kk, vv, (b, h, i, j) => Math.exp(scale * dot(qq, kk, b, h, i, j)));
    const errors = [16, 64, 256, 1024].map((features) => {
      const got = performerAttention(node({ roles: "", causal: false, features, seed: 20200930, scale }), [qq, kk, vv]);
      return got.data.reduce((a, x, i) => a + Math.abs(x - exact.data[i]), 0) / got.data.length;
    });
    console.log(`Performer mean abs error at 16, 64, 256, 1024 features: ${errors.map((e) => e.toExponential(2)).join(", ")}`);
    expect(errors[3]).toBeLessThan(errors[0] / 3);
    expect(errors[2]).toBeLessThan(errors[0]);
    expect(errors[3]).toBeLessThan(0.05);
  });
});

describe("generated rewrite kernels agree with the interpreter", () => {
  const variants: [string, string[]][] = [
    ["linear", ["kernel=linear"]],
    ["causal linear", ["kernel=linear", "causal=true"]],
    ["performer", ["kernel=performer", "features=32"]],
    ["causal performer", ["kernel=performer", "features=24", "causal=true"]],
    ["linformer", ["kernel=linformer", "k=4"]],
    ["local", ["kernel=local", "window=2"]],
    ["causal local", ["kernel=local", "window=3", "causal=true"]],
  ];
  const runs = variants.flatMap(([name, sets]) => [0, 2].map((level) => [name, level, sets] as const));
  it.each(runs)("%s at -O%d", async (_name, level, sets) => {
    const g = graphOf("test/models/rewrites.tfm", `-O${level}`, ...sets);
    const mod = await importGenerated(g);
    const weights = randomWeights(mod.spec.parameters, 2);
    const model = mod.createModel(weights);
    for (const [seed, S] of [[1, 7], [2, 16]] as const) {
      const inputs = randomInputs(g, { B: 2, S }, seed);
      const got = model.forward(inputs).out;
      const want = interpret(g, new Map(Object.entries(weights)), inputs).out;
      expect(maxAbsDiff(got.data, want.data)).toBeLessThan(5e-5);
    }
  });

  it("local attention with a window covering every key equals softmax attention", async () => {
    const local = graphOf("test/models/rewrites.tfm", "kernel=local", "window=16");
    const full = graphOf("test/models/rewrites.tfm", "kernel=softmax");
    const weights = randomWeights((await importGenerated(local)).spec.parameters, 3);
    const inputs = randomInputs(local, { B: 2, S: 9 }, 4);
    const a = interpret(local, new Map(Object.entries(weights)), inputs).out;
    const b = interpret(full, new Map(Object.entries(weights)), inputs).out;
    expect(maxAbsDiff(a.data, b.data)).toBeLessThan(1e-12);
  });

  it("causal linear attention at position i does not depend on later positions", async () => {
    const g = graphOf("test/models/rewrites.tfm", "-O2", "kernel=linear", "causal=true");
    const mod = await importGenerated(g);
    const model = mod.createModel(randomWeights(mod.spec.parameters, 5));
    const inputs = randomInputs(g, { B: 1, S: 8 }, 6, { omitOptional: true });
    const before = Float32Array.from(model.forward(inputs).out.data);
    const x = inputs.x.data as Float32Array;
    for (let i = 5 * 16; i < 8 * 16; i++) x[i] += 1;
    const after = model.forward(inputs).out.data;
    expect(maxAbsDiff(after.subarray(0, 5 * 16), before.subarray(0, 5 * 16))).toBe(0);
    expect(maxAbsDiff(after.subarray(5 * 16), before.subarray(5 * 16))).toBeGreaterThan(1e-3);
  });
});
