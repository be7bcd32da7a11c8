import { Diagnostics } from "../../diagnostics/messages.js";
import { intList } from "../../ir/ops/opDef.js";
import type { Span } from "../../diagnostics/diagnostic.js";
import type { Expr, IndexItem } from "../../syntax/ast.js";
import type { ElaborationState } from "../elaborator.js";
import { dimEquals, formatShape, isConst, type Dim } from "../types.js";
import { describeValue, ERROR, type TensorValue, type Value } from "../values.js";
import { addPrimitive } from "./primitives.js";

// `x[:, 0]`, `x[..., 0:64]`, `x[:, ::2]`, `x[:, -1]`: Python's indexing on one tensor. An index
// takes one position and drops its axis; a slice keeps the axis. Each becomes one strided `slice`
// primitive, then a `reshape` for the dropped axes.

/** One axis's selection: the first element (negative counts from the end), the step, how many. */
interface AxisPick {
  readonly start: number;
  readonly step: number;
  readonly count: Dim;
  readonly drop: boolean;
}

/** A run-time length as a slice's stop: `wpe[0:T]` on an axis that holds at least T positions. */
interface SymbolStop {
  readonly sym: string;
  readonly span: Span;
}

type Bound = number | "end" | SymbolStop | undefined;

function bound(st: ElaborationState, e: Expr | undefined, axis: Dim, eval_: (e: Expr) => Value, stop = false): Bound | null {
  if (!e) return undefined;
  const v = eval_(e);
  if (v.kind === "error") return null;
  if (v.kind === "int") return v.value;
  // `x[:, :T]` on an axis of length T: up to its end.
  if (v.kind === "dim" && !isConst(axis) && axis.sym === v.sym) return "end";
  // `wpe[0:T]` on an axis of a known length: the first T, checked against T's bound by `pick`.
  if (v.kind === "dim" && stop && isConst(axis)) return { sym: v.sym, span: e.span };
  const what = stop && isConst(axis) ? "an integer, or a length bounded by the axis's" : "an integer index (or the axis's own length)";
  st.error(Diagnostics.Expected_0_got_1, e.span, [what, describeValue(v)]);
  return null;
}

/** `x[0:T]` on an axis of n positions: T must be bounded by n (`where T <= n`). */
function symbolStop(st: ElaborationState, start: Bound, stop: SymbolStop, by: Bound, n: number, span: Span): AxisPick | undefined {
  if ((start ?? 0) !== 0 || (by ?? 1) !== 1) {
    st.error(Diagnostics.Value_0_must_be_1, span, [`a slice up to the length '${stop.sym}'`, "from 0 with step 1 (its length is then that dimension)"]);
    return undefined;
  }
  const max = st.symbols.get(stop.sym)?.max;
  if (max === undefined || max > n) {
    const now = max === undefined ? `'${stop.sym}' has no bound` : `'${stop.sym}' may be up to ${max}`;
    st.error(Diagnostics.Value_0_must_be_1, stop.span, [`the length '${stop.sym}' ending a slice of an axis of ${n}`, `at most ${n}: ${now}; add a constraint such as 'where ${stop.sym} <= ${n}'`]);
    return undefined;
  }
  return { start: 0, step: 1, count: { sym: stop.sym }, drop: false };
}

function pick(st: ElaborationState, item: IndexItem, axis: Dim, eval_: (e: Expr) => Value): AxisPick | undefined {
  const n = isConst(axis) ? axis.value : undefined;
  const fail = (why: string) => {
    st.error(Diagnostics.Value_0_must_be_1, item.span, [`an index of an axis of length ${isConst(axis) ? axis.value : axis.sym}`, why]);
    return undefined;
  };
  if (item.kind === "ellipsis") return undefined;
  if (item.kind === "at") {
    const i = bound(st, item.value, axis, eval_);
    if (i === null) return undefined;
    if (typeof i !== "number") return fail("an integer");
    if (n !== undefined && (i >= n || i < -n)) return fail(`between ${-n} and ${n - 1}, got ${i}`);
    return { start: i, step: 1, count: { value: 1 }, drop: true };
  }
  const [start, stop, step] = [bound(st, item.start, axis, eval_), bound(st, item.stop, axis, eval_, true), bound(st, item.step, axis, eval_)];
  if (start === null || stop === null || step === null) return undefined;
  if (typeof stop === "object") return symbolStop(st, start, stop, step, n!, item.span);
  if (typeof start === "object" || typeof step === "object") return undefined;
  const by = step ?? 1;
  if (typeof by !== "number" || by < 1) return fail("sliced with a positive integer step");
  if (start === "end") return fail("sliced from a number");
  if (n !== undefined) {
    // Python's rules: negative bounds count from the end, bounds past the ends are clamped.
    const clamp = (b: number) => Math.min(Math.max(b < 0 ? b + n : b, 0), n);
    const from = start === undefined ? 0 : clamp(start);
    const to = stop === undefined || stop === "end" ? n : clamp(stop);
    return { start: from, step: by, count: { value: Math.max(0, Math.ceil((to - from) / by)) }, drop: false };
  }
  // A symbolic axis: whole, or a known number of elements from one end.
  if ((start ?? 0) === 0 && (stop === undefined || stop === "end") && by === 1) return { start: 0, step: 1, count: axis, drop: false };
  if (start !== undefined && start < 0 && (stop === undefined || stop === "end")) return { start, step: by, count: { value: Math.ceil(-start / by) }, drop: false };
  if ((start ?? 0) >= 0 && typeof stop === "number" && stop >= 0) {
    const from = start ?? 0;
    return { start: from, step: by, count: { value: Math.max(0, Math.ceil((stop - from) / by)) }, drop: false };
  }
  if (typeof stop === "number" && stop < 0 && (start === undefined || start < 0)) {
    const from = start ?? 0;
    if (start === undefined) return fail("whole or of a known length (here the length would depend on the axis)");
    return { start: from, step: by, count: { value: Math.max(0, Math.ceil((stop - from) / by)) }, drop: false };
  }
  return fail("whole or of a known length (a length that depends on the axis cannot be a dimension)");
}

export function indexTensor(st: ElaborationState, target: Value, e: Extract<Expr, { kind: "index" }>, eval_: (e: Expr) => Value): Value {
  if (target.kind === "error") return ERROR;
  if (target.kind !== "tensor") return st.error(Diagnostics.Expected_0_got_1, e.target.span, ["a tensor to index", describeValue(target)]);
  const x: TensorValue = target;
  const shape = x.type.shape;
  const ellipses = e.items.filter((i) => i.kind === "ellipsis").length;
  if (ellipses > 1) return st.error(Diagnostics.Value_0_must_be_1, e.span, ["an index", "written with at most one '...'"]);
  const explicit = e.items.length - ellipses;
  if (explicit > shape.length) return st.error(Diagnostics.Value_0_must_be_1, e.span, [`an index of ${formatShape(shape)}`, `at most ${shape.length} positions, got ${explicit}`]);
  // Items before '...' take the first axes, those after it the last ones; the rest stay whole.
  const picks: (AxisPick | undefined)[] = shape.map(() => undefined);
  const at = e.items.findIndex((i) => i.kind === "ellipsis");
  const before = at < 0 ? e.items : e.items.slice(0, at);
  const after = at < 0 ? [] : e.items.slice(at + 1);
  const place = (item: IndexItem, axis: number): boolean => {
    const p = pick(st, item, shape[axis], eval_);
    if (!p) return false;
    picks[axis] = p;
    return true;
  };
  if (!before.every((item, k) => place(item, k))) return ERROR;
  if (!after.every((item, k) => place(item, shape.length - after.length + k))) return ERROR;
  const chosen = picks.map((p, k) => p ?? { start: 0, step: 1, count: shape[k], drop: false });
  let out: Value = x;
  const rows = chosen[0];
  if (shape.length === 2 && x.type.dtype === "f32" && isConst(shape[0]) && isConst(shape[1]) && !isConst(rows.count) && dimEquals(chosen[1].count, shape[1]) && chosen[1].start === 0 && chosen[1].step === 1) {
    // `wpe[0:T]`: the first T rows, as learned_positions takes them (read at an offset when decoding).
    out = st.addNode("prim", { in0: x.node }, { op: "slice_rows", start: 0 }, {}, { dtype: x.type.dtype, shape: [rows.count, shape[1]] }, e.span);
  } else if (chosen.some((p, k) => !(p.start === 0 && p.step === 1 && dimEquals(p.count, shape[k])))) {
    out = addPrimitive(st, "slice", [x], { starts: intList(chosen.map((p) => p.start)), steps: intList(chosen.map((p) => p.step)) }, e.span, chosen.map((p) => p.count));
  }
  if (out.kind !== "tensor" || !chosen.some((p) => p.drop)) return out;
  return addPrimitive(st, "reshape", [out], {}, e.span, chosen.filter((p) => !p.drop).map((p) => p.count));
}
