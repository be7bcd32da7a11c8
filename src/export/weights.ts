import { create } from "@bufbuild/protobuf";
import { StringStringEntryProtoSchema, TensorProto_DataLocation, TensorProtoSchema, type TensorProto } from "onnx-buf";
import { seededRandom } from "../runtime/random.js";
import { ONNX_DTYPE } from "./onnxBuilder.js";

// The model's weights as initializers: inline in the model, or streamed chunk by chunk into an
// external data file (ONNX's external data: location, offset, length), so a model larger than
// memory exports without its weights ever being held whole.

/** One parameter's values, in row-major order, as float32 chunks read once, in order. */
export interface WeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly chunks: Iterable<Float32Array>;
}

/** The parameters in the model's order; each entry's chunks are read before the next entry. */
export type WeightStream = Iterable<WeightEntry>;

/** Where external data goes: bytes appended in order. */
export interface ByteSink {
  write(bytes: Uint8Array): void;
}

/** Loaded weights (by name), in the order of the model's parameters. */
export function* loadedWeights(params: readonly { name: string; shape: readonly number[] }[], values: Readonly<Record<string, Float32Array>>): WeightStream {
  for (const p of params) yield { name: p.name, shape: p.shape, chunks: [values[p.name]] };
}

const CHUNK = 1 << 16;

/**
 * The seeded random weights of `tfmc run` (runtime/random.ts randomWeights: the same generator
 * and scales, in the same order), made a chunk at a time.
 */
export function* randomWeightStream(params: readonly { name: string; shape: readonly number[] }[], seed: number): WeightStream {
  const rand = seededRandom(seed);
  for (const p of params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const isNormScale = p.shape.length === 1 && /(^|\.)weight$/.test(p.name);
    const bound = p.shape.length >= 2 ? 1 / Math.sqrt(p.shape[p.shape.length - 1]) : 0.1;
    const centre = isNormScale ? 1 : 0;
    function* chunks(): Iterable<Float32Array> {
      for (let at = 0; at < n; at += CHUNK) {
        const data = new Float32Array(Math.min(CHUNK, n - at));
        for (let i = 0; i < data.length; i++) data[i] = centre + (2 * rand() - 1) * bound;
        yield data;
      }
    }
    yield { name: p.name, shape: p.shape, chunks: chunks() };
  }
}

const bytesOf = (x: Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

/** External tensors start at multiples of this (what ONNX's own writer aligns large tensors to). */
const ALIGN = 4096;

/** Tensors of at least this many bytes go to the external data file (as onnx.save_model's default size_threshold). */
export const EXTERNAL_THRESHOLD = 1024;

/**
 * Initializers for the weights, written to the sink at aligned offsets and referenced by `location`
 * (a path relative to the model file); the graph's own constants of EXTERNAL_THRESHOLD bytes or more
 * (position tables) follow the weights there, smaller ones stay inline. (Inline weights are
 * written as the model's bytes are: serialize.ts.)
 */
export function externalInitializers(weights: WeightStream, external: { location: string; sink: ByteSink }, constants: readonly TensorProto[] = []): TensorProto[] {
  const out: TensorProto[] = [];
  let offset = 0;
  /** The bytes written at the next aligned offset: the entries saying where they are. */
  const place = (chunks: Iterable<Uint8Array>) => {
    const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
    if (pad > 0) external.sink.write(new Uint8Array(pad));
    offset += pad;
    let length = 0;
    for (const c of chunks) {
      external.sink.write(c);
      length += c.byteLength;
    }
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    const at = { dataLocation: TensorProto_DataLocation.EXTERNAL, externalData: [entry("location", external.location), entry("offset", String(offset)), entry("length", String(length))] };
    offset += length;
    return { at, length };
  };
  for (const w of weights) {
    const count = w.shape.reduce((a, b) => a * b, 1);
    const { at, length } = place(map(w.chunks, bytesOf));
    if (length !== count * 4) throw new Error(`internal: weight ${w.name} has ${length / 4} values for ${count}`);
    out.push(create(TensorProtoSchema, { name: w.name, dataType: ONNX_DTYPE.f32, dims: w.shape.map(BigInt), ...at }));
  }
  for (const t of constants) {
    if (t.rawData.length < EXTERNAL_THRESHOLD) out.push(t);
    else out.push(create(TensorProtoSchema, { name: t.name, dataType: t.dataType, dims: t.dims, ...place([t.rawData]).at }));
  }
  return out;
}

function* map<T, U>(xs: Iterable<T>, f: (x: T) => U): Iterable<U> {
  for (const x of xs) yield f(x);
}
