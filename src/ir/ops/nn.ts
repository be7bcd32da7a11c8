import { KERNELS } from "../../codegen/kernels.js";
import type { Dim } from "../../semantics/types.js";
import type { NodeLabel } from "../node.js";
import { Poly } from "../poly.js";
import { REFERENCE } from "../reference.js";
import { SHAPE_RULES } from "../shapeRules.js";
import type { NnOp } from "./names.js";
import { positionwise, type OpDef, type SessionRule } from "./opDef.js";

// The ops the layers lower to and the fusions produce: sources, layout moves for heads, matrix
// products, elementwise arithmetic and activations, softmax and the norms. Each entry lists every
// field; the float64 reference, shape rule and kernel it names live in reference.ts,
// shapeRules.ts and codegen/kernels.ts, keyed by the same names.

const out = (n: NodeLabel) => Poly.dims(n.shape);
const last = (s: readonly Dim[]): Poly => Poly.dims(s.slice(-1));
const none = () => new Poly();
const f32 = () => "f32" as const;
const declared = (_ins: unknown, n: NodeLabel) => n.dtype;
const plain = (n: NodeLabel) => n.op;
const never = () => false;

/** Works on each row of the last axis: exact unless that axis is the sequence (or an input's is). */
const rowWise =
  (readsInputs = true): SessionRule =>
  (n, ins, axes, outAxis) =>
    outAxis === n.shape.length - 1 || (readsInputs && ins.some((x, k) => axes[k] >= 0 && axes[k] === x.shape.length - 1)) ? `'${n.op}' works along the sequence axis` : undefined;

/** Sources are computed once (parameters) or fed (inputs): never a step of their own. */
const source: SessionRule = () => undefined;

function entry(op: NnOp, def: Omit<OpDef, "infer" | "interpret" | "kernel" | "label" | "fused" | "epilogue" | "wasm"> & Partial<Pick<OpDef, "label" | "fused" | "epilogue" | "wasm">>): OpDef {
  return { label: plain, fused: never, epilogue: false, wasm: "none", ...def, infer: SHAPE_RULES[op], interpret: REFERENCE[op], kernel: KERNELS[op] };
}

const activation = (op: NnOp, doc: string): OpDef =>
  entry(op, { arity: [1, 1], kind: "elementwise", doc, attrs: {}, dtype: f32, flops: out, session: rowWise(), epilogue: true });

const arithmetic = (op: NnOp, doc: string): OpDef => entry(op, { arity: [2, 2], kind: "broadcast", doc, attrs: {}, dtype: f32, flops: out, session: positionwise });

/** A dense product names what its epilogue holds: `dense [matmul + bias + gelu]`. */
function denseParts(n: NodeLabel): string[] {
  const parts = ["matmul"];
  if (n.inputs.length > 2) parts.push("bias");
  if (n.attrs.act !== undefined) parts.push(String(n.attrs.act));
  return parts;
}

export const NN: Record<NnOp, OpDef> = {
  input: entry("input", { arity: [0, 0], kind: "source", doc: "a model input, by name", attrs: { name: "string", optional: "bool" }, dtype: declared, flops: none, session: source }),
  param: entry("param", { arity: [0, 0], kind: "source", doc: "a parameter tensor, by name", attrs: { name: "string" }, dtype: declared, flops: none, session: source }),
  sinusoidal: entry("sinusoidal", { arity: [0, 0], kind: "source", doc: "the sinusoidal position table [length, dim]", attrs: { base: "float" }, dtype: f32, flops: out, session: "positional" }),
  gather: entry("gather", {
    arity: [2, 2],
    kind: "injective",
    doc: "rows of a table [V, d] picked by integer ids [...] -> [..., d]",
    attrs: {},
    dtype: f32,
    flops: none,
    // The ids [B, T] are positions, not an axis the gather reduces.
    session: rowWise(false),
  }),
  slice_rows: entry("slice_rows", { arity: [1, 1], kind: "injective", doc: "rows start..start+length of a matrix", attrs: { start: "int" }, dtype: f32, flops: none, session: "positional" }),
  slice_last: entry("slice_last", { arity: [1, 1], kind: "injective", doc: "columns start..start+size of the last dimension", attrs: { start: "int", size: "int" }, dtype: f32, flops: none, session: rowWise() }),
  transpose: entry("transpose", {
    arity: [1, 1],
    kind: "injective",
    doc: "swaps two dimensions",
    attrs: { dim0: "int", dim1: "int" },
    dtype: (ins) => ins[0],
    flops: none,
    session: (n, _ins, axes, outAxis) => (outAxis >= 0 && (n.attrs.dim0 === axes[0] || n.attrs.dim1 === axes[0]) ? "a transpose moves the sequence axis" : undefined),
  }),
  split_heads: entry("split_heads", { arity: [1, 1], kind: "injective", doc: "[B, L, H*D] -> [B, H, L, D]", attrs: { heads: "int", offset: "int" }, dtype: f32, flops: none, session: rowWise() }),
  repeat_kv: entry("repeat_kv", {
    arity: [1, 1],
    kind: "injective",
    doc: "[B, Hkv, S, D] -> [B, Hkv*groups, S, D]: each key/value head repeated for the `groups` query heads that share it (Hugging Face's repeat_kv)",
    attrs: { groups: "int" },
    dtype: f32,
    flops: none,
    session: positionwise,
  }),
  merge_heads: entry("merge_heads", { arity: [1, 1], kind: "injective", doc: "[B, H, L, D] -> [B, L, H*D]", attrs: {}, dtype: f32, flops: none, session: rowWise() }),
  dense: entry("dense", {
    arity: [2, 3],
    kind: "outFusable",
    doc: "x [..., K] times the transpose of w [N, K], plus bias [N], then `act` -> [..., N]",
    attrs: { act: "string" },
    label: (n) => (denseParts(n).length > 1 ? `dense [${denseParts(n).join(" + ")}]` : "dense"),
    fused: (n) => denseParts(n).length > 1,
    dtype: f32,
    flops: (n, ins) => out(n).mul(last(ins[0].shape)).scale(2).add(ins.length > 2 ? out(n) : new Poly()),
    session: rowWise(),
    wasm: "dense",
  }),
  matmul: entry("matmul", {
    arity: [2, 2],
    kind: "outFusable",
    doc: "batched matrix product with broadcast batch dimensions",
    attrs: {},
    dtype: f32,
    flops: (n, ins) => out(n).mul(last(ins[0].shape)).scale(2),
    session: (_n, ins, axes) => (axes[1] >= 0 || axes[0] === ins[0].shape.length - 1 ? "a matrix product mixes positions" : undefined),
  }),
  add: arithmetic("add", "a + b"),
  sub: arithmetic("sub", "a - b"),
  mul: arithmetic("mul", "a * b"),
  div: arithmetic("div", "a / b"),
  scalar: entry("scalar", { arity: [1, 1], kind: "elementwise", doc: "x op c (or c op x when reversed) for a constant c", attrs: { op: "string", value: "float", reverse: "bool" }, dtype: f32, flops: out, session: rowWise() }),
  relu: activation("relu", "max(x, 0)"),
  gelu: activation("gelu", "x * Phi(x), exact (erf)"),
  gelu_tanh: activation("gelu_tanh", "GELU, tanh approximation"),
  silu: activation("silu", "x * sigmoid(x)"),
  tanh: activation("tanh", "tanh(x)"),
  sigmoid: activation("sigmoid", "1 / (1 + exp(-x))"),
  softmax: entry("softmax", {
    arity: [1, 1],
    kind: "reduction",
    doc: "softmax along an axis; a row of only -inf gives zeros",
    attrs: { axis: "int" },
    dtype: f32,
    flops: (n) => out(n).scale(5),
    session: (n, _ins, _axes, outAxis) => {
      const axis = n.attrs.axis as number;
      return (axis < 0 ? axis + n.shape.length : axis) === outAxis ? "softmax runs along the sequence axis" : undefined;
    },
  }),
  layer_norm: entry("layer_norm", {
    arity: [1, 3],
    kind: "reduction",
    doc: "normalise the last dimension, then weight and bias",
    attrs: { eps: "float" },
    dtype: f32,
    flops: (n) => out(n).scale(8),
    session: rowWise(),
    wasm: "layerNorm",
  }),
  rms_norm: entry("rms_norm", {
    arity: [1, 2],
    kind: "reduction",
    doc: "divide the last dimension by its root mean square, then weight",
    attrs: { eps: "float" },
    dtype: f32,
    flops: (n) => out(n).scale(8),
    session: rowWise(),
    wasm: "rmsNorm",
  }),
  add_layer_norm: entry("add_layer_norm", {
    arity: [2, 4],
    kind: "reduction",
    doc: "layer_norm(a + b): the residual add fused into the norm",
    attrs: { eps: "float" },
    label: () => "add_layer_norm [add + layer_norm]",
    fused: () => true,
    dtype: f32,
    flops: (n) => out(n).scale(8),
    session: rowWise(),
    wasm: "layerNorm",
  }),
  add_rms_norm: entry("add_rms_norm", {
    arity: [2, 3],
    kind: "reduction",
    doc: "rms_norm(a + b): the residual add fused into the norm",
    attrs: { eps: "float" },
    label: () => "add_rms_norm [add + rms_norm]",
    fused: () => true,
    dtype: f32,
    flops: (n) => out(n).scale(8),
    session: rowWise(),
    wasm: "rmsNorm",
  }),
};
