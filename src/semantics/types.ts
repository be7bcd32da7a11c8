import type { Span } from "../diagnostics/diagnostic.js";

/** A dimension: a number known at compile time, or a symbol bound when the model runs. */
export type Dim = { readonly value: number } | { readonly sym: string };

export const DTYPES = ["f32", "i32", "i64", "bool"] as const;
export type DType = (typeof DTYPES)[number];

export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

/** Attribute values of elaborated layers: plain data, so later stages can print and compare them. */
export type Attr = number | boolean | string | null;

/**
 * One application of a layer in the elaborated model. `inputs` are named slots holding node ids;
 * `params` maps a role (`weight`) to a full parameter name (`h.0.attn.in_proj_weight`).
 */
export interface LayerNode {
  readonly id: number;
  readonly layer: string;
  readonly inputs: Readonly<Record<string, number>>;
  readonly attrs: Readonly<Record<string, Attr>>;
  readonly params: Readonly<Record<string, string>>;
  readonly type: TensorType;
  readonly span: Span;
  /** The label path the node was created under, e.g. `h.3.attn`. */
  readonly scope: string;
}

export interface ParamInfo {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly span: Span;
}

export type ConfigValue =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "ident"; readonly value: string }
  | { readonly kind: "string"; readonly value: string };

export interface InputInfo {
  readonly name: string;
  readonly type: TensorType;
  readonly optional: boolean;
  /** The value of every element when the caller leaves the input out (`input x: i32[B, T] = 0`). */
  readonly default?: number;
  readonly node: number;
  readonly span: Span;
}

export interface OutputInfo {
  readonly name: string;
  readonly node: number;
  readonly type: TensorType;
  readonly span: Span;
}

export interface SymbolInfo {
  readonly name: string;
  /** The largest value the symbol may take, from a `where` constraint. */
  readonly max?: number;
}

/** The checked model: what semantics hands to the IR. */
export interface CheckedModel {
  readonly name: string;
  readonly config: ReadonlyMap<string, ConfigValue>;
  readonly symbols: readonly SymbolInfo[];
  readonly inputs: readonly InputInfo[];
  readonly outputs: readonly OutputInfo[];
  readonly params: readonly ParamInfo[];
  readonly nodes: readonly LayerNode[];
}

export const isConst = (d: Dim): d is Extract<Dim, { value: number }> => "value" in d;

export function dimEquals(a: Dim, b: Dim): boolean {
  return isConst(a) ? isConst(b) && a.value === b.value : !isConst(b) && a.sym === b.sym;
}

export const formatDim = (d: Dim): string => (isConst(d) ? String(d.value) : d.sym);
export const formatShape = (s: readonly Dim[]): string => `[${s.map(formatDim).join(", ")}]`;
export const formatType = (t: TensorType): string => `${t.dtype}${formatShape(t.shape)}`;

/** An input's default as the source writes it (`true` for a bool input's 1). */
export const formatDefault = (t: TensorType, value: number): string => (t.dtype === "bool" ? String(value !== 0) : String(value));
