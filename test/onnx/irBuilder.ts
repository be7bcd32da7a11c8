import { NO_SPAN } from "../../src/diagnostics/diagnostic.js";
import { IrGraph } from "../../src/ir/graph.js";
import type { Attr, DType } from "../../src/ir/node.js";
import type { Op } from "../../src/ir/ops.js";

/** Thrown while translating a case that tfmc's IR cannot express; the message is the reason. */
export class Skip extends Error {}

export const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * One ONNX graph input fed to the IR. `shape` is the shape the IR input declares; it may differ
 * from the ONNX shape only as a view: the same row-major data read with another shape of the same
 * size (numpy's copy-free reshape), e.g. a 1-D MatMul operand promoted to a row. Views happen at
 * the boundary only; every computation stays in IR ops.
 */
export interface Feed {
  readonly onnxIndex: number;
  readonly shape: readonly number[];
}

/** One compared output: the IR output `name` whose data is read with the ONNX `shape`. */
export interface Expected {
  readonly onnxIndex: number;
  readonly name: string;
  readonly shape: readonly number[];
}

export interface Plan {
  readonly graph: IrGraph;
  readonly feeds: readonly Feed[];
  readonly expected: readonly Expected[];
  /** ONNX outputs left uncompared, with why (e.g. LayerNormalization's Mean and InvStdDev). */
  readonly skippedOutputs: readonly { name: string; reason: string }[];
  /** Views the translation used, said in words for the test's output. */
  readonly views: readonly string[];
}

const dims = (s: readonly number[]) => s.map((value) => ({ value }));

/** Builds an IR graph of constant shapes, recording feeds and outputs for a `Plan`. */
export class IrBuilder {
  readonly graph: IrGraph;
  readonly feeds: Feed[] = [];
  readonly expected: Expected[] = [];
  readonly skippedOutputs: { name: string; reason: string }[] = [];
  readonly views: string[] = [];
  private readonly shapes = new Map<string, readonly number[]>();

  constructor(name: string) {
    // The name becomes a file name under test/.generated; case names are already [a-z0-9_].
    this.graph = new IrGraph({ name, config: new Map(), symbols: [], params: [] });
  }

  shapeOf(id: string): readonly number[] {
    return this.shapes.get(id)!;
  }

  input(name: string, onnxIndex: number, dtype: DType, shape: readonly number[], onnxShape: readonly number[] = shape): string {
    if (size(shape) !== size(onnxShape)) throw new Error(`view of '${name}' changes its size`);
    if (this.graph.inputs.some((i) => i.name === name)) throw new Skip(`input ${name} feeds two operands`);
    if (shape.join() !== onnxShape.join()) this.views.push(`input ${name} [${onnxShape.join(", ")}] read as [${shape.join(", ")}]`);
    const id = this.add("input", [], shape, { name }, dtype);
    this.graph.inputs.push({ name, node: id, type: { dtype, shape: dims(shape) }, optional: false });
    this.feeds.push({ onnxIndex, shape });
    return id;
  }

  op(op: Op, inputs: string[], shape: readonly number[], attrs: Record<string, Attr> = {}, dtype: DType = "f32"): string {
    return this.add(op, inputs, shape, attrs, dtype);
  }

  private add(op: Op, inputs: string[], shape: readonly number[], attrs: Record<string, Attr>, dtype: DType): string {
    const id = this.graph.addNode({ op, inputs, shape: dims(shape), dtype, attrs, span: NO_SPAN, scope: "" });
    this.shapes.set(id, shape);
    return id;
  }

  /** Marks `node` as the value of ONNX output `onnxIndex`, whose expected data has shape `onnxShape`. */
  output(name: string, onnxIndex: number, node: string, onnxShape: readonly number[] = this.shapeOf(node)): void {
    const shape = this.shapeOf(node);
    if (size(shape) !== size(onnxShape)) throw new Error(`view of output '${name}' changes its size`);
    if (shape.join() !== onnxShape.join()) this.views.push(`output ${name} [${shape.join(", ")}] read as [${onnxShape.join(", ")}]`);
    this.graph.outputs.push({ name, node, type: { dtype: "f32", shape: dims(shape) } });
    this.expected.push({ onnxIndex, name, shape: onnxShape });
  }

  skipOutput(name: string, reason: string): void {
    this.skippedOutputs.push({ name, reason });
  }

  plan(): Plan {
    if (this.expected.length === 0) throw new Skip("no output in scope");
    return { graph: this.graph, feeds: this.feeds, expected: this.expected, skippedOutputs: this.skippedOutputs, views: this.views };
  }
}

/** NumPy broadcasting of constant shapes, or undefined. */
export function broadcast(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

export interface Mismatch {
  readonly count: number;
  readonly index: number;
  readonly got: number;
  readonly want: number;
}

/**
 * ONNX's pass rule (numpy.testing.assert_allclose with rtol 1e-3, atol 1e-7, as the backend test
 * runner uses): |a - e| <= 1e-7 + 1e-3 * |e| elementwise; NaN matches NaN and an infinity matches
 * the same infinity. Returns the worst offender, or undefined when every element passes.
 */
export function allClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-3, atol = 1e-7): Mismatch | undefined {
  let count = 0;
  let worst: Mismatch | undefined;
  let worstExcess = -Infinity;
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const e = want[i];
    if ((Number.isNaN(a) && Number.isNaN(e)) || a === e) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess <= 0) continue;
    count++;
    // NaN against a number (or infinities that differ) is the worst kind of miss.
    const rank = Number.isNaN(excess) ? Infinity : excess;
    if (rank > worstExcess) {
      worstExcess = rank;
      worst = { count: 0, index: i, got: a, want: e };
    }
  }
  return worst && { ...worst, count };
}
