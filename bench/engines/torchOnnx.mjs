// PyTorch's own ONNX export of the benchmark's encoder (bench/models/torch-onnx/, written by
// scripts/bench/export_torch_encoder.py with its initializers' data stripped), its initializers
// filled by name from the weights every engine uses.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorProto_DataType } from "onnx-buf";

const DIR = fileURLToPath(new URL("../models/torch-onnx/", import.meta.url));
/** The sizes the committed graphs were exported at (PEERS.md's layer). */
export const TORCH_EXPORT = { d: 512, heads: 8, ff: 2048, layers: [1, 6] };

/** The path of PyTorch's export of the encoder with `layers` layers. */
export const torchEncoderPath = (layers) => `${DIR}encoder-L${layers}.onnx`;

/**
 * ONNX bytes: PyTorch's export of the encoder with `layers` layers, each initializer's data taken
 * from `weights[name]` (a Float32Array, state_dict names). Throws, naming the initializer, when one
 * is missing or its size differs from the graph's.
 */
export function torchEncoderOnnx(weights, { d, heads, ff, layers }) {
  if (d !== TORCH_EXPORT.d || heads !== TORCH_EXPORT.heads || ff !== TORCH_EXPORT.ff || !TORCH_EXPORT.layers.includes(layers)) {
    throw new Error(`PyTorch's export is of d_model ${TORCH_EXPORT.d}, nhead ${TORCH_EXPORT.heads}, dim_feedforward ${TORCH_EXPORT.ff}, ${TORCH_EXPORT.layers.join(" or ")} layers; this workload is d_model ${d}, nhead ${heads}, dim_feedforward ${ff}, ${layers} layers`);
  }
  const path = torchEncoderPath(layers);
  const model = fromBinary(ModelProtoSchema, readFileSync(path));
  for (const init of model.graph.initializer) {
    const w = weights[init.name];
    const n = init.dims.reduce((a, b) => a * Number(b), 1);
    if (!w) throw new Error(`${path}: no weight named ${init.name}`);
    if (init.dataType !== TensorProto_DataType.FLOAT || w.length !== n) {
      throw new Error(`${path}: initializer ${init.name} [${init.dims.join(", ")}] does not take ${w.length} float values`);
    }
    const data = Float32Array.from(w);
    init.rawData = new Uint8Array(data.buffer);
  }
  return toBinary(ModelProtoSchema, model);
}
