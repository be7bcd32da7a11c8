import type { KernelCtx, KernelSource } from "../../codegen/kernelTypes.js";
import { dimEquals, isConst, type Dim, type DType } from "../../semantics/types.js";
import type { NodeLabel } from "../node.js";
import type { Poly } from "../poly.js";
import type { F64Tensor } from "./f64.js";

// Everything the compiler knows about one op, in one entry. An entry that lacks a field does not
// compile: there are no defaults to fall back on silently.

/** TVM Relay's pattern kinds: passes decide what may fuse from the kind, never from the op's name. */
export type FusionKind = "source" | "elementwise" | "broadcast" | "injective" | "reduction" | "outFusable" | "opaque";

/** The type of an attribute: int lists are comma-separated strings ("0,2,1,3"), as attributes are plain data. */
export type AttrType = "int" | "float" | "bool" | "string" | "ints" | "dtype";

/** The output shape, or a sentence saying why the inputs do not fit. */
export type ShapeRule = (ins: readonly (readonly Dim[])[], n: NodeLabel) => readonly Dim[] | string;

/** The op's TypeScript kernel for one node: see codegen/kernelTypes.ts. */
export type KernelTemplate = (n: NodeLabel, ins: readonly NodeLabel[], ctx: KernelCtx) => KernelSource;

/** The float64 reference: inputs (null for an absent optional input) and the resolved output shape. */
export type Eval = (n: NodeLabel, ins: readonly (F64Tensor | null)[], shape: number[]) => F64Tensor;

/**
 * How a node behaves when a decoding session feeds the sequence a few positions at a time. `axes`
 * holds the axis of the sequence symbol in each input (-1 where absent); `out` in the output.
 * Undefined when each position is computed from the same positions of the inputs, else why not.
 */
export type SessionRule = (n: NodeLabel, ins: readonly NodeLabel[], axes: readonly number[], out: number) => string | undefined;

/** Floating-point operations of one node (a multiply-add counts as two). */
export type FlopRule = (n: NodeLabel, ins: readonly NodeLabel[]) => Poly;

export interface OpDef {
  /** [min, max] inputs. */
  readonly arity: readonly [number, number];
  readonly kind: FusionKind;
  readonly doc: string;
  readonly attrs: Readonly<Record<string, AttrType>>;
  /** The title diagrams give a node (a fused op lists what it contains). */
  readonly label: (n: NodeLabel) => string;
  /** Whether the node fuses several ops (diagrams mark it). */
  readonly fused: (n: NodeLabel) => boolean;
  readonly infer: ShapeRule;
  readonly dtype: (ins: readonly DType[], n: NodeLabel) => DType;
  readonly interpret: Eval;
  readonly kernel: KernelTemplate;
  /** The WebAssembly kernel family, or "none" where the TypeScript kernel runs on the wasm target too. */
  readonly wasm: WasmKernel;
  readonly flops: FlopRule;
  /**
   * In a decoding session: a rule saying whether the node computes each position from the same
   * positions; "positional" for position tables (read at an offset); "offset" for ops that
   * compute each position from the same position of their input but read the position itself
   * (rotary embeddings: offset by the tokens already seen); "attention" for the attention ops
   * (keys and values cached or summed).
   */
  readonly session: SessionRule | "positional" | "offset" | "attention";
  /** Whether a matrix product's epilogue can apply this op to its result (fusion role). */
  readonly epilogue: boolean;
}

export type WasmKernel = "none" | "dense" | "layerNorm" | "rmsNorm" | "attention";

/** Reads an int-list attribute ("0,2,1,3"; "" is the empty list). */
export function ints(n: NodeLabel, name: string): number[] {
  const v = n.attrs[name];
  if (typeof v === "number") return [v];
  if (typeof v !== "string" || v === "") return [];
  return v.split(",").map(Number);
}

export const intList = (xs: readonly number[]): string => xs.join(",");

export const lit = (d: Dim | undefined): number | undefined => (d && isConst(d) ? d.value : undefined);

/** An axis counted from the end when negative. */
export const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

export const outShapeExpr = (n: NodeLabel, ctx: KernelCtx): string => `[${n.shape.map((d) => ctx.dim(d)).join(", ")}]`;

/** Equal dimensions (`dimEquals`), false where either is missing (an axis past a shape's rank). */
export const sameDim = (a: Dim | undefined, b: Dim | undefined): boolean => a !== undefined && b !== undefined && dimEquals(a, b);

// Session rules shared by families.

/** Each output value reads the same position of its inputs (broadcasting aligns axes from the end). */
export const positionwise: SessionRule = (n, ins, axes, out) => {
  const fromEnd = n.shape.length - out;
  return ins.some((x, k) => axes[k] >= 0 && x.shape.length - axes[k] !== fromEnd) ? `'${n.op}' combines tensors whose sequence axes differ` : undefined;
};

/** Works along the axes in `attr` (a reduction, a softmax): exact unless one is the sequence axis. */
export const alongAxes =
  (attr: string): SessionRule =>
  (n, ins, axes) => {
    const rank = ins[0].shape.length;
    const along = ints(n, attr).map((a) => axisOf(a, rank));
    return axes[0] >= 0 && along.includes(axes[0]) ? `'${n.op}' works along the sequence axis` : undefined;
  };

/** Never exact one position at a time. */
export const mixing =
  (why: string): SessionRule =>
  () =>
    why;

/** Sources that do not depend on the sequence. */
export const fixed: SessionRule = (n, _ins, _axes, out) => (out >= 0 ? `'${n.op}' makes a tensor as long as the sequence` : undefined);
