import { describe, expect, it } from "vitest";
import { randomWeights } from "../../src/runtime/random.js";
import { seededRandom } from "../../src/runtime/random.js";
import { planIncremental, isIncremental } from "../../src/ir/incremental.js";
import type { IrGraph } from "../../src/ir/graph.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildGraph } from "../../src/cli/pipeline.js";
import { graphOf, importGenerated } from "../compileHelpers.js";
import { ROOT, overrides } from "../helpers.js";

// Incremental decoding against the parallel model: after every append, the session's outputs for
// the new positions equal `forward` over the whole prefix at those positions.

type T = { data: Float32Array; shape: number[] };
interface Session {
  readonly length: number;
  readonly batch: number;
  readonly maxLength: number;
  append(tokens: { data: Int32Array | BigInt64Array; shape: number[] }): Record<string, T>;
  reset(): void;
  copyFrom(other: Session): void;
}
interface SessionModel {
  forward(inputs: Record<string, unknown>): Record<string, T>;
  startSession?(options?: { maxLength?: number; batch?: number; inputs?: Record<string, unknown> }): Session;
}

async function modelOf(path: string, ...sets: string[]) {
  return modelFrom(graphOf(path, "-O2", ...sets));
}

/** A model whose every attention uses `kernel` (as `tfmc compile --attention`). */
async function modelWithAttention(path: string, kernel: string, ...sets: string[]) {
  const built = buildGraph(readFileSync(join(ROOT, path), "utf8"), overrides(...sets), { attentionKernel: kernel, verifyPasses: true });
  if (!built.graph) throw new Error(built.diagnostics.items.map((d) => d.message).join("\n"));
  return modelFrom(built.graph);
}

async function modelFrom(g: IrGraph) {
  const mod = await importGenerated(g);
  return { g, model: mod.createModel(randomWeights(mod.spec.parameters, 11)) as unknown as SessionModel };
}

function tokens(count: number, batch: number, vocab: number, seed: number): number[][] {
  const r = seededRandom(seed);
  return Array.from({ length: batch }, () => Array.from({ length: count }, () => Math.floor(r() * vocab)));
}

const ids = (rows: number[][], from: number, to: number) => ({ data: Int32Array.from(rows.flatMap((r) => r.slice(from, to))), shape: [rows.length, to - from] });

/** Appends `seq` in chunks; after each, the worst difference from forward over the prefix. */
function worstDifference(model: SessionModel, session: Session, seq: number[][], chunks: number[], fixed: Record<string, unknown> = {}, step = "tokens"): number {
  let worst = 0;
  let at = session.length;
  for (const c of chunks) {
    const got = Float32Array.from(session.append(ids(seq, at, at + c)).logits.data);
    at += c;
    const full = model.forward({ ...fixed, [step]: ids(seq, 0, at) }).logits;
    const [B, L, V] = full.shape;
    expect(B).toBe(seq.length);
    for (let b = 0; b < B; b++)
      for (let r = 0; r < c; r++)
        for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[(b * c + r) * V + v] - full.data[(b * L + at - c + r) * V + v]));
  }
  return worst;
}

describe("decoding sessions", () => {
  it.each([["softmax"], ["linear"], ["performer"], ["local"]])("equal forward over the prefix at every step: %s attention", async (kernel) => {
    const { model } = await modelOf("test/models/tiny_decoder.tfm", `kernel=${kernel}`);
    for (const batch of [1, 2]) {
      const seq = tokens(20, batch, 30, batch);
      const session = model.startSession!({ batch });
      expect(session.maxLength).toBe(20);
      expect(worstDifference(model, session, seq, [5, 1, 1, 3, 1, 1, 1, 2, 1, 1, 1, 1, 1])).toBeLessThan(1e-4);
      expect(session.length).toBe(20);
    }
  });

  it("decodes GPT and the encoder-decoder translator, whose source is read once", async () => {
    const gpt = await modelOf("examples/gpt.tfm", "d=32", "heads=4", "layers=2", "ctx=24", "vocab=40");
    const seq = tokens(24, 1, 40, 5);
    expect(worstDifference(gpt.model, gpt.model.startSession!(), seq, [7, ...Array<number>(17).fill(1)])).toBeLessThan(1e-4);

    const sets = ["d_model=32", "heads=4", "layers=2", "d_ff=48", "vocab=40"];
    // Softmax attention throughout, then linear attention throughout (the decoder's self-attention
    // through its running sums, cross-attention over the fixed source).
    for (const tr of [await modelOf("examples/translator.tfm", ...sets), await modelWithAttention("examples/translator.tfm", "linear", ...sets)]) {
      const source = ids(tokens(9, 2, 40, 8), 0, 9);
      const padding = { data: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), shape: [2, 9] };
      const fixed = { source, source_padding: padding };
      const session = tr.model.startSession!({ maxLength: 12, inputs: fixed });
      expect(session.batch).toBe(2);
      const target = tokens(12, 2, 40, 9);
      expect(worstDifference(tr.model, session, target, [1, 1, 4, 1, 1, 1, 1, 1, 1], fixed, "target")).toBeLessThan(1e-4);
    }
  });

  it("copies a session into another, resets, and reuses its buffers from one token to the next", async () => {
    for (const kernel of ["softmax", "linear"]) {
      const { model } = await modelOf("test/models/tiny_decoder.tfm", `kernel=${kernel}`);
      const a = model.startSession!({ maxLength: 12 });
      const b = model.startSession!({ maxLength: 12 });
      const prefix = tokens(6, 1, 30, 1)[0];
      a.append(ids([prefix], 0, 6));
      b.append(ids([[1, 2, 3, 4, 5, 6, 7]], 0, 7));
      b.copyFrom(a);
      expect(b.length).toBe(6);
      const first = b.append(ids([[9]], 0, 1)).logits.data;
      // Diverging continuations of one prefix, each equal to the parallel model on its own tokens.
      expect(worstDifference(model, b, [[...prefix, 9, 4, 8]], [1, 1])).toBeLessThan(1e-4);
      expect(worstDifference(model, a, [[...prefix, 2, 2]], [1, 1])).toBeLessThan(1e-4);
      expect(b.append(ids([[3]], 0, 1)).logits.data).toBe(first);
      a.reset();
      expect(a.length).toBe(0);
      expect(worstDifference(model, a, [prefix], [2, 4])).toBeLessThan(1e-4);
      const c = model.startSession!({ maxLength: 11 });
      expect(() => c.copyFrom(a)).toThrow(/TFM|maxLength/);
    }
  });

  it("refuses tokens past maxLength, a wrong batch and a maxLength above the model's limit", async () => {
    const { model } = await modelOf("test/models/tiny_decoder.tfm");
    const s = model.startSession!({ maxLength: 3 });
    s.append(ids([[1, 2]], 0, 2));
    expect(() => s.append(ids([[1, 2]], 0, 2))).toThrow(/holds 2 of its 3 positions and cannot take 2 more/);
    expect(s.length).toBe(2);
    expect(() => s.append(ids([[1], [2]], 0, 1))).toThrow(/dimension 0 is 2; expected 1, the session's batch/);
    expect(() => s.append({ data: new Float32Array(1) as unknown as Int32Array, shape: [1, 1] })).toThrow(/has dtype f32 \(F32\), a Float32Array; expected i32 \(I32\) or i64 \(I64\): Int32Array or BigInt64Array/);
    expect(() => model.startSession!({ maxLength: 21 })).toThrow(/maxLength must be an integer from 1 to 20/);
    expect(() => model.startSession!({ batch: 0 })).toThrow(/batch must be a positive integer/);
  });

  it("exists only where decoding token by token is exact, and says why not", async () => {
    const reasonOf = (g: IrGraph) => {
      const p = planIncremental(g, new Set(g.order().filter((id) => g.node(id).op === "param")));
      return isIncremental(p) ? "incremental" : p.reason;
    };
    expect(reasonOf(graphOf("examples/bert.tfm", "-O2"))).toMatch(/no token input \[B, T\] that feeds a causal self-attention/);
    expect(reasonOf(graphOf("test/models/tiny_decoder.tfm", "-O2"))).toBe("incremental");
    // Unfused attention scores mix positions.
    // Attention is fused at -O2 only: at -O0 and -O1 the message says so (it used to ask for -O1).
    expect(reasonOf(graphOf("test/models/tiny_decoder.tfm", "-O0"))).toMatch(/not fused: sessions need -O2$/);
    expect(reasonOf(graphOf("test/models/tiny_decoder.tfm", "-O1"))).toMatch(/not fused: sessions need -O2$/);
    const bert = await modelOf("examples/bert.tfm", "d=32", "heads=4", "layers=1", "intermediate=64", "vocab=60", "max_positions=16");
    expect(bert.model.startSession).toBeUndefined();
  });
});
