import type { Span } from "../diagnostics/diagnostic.js";
import type { Attr, Dim, DType } from "../semantics/types.js";
import type { Op } from "./ops/names.js";

export type { Attr, Dim, DType };

/** An attribute as text: JSON, except the numbers JSON cannot spell (Infinity, -Infinity, NaN). */
export const attrText = (v: Attr): string => (typeof v === "number" && !Number.isFinite(v) ? String(v) : JSON.stringify(v));

/** A key equal for equal attribute sets (in key order). */
export const attrsKey = (attrs: Readonly<Record<string, Attr>>): string =>
  Object.keys(attrs)
    .map((k) => `${JSON.stringify(k)}:${attrText(attrs[k])}`)
    .join(",");

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
