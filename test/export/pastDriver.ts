import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, type ValueInfoProto } from "onnx-buf";
import * as ort from "onnxruntime-node";

// A greedy generation loop over a decoder exported with --with-past, fed as Hugging Face's loops
// feed their ONNX decoders: prompts left-padded to one length, attention_mask [B, past + new]
// (1 for a real token, growing by one column a step), position_ids [B, new] from the mask
// (cumsum(mask) - 1, a pad's position 1, as transformers.js' cumsum_masked_fill), the presents fed
// back as the next step's past.

export interface DriveOptions {
  /** New tokens to pick per row. */
  readonly steps: number;
  /** The token input's name (default: the graph's first input). */
  readonly tokens?: string;
  /** An encoder-decoder's source ids, fed for every row at every step. */
  readonly source?: readonly number[];
  /** The id put before a shorter prompt. */
  readonly pad?: number;
  readonly engine?: typeof ort;
  /** Further feeds of a step: `step` counts from 0, `T` new tokens after `past` (other inputs of the model). */
  readonly feeds?: (at: { step: number; B: number; T: number; past: number }) => Record<string, ort.Tensor>;
}

export interface Drive {
  /** Per row, the ids picked after its prompt. */
  readonly tokens: number[][];
  /** Per row, the logits of each pick. */
  readonly logits: Float32Array[][];
  /** The first step's logits, [B, prompt length, vocab] (pads' rows included). */
  readonly first: Float32Array;
}

const argmax = (row: Float32Array) => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);

const elemType = (v: ValueInfoProto) => (v.type?.value.case === "tensorType" ? v.type.value.value.elemType : 0);

/** HF's position_ids for the last `count` columns of a mask row: cumsum - 1, 1 where masked. */
export function positionIds(mask: readonly number[], count: number): number[] {
  let sum = 0;
  const all = mask.map((m) => (m === 0 ? 1 : sum++));
  return all.slice(all.length - count);
}

export async function ortGenerate(model: string, prompts: readonly (readonly number[])[], o: DriveOptions): Promise<Drive> {
  const engine = o.engine ?? ort;
  const session =
    engine === ort ? await ort.InferenceSession.create(model) : await engine.InferenceSession.create(new Uint8Array(readFileSync(model)), { executionProviders: ["wasm"] });
  const g = fromBinary(ModelProtoSchema, readFileSync(model)).graph!;
  const pastNames = g.input.map((i) => i.name).filter((n) => n.startsWith("past_key_values."));
  const tokenInput = g.input.find((i) => i.name === (o.tokens ?? g.input[0].name))!;
  const ids = elemType(tokenInput) === 7 ? "int64" : "int32";
  const takesPositions = g.input.some((i) => i.name === "position_ids");
  const B = prompts.length;
  const cacheShape = (name: string) => {
    const v = g.input.find((i) => i.name === name)!;
    const dims = v.type!.value.case === "tensorType" ? v.type!.value.value.shape!.dim : [];
    return dims.map((d, k) => (k === 0 ? B : d.value.case === "dimValue" ? Number(d.value.value) : 0));
  };
  const i64 = (rows: readonly (readonly number[])[]) => new engine.Tensor("int64", BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
  const fixed = o.source ? { source: i64(prompts.map(() => o.source!)) } : {};
  let past: Record<string, ort.Tensor> = Object.fromEntries(pastNames.map((n) => [n, new engine.Tensor("float32", new Float32Array(0), cacheShape(n))]));
  const width = Math.max(...prompts.map((p) => p.length));
  let step = prompts.map((p) => [...new Array<number>(width - p.length).fill(o.pad ?? 0), ...p]);
  const mask = prompts.map((p) => [...new Array<number>(width - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
  const tokens: number[][] = prompts.map(() => []);
  const logits: Float32Array[][] = prompts.map(() => []);
  let first = new Float32Array(0);
  while (tokens[0].length < o.steps) {
    const T = step[0].length;
    const flat = step.flat();
    const feeds: Record<string, ort.Tensor> = {
      [tokenInput.name]: new engine.Tensor(ids, (ids === "int64" ? BigInt64Array.from(flat.map(BigInt)) : Int32Array.from(flat)) as Int32Array, [B, T]),
      attention_mask: i64(mask),
      ...(takesPositions ? { position_ids: i64(mask.map((m) => positionIds(m, T))) } : {}),
      ...fixed,
      ...(o.feeds?.({ step: tokens[0].length, B, T, past: mask[0].length - T }) ?? {}),
      ...past,
    };
    const results = await session.run(feeds);
    const out = results[g.output[0].name];
    const vocab = out.dims[2];
    const data = out.data as Float32Array;
    if (first.length === 0) first = data.slice();
    step = step.map((_, b) => {
      const row = data.slice((b * T + T - 1) * vocab, (b * T + T) * vocab);
      const next = argmax(row);
      tokens[b].push(next);
      logits[b].push(row);
      mask[b].push(1);
      return [next];
    });
    past = Object.fromEntries(pastNames.map((n) => [n, results[n.replace("past_key_values.", "present.")]]));
  }
  await session.release();
  return { tokens, logits, first };
}
