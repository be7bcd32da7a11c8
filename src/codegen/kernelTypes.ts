import { isConst, type Dim } from "../semantics/types.js";

// The interface between kernel templates and the module printer. A template (the `kernel` of an
// op's entry, see ir/ops/opDef.ts) declares its function's parameters with their types and gives
// its body; the printer composes the function (typed for TypeScript, plain for --emit js) and
// never reads or edits the code it is given.

/**
 * The type of a kernel parameter that is not one of the node's inputs: a number, a string, an
 * array of integers (a shape, mask strides), or a typed array (Float32Array, Float64Array, Int32Array).
 */
export type KernelParamType = "number" | "string" | "shape" | "f32" | "f64" | "i32";

/** The TypeScript type of each parameter type. */
export const PARAM_TS_TYPES: Readonly<Record<KernelParamType, string>> = {
  number: "number",
  string: "string",
  shape: "readonly number[]",
  f32: "Float32Array",
  f64: "Float64Array",
  i32: "Int32Array",
};

export interface KernelParam {
  readonly name: string;
  readonly type: KernelParamType;
}

/**
 * A kernel template's result: one function `$K(out, ...inputs, ...params) { body }` and the
 * expressions for its extra arguments. The printer types `out` as Float32Array and each input by
 * the node it reads (a model input keeps its dtype's array type, a computed tensor is a
 * Float32Array); `params` carry their declared types. Every dimension known at compile time is a
 * literal in the body; symbolic ones arrive as arguments. Identical functions are emitted once,
 * so layers of the same shape share their kernels. `$K` in the body and the scratch stands for
 * the kernel's name (`$K_acc` names a scratch buffer of that kernel).
 */
export interface KernelSource {
  /** The parameter names of the node's inputs, in order. */
  readonly inputs: readonly string[];
  /** The parameters after the inputs, in order, with their types. */
  readonly params: readonly KernelParam[];
  /** The function's statements (without the braces). */
  readonly body: string;
  /** Declarations made once with the module, before the function (scratch buffers). */
  readonly scratch?: string;
  /**
   * The arguments for `params`, in order. A kernel split by heads leaves out its last two
   * parameters (the head range), which the caller passes.
   */
  readonly extra: readonly string[];
  /**
   * How the work splits over threads: by rows (the argument at `countAt` of [out, ...inputs,
   * ...extra] counts them; each argument with a stride advances by rows × stride), or by heads (the
   * kernel takes a head range as its two last parameters).
   */
  readonly split?:
    | {
        readonly kind: "rows";
        readonly countAt: number;
        readonly strides: readonly number[];
        /** Dense kernels: the output width; `c0, c1` follow the row count, so threads may split columns instead. */
        readonly columns?: number;
      }
    | { readonly kind: "heads"; readonly heads: number };
  /** Runtime helpers the function calls, imported from the runtime. */
  readonly uses?: readonly string[];
}

export interface KernelCtx {
  /** An expression for a dimension: a literal, or the variable holding a symbol's value. */
  dim(d: Dim): string;
  /** An expression for the product of dimensions, constants folded. */
  size(dims: readonly Dim[]): string;
  /** An expression for the runtime shape array of input `i`. */
  shapeOf(i: number): string;
  /** In a decoding session, for position tables: the number of positions already seen. */
  readonly rowOffset?: string;
}

/**
 * Moves a kernel argument out of the calls: computed once per input shape, held in a variable of
 * TypeScript type `type`; returns the variable.
 */
export type Hoist = (expr: string, type: string) => string;

/**
 * The function a kernel source declares, with `$K` for its name: `out`, the inputs (of the array
 * types `inputTypes`, computed by the caller from the nodes read), then the declared parameters;
 * typed for TypeScript, or plain. Nothing of `body` or `scratch` is read.
 */
export function printKernel(k: KernelSource, inputTypes: readonly string[], typed: boolean): string {
  const param = (name: string, type: string) => (typed ? `${name}: ${type}` : name);
  const params = [param("out", "Float32Array"), ...k.inputs.map((name, i) => param(name, inputTypes[i])), ...k.params.map((p) => param(p.name, PARAM_TS_TYPES[p.type]))];
  const fn = `function $K(${params.join(", ")})${typed ? ": void" : ""} {\n${k.body}\n}`;
  return k.scratch !== undefined ? `${k.scratch}\n${fn}` : fn;
}

/** The parameters a template declares and the arguments that fill them, built in step. */
export class KernelParams {
  readonly params: KernelParam[] = [];
  readonly extra: string[] = [];

  constructor(private readonly ctx: KernelCtx) {}

  /** Declares a parameter filled by `arg`; returns its name. */
  add(name: string, type: KernelParamType, arg: string): string {
    this.params.push({ name, type });
    this.extra.push(arg);
    return name;
  }

  /** The product of `dims`: a literal when every one is known, else a number parameter. */
  size(name: string, dims: readonly Dim[]): string {
    return dims.every(isConst) ? this.ctx.size(dims) : this.add(name, "number", this.ctx.size(dims));
  }
}

/** Number parameters, for templates that declare several at once. */
export const numbers = (...names: string[]): KernelParam[] => names.map((name) => ({ name, type: "number" }));

/** Shape parameters (readonly number[]). */
export const shapes = (...names: string[]): KernelParam[] => names.map((name) => ({ name, type: "shape" }));
