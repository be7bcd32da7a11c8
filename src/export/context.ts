import type { Span } from "../diagnostics/diagnostic.js";
import type { NodeLabel } from "../ir/node.js";
import type { Dim, DType } from "../semantics/types.js";
import type { OnnxBuilder } from "./onnxBuilder.js";

/** What a mapping rule sees of one IR node while it writes the node's ONNX form. */
export interface ExportCtx {
  readonly b: OnnxBuilder;
  readonly n: NodeLabel;
  /** The value names of the inputs; undefined for an optional input the export leaves out. */
  readonly ins: readonly (string | undefined)[];
  readonly inNodes: readonly NodeLabel[];
  /** A dimension as an int64 tensor [1] (a constant, or read from the shape of a graph input). */
  dim(d: Dim): string;
  /** The largest value a symbol may take (its `where` constraint), if it has one. */
  maxOf(d: Dim): number | undefined;
  /** A shape as an int64 tensor [rank]. */
  shape(dims: readonly Dim[]): string;
  /** The value converted to `to` (itself when it already is). */
  cast(name: string, from: DType, to: DType): string;
  /** Whether a softmax here may see a row of only -inf (then it is guarded to give zeros). */
  readonly guardSoftmax: boolean;
  /** Whether every consumer of this node is a norm (a residual sum before LayerNorm or RMSNorm). */
  readonly feedsNormOnly: boolean;
  /** With past, at a cached attention: the cached length (int64 [1]), where the causal mask's rows start. */
  readonly positionOffset?: string;
  /** With past: each new token's position (int64 [B, T], the graph's position_ids), for ops that read positions. */
  readonly positionIds?: string;
  /**
   * With past, at a cached attention: the past keys and values, where the full ones go, and which
   * keys may be attended (bool [B, 1, 1, past + T], from the graph's attention_mask).
   */
  readonly cache?: { readonly key: string; readonly value: string; readonly keys: string; keep(key: string, value: string): void };
  /** Input `k`, which must be present: an absent optional input there is an error naming the node. */
  need(k: number): string;
}

/**
 * The ONNX form of an op: a function writing nodes that compute the IR node's value, returning the
 * value's name; or `none` with the reason an op has no ONNX form (the export then fails naming
 * the node and its source line).
 */
export type OnnxRule = ((c: ExportCtx) => string) | { readonly none: string };

/** A node the export cannot write: the message names it; the span locates it in the .tfm. */
export class ExportError extends Error {
  constructor(
    message: string,
    readonly span?: Span,
  ) {
    super(message);
  }
}
