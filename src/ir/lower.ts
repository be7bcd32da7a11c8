import type { Span } from "../diagnostics/diagnostic.js";
import type { CheckedModel, Dim, LayerNode, TensorType } from "../semantics/types.js";
import { IrGraph, interfaceOf } from "./graph.js";
import type { Attr, NodeLabel } from "./node.js";
import { MASK_ROLES } from "./masks.js";
import type { Op } from "./ops.js";

/** Thrown when a checked model uses something the IR cannot express yet. */
export class LoweringError extends Error {
  constructor(
    message: string,
    readonly span: Span,
  ) {
    super(message);
  }
}

const c = (value: number): Dim => ({ value });

/** Performer's random features are drawn from this fixed seed, so compiled output is deterministic. */
export const PERFORMER_SEED = 20200930;

/**
 * Lowers the checked model's layers into primitive ops. Parameters become `param` nodes shared by
 * every use (a tied head reads the embedding's node). Each layer's ops keep the layer's span and scope.
 */
export function lowerModel(m: CheckedModel): IrGraph {
  const g = new IrGraph(interfaceOf(m));
  const ids = new Map<number, string>();
  const params = new Map<string, string>();
  const paramShapes = new Map(m.params.map((p) => [p.name, p.shape]));

  for (const layer of m.nodes) {
    const emit = (op: Op, inputs: string[], shape: readonly Dim[], attrs: Record<string, Attr> = {}, dtype: TensorType["dtype"] = "f32") =>
      g.addNode({ op, inputs, shape, dtype, attrs, span: layer.span, scope: layer.scope } satisfies NodeLabel);
    const param = (name: string): string => {
      let id = params.get(name);
      if (!id) {
        const shape = paramShapes.get(name)!;
        id = g.addNode({ op: "param", inputs: [], shape: shape.map(c), dtype: "f32", attrs: { name }, span: layer.span, scope: scopeOfParam(name) });
        params.set(name, id);
      }
      return id;
    };
    const input = (slot: string) => ids.get(layer.inputs[slot])!;
    ids.set(layer.id, lowerLayer(layer, { emit, param, paramShape: (name) => paramShapes.get(name)!, input, shapeOf: (slot) => m.nodes[layer.inputs[slot]].type.shape }));
  }
  for (const i of m.inputs) g.inputs.push({ name: i.name, node: ids.get(i.node)!, type: i.type, optional: i.optional, ...(i.default !== undefined ? { default: i.default } : {}) });
  for (const o of m.outputs) g.outputs.push({ name: o.name, node: ids.get(o.node)!, type: o.type });
  return g;
}

const scopeOfParam = (name: string) => (name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : "");

interface LowerCtx {
  emit(op: Op, inputs: string[], shape: readonly Dim[], attrs?: Record<string, Attr>, dtype?: TensorType["dtype"]): string;
  param(name: string): string;
  paramShape(name: string): readonly number[];
  input(slot: string): string;
  shapeOf(slot: string): readonly Dim[];
}

function withLast(shape: readonly Dim[], d: number): Dim[] {
  return [...shape.slice(0, -1), c(d)];
}

/** x W^T (+ b): the primitive form of nn.Linear. */
function dense(ctx: LowerCtx, x: string, xShape: readonly Dim[], weight: string, out: number, bias?: string): string {
  const shape = withLast(xShape, out);
  const y = ctx.emit("dense", [x, weight], shape);
  return bias ? ctx.emit("add", [y, bias], shape) : y;
}

/**
 * A projection's weight as dense reads it, [out, in]. A Conv1D weight [in, out] is transposed: the
 * transpose depends only on the parameter, so the module computes it once when the model is created
 * and every call runs the same dense kernel (and fusions) as nn.Linear's layout.
 */
function weightOf(ctx: LowerCtx, name: string, layout: Attr | undefined, inDim: number, out: number): string {
  const w = ctx.param(name);
  return layout === "conv1d" ? ctx.emit("transpose", [w], [c(out), c(inDim)], { dim0: 0, dim1: 1 }) : w;
}

function lowerLayer(layer: LayerNode, ctx: LowerCtx): string {
  const a = layer.attrs;
  const p = layer.params;
  const shape = layer.type.shape;
  switch (layer.layer) {
    case "input":
      return ctx.emit("input", [], shape, { name: a.name as string }, layer.type.dtype);
    case "embedding":
      return ctx.emit("gather", [ctx.param(p.weight), ctx.input("ids")], shape);
    case "linear":
      return dense(ctx, ctx.input("x"), ctx.shapeOf("x"), weightOf(ctx, p.weight, a.layout, a.in as number, a.out as number), a.out as number, p.bias ? ctx.param(p.bias) : undefined);
    case "layer_norm":
    case "rms_norm": {
      const ins = [ctx.input("x"), ...(p.weight ? [ctx.param(p.weight)] : []), ...(p.bias ? [ctx.param(p.bias)] : [])];
      return ctx.emit(layer.layer, ins, shape, { eps: a.eps as number });
    }
    case "activation":
      return ctx.emit(a.fn as Op, [ctx.input("x")], shape);
    case "softmax":
      return ctx.emit("softmax", [ctx.input("x")], shape, { axis: a.axis as number });
    case "transpose":
      return ctx.emit("transpose", [ctx.input("x")], shape, { dim0: a.dim0 as number, dim1: a.dim1 as number });
    case "ffn":
      return lowerFfn(layer, ctx);
    case "add_norm": {
      const sum = ctx.emit("add", [ctx.input("x"), ctx.input("y")], shape);
      return ctx.emit("layer_norm", [sum, ctx.param(p.weight), ...(p.bias ? [ctx.param(p.bias)] : [])], shape, { eps: a.eps as number });
    }
    case "learned_positions":
      return ctx.emit("slice_rows", [ctx.param(p.weight)], shape, { start: 0 });
    case "sinusoidal_positions":
      return ctx.emit("sinusoidal", [], shape, { base: a.base as number });
    case "binary":
      return ctx.emit(({ "+": "add", "-": "sub", "*": "mul", "/": "div" } as const)[a.op as "+"], [ctx.input("a"), ctx.input("b")], shape);
    case "scalar":
      return ctx.emit("scalar", [ctx.input("x")], shape, { op: a.op, value: a.value, reverse: a.reverse });
    case "matmul":
      return ctx.emit("matmul", [ctx.input("a"), ctx.input("b")], shape);
    case "attention":
      return lowerAttention(layer, ctx);
    case "param_ref":
      return ctx.param(a.name as string);
    case "prim": {
      // A primitive called in the source: its inputs are in0, in1, ...; its attrs are the op's.
      const { op, ...attrs } = a;
      const ins = Object.keys(layer.inputs).map((_, i) => ctx.input(`in${i}`));
      return ctx.emit(op as Op, ins, shape, attrs, layer.type.dtype);
    }
    default:
      throw new LoweringError(`layer '${layer.layer}' has no lowering`, layer.span);
  }
}

/** act(x W1ᵀ + b1) W2ᵀ + b2, or gated: (act(x Wgᵀ + bg) * (x Wuᵀ + bu)) W2ᵀ + b2. */
function lowerFfn(layer: LayerNode, ctx: LowerCtx): string {
  const a = layer.attrs;
  const p = layer.params;
  const [inDim, hidden, out] = [a.in as number, a.hidden as number, a.out as number];
  const hShape = withLast(layer.type.shape, hidden);
  const project = (x: string, xShape: readonly Dim[], key: string, i: number, o: number) =>
    dense(ctx, x, xShape, weightOf(ctx, p[`w${key}`], a.layout, i, o), o, p[`b${key}`] ? ctx.param(p[`b${key}`]) : undefined);
  let h: string;
  if (a.gated) {
    const gate = ctx.emit(a.act as Op, [project(ctx.input("x"), ctx.shapeOf("x"), "_gate", inDim, hidden)], hShape);
    h = ctx.emit("mul", [gate, project(ctx.input("x"), ctx.shapeOf("x"), "_up", inDim, hidden)], hShape);
  } else {
    h = ctx.emit(a.act as Op, [project(ctx.input("x"), ctx.shapeOf("x"), "1", inDim, hidden)], hShape);
  }
  return project(h, hShape, "2", hidden, out);
}

/** Projections, heads, scores, masks, softmax, weighted values, output projection. */
function lowerAttention(layer: LayerNode, ctx: LowerCtx): string {
  const a = layer.attrs;
  const p = layer.params;
  const E = a.embed as number;
  const H = a.heads as number;
  const D = E / H;
  // Grouped-query attention: Hk key/value heads, each read by H / Hk query heads.
  const Hk = (a.kv_heads as number | undefined) ?? H;
  const Ekv = Hk * D;
  const [B, L] = layer.type.shape;
  const S = ctx.shapeOf("key")[1];
  // Rows of the packed projection (in_proj_weight, or Conv1D's weight transposed once): q, k, v.
  const rows = { q: [0, E], k: [E, Ekv], v: [E + Ekv, Ekv] } as const;
  const bias = (role: "q" | "k" | "v"): string | undefined => {
    if (p[`${role}_bias`]) return ctx.param(p[`${role}_bias`]);
    if (!p.in_proj_bias) return undefined;
    const [start, size] = rows[role];
    return ctx.emit("slice_last", [ctx.param(p.in_proj_bias)], [c(size)], { start, size });
  };
  // Conv1D keeps its weights as [in, out] (y = x W + b): transposed once, as parameters only, to nn.Linear's [out, in].
  const transposed = (name: string): string => {
    const [rowsIn, cols] = ctx.paramShape(name);
    return ctx.emit("transpose", [ctx.param(name)], [c(cols), c(rowsIn)], { dim0: 0, dim1: 1 });
  };
  let packed: string | undefined;
  const weight = (role: "q" | "k" | "v"): string => {
    if (p[`${role}_weight`]) return ctx.param(p[`${role}_weight`]);
    packed ??= p.conv_weight ? transposed(p.conv_weight) : ctx.param(p.in_proj_weight);
    const [start, size] = rows[role];
    return ctx.emit("slice_rows", [packed], [c(size), c(E)], { start });
  };
  const project = (slot: "query" | "key" | "value", role: "q" | "k" | "v", len: Dim) => {
    const heads = role === "q" ? H : Hk;
    const y = dense(ctx, ctx.input(slot), ctx.shapeOf(slot), weight(role), heads * D, bias(role));
    return ctx.emit("split_heads", [y], [B, c(heads), len, c(D)], { heads });
  };
  // Rotary embeddings turn queries and keys by their positions, after the heads are split.
  const rotate = (x: string, heads: number, len: Dim) =>
    a.rotary_dim === null || a.rotary_dim === undefined
      ? x
      : ctx.emit("rope", [x], [B, c(heads), len, c(D)], { theta: a.rotary_theta as number, dim: a.rotary_dim as number, interleaved: a.rotary_interleaved as boolean });
  // The unfused form repeats keys and values for their query heads; fused attention reads them by group.
  const repeat = (x: string) => (Hk === H ? x : ctx.emit("repeat_kv", [x], [B, c(H), S, c(D)], { groups: H / Hk }));
  const q = rotate(project("query", "q", L), H, L);
  const k = repeat(rotate(project("key", "k", S), Hk, S));
  const v = repeat(project("value", "v", S));
  const outWeight = () => (p.out_conv_weight ? transposed(p.out_conv_weight) : ctx.param(p.out_weight));
  const roles = MASK_ROLES.filter((r) => layer.inputs[r] !== undefined);
  const masks = roles.map((r) => ctx.input(r));
  const common = { roles: roles.join(","), causal: a.causal as boolean };
  let rewritten: string | undefined;
  switch (a.kernel) {
    case "linear":
      rewritten = ctx.emit("linear_attention", [q, k, v, ...masks], [B, c(H), L, c(D)], common);
      break;
    case "performer":
      rewritten = ctx.emit("performer_attention", [q, k, v, ...masks], [B, c(H), L, c(D)], { ...common, features: a.features as number, seed: PERFORMER_SEED, scale: a.scale as number });
      break;
    case "linformer":
      rewritten = ctx.emit("linformer_attention", [q, k, v, ctx.param(p.proj_k), ctx.param(p.proj_v), ...masks], [B, c(H), L, c(D)], { ...common, scale: a.scale as number });
      break;
    case "local":
      rewritten = ctx.emit("local_attention", [q, k, v, ...masks], [B, c(H), L, c(D)], { ...common, scale: a.scale as number, window: a.window as number });
      break;
  }
  if (rewritten !== undefined) {
    const merged = ctx.emit("merge_heads", [rewritten], [B, L, c(E)]);
    return dense(ctx, merged, [B, L, c(E)], outWeight(), E, p.out_bias ? ctx.param(p.out_bias) : undefined);
  }
  const kt = ctx.emit("transpose", [k], [B, c(H), c(D), S], { dim0: 2, dim1: 3 });
  const raw = ctx.emit("matmul", [q, kt], [B, c(H), L, S]);
  let scores = ctx.emit("scalar", [raw], [B, c(H), L, S], { op: "*", value: a.scale as number, reverse: false });
  if (roles.length > 0 || a.causal) scores = ctx.emit("mask_scores", [scores, ...masks], [B, c(H), L, S], common);
  const probs = ctx.emit("softmax", [scores], [B, c(H), L, S], { axis: 3 });
  const heads = ctx.emit("matmul", [probs, v], [B, c(H), L, c(D)]);
  const merged = ctx.emit("merge_heads", [heads], [B, L, c(E)]);
  return dense(ctx, merged, [B, L, c(E)], outWeight(), E, p.out_bias ? ctx.param(p.out_bias) : undefined);
}
