import type { OnnxModel, OnnxNode, ValueInfo } from "./loadOnnxCase.js";
import { broadcast, IrBuilder, Skip, type Plan } from "./irBuilder.js";
import { attention } from "./translateAttention.js";

// Translations of single-op ONNX models into tfmc IR primitives. Each one either builds the graph
// or throws Skip with the reason the IR cannot express the case.

export const IN_SCOPE_OPS = ["MatMul", "Softmax", "LayerNormalization", "Gelu", "Attention"] as const;

export interface Ctx {
  readonly b: IrBuilder;
  readonly node: OnnxNode;
  readonly model: OnnxModel;
  /** The ONNX graph input feeding node input `slot`, or undefined when the slot is empty. */
  arg(slot: number): (ValueInfo & { index: number }) | undefined;
  /** Marks `node` as the value of the node's output `slot` (output_N.pb goes by graph output order). */
  out(slot: number, node: string, onnxShape?: readonly number[]): void;
}

const num = (ctx: Ctx, name: string): number | undefined => {
  const v = ctx.node.attrs.get(name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number") throw new Skip(`attribute ${name}=${JSON.stringify(v)} is not a number`);
  return v;
};

function onlyAttrs(ctx: Ctx, known: string[]): void {
  const extra = [...ctx.node.attrs.keys()].filter((k) => !known.includes(k));
  if (extra.length > 0) throw new Skip(`attribute ${extra.join(", ")} not handled`);
}

function float32(...args: (ValueInfo | undefined)[]): void {
  for (const a of args) if (a && a.dtype !== "FLOAT") throw new Skip(`${a.dtype} input ${a.name} (tfmc computes in float32 only)`);
}

const normAxis = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Skip(`axis ${axis} out of range for rank ${rank}`);
  return a;
};

const req = (ctx: Ctx, slot: number) => {
  const a = ctx.arg(slot);
  if (!a) throw new Error(`${ctx.node.opType}: required input ${slot} missing`);
  return a;
};

/** Inputs of the node as IR inputs, one per ONNX graph input, declared with `shape` (default: ONNX's). */
const feed = (ctx: Ctx, slot: number, shape?: readonly number[]) => {
  const a = req(ctx, slot);
  return ctx.b.input(a.name, a.index, a.dtype === "BOOL" ? "bool" : "f32", shape ?? a.shape, a.shape);
};

function matMul(ctx: Ctx): void {
  onlyAttrs(ctx, []);
  const [a, b] = [req(ctx, 0), req(ctx, 1)];
  float32(a, b);
  // numpy promotes a 1-D left operand to a row [1, K] and a 1-D right one to a column [K, 1], then
  // drops the added dimension from the result. Both are views, so the IR's matmul does all the work.
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  if (as.length < 2 || bs.length < 2) throw new Skip("a 0-D MatMul operand");
  const batch = broadcast(as.slice(0, -2), bs.slice(0, -2));
  if (!batch || as[as.length - 1] !== bs[bs.length - 2]) throw new Skip("operands do not fit");
  const out = [...batch, as[as.length - 2], bs[bs.length - 1]];
  const y = ctx.b.op("matmul", [feed(ctx, 0, as), feed(ctx, 1, bs)], out);
  const onnxOut = out.filter((_, k) => !(b.shape.length === 1 && k === out.length - 1) && !(a.shape.length === 1 && k === out.length - 2));
  ctx.out(0, y, onnxOut);
}

function softmax(ctx: Ctx): void {
  onlyAttrs(ctx, ["axis"]);
  // Before opset 13 Softmax flattened to 2-D around the axis; every case here is opset 13 or later.
  if (ctx.model.opset < 13) throw new Skip(`Softmax opset ${ctx.model.opset} (2-D coercion semantics)`);
  const x = req(ctx, 0);
  float32(x);
  const axis = normAxis(num(ctx, "axis") ?? -1, x.shape.length);
  ctx.out(0, ctx.b.op("softmax", [feed(ctx, 0)], x.shape, { axis }));
}

function layerNormalization(ctx: Ctx): void {
  onlyAttrs(ctx, ["axis", "epsilon", "stash_type"]);
  const [x, w, bias] = [req(ctx, 0), req(ctx, 1), ctx.arg(2)];
  float32(x, w, bias);
  if ((num(ctx, "stash_type") ?? 1) !== 1) throw new Skip("stash_type other than float32");
  const axis = normAxis(num(ctx, "axis") ?? -1, x.shape.length);
  const normalised = x.shape.slice(axis);
  for (const p of [w, bias]) {
    if (p && p.shape.join() !== normalised.join()) throw new Skip(`${p.name} [${p.shape.join(", ")}] broadcasts over [${normalised.join(", ")}]`);
  }
  // tfmc's layer_norm normalises the last dimension. Normalising dims axis.. is the same thing on
  // the view [outer, inner] of X, with the scale and bias flattened to [inner].
  const inner = normalised.reduce((a, d) => a * d, 1);
  const rows = x.shape.slice(0, axis).reduce((a, d) => a * d, 1);
  const flat = axis === x.shape.length - 1 ? x.shape : [rows, inner];
  const ins = [feed(ctx, 0, flat), feed(ctx, 1, [inner]), ...(bias ? [feed(ctx, 2, [inner])] : [])];
  const eps = num(ctx, "epsilon") ?? 1e-5;
  ctx.out(0, ctx.b.op("layer_norm", ins, flat, { eps }), x.shape);
  if (!ctx.node.outputs[1] && !ctx.node.outputs[2]) return;
  // Mean and InvStdDev = 1 / sqrt(variance + epsilon) over the normalised dims, from primitives;
  // ONNX keeps the reduced dims as 1s.
  const b = ctx.b;
  const last = flat.length - 1;
  const kept = [...flat.slice(0, last), 1];
  const reduced = x.shape.map((d, k) => (k < axis ? d : 1));
  const mean = b.op("mean", [ins[0]], kept, { axes: String(last), keepdim: true });
  const dev = b.op("sub", [ins[0], mean], flat);
  const variance = b.op("mean", [b.op("mul", [dev, dev], flat)], kept, { axes: String(last), keepdim: true });
  const inv = b.op("rsqrt", [b.op("scalar", [variance], kept, { op: "+", value: eps, reverse: false })], kept);
  if (ctx.node.outputs[1]) ctx.out(1, b.op("reshape", [mean], reduced));
  if (ctx.node.outputs[2]) ctx.out(2, b.op("reshape", [inv], reduced));
}

function gelu(ctx: Ctx): void {
  onlyAttrs(ctx, ["approximate"]);
  const x = req(ctx, 0);
  float32(x);
  const approx = ctx.node.attrs.get("approximate") ?? "none";
  if (approx !== "none" && approx !== "tanh") throw new Skip(`approximate=${String(approx)}`);
  ctx.out(0, ctx.b.op(approx === "tanh" ? "gelu_tanh" : "gelu", [feed(ctx, 0)], x.shape));
}

const TRANSLATE: Record<(typeof IN_SCOPE_OPS)[number], (ctx: Ctx) => void> = {
  MatMul: matMul,
  Softmax: softmax,
  LayerNormalization: layerNormalization,
  Gelu: gelu,
  Attention: attention,
};

/** The plan for a one-node model of an in-scope op; throws Skip when the IR cannot express it. */
export function translateOp(caseName: string, model: OnnxModel): Plan {
  const [node] = model.nodes;
  if (model.nodes.length !== 1 || node.domain !== "") throw new Skip("not a single default-domain node");
  const translate = TRANSLATE[node.opType as keyof typeof TRANSLATE];
  if (!translate) throw new Skip(`op ${node.opType} is not in scope`);
  const b = new IrBuilder(caseName);
  const arg = (slot: number) => {
    const name = node.inputs[slot];
    if (!name) return undefined;
    const index = model.inputs.findIndex((i) => i.name === name);
    if (index < 0) throw new Skip(`input ${name} is not a graph input (initializer or constant)`);
    return { ...model.inputs[index], index };
  };
  const out = (slot: number, id: string, onnxShape?: readonly number[]) => {
    const name = node.outputs[slot];
    b.output(name, model.outputs.findIndex((o) => o.name === name), id, onnxShape);
  };
  translate({ b, node, model, arg, out });
  return b.plan();
}
