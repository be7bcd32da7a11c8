import type { Span } from "../diagnostics/diagnostic.js";
import type { Attr, Dim, DType } from "../semantics/types.js";
import type { Op } from "./ops.js";

export type { Attr, Dim, DType };

/** The label of one IR node. Passes build new labels; they never mutate one. */
export interface NodeLabel {
  readonly op: Op;
  readonly inputs: readonly string[];
  readonly shape: readonly Dim[];
  readonly dtype: DType;
  readonly attrs: Readonly<Record<string, Attr>>;
  readonly span: Span;
  /** The parameter scope the node came from, e.g. `h.3.attn`; the diagrams draw one cluster per scope. */
  readonly scope: string;
}
