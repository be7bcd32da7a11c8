import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { onnx as OnnxTypes } from "onnx-proto";
import { ROOT } from "../helpers.js";

// Reads ONNX backend node test cases (see cases/SOURCE.md) with onnx-proto,
// protobufjs static code for onnx.proto. onnx-proto is CommonJS assigning `module.exports`, which
// Node's ESM loader cannot split into named exports, hence `require`.
const { onnx } = createRequire(import.meta.url)("onnx-proto") as typeof import("onnx-proto");

/** The cases are part of the repository (copied from onnx/onnx, see cases/SOURCE.md). */
export const ONNX_DIR = join(ROOT, "test", "onnx", "cases");

/** Every case folder, sorted; throws when the folder is missing so the suite fails instead of passing empty. */
export function listCases(): string[] {
  if (!existsSync(ONNX_DIR)) throw new Error(`ONNX node tests not found at ${ONNX_DIR} (test/onnx/cases in the repository)`);
  const cases = readdirSync(ONNX_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith("test_"))
    .map((d) => d.name)
    .sort();
  if (cases.length === 0) throw new Error(`no test_* case folders in ${ONNX_DIR}`);
  return cases;
}

type Long = { toString(): string };
const toNum = (v: number | Long): number => (typeof v === "number" ? v : Number(v.toString()));

/** ONNX element type names by TensorProto.DataType number (FLOAT, BOOL, INT64, FLOAT16, ...). */
export const dtypeName = (t: number): string => onnx.TensorProto.DataType[t] ?? `dtype ${t}`;

export type Attr = number | string | number[] | null;

export interface ValueInfo {
  readonly name: string;
  readonly dtype: string;
  /** Dimensions; a symbolic or unknown one is NaN (none occur in the node tests). */
  readonly shape: readonly number[];
}

export interface OnnxNode {
  readonly opType: string;
  readonly domain: string;
  /** Input names; "" marks an optional input left out. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: ReadonlyMap<string, Attr>;
  /** A `Constant` node's value, decoded. */
  readonly value?: Tensor;
}

export interface OnnxModel {
  /** The default domain's opset version. */
  readonly opset: number;
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
}

export interface Tensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** FLOAT as Float32Array, BOOL as Uint8Array, INT64 as BigInt64Array; null for types the test never feeds. */
  readonly data: Float32Array | Uint8Array | BigInt64Array | null;
}

function valueInfo(v: OnnxTypes.IValueInfoProto): ValueInfo {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim ?? [];
  // A dimension with neither value nor parameter decodes as 0 for dimValue; dimParam tells them apart.
  const shape = dims.map((d) => (d.dimParam ? NaN : toNum(d.dimValue ?? NaN)));
  return { name: v.name ?? "", dtype: dtypeName(t?.elemType ?? 0), shape };
}

function attrValue(a: OnnxTypes.IAttributeProto): Attr {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.FLOAT:
      return a.f ?? 0;
    case T.INT:
      return toNum(a.i ?? 0);
    case T.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case T.FLOATS:
      return [...(a.floats ?? [])];
    case T.INTS:
      return (a.ints ?? []).map(toNum);
    default:
      // Tensors (Constant's `value`) are decoded separately; other kinds do not occur in these cases.
      return null;
  }
}

export function readModel(caseName: string): OnnxModel {
  const m = onnx.ModelProto.decode(readFileSync(join(ONNX_DIR, caseName, "model.onnx")));
  const g = m.graph;
  if (!g) throw new Error(`${caseName}: model.onnx has no graph`);
  const opset = m.opsetImport.find((o) => !o.domain || o.domain === "ai.onnx")?.version;
  const initialised = new Set((g.initializer ?? []).map((t) => t.name));
  return {
    opset: toNum(opset ?? 0),
    nodes: (g.node ?? []).map((n) => {
      const attrs = n.attribute ?? [];
      const value = attrs.find((a) => a.name === "value" && a.t)?.t;
      return {
        opType: n.opType ?? "",
        domain: n.domain ?? "",
        inputs: [...(n.input ?? [])],
        outputs: [...(n.output ?? [])],
        attrs: new Map(attrs.filter((a) => a.name !== "value" || !a.t).map((a) => [a.name ?? "", attrValue(a)])),
        ...(value ? { value: tensorOf(value) } : {}),
      };
    }),
    // Initializers listed as inputs (older IR versions) are weights, not feeds; none occur here.
    inputs: (g.input ?? []).filter((i) => !initialised.has(i.name ?? "")).map(valueInfo),
    outputs: (g.output ?? []).map(valueInfo),
  };
}

/** Copies `n` elements of `size` bytes out of raw_data, little-endian as the format requires. */
function fromRaw<T>(raw: Uint8Array, n: number, size: number, read: (v: DataView, at: number) => T): T[] {
  if (raw.byteLength !== n * size) throw new Error(`raw_data holds ${raw.byteLength} bytes, expected ${n * size}`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: n }, (_, k) => read(view, k * size));
}

function tensorOf(t: OnnxTypes.ITensorProto): Tensor {
  const shape = (t.dims ?? []).map(toNum);
  const n = shape.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : null;
  const dtype = dtypeName(t.dataType ?? 0);
  const T = onnx.TensorProto.DataType;
  let data: Tensor["data"] = null;
  if (t.dataType === T.FLOAT) {
    data = Float32Array.from(raw ? fromRaw(raw, n, 4, (v, at) => v.getFloat32(at, true)) : t.floatData ?? []);
  } else if (t.dataType === T.BOOL) {
    data = Uint8Array.from(raw ? raw : t.int32Data ?? [], (v) => (v ? 1 : 0));
  } else if (t.dataType === T.INT64) {
    data = BigInt64Array.from(raw ? fromRaw(raw, n, 8, (v, at) => v.getBigInt64(at, true)) : (t.int64Data ?? []).map((v) => BigInt(v.toString())));
  }
  if (data && data.length !== n) throw new Error(`tensor '${t.name}': ${data.length} elements for shape [${shape.join(", ")}]`);
  return { name: t.name ?? "", dtype, shape, data };
}

export function readTensor(caseName: string, file: string): Tensor {
  return tensorOf(onnx.TensorProto.decode(readFileSync(join(ONNX_DIR, caseName, "test_data_set_0", file))));
}

/** The data set's inputs and expected outputs, in graph order (input_0.pb, input_1.pb, ...). */
export function readDataSet(caseName: string, model: OnnxModel): { inputs: Tensor[]; outputs: Tensor[] } {
  return {
    inputs: model.inputs.map((_, k) => readTensor(caseName, `input_${k}.pb`)),
    outputs: model.outputs.map((_, k) => readTensor(caseName, `output_${k}.pb`)),
  };
}
