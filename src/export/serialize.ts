import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { GraphProtoSchema, ModelProtoSchema, TensorProtoSchema, type ModelProto } from "onnx-buf";
import { ONNX_DTYPE } from "./onnxBuilder.js";
import type { WeightStream } from "./weights.js";

// A model with inline weights as bytes in parts, written one after another: the model without its
// weights, serialised by @bufbuild/protobuf, then each weight as one more initializer of its graph,
// its raw bytes the weight's own chunks. Nothing is joined: serialising the whole message at once
// would grow one buffer to the model's size (copying it as it doubles) and copy it again for each
// enclosing message (tensor, graph, model). Protobuf reads the fields of a message in any order and
// appends repeated ones, so the bytes say the same model.

const field = {
  graph: ModelProtoSchema.field.graph.number,
  initializer: GraphProtoSchema.field.initializer.number,
  rawData: TensorProtoSchema.field.rawData.number,
};

/** A length-delimited field's tag and length. */
const header = (fieldNo: number, length: number) => new BinaryWriter().tag(fieldNo, WireType.LengthDelimited).uint32(length).finish();

const bytesOf = (x: Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

/** The parts of one inline weight before its raw bytes: its initializer's header, its tensor's other fields, raw_data's header. */
function weightHead(name: string, shape: readonly number[]): { parts: Uint8Array[]; total: number } {
  const bytes = 4 * shape.reduce((a, b) => a * b, 1);
  const tensor = toBinary(TensorProtoSchema, create(TensorProtoSchema, { name, dataType: ONNX_DTYPE.f32, dims: shape.map(BigInt) }));
  const raw = header(field.rawData, bytes);
  const size = tensor.length + raw.length + bytes;
  const init = header(field.initializer, size);
  return { parts: [init, tensor, raw], total: init.length + size };
}

/**
 * The model's bytes in parts: `model` (whose graph holds every other initializer), with the
 * `weights` appended to its graph's initializers inline, read as the parts are taken. `params`
 * are the weights' names and shapes in the stream's order (their sizes make the lengths, known
 * before any weight is read). `size` is the total, known at once.
 */
export function modelParts(model: ModelProto, params: readonly { name: string; shape: readonly number[] }[], weights: WeightStream): { size: number; parts: Iterable<Uint8Array> } {
  const head = toBinary(ModelProtoSchema, create(ModelProtoSchema, { ...model, graph: undefined }));
  const graphBytes = toBinary(GraphProtoSchema, model.graph ?? create(GraphProtoSchema));
  const heads = params.map((p) => weightHead(p.name, p.shape));
  const graphSize = graphBytes.length + heads.reduce((a, h) => a + h.total, 0);
  const graphHeader = header(field.graph, graphSize);
  function* parts(): Iterable<Uint8Array> {
    yield head;
    yield graphHeader;
    yield graphBytes;
    let k = 0;
    for (const w of weights) {
      const p = params[k];
      if (p === undefined || p.name !== w.name || p.shape.join() !== w.shape.join()) throw new Error(`internal: weight ${w.name} comes where ${p?.name ?? "no weight"} was expected`);
      yield* heads[k++].parts;
      let have = 0;
      for (const c of w.chunks) {
        have += c.byteLength;
        yield bytesOf(c);
      }
      const want = 4 * p.shape.reduce((a, b) => a * b, 1);
      if (have !== want) throw new Error(`internal: weight ${w.name} has ${have / 4} values for ${want / 4}`);
    }
    if (k !== params.length) throw new Error(`internal: ${params.length - k} weights missing from the stream`);
  }
  return { size: head.length + graphHeader.length + graphSize, parts: parts() };
}

/** The parts joined (for a caller that wants the model as one array). */
export function joined(size: number, parts: Iterable<Uint8Array>): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  if (at !== size) throw new Error(`internal: the model has ${at} bytes for ${size}`);
  return out;
}
