import { DiagnosticBag, type Span } from "../diagnostics/diagnostic.js";
import { didYouMeanHint, unknownArgumentHint } from "../diagnostics/didYouMean.js";
import { Diagnostics } from "../diagnostics/messages.js";
import type { Arg, Expr, ModelDecl, Param, SourceFileAst, Stmt, TypeExpr } from "../syntax/ast.js";
import { ElaborationAbort, ElaborationState, type ValueObserver } from "./elaborator.js";
import { ExpressionEvaluator } from "./expressions.js";
import { describeConfigKind, overrideFits, type ConfigOverride } from "./overrides.js";
import { DTYPES, dimEquals, formatShape, isConst, type CheckedModel, type ConfigValue, type Dim, type DType, type InputInfo, type OutputInfo, type TensorType } from "./types.js";
import { describeValue, ERROR, type Value } from "./values.js";

export const MAX_BLOCK_DEPTH = 64;

type BlockStmt = Extract<Stmt, { kind: "block" }>;

/** Walks a model's statements: config, inputs, assignments, outputs, compile-time `if`, block calls. */
class ModelElaborator extends ExpressionEvaluator {
  private readonly blockDecls = new Map<string, BlockStmt>();
  private readonly callStack: string[] = [];
  private readonly inputs: InputInfo[] = [];
  private readonly outputs: OutputInfo[] = [];
  private readonly overridesUsed = new Set<string>();
  private returned: Value | undefined;
  /** The model's own variables, which blocks do not see. */
  private readonly modelFrame = this.frame;

  constructor(
    st: ElaborationState,
    private readonly model: ModelDecl,
    private readonly overrides: ReadonlyMap<string, ConfigOverride>,
  ) {
    super(st);
  }

  run(): CheckedModel {
    for (const s of this.model.body) {
      if (s.kind !== "block") continue;
      const prev = this.blockDecls.get(s.name.name);
      if (prev) {
        this.st.error(Diagnostics.Duplicate_block_0, s.name.span, [s.name.name], { related: [{ span: prev.name.span, message: "first declared here" }] });
        continue;
      }
      this.blockDecls.set(s.name.name, s);
      this.blocks.set(s.name.name, { span: s.name.span });
    }
    try {
      this.statements(this.model.body, true);
    } catch (e) {
      if (!(e instanceof ElaborationAbort)) throw e;
    }
    for (const [name] of this.overrides) {
      if (!this.overridesUsed.has(name)) {
        this.st.error(Diagnostics.Unknown_config_override_0, this.model.name.span, [name], didYouMeanHint(name, this.st.config.keys(), this.st.diags.suggestions));
      }
    }
    if (this.outputs.length === 0 && this.st.diags.errorCount === 0) this.st.error(Diagnostics.Model_has_no_output, this.model.name.span, [this.model.name.name]);
    // On a file with errors, elaboration stopped early in places: "unused" would be noise.
    if (this.st.diags.errorCount === 0) {
      for (const i of this.inputs) if (!this.usedInputs.has(i.name)) this.st.diags.error(Diagnostics.Unused_input_0, i.span, [i.name]);
    }
    return {
      name: this.model.name.name,
      config: this.st.config,
      symbols: [...this.st.symbols].map(([name, s]) => ({ name, ...(s.max !== undefined ? { max: s.max } : {}) })),
      inputs: this.inputs,
      outputs: this.outputs,
      params: [...this.st.params.values()],
      nodes: this.st.nodes,
    };
  }

  private statements(stmts: readonly Stmt[], topLevel: boolean): void {
    for (const s of stmts) {
      if (this.returned !== undefined) return;
      this.statement(s, topLevel);
    }
  }

  private notHere(s: Stmt, what: string): void {
    this.st.error(Diagnostics.Statement_not_allowed_here_0, s.span, [`${what} is only allowed at the top level of a model, not inside a block`]);
  }

  private statement(s: Stmt, topLevel: boolean): void {
    switch (s.kind) {
      case "config":
        return topLevel ? this.config(s) : this.notHere(s, "'config'");
      case "input":
        return topLevel ? this.input(s) : this.notHere(s, "'input'");
      case "output":
        return topLevel ? this.output(s) : this.notHere(s, "'output'");
      case "block":
        // Collected before the walk; nested declarations are refused.
        if (!topLevel || !this.blockDecls.has(s.name.name) || this.blockDecls.get(s.name.name) !== s) {
          if (!topLevel) this.notHere(s, "a block declaration");
        }
        return;
      case "assign":
        return this.assign(s);
      case "param":
        return this.param(s);
      case "if": {
        const c = this.demand(this.eval(s.cond));
        if (c.kind === "error") return;
        if (c.kind !== "bool") {
          this.st.error(Diagnostics.Condition_must_be_boolean_got_0, s.cond.span, [describeValue(c)]);
          return;
        }
        return this.statements(c.value ? s.then : (s.else ?? []), topLevel);
      }
      case "return":
        if (topLevel) {
          this.st.error(Diagnostics.Return_outside_block, s.span);
          return;
        }
        this.returned = this.demand(this.eval(s.value));
        return;
    }
  }

  private config(s: Extract<Stmt, { kind: "config" }>): void {
    for (const item of s.items) {
      const name = item.name.name;
      if (this.st.config.has(name)) {
        this.st.error(Diagnostics.Duplicate_config_0, item.name.span, [name]);
        continue;
      }
      const v = this.eval(item.value);
      let value: ConfigValue | undefined;
      if (v.kind === "int" || v.kind === "float" || v.kind === "bool" || v.kind === "string") value = v;
      else if (v.kind === "ident") value = { kind: "ident", value: v.value };
      else if (v.kind !== "error") this.st.error(Diagnostics.Config_0_must_be_constant, item.value.span, [name, describeValue(v)]);
      const o = this.overrides.get(name);
      if (o) {
        this.overridesUsed.add(name);
        if (value) {
          const fitted = overrideFits(value, o.value);
          if (!fitted) this.st.error(Diagnostics.Override_0_expects_1_got_2, item.name.span, [name, describeConfigKind(value), `${describeConfigKind(o.value)} '${o.text}'`]);
          else value = fitted;
        }
      }
      // An invalid value still declares the name, so later uses do not cascade into "unknown name".
      this.st.config.set(name, value ?? { kind: "int", value: 0 });
      if (value) this.st.observe?.(item.name.span, value as Value, 0);
      if (!value) this.poisoned.add(name);
    }
  }

  /** Config names whose value was invalid: reading them yields an error value silently. */
  private readonly poisoned = new Set<string>();

  override lookup(name: string, span: Span): Value {
    if (this.poisoned.has(name) && !this.frame.vars.has(name)) return ERROR;
    return super.lookup(name, span);
  }

  private declareName(name: string, span: Span): boolean {
    if (this.st.config.has(name) || this.frame.vars.has(name) || this.blocks.has(name)) {
      this.st.error(Diagnostics.Name_0_already_declared, span, [name]);
      return false;
    }
    return true;
  }

  /** Inputs and outputs travel in safetensors files (`run --inputs`, `--out`), where this name is the header's own. */
  private notReserved(name: string, span: Span, what: string): boolean {
    if (name !== "__metadata__") return true;
    this.st.error(Diagnostics.Reserved_name_0_for_1, span, [name, what]);
    return false;
  }

  private dtype(t: TypeExpr): DType | undefined {
    if ((DTYPES as readonly string[]).includes(t.dtype.name)) return t.dtype.name as DType;
    this.st.error(Diagnostics.Unknown_dtype_0, t.dtype.span, [t.dtype.name], didYouMeanHint(t.dtype.name, DTYPES, this.st.diags.suggestions));
    return undefined;
  }

  /** A dimension in a type: a config value, an existing symbol, or (where allowed) a new symbol. */
  private typeDim(e: Expr, newSymbol: (name: string, span: Span) => Dim | undefined): Dim | undefined {
    if (e.kind === "name" && !this.st.config.has(e.name) && !this.frame.vars.has(e.name)) return newSymbol(e.name, e.span);
    const v = this.demand(this.eval(e));
    return this.st.asDim(v, e.span, "a dimension");
  }

  private input(s: Extract<Stmt, { kind: "input" }>): void {
    const name = s.name.name;
    const ok = this.declareName(name, s.name.span) && this.notReserved(name, s.name.span, "an input");
    const dtype = this.dtype(s.type);
    const shape: Dim[] = [];
    let valid = dtype !== undefined;
    for (const d of s.type.dims) {
      const dim = this.typeDim(d, (sym, span) => {
        if (!this.st.symbols.has(sym)) this.st.symbols.set(sym, { span });
        return { sym };
      });
      if (!dim) valid = false;
      else shape.push(dim);
    }
    for (const c of s.constraints) this.constraint(c);
    if (!ok || !valid) {
      this.frame.vars.set(name, ERROR);
      return;
    }
    const type = { dtype: dtype!, shape };
    const fill = s.default ? this.inputDefault(s, type) : undefined;
    if (s.default && fill === undefined) {
      this.frame.vars.set(name, ERROR);
      return;
    }
    const node = this.st.addNode("input", {}, { name, optional: s.optional }, {}, type, s.span);
    this.inputs.push({ name, type, optional: s.optional, node: node.node, span: s.name.span, ...(fill !== undefined ? { default: fill } : {}) });
    this.frame.vars.set(name, { ...node, optional: s.optional, name });
    this.st.observe?.(s.name.span, node, 0);
  }

  /**
   * `input x: i32[B, T] = 0`: the value of every element when the caller leaves the input out. Its
   * symbols must be bound by an input declared before it that the caller always gives.
   */
  private inputDefault(s: Extract<Stmt, { kind: "input" }>, type: TensorType): number | undefined {
    const name = s.name.name;
    const span = s.default!.span;
    if (s.optional) {
      this.st.error(Diagnostics.Input_default_0_1, s.name.span, [name, "'?' marks an input that may be absent, a default one that is never absent; write one or the other"]);
      return undefined;
    }
    const v = this.demand(this.eval(s.default!));
    if (v.kind === "error") return undefined;
    const wanted = type.dtype === "bool" ? "true or false" : type.dtype === "f32" ? "a number" : "an integer";
    const value = v.kind === "bool" && type.dtype === "bool" ? Number(v.value) : (v.kind === "int" || (v.kind === "float" && type.dtype === "f32")) && type.dtype !== "bool" ? v.value : undefined;
    if (value === undefined) {
      this.st.error(Diagnostics.Input_default_0_1, span, [name, `${type.dtype === "bool" ? "a" : "an"} ${type.dtype} input takes ${wanted}, got ${describeValue(v)}`]);
      return undefined;
    }
    const outside = type.dtype === "i32" ? value < -(2 ** 31) || value >= 2 ** 31 : type.dtype === "f32" && !Number.isFinite(Math.fround(value));
    if (outside) {
      this.st.error(Diagnostics.Input_default_0_1, span, [name, `${value} is outside ${type.dtype}${type.dtype === "f32" ? " (it would be infinite)" : ""}`]);
      return undefined;
    }
    for (const d of type.shape) {
      if (isConst(d)) continue;
      const bound = this.inputs.some((i) => !i.optional && i.default === undefined && i.type.shape.some((e) => !isConst(e) && e.sym === d.sym));
      if (!bound) {
        this.st.error(Diagnostics.Input_default_0_1, s.name.span, [name, `its dimension '${d.sym}' must be bound by an input declared before it that is always given, so that its shape is known when it is left out`]);
        return undefined;
      }
    }
    return value;
  }

  /** `T <= ctx` and its variants bound a symbol from above. */
  private constraint(c: Expr): void {
    const ops = { "<=": 0, "<": -1, ">=": 0, ">": -1 } as const;
    if (c.kind !== "binary" || !(c.op in ops)) {
      this.st.error(Diagnostics.Invalid_constraint_0, c.span, ["write it as 'T <= n' (or '<', or the mirror form)"]);
      return;
    }
    const symLeft = c.op === "<=" || c.op === "<";
    const symSide = symLeft ? c.left : c.right;
    const boundSide = symLeft ? c.right : c.left;
    if (symSide.kind !== "name" || !this.st.symbols.has(symSide.name)) {
      const what = symSide.kind === "name" ? `'${symSide.name}' is not a dimension of an input declared so far` : "the bounded side must be a symbolic dimension";
      this.st.error(Diagnostics.Invalid_constraint_0, symSide.span, [what]);
      return;
    }
    const b = this.demand(this.eval(boundSide));
    if (b.kind === "error") return;
    if (b.kind !== "int") {
      this.st.error(Diagnostics.Invalid_constraint_0, boundSide.span, [`the bound must be a compile-time integer, got ${describeValue(b)}`]);
      return;
    }
    const max = b.value + ops[c.op as keyof typeof ops];
    if (max < 1) {
      this.st.error(Diagnostics.Constraint_violated_0, c.span, [`'${symSide.name}' would have no valid length (at most ${max})`]);
      return;
    }
    const sym = this.st.symbols.get(symSide.name)!;
    this.st.symbols.set(symSide.name, { ...sym, max: Math.min(max, sym.max ?? Infinity) });
  }

  protected override unknownNameHint(name: string): string | undefined {
    if (this.frame !== this.modelFrame && this.modelFrame.vars.has(name)) {
      return `'${name}' is a variable of the model: a block sees config values and its own parameters only; pass it as an argument`;
    }
    if (this.outputs.some((o) => o.name === name)) {
      return `an output is not a name to read back: write '${name} = ...' then 'output ${name}'`;
    }
    return undefined;
  }

  private output(s: Extract<Stmt, { kind: "output" }>): void {
    const name = s.name.name;
    const v = s.value ? this.demand(this.eval(s.value)) : this.demand(this.lookup(name, s.name.span));
    if (this.outputs.some((o) => o.name === name)) {
      this.st.error(Diagnostics.Output_0_declared_twice, s.name.span, [name]);
      return;
    }
    if (v.kind === "error" || !this.notReserved(name, s.name.span, "an output")) return;
    if (v.kind !== "tensor") {
      this.st.error(Diagnostics.Expected_0_got_1, (s.value ?? s.name).span, ["a tensor for an output", describeValue(v)]);
      return;
    }
    if (v.optional) {
      this.st.error(Diagnostics.Optional_0_used_as_value, (s.value ?? s.name).span, [v.name ?? name]);
      return;
    }
    this.outputs.push({ name, node: v.node, type: v.type, span: s.name.span });
    this.st.observe?.(s.name.span, v, 0);
  }

  private assign(s: Extract<Stmt, { kind: "assign" }>): void {
    for (const t of s.targets) {
      if (this.st.config.has(t.name) || this.blocks.has(t.name)) {
        this.st.error(Diagnostics.Name_0_already_declared, t.span, [t.name]);
        return;
      }
    }
    const v = this.demand(this.eval(s.value));
    if (s.targets.length === 1) {
      this.st.observe?.(s.target.span, v, 0);
      this.frame.vars.set(s.target.name, v);
      return;
    }
    // `q, k, v = split(qkv, 3)`: one name per part.
    let parts: readonly Value[] = s.targets.map(() => ERROR);
    if (v.kind === "list" && v.items.length === s.targets.length) parts = v.items;
    else if (v.kind !== "error") this.st.error(Diagnostics.Expected_0_got_1, s.value.span, [`${s.targets.length} values to unpack`, describeValue(v)]);
    s.targets.forEach((t, k) => {
      this.st.observe?.(t.span, parts[k], 0);
      this.frame.vars.set(t.name, parts[k]);
    });
  }

  /** `param name: f32[dims]`: a parameter `<label scope>.name`, bound to `name` as a tensor. */
  private param(s: Extract<Stmt, { kind: "param" }>): void {
    const name = s.name.name;
    const dtype = this.dtype(s.type);
    if (dtype !== undefined && dtype !== "f32") this.st.error(Diagnostics.Dtype_0_expected_1, s.type.dtype.span, [dtype, "f32 (parameters are float32)"]);
    const shape: number[] = [];
    let valid = dtype === "f32";
    for (const d of s.type.dims) {
      const n = this.st.asPositiveInt(this.demand(this.eval(d)), d.span, `a dimension of parameter '${name}'`);
      if (n === undefined) valid = false;
      else shape.push(n);
    }
    if (this.st.config.has(name) || this.blocks.has(name)) {
      this.st.error(Diagnostics.Name_0_already_declared, s.name.span, [name]);
      valid = false;
    }
    if (!valid) {
      this.frame.vars.set(name, ERROR);
      return;
    }
    const full = this.st.addParam(name, shape, s.span);
    const node = this.st.addNode("param_ref", {}, { name: full }, { [name]: full }, { dtype: "f32", shape: shape.map((value) => ({ value })) }, s.span);
    this.st.observe?.(s.name.span, node, shape.reduce((a, b) => a * b, 1));
    this.frame.vars.set(name, node);
  }

  protected callBlock(name: string, args: readonly Arg[], site: { span: Span; calleeSpan: Span }, preset: Value[] | undefined, label: readonly string[]): Value {
    const decl = this.blockDecls.get(name)!;
    if (this.callStack.includes(name)) {
      const cycle = [...this.callStack.slice(this.callStack.indexOf(name)), name].join(" -> ");
      return this.st.error(Diagnostics.Block_0_calls_itself, site.calleeSpan, [name, cycle]);
    }
    if (this.callStack.length >= MAX_BLOCK_DEPTH) {
      this.st.error(Diagnostics.Blocks_nested_too_deeply_0, site.calleeSpan, [MAX_BLOCK_DEPTH]);
      throw new ElaborationAbort();
    }
    const values = this.bindBlockArgs(decl, args, site, preset);
    if (!values) return ERROR;
    const saved = { frame: this.frame, returned: this.returned };
    this.frame = { vars: values };
    this.returned = undefined;
    this.callStack.push(name);
    this.st.scope.push(...label);
    try {
      this.statements(decl.body, false);
      const result = this.returned;
      if (result === undefined) return this.st.error(Diagnostics.Block_0_has_no_return, decl.name.span, [name]);
      return result;
    } finally {
      this.st.scope.length -= label.length;
      this.callStack.pop();
      this.frame = saved.frame;
      this.returned = saved.returned;
    }
  }

  /** Binds a block's parameters and checks them against their declared types; symbols in those types unify. */
  private bindBlockArgs(decl: BlockStmt, args: readonly Arg[], site: { span: Span; calleeSpan: Span }, preset?: Value[]): Map<string, Value> | undefined {
    const vars = new Map<string, Value>();
    const given = new Map<string, { value: Value; span: Span }>();
    let pos = 0;
    let ok = true;
    args.forEach((a, i) => {
      const value = () => preset?.[i] ?? this.eval(a.value);
      if (a.name) {
        const p = decl.params.find((q) => q.name.name === a.name!.name);
        if (!p) {
          this.st.error(Diagnostics.Unknown_argument_0_for_1, a.name.span, [a.name.name, decl.name.name], unknownArgumentHint(a.name.name, decl.name.name, decl.params.map((q) => q.name.name), this.st.diags.suggestions));
          ok = false;
        } else if (given.has(p.name.name)) {
          this.st.error(Diagnostics.Argument_0_given_twice, a.name.span, [p.name.name]);
          ok = false;
        } else given.set(p.name.name, { value: value(), span: a.span });
        return;
      }
      while (pos < decl.params.length && given.has(decl.params[pos].name.name)) pos++;
      if (pos >= decl.params.length) {
        this.st.error(Diagnostics.Too_many_arguments_for_0_expected_1_got_2, a.span, [decl.name.name, decl.params.length, args.filter((x) => !x.name).length]);
        ok = false;
        return;
      }
      given.set(decl.params[pos++].name.name, { value: value(), span: a.span });
    });
    const bindings = new Map<string, Dim>();
    for (const p of decl.params) {
      const g = given.get(p.name.name);
      if (!g) {
        if (p.optional) vars.set(p.name.name, { kind: "absent", name: p.name.name });
        else {
          this.st.error(Diagnostics.Missing_argument_0_for_1, site.calleeSpan, [p.name.name, decl.name.name]);
          ok = false;
        }
        continue;
      }
      let v = this.demand(g.value);
      if (v.kind === "tensor" && v.optional && !p.optional) {
        this.st.error(Diagnostics.Optional_0_used_as_value, g.span, [v.name ?? p.name.name]);
        v = ERROR;
      }
      if (v.kind === "absent" && !p.optional) {
        this.st.error(Diagnostics.Optional_0_used_as_value, g.span, [v.name]);
        v = ERROR;
      }
      if (p.type && v.kind !== "error" && v.kind !== "absent" && !this.checkParamType(p, p.type, v, g.span, bindings)) v = ERROR;
      if (v.kind === "error") ok = false;
      this.st.observe?.(p.name.span, v, 0);
      vars.set(p.name.name, v);
    }
    return ok ? vars : undefined;
  }

  private checkParamType(p: Param, t: TypeExpr, v: Value, span: Span, bindings: Map<string, Dim>): boolean {
    if (v.kind !== "tensor") {
      this.st.error(Diagnostics.Block_argument_0_expected_1, span, [p.name.name, `expects a tensor, got ${describeValue(v)}`]);
      return false;
    }
    const dtype = this.dtype(t);
    if (dtype && dtype !== v.type.dtype) {
      this.st.error(Diagnostics.Dtype_0_expected_1, span, [v.type.dtype, `${dtype} (block parameter '${p.name.name}')`]);
      return false;
    }
    if (t.dims.length !== v.type.shape.length) {
      this.st.error(Diagnostics.Rank_0_expected_1_for_2, span, [v.type.shape.length, t.dims.length, p.name.name]);
      return false;
    }
    for (let i = 0; i < t.dims.length; i++) {
      const actual = v.type.shape[i];
      const expected = this.typeDim(t.dims[i], (sym) => {
        const prev = bindings.get(sym);
        if (prev === undefined) {
          bindings.set(sym, actual);
          return actual;
        }
        if (!dimEquals(prev, actual)) {
          this.st.error(Diagnostics.Dim_0_bound_to_1_and_2, span, [sym, fmt(prev), fmt(actual)]);
          return undefined;
        }
        return prev;
      });
      if (!expected) return false;
      if (!dimEquals(expected, actual)) {
        this.st.error(Diagnostics.Shape_0_expected_1_for_2, span, [formatShape(v.type.shape), `dimension ${i} to be ${fmt(expected)}`, p.name.name]);
        return false;
      }
    }
    return true;
  }
}

const fmt = (d: Dim) => (isConst(d) ? String(d.value) : d.sym);

export interface CheckResult {
  readonly model?: CheckedModel;
  readonly diagnostics: DiagnosticBag;
}

/** Semantic analysis of a parsed file: the one model in it, with config overrides applied. */
export function checkSemantics(ast: SourceFileAst, overrides: readonly ConfigOverride[], diags: DiagnosticBag, options: { attentionKernel?: string; observe?: ValueObserver } = {}): CheckedModel | undefined {
  if (ast.models.length === 0) {
    diags.error(Diagnostics.No_model_in_file, { start: 0, end: 0, line: 1, col: 1 });
    return undefined;
  }
  for (const extra of ast.models.slice(1)) diags.error(Diagnostics.Only_one_model_per_file, extra.name.span, [ast.models[0].name.name]);
  const st = new ElaborationState(diags, options.attentionKernel, options.observe);
  const byName = new Map(overrides.map((o) => [o.name, o]));
  const model = new ModelElaborator(st, ast.models[0], byName).run();
  return diags.errorCount === 0 ? model : undefined;
}
