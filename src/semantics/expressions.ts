import type { Span } from "../diagnostics/diagnostic.js";
import { didYouMeanHint, unknownArgumentHint } from "../diagnostics/didYouMean.js";
import { Diagnostics } from "../diagnostics/messages.js";
import type { Arg, BinaryOp, Expr } from "../syntax/ast.js";
import { bindArguments, type ArgSpec } from "./args.js";
import { ElaborationState, EvaluatedArgs, reportUnknownName } from "./elaborator.js";
import { ACTIVATIONS, CONST_FUNCTIONS, constFunctionNamed, LAYERS, layerNamed } from "./layers/index.js";
import { addPrimitive, OPERATOR_PRIMITIVES, primitiveOperand } from "./layers/primitives.js";
import { rotaryArgument } from "./layers/rotary.js";
import { indexTensor } from "./layers/indexing.js";
import { nameProblem } from "./layers/names.js";
import type { PrimitiveOp } from "../ir/ops.js";
import { broadcastShapes } from "./shapes.js";
import { formatShape, isConst, type Dim } from "./types.js";
import { describeValue, ERROR, isNumeric, type TensorValue, type Value } from "./values.js";

/** A frame of variables: the model's top level, or one call of a block. */
export interface Frame {
  readonly vars: Map<string, Value>;
}

/**
 * Evaluates expressions: compile-time arithmetic on config values, and tensor expressions that
 * add nodes. Calls of blocks are left to the statement walker (`callBlock`).
 */
export abstract class ExpressionEvaluator {
  protected frame: Frame = { vars: new Map() };
  readonly usedInputs = new Set<string>();
  protected readonly blocks = new Map<string, { span: Span }>();

  constructor(readonly st: ElaborationState) {}

  /** Calls a block: arguments are evaluated (or taken from `preset`), then the body runs under `label`. */
  protected abstract callBlock(name: string, args: readonly Arg[], site: { span: Span; calleeSpan: Span }, preset: Value[] | undefined, label: readonly string[]): Value;

  /** Names in view, for did-you-mean. */
  protected *namesInView(): Generator<string> {
    yield* this.frame.vars.keys();
    yield* this.st.config.keys();
    yield* this.st.symbols.keys();
  }

  lookup(name: string, span: Span): Value {
    const v = this.frame.vars.get(name);
    if (v !== undefined) {
      if (v.kind === "tensor" && v.name !== undefined) this.usedInputs.add(v.name);
      return v;
    }
    const c = this.st.config.get(name);
    if (c !== undefined) return c.kind === "ident" ? { kind: "ident", value: c.value } : (c as Value);
    if (this.st.symbols.has(name)) return { kind: "dim", sym: name };
    if (this.blocks.has(name)) return { kind: "block", name };
    if (name === "inf") return { kind: "float", value: Infinity };
    return { kind: "ident", value: name, unbound: span };
  }

  /** Turns a word that named nothing into an "unknown name" error where a value was needed. */
  demand(v: Value): Value {
    if (v.kind === "ident" && v.unbound) {
      const hint = this.unknownNameHint(v.value);
      return reportUnknownName(this.st, v.value, v.unbound, this.namesInView(), hint);
    }
    return v;
  }

  /** Why a name that names nothing here might have been expected to (it is an output, or the model's). */
  protected unknownNameHint(_name: string): string | undefined {
    return undefined;
  }

  eval(e: Expr): Value {
    if (!this.st.observe) return this.evalExpr(e);
    const before = this.st.parameterElements;
    const v = this.evalExpr(e);
    this.st.observe(e.span, v, this.st.parameterElements - before);
    return v;
  }

  private evalExpr(e: Expr): Value {
    switch (e.kind) {
      case "number":
        return /^\d+$/.test(e.text) && Number.isSafeInteger(e.value) ? { kind: "int", value: e.value } : { kind: "float", value: e.value };
      case "string":
        return { kind: "string", value: e.value };
      case "bool":
        return { kind: "bool", value: e.value };
      case "name":
        return this.lookup(e.name, e.span);
      case "unary":
        return this.unary(e.op, this.demand(this.eval(e.operand)), e.span);
      case "binary":
        return this.binary(e.op, this.demand(this.eval(e.left)), this.demand(this.eval(e.right)), e);
      case "call":
        return this.call(e, undefined);
      case "labeled":
        return this.labeled(e);
      case "list":
        return { kind: "list", items: e.items.map((x) => this.demand(this.eval(x))) };
      case "index":
        return indexTensor(this.st, this.demand(this.eval(e.target)), e, (x) => this.demand(this.eval(x)));
      case "error":
        return ERROR;
    }
  }

  private unary(op: "-" | "not", v: Value, span: Span): Value {
    if (v.kind === "error") return v;
    if (op === "not") {
      if (v.kind === "bool") return { kind: "bool", value: !v.value };
      if (v.kind === "tensor" && this.st.expectDtype(v, ["bool"], span)) return addPrimitive(this.st, "not", [v], {}, span);
      return this.st.error(Diagnostics.Expected_0_got_1, span, ["a boolean after 'not'", describeValue(v)]);
    }
    if (v.kind === "int" || v.kind === "float") return { kind: v.kind, value: -v.value };
    if (v.kind === "tensor" && this.floatTensor(v, span)) return this.st.addNode("scalar", { x: v.node }, { op: "*", value: -1, reverse: false }, {}, v.type, span);
    return this.st.error(Diagnostics.Expected_0_got_1, span, ["a number or a tensor after '-'", describeValue(v)]);
  }

  private floatTensor(v: TensorValue, span: Span): boolean {
    if (v.optional && v.name) {
      this.st.error(Diagnostics.Optional_0_used_as_value, span, [v.name]);
      return false;
    }
    return this.st.expectDtype(v, ["f32"], span);
  }

  private binary(op: BinaryOp, l: Value, r: Value, e: Extract<Expr, { kind: "binary" }>): Value {
    if (l.kind === "error" || r.kind === "error") return ERROR;
    const prim = Object.hasOwn(OPERATOR_PRIMITIVES, op) ? OPERATOR_PRIMITIVES[op] : undefined;
    if (prim && (l.kind === "tensor" || r.kind === "tensor")) return this.tensorOperator(prim, op, l, r, e);
    if (op === "and" || op === "or") {
      for (const [v, s] of [[l, e.left.span], [r, e.right.span]] as const) {
        if (v.kind !== "bool") return this.st.error(Diagnostics.Expected_0_got_1, s, [`a boolean for '${op}'`, describeValue(v)]);
      }
      const a = (l as { value: boolean }).value;
      const b = (r as { value: boolean }).value;
      return { kind: "bool", value: op === "and" ? a && b : a || b };
    }
    if (op === "==" || op === "!=" || op === "<" || op === "<=" || op === ">" || op === ">=") return this.compare(op, l, r, e);
    if (l.kind === "tensor" || r.kind === "tensor") return this.tensorBinary(op, l, r, e);
    for (const [v, s] of [[l, e.left.span], [r, e.right.span]] as const) {
      if (!isNumeric(v)) return this.st.error(Diagnostics.Expected_0_got_1, s, [`a number for '${op}'`, describeValue(v)]);
    }
    return this.arithmetic(op, l as { kind: "int" | "float"; value: number }, r as { kind: "int" | "float"; value: number }, e.opSpan);
  }

  private arithmetic(op: BinaryOp, l: { kind: "int" | "float"; value: number }, r: { kind: "int" | "float"; value: number }, span: Span): Value {
    const ints = l.kind === "int" && r.kind === "int";
    if ((op === "/" || op === "%") && r.value === 0) return this.st.error(Diagnostics.Division_by_zero, span);
    let value: number;
    switch (op) {
      case "+":
        value = l.value + r.value;
        break;
      case "-":
        value = l.value - r.value;
        break;
      case "*":
        value = l.value * r.value;
        break;
      case "/":
        value = l.value / r.value;
        break;
      case "%":
        value = l.value - r.value * Math.floor(l.value / r.value);
        break;
      case "**":
        value = l.value ** r.value;
        break;
      default:
        return this.st.error(Diagnostics.Expected_0_got_1, span, ["tensors for '@'", "numbers"]);
    }
    if (!Number.isFinite(value)) return this.st.error(Diagnostics.Value_0_must_be_1, span, ["the result", `finite, got ${value}`]);
    const integral = ints && Number.isInteger(value) && (op !== "**" || r.value >= 0);
    // Integers stay exact: a result past 2^53 - 1 would be silently rounded.
    if (integral && !Number.isSafeInteger(value)) return this.st.error(Diagnostics.Integer_result_0_too_large, span, [value.toLocaleString("en-US")]);
    const isInt = integral;
    return { kind: isInt ? "int" : "float", value };
  }

  private compare(op: BinaryOp, l: Value, r: Value, e: Extract<Expr, { kind: "binary" }>): Value {
    const eq = op === "==" || op === "!=";
    let result: boolean | undefined;
    if (isNumeric(l) && isNumeric(r)) {
      const a = l.value;
      const b = r.value;
      result = op === "==" ? a === b : op === "!=" ? a !== b : op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b;
    } else if (eq && l.kind === r.kind && (l.kind === "bool" || l.kind === "ident" || l.kind === "string")) {
      const same = (l as { value: unknown }).value === (r as { value: unknown }).value;
      result = op === "==" ? same : !same;
    }
    if (result === undefined) {
      return this.st.error(Diagnostics.Expected_0_got_1, e.opSpan, [eq ? "two values of one kind to compare" : "numbers to compare", `${describeValue(l)} and ${describeValue(r)}`]);
    }
    return { kind: "bool", value: result };
  }

  private tensorBinary(op: BinaryOp, l: Value, r: Value, e: Extract<Expr, { kind: "binary" }>): Value {
    const st = this.st;
    if (op === "@") {
      if (l.kind !== "tensor" || r.kind !== "tensor") return st.error(Diagnostics.Expected_0_got_1, e.opSpan, ["tensors on both sides of '@'", describeValue(l.kind === "tensor" ? r : l)]);
      if (!this.floatTensor(l, e.left.span) || !this.floatTensor(r, e.right.span)) return ERROR;
      const a = l.type.shape;
      const b = r.type.shape;
      if (a.length < 2 || b.length < 2) return st.error(Diagnostics.Rank_0_expected_1_for_2, a.length < 2 ? e.left.span : e.right.span, [Math.min(a.length, b.length), "at least 2", "an operand of '@'"]);
      const inner = [a[a.length - 1], b[b.length - 2]];
      if (!sameDim(inner[0], inner[1])) return st.error(Diagnostics.Inner_dims_0_and_1, e.opSpan, [`${formatShape(a)} has ${fmtDim(inner[0])} columns`, `${formatShape(b)} has ${fmtDim(inner[1])} rows`]);
      const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
      if (!batch) return st.error(Diagnostics.Cannot_broadcast_0_and_1, e.opSpan, [formatShape(a), formatShape(b)]);
      return st.addNode("matmul", { a: l.node, b: r.node }, {}, {}, { dtype: "f32", shape: [...batch, a[a.length - 2], b[b.length - 1]] }, e.span);
    }
    if (op !== "+" && op !== "-" && op !== "*" && op !== "/") {
      return st.error(Diagnostics.Expected_0_got_1, e.opSpan, [`numbers for '${op}'`, "a tensor"]);
    }
    if (l.kind === "tensor" && r.kind === "tensor") {
      if (!this.floatTensor(l, e.left.span) || !this.floatTensor(r, e.right.span)) return ERROR;
      const shape = broadcastShapes(l.type.shape, r.type.shape);
      if (!shape) return st.error(Diagnostics.Cannot_broadcast_0_and_1, e.opSpan, [formatShape(l.type.shape), formatShape(r.type.shape)]);
      return st.addNode("binary", { a: l.node, b: r.node }, { op }, {}, { dtype: "f32", shape }, e.span);
    }
    const [t, s, reverse] = l.kind === "tensor" ? [l, r, false] : [r as TensorValue, l, true];
    if (!isNumeric(s)) return st.error(Diagnostics.Expected_0_got_1, reverse ? e.left.span : e.right.span, [`a tensor or a number for '${op}'`, describeValue(s)]);
    if (!this.floatTensor(t, reverse ? e.right.span : e.left.span)) return ERROR;
    if (op === "/" && !reverse && s.value === 0) return st.error(Diagnostics.Division_by_zero, e.opSpan);
    return st.addNode("scalar", { x: t.node }, { op, value: s.value, reverse }, {}, t.type, e.span);
  }

  /** `a < b`, `m and n`, `x ** 2`, `i % n` with a tensor on either side: the op table's primitive. */
  private tensorOperator(prim: PrimitiveOp, op: BinaryOp, l: Value, r: Value, e: Extract<Expr, { kind: "binary" }>): Value {
    const a = primitiveOperand(this.st, l, e.left.span, `'${op}'`);
    const b = primitiveOperand(this.st, r, e.right.span, `'${op}'`);
    if (!a || !b) return ERROR;
    if (op === "and" || op === "or") {
      if (!this.st.expectDtype(a, ["bool"], e.left.span) || !this.st.expectDtype(b, ["bool"], e.right.span)) return ERROR;
    }
    return addPrimitive(this.st, prim, [a, b], {}, e.span);
  }

  private labeled(e: Extract<Expr, { kind: "labeled" }>): Value {
    if (e.expr.kind !== "call") return this.st.error(Diagnostics.Label_needs_layer_0, e.expr.span, [e.expr.kind === "name" ? `the name '${e.expr.name}'` : "an expression"]);
    const parts = e.label.parts;
    const bad = parts.map(nameProblem).find((p) => p !== undefined);
    if (bad) return this.st.error(Diagnostics.Expected_0_got_1, e.label.span, ["a label whose dot-separated parts are non-empty", bad]);
    const before = this.st.nodes.length;
    const result = this.call(e.expr, parts);
    const path = this.st.scopePath(parts);
    const node = result.kind === "tensor" && result.node >= before ? this.st.nodes[result.node] : undefined;
    this.st.labels.set(path, {
      path,
      layer: node && layerNamed(e.expr.callee.name) ? node.layer : e.expr.callee.name,
      params: node && layerNamed(e.expr.callee.name) ? node.params : {},
      ...(node ? { node: node.id } : {}),
      span: e.label.span,
    });
    return result;
  }

  /** Runs `fn` with `parts` appended to the label scope: a layer's own parameters go under its label. */
  protected inScope<T>(parts: readonly string[], fn: () => T): T {
    this.st.scope.push(...parts);
    try {
      return fn();
    } finally {
      this.st.scope.length -= parts.length;
    }
  }

  /** A call, with its arguments evaluated in the caller's scope and its own parameters under `label`. */
  call(e: Extract<Expr, { kind: "call" }>, label: readonly string[] = []): Value {
    const name = e.callee.name;
    const site = { name, span: e.span, calleeSpan: e.callee.span, ...(label.length > 0 ? { label: label.join(".") } : {}) };
    const local = this.frame.vars.get(name) ?? this.st.config.get(name);
    // A config or variable holding an activation's name may be called: `act(x)` with `config act = gelu`.
    const target = local && (local.kind === "ident") && layerNamed(local.value) ? local.value : name;
    const fn = constFunctionNamed(name);
    if (fn && !local) return this.constCall(name, fn, e);
    if (name === "repeat" && !local) return this.repeat(e, label);
    const layer = layerNamed(target);
    if (layer) {
      const { bound } = bindArguments(this.st.diags, name, e.callee.span, layer.args, e.args);
      const args = this.evaluateArgs(layer.args, bound, e.span);
      if ([...layer.args].some((s) => s.required && !args.has(s.name))) return ERROR;
      return this.inScope(label, () => layer.elaborate(this.st, args, { ...site, name: target }));
    }
    if (this.blocks.has(name)) return this.callBlock(name, e.args, site, undefined, label);
    const blocks = this.blocks;
    function* known() {
      yield* Object.keys(LAYERS);
      yield* Object.keys(CONST_FUNCTIONS);
      yield "repeat";
      yield* blocks.keys();
    }
    if (local?.kind === "ident") {
      const hint = `'${name}' holds '${local.value}', which names no layer; an activation is one of ${ACTIVATIONS.join(", ")}`;
      return this.st.error(Diagnostics.Unknown_layer_0, e.callee.span, [name], { hint });
    }
    return this.st.error(Diagnostics.Unknown_layer_0, e.callee.span, [name], didYouMeanHint(name, known(), this.st.diags.suggestions));
  }

  private constCall(name: string, fn: (typeof CONST_FUNCTIONS)[string], e: Extract<Expr, { kind: "call" }>): Value {
    // `sqrt(x)`, `max(x, dim = -1)`: on a tensor these are the primitives of the same name.
    const values = new Map(e.args.map((a) => [a.value, this.demand(this.eval(a.value))] as const));
    const layer = layerNamed(name);
    if (layer && [...values.values()].some((v) => v.kind === "tensor")) {
      const { bound } = bindArguments(this.st.diags, name, e.callee.span, layer.args, e.args);
      const evaluated = new Map<string, Value>();
      const spans = new Map<string, Span>();
      const exprs = new Map<string, Expr>();
      for (const [k, b] of bound) {
        evaluated.set(k, values.get(b.expr)!);
        spans.set(k, b.span);
        exprs.set(k, b.expr);
      }
      const args = new EvaluatedArgs(evaluated, spans, exprs, e.span);
      if (layer.args.some((s) => s.required && !args.has(s.name))) return ERROR;
      return layer.elaborate(this.st, args, { name, span: e.span, calleeSpan: e.callee.span });
    }
    const [lo, hi] = fn.arity;
    if (e.args.length < lo) return this.st.error(Diagnostics.Missing_argument_0_for_1, e.callee.span, [`x${e.args.length + 1}`, name]);
    if (e.args.length > hi) return this.st.error(Diagnostics.Too_many_arguments_for_0_expected_1_got_2, e.args[hi].span, [name, hi, e.args.length]);
    const xs: number[] = [];
    let allInt = true;
    for (const a of e.args) {
      if (a.name) return this.st.error(Diagnostics.Unknown_argument_0_for_1, a.name.span, [a.name.name, name], unknownArgumentHint(a.name.name, name, []));
      const v = values.get(a.value)!;
      if (v.kind === "error") return v;
      if (!isNumeric(v)) return this.st.error(Diagnostics.Expected_0_got_1, a.span, [`a number for ${name}`, describeValue(v)]);
      allInt &&= v.kind === "int";
      xs.push(v.value);
    }
    const value = fn.fn(...xs);
    if (!Number.isFinite(value)) return this.st.error(Diagnostics.Value_0_must_be_1, e.span, [`${name}(...)`, `finite, got ${value}`]);
    const isInt = Number.isInteger(value) && (allInt || name === "floor" || name === "ceil");
    return { kind: isInt ? "int" : "float", value };
  }

  /** `repeat(n, block, x, ...)`: n calls of the block under `<label>.0`, `<label>.1`, ..., threading x. */
  private repeat(e: Extract<Expr, { kind: "call" }>, label: readonly string[]): Value {
    const specs: ArgSpec[] = [
      { name: "count", kind: "int", required: true },
      { name: "block", kind: "block", required: true },
    ];
    const { bound, rest } = bindArguments(this.st.diags, "repeat", e.callee.span, specs, e.args, { variadic: true });
    const args = this.evaluateArgs(specs, bound, e.span);
    const count = args.has("count") ? this.st.asPositiveInt(args.get("count")!, args.span("count"), "the repeat count") : undefined;
    const block = args.get("block");
    if (count === undefined || block?.kind !== "block") return ERROR;
    const carried = rest.find((a) => !a.name);
    if (!carried) return this.st.error(Diagnostics.Missing_argument_0_for_1, e.callee.span, ["the value carried through the repetitions", "repeat"]);
    let x = this.eval(carried.value);
    const others = rest.filter((a) => a !== carried);
    const fixed = others.map((a) => this.eval(a.value));
    for (let i = 0; i < count && x.kind !== "error"; i++) {
      x = this.callBlock(block.name, [carried, ...others], { span: e.span, calleeSpan: args.span("block") }, [x, ...fixed], [...label, String(i)]);
    }
    return x;
  }

  /** Evaluates bound arguments by the kind their specs ask for. */
  evaluateArgs(specs: readonly ArgSpec[], bound: ReadonlyMap<string, { expr: Expr; span: Span }>, callSpan: Span): EvaluatedArgs {
    const values = new Map<string, Value>();
    const spans = new Map<string, Span>();
    const exprs = new Map<string, Expr>();
    for (const spec of specs) {
      const b = bound.get(spec.name);
      if (!b) continue;
      spans.set(spec.name, b.span);
      exprs.set(spec.name, b.expr);
      const v = this.evalArg(spec, b.expr, b.span);
      if (v !== undefined) values.set(spec.name, v);
    }
    return new EvaluatedArgs(values, spans, exprs, callSpan);
  }

  private evalArg(spec: ArgSpec, expr: Expr, span: Span): Value | undefined {
    const st = this.st;
    if (spec.kind === "label") return this.labelArg(expr, span);
    if (spec.kind === "rotary") return rotaryArgument(this.st, (specs, bound, at) => this.evaluateArgs(specs, bound, at), spec.name, expr, span);
    const raw = this.eval(expr);
    if (raw.kind === "error") return raw;
    if (spec.kind === "choice") {
      const choices = spec.choices ?? [];
      if (raw.kind === "ident" && choices.includes(raw.value)) return { kind: "ident", value: raw.value };
      const word = raw.kind === "ident" ? raw.value : describeValue(raw);
      return st.error(Diagnostics.Invalid_choice_0_for_1_expected_2, span, [word, spec.name, choices.join(", ")], raw.kind === "ident" ? didYouMeanHint(raw.value, choices, st.diags.suggestions) : {});
    }
    const v = this.demand(raw);
    if (v.kind === "error") return v;
    const expected = (what: string) => st.error(Diagnostics.Expected_0_got_1, span, [`${what} for '${spec.name}'`, describeValue(v)]);
    switch (spec.kind) {
      case "tensor":
        if (v.kind === "absent" || (v.kind === "tensor" && v.optional)) return st.error(Diagnostics.Optional_0_used_as_value, span, [v.kind === "absent" ? v.name : (v.name ?? spec.name)]);
        return v.kind === "tensor" ? v : expected("a tensor");
      case "mask":
        if (v.kind === "absent") return undefined;
        return v.kind === "tensor" ? v : st.error(Diagnostics.Mask_0_must_be_1_got_2, span, [spec.name, "a tensor", describeValue(v)]);
      case "int":
        return v.kind === "int" || (v.kind === "float" && Number.isInteger(v.value)) ? { kind: "int", value: v.value } : expected("an integer");
      case "number":
        return isNumeric(v) ? v : expected("a number");
      case "bool":
        return v.kind === "bool" ? v : expected("a boolean");
      case "dim":
        return v.kind === "int" || v.kind === "dim" ? v : expected("a dimension");
      case "block":
        return v.kind === "block" ? v : expected("a block");
      default:
        return v;
    }
  }

  private labelArg(expr: Expr, span: Span): Value {
    const path = expr.kind === "name" ? expr.name : expr.kind === "string" ? expr.value : undefined;
    if (path === undefined) return this.st.error(Diagnostics.Expected_0_got_1, span, ["a label", "an expression"]);
    if (!this.st.resolveLabel(path)) {
      return this.st.error(Diagnostics.Label_0_not_found, expr.span, [path], didYouMeanHint(path, this.st.labels.keys(), this.st.diags.suggestions));
    }
    return { kind: "string", value: path };
  }
}

const sameDim = (a: Dim, b: Dim) => (isConst(a) ? isConst(b) && a.value === b.value : !isConst(b) && a.sym === b.sym);
const fmtDim = (d: Dim) => (isConst(d) ? String(d.value) : d.sym);
