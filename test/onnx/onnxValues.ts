import { NO_SPAN } from "../../src/diagnostics/diagnostic.js";
import { interpret, type LooseTensor } from "../../src/ir/interpret.js";
import type { Attr, DType, NodeLabel } from "../../src/ir/node.js";
import { OPS, type Op } from "../../src/ir/ops.js";
import { isConst } from "../../src/semantics/types.js";
import { IrBuilder, Skip } from "./irBuilder.js";

// Values of a translated ONNX graph. Shape arithmetic (Shape, Gather of a shape, Concat of sizes,
// Range, masks built from constants, ...) is folded while translating: a node whose inputs are all
// known is lowered to IR primitives in a scratch graph and run by the float64 interpreter, so the
// folding uses the very primitives under test. A folded value remembers how it was made, so when
// a tensor op consumes it, the real graph computes it with the same primitives (a causal mask is
// arange, lt and where, not a table of numbers).

/** A tensor known at translation time. Integers and booleans are numbers (booleans 0 and 1). */
export interface Const {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

export type Value =
  | { readonly kind: "const"; readonly c: Const; readonly build?: (cx: Cx) => string }
  | { readonly kind: "tensor"; readonly id: string; readonly dtype: DType };

export const known = (dtype: DType, shape: readonly number[], data: readonly number[]): Value => ({ kind: "const", c: { dtype, shape, data } });

const dims = (s: readonly number[]) => s.map((value) => ({ value }));

/** Lowers ONNX values into one IR graph: the real one, or a scratch graph that folds constants. */
export class Cx {
  private readonly made = new Map<Value, string>();

  /** With `feeds`, constants enter the graph as inputs carrying their data (folding). */
  constructor(
    readonly b: IrBuilder,
    private readonly feeds?: Record<string, LooseTensor>,
  ) {}

  shape(v: Value): readonly number[] {
    return v.kind === "const" ? v.c.shape : this.b.shapeOf(v.id);
  }

  dtype(v: Value): DType {
    return v.kind === "const" ? v.c.dtype : v.dtype;
  }

  /** The IR node of a value; a constant is made on first use. */
  tensor(v: Value): string {
    if (v.kind === "tensor") return v.id;
    let id = this.made.get(v);
    if (id === undefined) {
      id = this.feeds ? this.feed(v.c) : v.build ? v.build(this) : this.literal(v.c);
      this.made.set(v, id);
    }
    return id;
  }

  /**
   * Adds a primitive. The shape and dtype come from the op table's inference unless given (ops
   * that take their shape from the node: reshape, slice, expand, constant, arange).
   */
  op(op: Op, inputs: readonly string[], attrs: Record<string, Attr> = {}, given: { shape?: readonly number[]; dtype?: DType } = {}): Value & { kind: "tensor" } {
    const ins = inputs.map((i) => this.b.graph.node(i));
    const label: NodeLabel = { op, inputs, shape: dims(given.shape ?? []), dtype: "f32", attrs, span: NO_SPAN, scope: "" };
    let shape = given.shape;
    if (!shape) {
      const r = OPS[op].infer(
        ins.map((n) => n.shape),
        label,
      );
      if (typeof r === "string") throw new Error(`${op} of [${ins.map((n) => n.shape.map((d) => (isConst(d) ? d.value : d.sym)).join(", ")).join("], [")}]: ${r}`);
      shape = r.map((d) => (isConst(d) ? d.value : NaN));
    }
    const dtype =
      given.dtype ??
      OPS[op].dtype(
        ins.map((n) => n.dtype),
        label,
      );
    return { kind: "tensor", id: this.b.op(op, [...inputs], shape, attrs, dtype), dtype };
  }

  private feed(c: Const): string {
    const name = `k${Object.keys(this.feeds!).length}`;
    this.feeds![name] = { data: c.data as number[], shape: c.shape };
    return this.b.input(name, -1, c.dtype, c.shape);
  }

  /** A constant as IR nodes: one `constant` when every element is equal, else elements joined. */
  private literal(c: Const): string {
    const [first] = c.data;
    if (c.data.every((x) => Object.is(x, first))) return this.op("constant", [], { value: first ?? 0 }, { shape: c.shape, dtype: c.dtype }).id;
    const parts = c.data.map((value) => this.op("constant", [], { value }, { shape: [1], dtype: c.dtype }).id);
    const flat = this.op("concat", parts, { axis: 0 });
    return this.op("reshape", [flat.id], {}, { shape: c.shape }).id;
  }
}

/**
 * Runs `lower` (which translates one node whose inputs are all known) on a scratch graph through
 * the interpreter. The result is known, and `build` lowers the node again in the real graph.
 */
export function fold(lower: (cx: Cx) => Value): Value {
  const feeds: Record<string, LooseTensor> = {};
  const cx = new Cx(new IrBuilder("fold"), feeds);
  const v = lower(cx);
  if (v.kind === "const") return v;
  cx.b.output("y", 0, v.id);
  const y = interpret(cx.b.graph, new Map(), feeds).y;
  // Float tensors are float32 in ONNX: round as it would.
  const data = Array.from(y.data, v.dtype === "f32" ? Math.fround : Number);
  return { kind: "const", c: { dtype: v.dtype, shape: y.shape, data }, build: (real) => real.tensor(lower(real)) };
}

/** The data of a value that must be known (a shape, axes, pads), or a Skip saying which. */
export function constOf(v: Value | undefined, what: string): Const {
  if (!v) throw new Skip(`${what} is missing`);
  if (v.kind !== "const") throw new Skip(`${what} is computed from graph inputs (the IR needs it at compile time)`);
  return v.c;
}

export const intsOf = (v: Value | undefined, what: string): number[] => [...constOf(v, what).data];
