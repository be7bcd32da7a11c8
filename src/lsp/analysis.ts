import type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
import { formatType } from "../semantics/types.js";
import type { Value } from "../semantics/values.js";
import type { Expr, IndexItem, ModelDecl, SourceFileAst, Stmt } from "../syntax/ast.js";
import { checkForEditor } from "./recover.js";
import { layerNamed, layerSignature } from "./signature.js";

// What the language server knows about one document, computed by the checker itself: its
// diagnostics, the value of every expression and binding (for hover), and the declarations names
// refer to (for go to definition). Kept free of the protocol so it can be tested directly.

export interface HoverInfo {
  readonly span: Span;
  /** Markdown. */
  readonly text: string;
}

interface Observed {
  readonly span: Span;
  readonly values: Set<string>;
  parameters: number;
  calls: number;
}

export interface Analysis {
  readonly text: string;
  readonly ast: SourceFileAst;
  readonly diagnostics: readonly Diagnostic[];
  /** Whether the document parsed without syntax errors. */
  readonly parsed: boolean;
  readonly observed: readonly Observed[];
}

function describe(v: Value): string | undefined {
  switch (v.kind) {
    case "tensor":
      return formatType(v.type);
    case "int":
      return `int = ${v.value}`;
    case "float":
      return `number = ${v.value}`;
    case "bool":
      return `bool = ${v.value}`;
    case "ident":
      return v.unbound ? undefined : `${v.value}`;
    case "dim":
      return `dimension ${v.sym}`;
    case "block":
      return `block ${v.name}`;
    case "absent":
      return `absent (optional ${v.name} not given)`;
    default:
      return undefined;
  }
}

/** Checks the document (what of it parses, when it has syntax errors), recording what every expression evaluated to. */
export function analyze(text: string): Analysis {
  const bySpan = new Map<string, Observed>();
  const { ast, diagnostics, parsed } = checkForEditor(text, (span, value, parameters) => {
    const d = describe(value);
    if (d === undefined) return;
    const key = `${span.start}:${span.end}`;
    let o = bySpan.get(key);
    if (!o) bySpan.set(key, (o = { span, values: new Set(), parameters: 0, calls: 0 }));
    o.values.add(d);
    o.parameters += parameters;
    o.calls++;
  });
  return { text, ast, diagnostics, parsed, observed: [...bySpan.values()] };
}

const contains = (s: Span, offset: number) => s.start <= offset && offset < s.end;
const width = (s: Span) => s.end - s.start;

/**
 * The innermost expression or binding at `offset`: its type or value, and the parameters it
 * declares; on the name of a built-in layer, also its signature and documentation.
 */
export function hoverAt(a: Analysis, offset: number): HoverInfo | undefined {
  let best: Observed | undefined;
  for (const o of a.observed) if (contains(o.span, offset) && (!best || width(o.span) < width(best.span))) best = o;
  const model = a.ast.models.find((m) => contains(m.span, offset));
  const ref = model && referenceAt(model, offset);
  const layer = ref?.kind === "callee" ? layerNamed(ref.name) : undefined;
  const about = ref && layer ? ["", "---", "```tfm", layerSignature(ref.name)!.label, "```", layer.doc] : [];
  if (!best) return ref && layer ? { span: ref.span, text: about.slice(2).join("\n") } : undefined;
  const values = [...best.values];
  const shown = values.slice(0, 4).join("\n");
  const lines = ["```tfm", values.length > 4 ? `${shown}\n…` : shown, "```"];
  if (values.length > 1) lines.push(`${values.length} different values over ${best.calls} evaluations (a block called with different arguments)`);
  if (best.parameters > 0) {
    const each = best.calls > 1 && best.parameters % best.calls === 0 ? ` (${(best.parameters / best.calls).toLocaleString("en-US")} per evaluation)` : "";
    lines.push(`parameters: ${best.parameters.toLocaleString("en-US")}${each}`);
  }
  return { span: best.span, text: [...lines, ...about].join("\n") };
}

type Reference = { kind: "name" | "callee"; name: string; span: Span; block?: Extract<Stmt, { kind: "block" }> };

/** The name or called block at `offset`, with the block declaration it sits in. */
function referenceAt(model: ModelDecl, offset: number): Reference | undefined {
  let found: Reference | undefined;
  const visitExpr = (e: Expr, block: Reference["block"]): void => {
    if (!contains(e.span, offset) || found) return;
    switch (e.kind) {
      case "name":
        found = { kind: "name", name: e.name, span: e.span, ...(block ? { block } : {}) };
        return;
      case "call":
        if (contains(e.callee.span, offset)) found = { kind: "callee", name: e.callee.name, span: e.callee.span, ...(block ? { block } : {}) };
        else for (const arg of e.args) visitExpr(arg.value, block);
        return;
      case "labeled":
        return visitExpr(e.expr, block);
      case "list":
        return e.items.forEach((x) => visitExpr(x, block));
      case "index":
        visitExpr(e.target, block);
        for (const i of e.items) for (const x of indexParts(i)) visitExpr(x, block);
        return;
      case "unary":
        return visitExpr(e.operand, block);
      case "binary":
        visitExpr(e.left, block);
        visitExpr(e.right, block);
        return;
      default:
        return;
    }
  };
  const visitStmts = (stmts: readonly Stmt[], block: Reference["block"]): void => {
    for (const s of stmts) {
      if (found) return;
      if (!contains(s.span, offset)) continue;
      switch (s.kind) {
        case "config":
          for (const i of s.items) visitExpr(i.value, block);
          break;
        case "input":
          for (const d of [...s.type.dims, ...(s.default ? [s.default] : []), ...s.constraints]) visitExpr(d, block);
          break;
        case "output":
          if (s.value) visitExpr(s.value, block);
          else if (contains(s.name.span, offset)) found = { kind: "name", name: s.name.name, span: s.name.span };
          break;
        case "assign":
          if (!contains(s.value.span, offset)) {
            const t = s.targets.find((x) => contains(x.span, offset));
            if (t) found = { kind: "name", name: t.name, span: t.span, ...(block ? { block } : {}) };
          }
          visitExpr(s.value, block);
          break;
        case "return":
          visitExpr(s.value, block);
          break;
        case "param":
          for (const d of s.type.dims) visitExpr(d, block);
          break;
        case "if":
          visitExpr(s.cond, block);
          visitStmts(s.then, block);
          visitStmts(s.else ?? [], block);
          break;
        case "block":
          for (const p of s.params) for (const d of p.type?.dims ?? []) visitExpr(d, s);
          visitStmts(s.body, s);
          break;
      }
    }
  };
  visitStmts(model.body, undefined);
  return found;
}

/** Every statement of a body, those inside `if` branches included, in source order. */
export function flatten(stmts: readonly Stmt[]): Stmt[] {
  return stmts.flatMap((s) => (s.kind === "if" ? [s, ...flatten(s.then), ...flatten(s.else ?? [])] : [s]));
}

/** Label declarations (`label: layer(...)`) anywhere in the model, by their joined path. */
export function labels(model: ModelDecl): Map<string, Span> {
  const out = new Map<string, Span>();
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case "labeled": {
        const path = e.label.parts.join(".");
        if (!out.has(path)) out.set(path, e.label.span);
        return visit(e.expr);
      }
      case "call":
        return e.args.forEach((a) => visit(a.value));
      case "list":
        return e.items.forEach(visit);
      case "index":
        visit(e.target);
        return e.items.forEach((i) => indexParts(i).forEach(visit));
      case "unary":
        return visit(e.operand);
      case "binary":
        visit(e.left);
        return visit(e.right);
      default:
        return;
    }
  };
  const stmts = (list: readonly Stmt[]): void => {
    for (const s of flatten(list)) {
      if (s.kind === "assign" || s.kind === "return") visit(s.value);
      else if (s.kind === "output" && s.value) visit(s.value);
      else if (s.kind === "block") stmts(s.body);
    }
  };
  stmts(model.body);
  return out;
}

/**
 * Where the name at `offset` is declared: a variable (the latest assignment before the use, a
 * block parameter, an input), a config value, a block, or a label.
 */
export function definitionAt(a: Analysis, offset: number): Span | undefined {
  const model = a.ast.models.find((m) => contains(m.span, offset));
  if (!model) return undefined;
  const ref = referenceAt(model, offset);
  if (!ref) return undefined;
  const top = flatten(model.body);
  const blockDecl = top.find((s): s is Extract<Stmt, { kind: "block" }> => s.kind === "block" && s.name.name === ref.name);
  if (ref.kind === "callee") return blockDecl?.name.span;
  const scope = ref.block ? flatten(ref.block.body) : top;
  const declared = scope
    .filter((s) => s.span.end <= ref.span.start)
    .flatMap((s) => (s.kind === "assign" ? s.targets : s.kind === "param" ? [s.name] : []))
    .filter((t) => t.name === ref.name);
  if (declared.length > 0) return declared[declared.length - 1].span;
  const param = ref.block?.params.find((p) => p.name.name === ref.name);
  if (param) return param.name.span;
  if (!ref.block) {
    const input = top.find((s) => s.kind === "input" && s.name.name === ref.name);
    if (input && input.kind === "input") return input.name.span;
  }
  for (const s of top) if (s.kind === "config") for (const i of s.items) if (i.name.name === ref.name) return i.name.span;
  // A symbolic dimension is declared where an input first names it.
  for (const s of top) if (s.kind === "input") for (const d of s.type.dims) if (d.kind === "name" && d.name === ref.name) return d.span;
  if (blockDecl) return blockDecl.name.span;
  return labels(model).get(ref.name);
}

/** The expressions inside one item of `x[...]`. */
function indexParts(i: IndexItem): Expr[] {
  if (i.kind === "at") return [i.value];
  if (i.kind === "slice") return [i.start, i.stop, i.step].filter((x): x is Expr => x !== undefined);
  return [];
}
