import { Diagnostics } from "../../diagnostics/messages.js";
import type { Span } from "../../diagnostics/diagnostic.js";
import type { Expr } from "../../syntax/ast.js";
import type { ArgSpec, BoundArg } from "../args.js";
import { bindArguments } from "../args.js";
import type { ElaborationState, EvaluatedArgs } from "../elaborator.js";
import { ERROR, type Value } from "../values.js";

// The settings of rotary position embeddings, shared by the primitive `rope(x, ...)` (its entry is
// in primitives.ts) and attention's `rotary = rope(...)`, which names them without the tensor.

/** The settings of rotary embeddings: `rope(x, ...)` and attention's `rotary = rope(...)`. */
export const ROTARY_ARGS: readonly ArgSpec[] = [
  { name: "theta", kind: "number", keywordOnly: true, doc: "the base of the frequencies θ^(−2i/dim) (default 10000)" },
  { name: "dim", kind: "int", keywordOnly: true, doc: "features rotated per head, from the first (default the whole head); the rest pass through" },
  { name: "interleaved", kind: "bool", keywordOnly: true, doc: "pairs (2i, 2i+1) as GPT-J; false (default) rotates halves as Llama and GPT-NeoX" },
];

/**
 * Rotary embedding attributes for a head width `D`, or undefined after reporting: `dim` even and
 * at most D, `theta` positive.
 */
export function rotaryAttrs(st: ElaborationState, r: { theta: number; dim?: number; interleaved: boolean }, D: number, dimSpan: Span, thetaSpan: Span): { theta: number; dim: number; interleaved: boolean } | undefined {
  const dim = r.dim ?? D;
  if (dim < 2 || dim % 2 !== 0 || dim > D) {
    st.error(Diagnostics.Value_0_must_be_1, dimSpan, ["the rotated width 'dim'", `even, at least 2 and at most the head width ${D}, got ${dim}${r.dim === undefined ? " (by default the whole head: give dim = an even width)" : ""}`]);
    return undefined;
  }
  if (!(r.theta > 0)) {
    st.error(Diagnostics.Value_0_must_be_1, thetaSpan, ["'theta'", `positive, got ${r.theta}`]);
    return undefined;
  }
  return { theta: r.theta, dim, interleaved: r.interleaved };
}

/** Attention's `rotary = rope(theta = ..., dim = ..., interleaved = ...)`: the call's settings, evaluated. */
export function rotaryArgument(
  st: ElaborationState,
  evaluateArgs: (specs: readonly ArgSpec[], bound: ReadonlyMap<string, BoundArg>, callSpan: Span) => EvaluatedArgs,
  name: string,
  expr: Expr,
  span: Span,
): Value {
  if (expr.kind !== "call" || expr.callee.name !== "rope") {
    return st.error(Diagnostics.Expected_0_got_1, span, [`rope(theta = ..., dim = ..., interleaved = ...) for '${name}'`, "another expression"]);
  }
  const { bound } = bindArguments(st.diags, "rope", expr.callee.span, ROTARY_ARGS, expr.args);
  const a = evaluateArgs(ROTARY_ARGS, bound, expr.span);
  if (a.anyError() || expr.args.length > bound.size) return ERROR;
  const dim = a.get("dim");
  return { kind: "rotary", theta: a.number("theta", 10000), ...(dim?.kind === "int" ? { dim: dim.value } : {}), interleaved: a.bool("interleaved", false) };
}
