import { DiagnosticBag, type Span } from "../diagnostics/diagnostic.js";
import { didYouMeanHint } from "../diagnostics/didYouMean.js";
import { Diagnostics } from "../diagnostics/messages.js";
import type { Expr } from "../syntax/ast.js";
import type { ArgSpec, BoundArg } from "./args.js";
import { describeValue, ERROR, isNumeric, type TensorValue, type Value } from "./values.js";
import {
  formatShape,
  isConst,
  type Attr,
  type ConfigValue,
  type Dim,
  type DType,
  type LayerNode,
  type ParamInfo,
  type TensorType,
} from "./types.js";

/** What a label names: the layer under it and the parameters it declared, by role. */
export interface LabelInfo {
  readonly path: string;
  readonly layer: string;
  readonly params: Readonly<Record<string, string>>;
  readonly node?: number;
  readonly span: Span;
}

/**
 * The size limit, in IR operations after expanding blocks and repeats (each layer's ops and its
 * parameters, estimated by `operationsOf`). Compile time grows linearly with it: the limit keeps
 * the largest model that checks compilable in seconds, far above real models (GPT-2 XL is ~2,000).
 */
export const MAX_OPERATIONS = 250_000;

/** About how many IR operations a layer lowers to beyond its one op (attention: projections, heads, scores, softmax...). */
const EXTRA_OPERATIONS: Readonly<Record<string, number>> = { attention: 20, ffn: 4, linear: 1, add_norm: 1 };

const operationsOf = (layer: string, params: Record<string, string>) => 1 + (Object.hasOwn(EXTRA_OPERATIONS, layer) ? EXTRA_OPERATIONS[layer] : 0) + Object.keys(params).length;

/** The most elements one tensor may hold: typed arrays and the offsets kernels compute stay in range. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/** The elements of a shape's known dimensions (symbols count as 1). */
const knownElements = (shape: readonly Dim[]): number => shape.reduce((n, d) => n * (isConst(d) ? d.value : 1), 1);

/**
 * Sees every value the checker computes, where it was written: each expression, and each name as
 * it is bound (assignments, inputs, config values, block parameters). `parameters` is how many
 * parameter elements the expression declared. Editors use it for hover.
 */
export type ValueObserver = (span: Span, value: Value, parameters: number) => void;

/** Stopping elaboration outright: the model is too large or nested too deeply to analyse. */
export class ElaborationAbort extends Error {}

/**
 * State shared by the statement walker and the layer rules: diagnostics, the nodes and parameters
 * made so far, the label scope, and the compile-time values in view.
 */
export class ElaborationState {
  readonly nodes: LayerNode[] = [];
  readonly params = new Map<string, ParamInfo>();
  readonly labels = new Map<string, LabelInfo>();
  readonly config = new Map<string, ConfigValue>();
  readonly symbols = new Map<string, { max?: number; span: Span }>();
  readonly scope: string[] = [];
  /** Layer pairs already reported as declaring the same parameter: one error per collision. */
  private readonly duplicateReported = new Set<string>();

  /** Elements of every parameter declared so far. */
  parameterElements = 0;
  /** IR operations the layers so far will lower to, about (see MAX_OPERATIONS). */
  private operations = 0;

  constructor(
    readonly diags: DiagnosticBag,
    /** A kernel forced on every attention from the command line. */
    readonly attentionKernel?: string,
    readonly observe?: ValueObserver,
  ) {}

  error(info: Parameters<DiagnosticBag["error"]>[0], span: Span, args: (string | number)[] = [], extra: Parameters<DiagnosticBag["error"]>[3] = {}): Value {
    this.diags.error(info, span, args, extra);
    return ERROR;
  }

  scopePath(extra: readonly string[] = []): string {
    return [...this.scope, ...extra].join(".");
  }

  addNode(
    layer: string,
    inputs: Record<string, number>,
    attrs: Record<string, Attr>,
    params: Record<string, string>,
    type: TensorType,
    span: Span,
  ): TensorValue {
    this.operations += operationsOf(layer, params);
    if (this.operations > MAX_OPERATIONS) {
      this.diags.error(Diagnostics.Model_too_large_0, span, [MAX_OPERATIONS]);
      throw new ElaborationAbort();
    }
    const elements = knownElements(type.shape);
    if (elements > MAX_TENSOR_ELEMENTS) {
      // Everything computed from it would be as large: stop here with one error.
      this.diags.error(Diagnostics.Tensor_0_too_large_1, span, [`a tensor of shape ${formatShape(type.shape)}`, elements.toLocaleString("en-US")]);
      throw new ElaborationAbort();
    }
    const node: LayerNode = { id: this.nodes.length, layer, inputs, attrs, params, type, span, scope: this.scopePath() };
    this.nodes.push(node);
    return { kind: "tensor", node: node.id, type, optional: false };
  }

  /** Declares a parameter `<scope>.<local>`; reports a second declaration of the same name. */
  addParam(local: string, shape: number[], span: Span, dtype: DType = "f32"): string {
    const name = this.scopePath([local]);
    const elements = shape.reduce((a, b) => a * b, 1);
    // Reported, but still declared: layers that read it back (a tied head) find it.
    if (elements > MAX_TENSOR_ELEMENTS) {
      this.diags.error(Diagnostics.Tensor_0_too_large_1, span, [`parameter '${name}' of shape [${shape.join(", ")}]`, elements.toLocaleString("en-US")]);
    }
    const prev = this.params.get(name);
    if (prev && this.duplicateReported.has(`${span.start}:${prev.span.start}`)) return name;
    if (prev) {
      this.duplicateReported.add(`${span.start}:${prev.span.start}`);
      this.diags.error(Diagnostics.Parameter_0_declared_twice, span, [name], {
        related: [{ span: prev.span, message: `'${name}' was first declared here` }],
      });
    } else {
      this.params.set(name, { name, shape, dtype, span });
      this.parameterElements += elements;
    }
    return name;
  }

  /** Finds a label relative to the current scope, innermost first, then from the top. */
  resolveLabel(path: string): LabelInfo | undefined {
    for (let i = this.scope.length; i >= 0; i--) {
      const full = [...this.scope.slice(0, i), path].join(".");
      const hit = this.labels.get(full);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Reads a value as a compile-time dimension: an integer >= 1 or a symbol. */
  asDim(v: Value, span: Span, what: string): Dim | undefined {
    if (v.kind === "error") return undefined;
    if (v.kind === "dim") return { sym: v.sym };
    if (v.kind === "int") {
      if (v.value < 1) {
        this.error(Diagnostics.Value_0_must_be_1, span, [what, `at least 1, got ${v.value}`]);
        return undefined;
      }
      return { value: v.value };
    }
    if (v.kind === "float" && Number.isInteger(v.value)) return this.asDim({ kind: "int", value: v.value }, span, what);
    this.error(Diagnostics.Expected_0_got_1, span, [`a dimension for ${what}`, describeValue(v)]);
    return undefined;
  }

  /** A positive compile-time integer (a width, a count, a number of heads). */
  asPositiveInt(v: Value, span: Span, what: string): number | undefined {
    if (v.kind === "error") return undefined;
    const n = v.kind === "int" ? v.value : v.kind === "float" && Number.isInteger(v.value) ? v.value : undefined;
    if (n === undefined) {
      this.error(Diagnostics.Expected_0_got_1, span, [`an integer for ${what}`, describeValue(v)]);
      return undefined;
    }
    if (n < 1) {
      this.error(Diagnostics.Value_0_must_be_1, span, [what, `at least 1, got ${n}`]);
      return undefined;
    }
    return n;
  }

  /** Checks a tensor's dtype; returns false (after reporting) when it does not fit. */
  expectDtype(t: TensorValue, allowed: readonly DType[], span: Span): boolean {
    if (allowed.includes(t.type.dtype)) return true;
    this.error(Diagnostics.Dtype_0_expected_1, span, [t.type.dtype, allowed.join(" or ")]);
    return false;
  }

  expectRank(t: TensorValue, ranks: readonly number[], span: Span, what: string): boolean {
    if (ranks.includes(t.type.shape.length)) return true;
    this.error(Diagnostics.Rank_0_expected_1_for_2, span, [t.type.shape.length, ranks.join(" or "), what]);
    return false;
  }

  lastDimConst(t: TensorValue, span: Span, what: string): number | undefined {
    const d = t.type.shape[t.type.shape.length - 1];
    if (d === undefined) {
      this.error(Diagnostics.Rank_0_expected_1_for_2, span, [0, "at least 1", what]);
      return undefined;
    }
    if (!isConst(d)) {
      this.error(Diagnostics.Shape_0_expected_1_for_2, span, [formatShape(t.type.shape), "a last dimension known at compile time", what]);
      return undefined;
    }
    return d.value;
  }
}

/** Arguments of one call after evaluation, with where each was written. */
export class EvaluatedArgs {
  constructor(
    readonly values: ReadonlyMap<string, Value>,
    readonly spans: ReadonlyMap<string, Span>,
    readonly exprs: ReadonlyMap<string, Expr>,
    readonly callSpan: Span,
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }
  get(name: string): Value | undefined {
    return this.values.get(name);
  }
  span(name: string): Span {
    return this.spans.get(name) ?? this.callSpan;
  }
  tensor(name: string): TensorValue | undefined {
    const v = this.values.get(name);
    return v?.kind === "tensor" ? v : undefined;
  }
  number(name: string, fallback: number): number {
    const v = this.values.get(name);
    return v !== undefined && isNumeric(v) ? v.value : fallback;
  }
  bool(name: string, fallback: boolean): boolean {
    const v = this.values.get(name);
    return v?.kind === "bool" ? v.value : fallback;
  }
  choice(name: string, fallback: string): string {
    const v = this.values.get(name);
    return v?.kind === "ident" ? v.value : fallback;
  }
  /** Whether any argument failed to evaluate: the layer then stays quiet instead of cascading. */
  anyError(): boolean {
    for (const v of this.values.values()) if (v.kind === "error") return true;
    return false;
  }
}

export interface CallSite {
  readonly name: string;
  readonly span: Span;
  readonly calleeSpan: Span;
  /** The label written on this call, if any, already pushed onto the scope. */
  readonly label?: string;
}

/** A built-in layer: its signature and the rule that checks it and adds its node. */
export interface LayerDef {
  readonly args: readonly ArgSpec[];
  readonly doc: string;
  elaborate(st: ElaborationState, a: EvaluatedArgs, site: CallSite): Value;
}

export type { BoundArg };

/** Reports an unknown name with a suggestion drawn from what is in view. */
export function reportUnknownName(st: ElaborationState, name: string, span: Span, candidates: Iterable<string>, hint?: string): Value {
  return st.error(Diagnostics.Unknown_name_0, span, [name], hint !== undefined ? { hint } : didYouMeanHint(name, candidates, st.diags.suggestions));
}
