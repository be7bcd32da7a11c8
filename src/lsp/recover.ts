import { DiagnosticBag, type Diagnostic, type Span } from "../diagnostics/diagnostic.js";
import { Diagnostics } from "../diagnostics/messages.js";
import { checkSemantics } from "../semantics/elaborate.js";
import type { ValueObserver } from "../semantics/elaborator.js";
import type { Arg, Expr, ModelDecl, SourceFileAst, Stmt } from "../syntax/ast.js";
import { parseTfm } from "../syntax/parse.js";

// The checker as an editor needs it: a file being typed has syntax errors most of the time, so
// the semantic checks run on whatever the parser recovered. What they say about a statement a
// syntax error broke is dropped (the syntax error is the message there); everything else stands.
// Blocks that no statement calls yet are checked once against their declared parameter types, so
// their bodies have types to show too.

export interface EditorCheck {
  readonly ast: SourceFileAst;
  readonly diagnostics: readonly Diagnostic[];
  /** Whether the file parsed without errors. */
  readonly parsed: boolean;
}

type BlockStmt = Extract<Stmt, { kind: "block" }>;

/** Parses and checks `text`, reporting every value computed to `observe`. */
export function checkForEditor(text: string, observe: ValueObserver): EditorCheck {
  const { ast, diagnostics: syntax } = parseTfm(text);
  const parsed = syntax.errorCount === 0;
  const bag = new DiagnosticBag();
  for (const d of syntax.items) bag.add(d);
  // Seeded with the syntax errors, the checker also stays quiet about "no output" and unused inputs.
  const seeded = new DiagnosticBag();
  for (const d of syntax.items) seeded.add(d);
  const observed: { span: Span }[] = [];
  const record: ValueObserver = (span, value, parameters) => {
    observed.push({ span });
    observe(span, value, parameters);
  };
  guarded(() => checkSemantics(ast, [], seeded, { observe: record }));
  const damaged = parsed
    ? []
    : damagedRegions(
        text,
        ast,
        syntax.items.map((d) => d.span),
      );
  // Names written where the syntax is broken may be declared there: what the checker says about
  // them elsewhere ("unknown name", "already declared", a missing argument of a block whose
  // header is broken) follows from the syntax error.
  const suspect = new Set(damaged.flatMap((r) => text.slice(r.start, r.end).match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []));
  for (const d of seeded.items.slice(syntax.items.length)) {
    if (damaged.some((r) => r.start <= d.span.start && d.span.start <= r.end)) continue;
    if (!parsed && (d.code === Diagnostics.No_model_in_file.code || quotedNames(d.message).some((n) => suspect.has(n)))) continue;
    bag.add(d);
  }
  const model = ast.models[0];
  if (model) {
    for (const b of model.body) {
      if (b.kind !== "block") continue;
      // Its parameters are observed when a call binds them, its body only when the call runs.
      const header = b.params.length > 0 ? b.params[b.params.length - 1].span : b.name.span;
      if (observed.some((o) => o.span.start >= header.end && inside(o.span, b.span))) continue;
      preview(model, b, observe);
    }
  }
  return { ast, diagnostics: bag.sorted(), parsed };
}

/**
 * Runs the checker, which must not take the language server down with it on text it has not
 * been hardened against: then the syntax diagnostics stand alone.
 */
function guarded(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

const quotedNames = (message: string) => [...message.matchAll(/'([A-Za-z_][A-Za-z0-9_]*)'/g)].map((m) => m[1]);
const inside = (s: Span, outer: Span) => outer.start <= s.start && s.end <= outer.end;

/**
 * The text each syntax error spoils: from the start of the statement it falls in (or the one
 * before it, when the error is where the next statement should begin) to the end of its line, and
 * the whole of that line. For a block
 * or `if`, only its header up to the error, unless the error is inside a statement of its body.
 */
export function damagedRegions(text: string, ast: SourceFileAst, errors: readonly Span[]): Span[] {
  const out: Span[] = [];
  for (const e of errors) {
    const model = ast.models.find((m) => m.span.start <= e.start && e.start <= m.span.end) ?? ast.models[ast.models.length - 1];
    if (!model) continue;
    let list: readonly Stmt[] = model.body;
    let start = model.span.start;
    for (;;) {
      const before = list.filter((s) => s.span.start < e.start);
      const s = before[before.length - 1];
      if (!s) break;
      start = s.span.start;
      const inner = s.kind === "block" ? s.body : s.kind === "if" ? [...s.then, ...(s.else ?? [])] : undefined;
      if (!inner || e.start > s.span.end || !inner.some((x) => x.span.start < e.start)) break;
      // A block with a broken body reports at its name ("no return"): that is damaged too.
      if (s.kind === "block") out.push(s.name.span);
      list = inner;
    }
    // Recovery may have read the line as statements of their own: the whole line is damaged.
    const eol = text.indexOf("\n", e.start);
    const bol = text.lastIndexOf("\n", e.start - 1) + 1;
    out.push({ ...e, start: Math.min(start, bol), end: Math.max(e.end, eol < 0 ? text.length : eol) });
  }
  return out;
}

/**
 * Checks a block nobody calls yet as if called with inputs of its declared parameter types, for
 * the values of its body (diagnostics are not kept: the real calls will report). Parameters
 * without a type cannot be made up, so such a block is skipped.
 */
function preview(model: ModelDecl, block: BlockStmt, observe: ValueObserver): void {
  if (block.params.some((p) => !p.type && !p.optional)) return;
  const setup = model.body.filter((s) => s.kind === "config" || s.kind === "input" || s.kind === "block");
  // Parameter names may clash with the model's own names; '%' cannot be written in a .tfm name.
  const args: Arg[] = [];
  const inputs: Stmt[] = [];
  for (const p of block.params) {
    if (!p.type) continue;
    const name = { name: `%${p.name.name}`, span: p.name.span };
    inputs.push({ kind: "input", name, optional: p.optional, type: p.type, constraints: [], span: p.span });
    const value: Expr = { kind: "name", name: name.name, span: p.name.span };
    args.push({ name: { name: p.name.name, span: p.name.span }, value, span: p.span });
  }
  const call: Expr = { kind: "call", callee: block.name, args, span: block.name.span };
  const result = { name: "%result", span: block.name.span };
  const body: Stmt[] = [...setup, ...inputs, { kind: "assign", target: result, targets: [result], value: call, span: block.name.span }];
  const ast: SourceFileAst = { models: [{ ...model, body }], comments: [] };
  const keep: ValueObserver = (span, value, parameters) => {
    if (inside(span, block.span) && !(span.start === block.name.span.start && span.end === block.name.span.end)) observe(span, value, parameters);
  };
  guarded(() => checkSemantics(ast, [], new DiagnosticBag(), { observe: keep }));
}
