import { create, toBinary } from "@bufbuild/protobuf";
import {
  GraphProtoSchema,
  ModelProtoSchema,
  OperatorSetIdProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type ValueInfoProto,
} from "onnx-buf";
import type { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";
import { isConst, type Dim, type DType, type TensorType } from "../semantics/types.js";
import { ExportError, type ExportCtx } from "./context.js";
import { mayBeAllMasked } from "./math.js";
import { int, ONNX_DTYPE, OnnxBuilder, tensorProto } from "./onnxBuilder.js";
import { fuseDenseEpilogue, fuseQkvProjection } from "../passes/fusion.js";
import type { PassNote } from "../passes/pass.js";
import { ATTENTION_MASK, PAST_LENGTH, pastKey, planPast, POSITION_IDS, presentKey, TOTAL_LENGTH } from "./past.js";
import { ONNX } from "./table.js";
import { modelParts, joined } from "./serialize.js";
import { externalInitializers, type ByteSink, type WeightStream } from "./weights.js";

/** The opsets the export writes: 13 (Softmax on one axis) up to what onnxruntime 1.30 runs. */
export const OPSETS = { min: 13, max: 24, default: 17 } as const;

export interface ExportOptions {
  readonly opset: number;
  /** Optional inputs the exported graph leaves out (as if never given). */
  readonly without: readonly string[];
  readonly weights: WeightStream;
  /** Weights to a side file: `location` relative to the model, bytes to `sink`. */
  readonly external?: { readonly location: string; readonly sink: ByteSink };
  /** The .tfm file, for the source lines nodes name in their doc strings. */
  readonly file: string;
  readonly producerVersion: string;
  /**
   * int32 inputs as int64 graph inputs (converted inside), as PyTorch and Hugging Face's exporters
   * type token ids; false keeps the .tfm's dtypes.
   */
  readonly int64Ids?: boolean;
  /** Graph input dtypes chosen by name (an int64 attention_mask for a bool mask), converted inside. */
  readonly inputDtypes?: Readonly<Record<string, DType>>;
  /** A decoder taking and returning its key/value cache (see past.ts). */
  readonly withPast?: boolean;
}

/** The IR version a model of this opset declares (ONNX's versioning table). */
const irVersionOf = (opset: number) => (opset <= 18 ? 8 : opset <= 20 ? 9 : opset <= 22 ? 10 : 11);

/** The largest protobuf message: a model over it needs --external-data. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

const tooLarge = (bytes: number) => `the model is ${(bytes / 2 ** 30).toFixed(2)} GiB, over protobuf's 2 GiB limit for one file: export it with --external-data`;

function valueInfo(name: string, type: TensorType): ValueInfoProto {
  const dim = type.shape.map((d) =>
    create(TensorShapeProto_DimensionSchema, { value: isConst(d) ? { case: "dimValue", value: BigInt(d.value) } : { case: "dimParam", value: d.sym } }),
  );
  const tensorType = create(TypeProto_TensorSchema, { elemType: ONNX_DTYPE[type.dtype], shape: create(TensorShapeProtoSchema, { dim }) });
  return create(ValueInfoProtoSchema, { name, type: create(TypeProtoSchema, { value: { case: "tensorType", value: tensorType } }) });
}

/**
 * Products as PyTorch's exporter writes nn.Linear and nn.MultiheadAttention: the bias with its
 * product, and the query, key and value projections of a packed in_proj_weight as one product
 * whose heads are sliced from the result. Weights keep their names and layouts.
 */
function packProjections(g: IrGraph): IrGraph {
  const notes: PassNote[] = [];
  return [fuseDenseEpilogue, fuseQkvProjection].reduce((graph, pass) => pass.run(graph, { notes }), g);
}

/**
 * Zero (int64 [1]), from a Gather that onnxruntime refuses when the length `n` (int64 [1]) is over
 * `max` ("indices element out of data bounds, idx=n-1"), the node named for the limit. Added to
 * what reads a length or positions, it makes a graph run past a `where T <= max` bound fail
 * rather than slice a table short and give empty or garbage outputs.
 */
function limitProbe(b: OnnxBuilder, n: string, max: number, what: string): string {
  const zeros = b.op("ConstantOfShape", [b.i64([max])], { value: { t: tensorProto("value", "i64", [1], [0]) } });
  return b.op("Gather", [zeros, b.op("Sub", [n, b.i64([1])])], { axis: int(0) }, `/limit/${what} <= ${max}`);
}

/** Norms whose input sum is written as `Sum` (see the `add` rule). */
const NORMS: ReadonlySet<string> = new Set(["layer_norm", "rms_norm"]);

/** The graph as an ONNX model (bytes of a ModelProto); external weights go to the sink as they are made. */
export function exportOnnx(source: IrGraph, options: ExportOptions): Uint8Array {
  const { size, parts } = exportOnnxParts(source, options);
  return joined(size, parts);
}

/**
 * The model's bytes in parts, to be written in order (serialize.ts): inline weights are read as the
 * parts are taken, never joined. Everything but the weights is checked and made first, so an
 * ExportError comes from this call, never from the parts.
 */
export function exportOnnxParts(source: IrGraph, options: ExportOptions): { size: number; parts: Iterable<Uint8Array> } {
  const packed = packProjections(source);
  const past = options.withPast ? planPast(packed) : undefined;
  const g = past?.graph ?? packed;
  const opts = past ? { ...options, without: [...new Set([...options.without, ...past.optional])] } : options;
  const b = new OnnxBuilder(opts.opset);
  const weightBytes = g.meta.params.reduce((a, p) => a + 4 * p.shape.reduce((x, y) => x * y, 1), 0);
  if (!opts.external && weightBytes > PROTOBUF_LIMIT) throw new ExportError(tooLarge(weightBytes));
  // Optional inputs, and inputs with a default (then filled with it, as tfmc run fills them).
  const optional = g.inputs.filter((i) => i.optional || i.default !== undefined).map((i) => i.name);
  for (const w of opts.without) {
    if (!g.inputs.some((i) => i.name === w)) throw new ExportError(`--without ${w}: ${g.meta.name} has no input '${w}' (its inputs: ${g.inputs.map((i) => i.name).join(", ")})`);
    if (!optional.includes(w)) throw new ExportError(`--without ${w}: the input '${w}' is neither optional nor has a default; only those can be left out${optional.length ? ` (${optional.join(", ")})` : ""}`);
  }
  const kept = g.inputs.filter((i) => !opts.without.includes(i.name));

  // Where each symbol can be read at run time: the first kept input with it as a dimension.
  const symbolAt = new Map<string, { input: string; axis: number }>();
  for (const i of kept) i.type.shape.forEach((d, axis) => !isConst(d) && !symbolAt.has(d.sym) && symbolAt.set(d.sym, { input: i.name, axis }));
  const dims = new Map<string, string>();
  const dim = (d: Dim, n: NodeLabel): string => {
    if (isConst(d)) return b.i64([d.value]);
    let name = dims.get(d.sym);
    if (!name) {
      const at = symbolAt.get(d.sym);
      if (!at) throw new ExportError(`'${n.op}' needs the size ${d.sym}, which no input the export keeps has`, n.span);
      name = b.opset >= 15 ? b.op("Shape", [at.input], { start: int(at.axis), end: int(at.axis + 1) }) : b.op("Slice", [b.op("Shape", [at.input]), b.i64([at.axis]), b.i64([at.axis + 1])]);
      const max = maxOf(d);
      if (max !== undefined) name = b.op("Add", [name, limitProbe(b, name, max, d.sym)]);
      dims.set(d.sym, name);
    }
    return name;
  };
  const shapeOf = (ds: readonly Dim[], n: NodeLabel): string =>
    ds.every(isConst) ? b.i64(ds.map((d) => d.value)) : ds.length === 1 ? dim(ds[0], n) : b.op("Concat", ds.map((d) => dim(d, n)), { axis: int(0) });
  const maxOf = (d: Dim) => (isConst(d) ? d.value : g.meta.symbols.find((s) => s.name === d.sym)?.max);
  const cast = (name: string, from: DType, to: DType) => (from === to ? name : b.op("Cast", [name], { to: int(ONNX_DTYPE[to]) }));

  // With past: each cached layer's past keys and values are inputs, its present ones outputs.
  const pastInputs: ValueInfoProto[] = [];
  const presents: { name: string; value: string; type: TensorType }[] = [];
  const cacheType = (id: string, length: string): TensorType => {
    const k = g.node(g.node(id).inputs[1]).shape;
    return { dtype: "f32", shape: [k[0], k[1], { sym: length }, k[3]] };
  };
  if (past) {
    pastInputs.push(valueInfo(ATTENTION_MASK, { dtype: "i64", shape: [past.batch, { sym: TOTAL_LENGTH }] }));
    if (past.positional.size > 0) pastInputs.push(valueInfo(POSITION_IDS, { dtype: "i64", shape: [past.batch, past.length] }));
  }
  for (const [id, layer] of past?.layers ?? []) for (const w of ["key", "value"] as const) pastInputs.push(valueInfo(pastKey(layer, w), cacheType(id, PAST_LENGTH)));
  let pastLength: string | undefined;
  const cachedLength = (): string => {
    const first = pastKey(0, "key");
    return (pastLength ??= b.opset >= 15 ? b.op("Shape", [first], { start: int(2), end: int(3) }) : b.op("Slice", [b.op("Shape", [first]), b.i64([2]), b.i64([3])]));
  };
  // The cache may not grow past the model's limit on T: zero through that check, added where
  // positions are read (the offset of every cached attention's causal mask, position_ids).
  let cacheProbe: string | null | undefined;
  const withCacheLimit = (value: string, n: NodeLabel): string => {
    if (cacheProbe === undefined) {
      const max = maxOf(past!.length);
      cacheProbe = max === undefined ? null : limitProbe(b, b.op("Add", [cachedLength(), dim(past!.length, n)]), max, TOTAL_LENGTH);
    }
    return cacheProbe === null ? value : b.op("Add", [value, cacheProbe]);
  };
  let offsetValue: string | undefined;
  const offset = (n: NodeLabel): string => (offsetValue ??= withCacheLimit(cachedLength(), n));
  let positionValue: string | undefined;
  const positionIds = (n: NodeLabel): string => (positionValue ??= withCacheLimit(POSITION_IDS, n));
  let keyMask: string | undefined;
  /** attention_mask as bool [B, 1, 1, past + T], broadcasting over heads and queries. */
  const keys = (): string => (keyMask ??= b.op("Unsqueeze", [cast(ATTENTION_MASK, "i64", "bool"), b.i64([1, 2])]));

  for (const name of Object.keys(opts.inputDtypes ?? {})) {
    if (!g.inputs.some((i) => i.name === name)) throw new ExportError(`--input-dtype ${name}: ${g.meta.name} has no input '${name}' (its inputs: ${g.inputs.map((i) => i.name).join(", ")})`);
  }
  /** The dtype a kept input has in the graph. */
  const graphDtype = (i: { name: string; type: TensorType }): DType => opts.inputDtypes?.[i.name] ?? (opts.int64Ids === true && i.type.dtype === "i32" ? "i64" : i.type.dtype);
  const values = new Map<string, string | undefined>();
  const omitted = new Set(g.inputs.filter((i) => opts.without.includes(i.name)).map((i) => i.node));
  for (const id of g.order()) {
    const n = g.node(id);
    const where = `${opts.file}:${n.span.line}:${n.span.col}`;
    b.scope = n.scope;
    b.doc = `${n.op} at ${where}`;
    const given = n.op === "input" && !omitted.has(id) ? g.inputs.find((i) => i.node === id) : undefined;
    if (given && graphDtype(given) !== given.type.dtype) {
      values.set(id, cast(given.name, graphDtype(given), given.type.dtype));
      continue;
    }
    if (omitted.has(id)) {
      const input = g.inputs.find((i) => i.node === id)!;
      // A mask attention_mask stands for is no value at all (as an optional one left out).
      const fill = past?.optional.includes(input.name) ? undefined : input.default;
      values.set(id, fill === undefined ? undefined : b.op("ConstantOfShape", [shapeOf(input.type.shape, n)], { value: { t: tensorProto("value", input.type.dtype, [1], [fill]) } }));
      continue;
    }
    const rule = ONNX[n.op];
    if (typeof rule !== "function") throw new ExportError(`'${n.op}'${n.scope ? ` in ${n.scope}` : ""} has no ONNX form: ${rule.none}`, n.span);
    const inNodes = n.inputs.map((i) => g.node(i));
    const ins = n.inputs.map((i) => values.get(i));
    const ctx: ExportCtx = {
      b,
      n,
      ins,
      inNodes,
      dim: (d) => dim(d, n),
      maxOf,
      shape: (ds) => shapeOf(ds, n),
      cast,
      ...(past?.positional.has(id) ? { positionIds: positionIds(n) } : {}),
      ...(past?.layers.has(id)
        ? {
            positionOffset: offset(n),
            cache: {
              key: pastKey(past.layers.get(id)!, "key"),
              value: pastKey(past.layers.get(id)!, "value"),
              keys: keys(),
              keep: (key: string, value: string) => {
                const layer = past.layers.get(id)!;
                presents.push({ name: presentKey(layer, "key"), value: key, type: cacheType(id, TOTAL_LENGTH) });
                presents.push({ name: presentKey(layer, "value"), value, type: cacheType(id, TOTAL_LENGTH) });
              },
            },
          }
        : {}),
      guardSoftmax: n.op === "softmax" && mayBeAllMasked(inNodes[0], (i) => g.node(i)),
      feedsNormOnly: g.consumers(id).length > 0 && g.consumers(id).every((c) => NORMS.has(g.node(c).op)) && !g.outputs.some((o) => o.node === id),
      need: (k) => {
        const v = ins[k];
        if (v === undefined) {
          const input = g.inputs.find((i) => i.node === n.inputs[k]);
          throw new ExportError(`'${n.op}'${n.scope ? ` in ${n.scope}` : ""} reads the input '${input?.name ?? n.inputs[k]}', which --without leaves out`, n.span);
        }
        return v;
      },
    };
    values.set(id, rule(ctx));
  }
  b.scope = "";
  b.doc = "";
  for (const o of g.outputs) {
    const v = values.get(o.node);
    if (v === undefined) throw new ExportError(`the output '${o.name}' is the input --without leaves out`);
    b.output(o.name, v);
  }
  for (const p of presents) b.output(p.name, p.value);
  const graph = create(GraphProtoSchema, {
    name: g.meta.name,
    node: b.nodes,
    input: [...kept.map((i) => valueInfo(i.name, { ...i.type, dtype: graphDtype(i) })), ...pastInputs],
    output: [...g.outputs.map((o) => valueInfo(o.name, o.type)), ...presents.map((p) => valueInfo(p.name, p.type))],
    initializer: opts.external ? externalInitializers(opts.weights, opts.external, b.constants) : b.constants,
  });
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(irVersionOf(opts.opset)),
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(opts.opset) })],
    producerName: "tfmc",
    producerVersion: opts.producerVersion,
    docString: `${g.meta.name}, exported from ${opts.file}`,
    graph,
  });
  const whole = opts.external ? toBinary(ModelProtoSchema, model) : undefined;
  const out = whole ? { size: whole.length, parts: [whole] } : modelParts(model, g.meta.params, opts.weights);
  if (out.size > PROTOBUF_LIMIT) throw new ExportError(tooLarge(out.size));
  return out;
}
