import type { Arg, Comment, Expr, ModelDecl, Param, Span, Stmt, TypeExpr } from "../syntax/ast.js";
import { parseTfm } from "../syntax/parse.js";
import { sourcePath } from "./sourcePath.js";

// `tfmc fmt`: one canonical layout for .tfm files, in the manner of gofmt. Every statement on its
// own line, two-space indentation, single spaces around binary operators and `=`, at most one blank
// line kept between statements, calls broken one argument per line only when a line would pass
// WIDTH columns. Comments are kept: a comment on its own line stays before the statement it precedes,
// a comment after code stays at the end of that line; a comment inside a statement's expression
// moves to the line before the statement (the formatter never drops one).

const WIDTH = 100;
const INDENT = "  ";

export type FormatResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly diagnostics: ReturnType<typeof parseTfm>["diagnostics"] };

/** The canonical text of a .tfm file, or the syntax errors that prevent formatting it. */
export function formatTfm(text: string): FormatResult {
  const parsed = parseTfm(text);
  if (parsed.diagnostics.errorCount > 0) return { ok: false, diagnostics: parsed.diagnostics };
  return { ok: true, text: new Printer(text, parsed.ast.comments).file(parsed.ast.models) };
}

// Binding strength of each operator, as in the parser's rules (higher binds tighter).
const PREC: Record<string, number> = { or: 1, and: 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6, "@": 6, "**": 8 };
const NOT = 3;
const NEG = 7;
const ATOM = 9;

function precOf(e: Expr): number {
  if (e.kind === "binary") return PREC[e.op];
  if (e.kind === "unary") return e.op === "not" ? NOT : NEG;
  return ATOM;
}

class Printer {
  private readonly lines: string[] = [];
  /** End-of-line comments by line index; consecutive ones are aligned at the end. */
  private readonly trailingComments = new Map<number, string>();
  private readonly comments: Comment[];
  private next = 0;

  constructor(
    private readonly text: string,
    comments: readonly Comment[],
  ) {
    this.comments = [...comments].sort((a, b) => a.span.start - b.span.start);
  }

  file(models: readonly ModelDecl[]): string {
    models.forEach((m, i) => {
      this.leading(m.span.start, "", i > 0);
      this.lines.push(`model ${m.name.name} {`);
      this.statements(m.body, INDENT);
      this.leading(m.span.end, INDENT, false);
      this.lines.push("}");
      this.trailing(m.span.end);
    });
    this.leading(Infinity, "", models.length > 0);
    while (this.lines.length > 0 && this.lines[this.lines.length - 1] === "") this.lines.pop();
    this.alignTrailingComments();
    return this.lines.length === 0 ? "" : this.lines.join("\n") + "\n";
  }

  /** Runs of consecutive lines ending in comments get their comments in one column, as gofmt does. */
  private alignTrailingComments(): void {
    for (let i = 0; i < this.lines.length; i++) {
      if (!this.trailingComments.has(i)) continue;
      let j = i;
      while (this.trailingComments.has(j + 1)) j++;
      const column = Math.max(...this.lines.slice(i, j + 1).map((l) => l.length)) + 1;
      for (let k = i; k <= j; k++) this.lines[k] = this.lines[k].padEnd(column) + this.trailingComments.get(k);
      i = j;
    }
  }

  private statements(stmts: readonly Stmt[], indent: string): void {
    stmts.forEach((s, i) => {
      this.leading(s.span.start, indent, i > 0);
      this.statement(s, indent);
    });
  }

  /** Comments before `offset` on lines of their own; a blank line kept where the source had any. */
  private leading(offset: number, indent: string, separated: boolean): void {
    const until = Math.min(offset, this.text.length);
    let previous = this.lastPrintedEnd;
    let something = separated;
    while (this.next < this.comments.length && this.comments[this.next].span.start < offset) {
      const c = this.comments[this.next++];
      if (something && this.blankBetween(previous, c.span.start)) this.blankLine();
      this.comment(c, indent);
      previous = c.span.end;
      something = true;
    }
    if (something && offset !== Infinity && this.blankBetween(previous, until)) this.blankLine();
    this.lastPrintedEnd = until;
  }

  private blankLine(): void {
    if (this.lines.length > 0 && this.lines[this.lines.length - 1] !== "") this.lines.push("");
  }

  private lastPrintedEnd = 0;

  private blankBetween(from: number, to: number): boolean {
    return /\n[ \t\r\f\v]*\n/.test(this.text.slice(from, to));
  }

  private comment(c: Comment, indent: string): void {
    const lines = c.text.split(/\r?\n/);
    if (lines.length === 1 || !c.text.startsWith("/*")) {
      this.lines.push(indent + c.text.trimEnd());
      return;
    }
    // A block comment keeps its inner lines as written, only re-indented at the first.
    this.lines.push(indent + lines[0].trimEnd(), ...lines.slice(1).map((l) => l.trimEnd()));
  }

  /** Comments that start on the line where `end` is, after it, go to the end of the last printed line. */
  private trailing(end: number): void {
    const lineEnd = this.text.indexOf("\n", end);
    const limit = lineEnd === -1 ? this.text.length : lineEnd;
    while (this.next < this.comments.length) {
      const c = this.comments[this.next];
      if (c.span.start >= limit || c.text.includes("\n")) break;
      const at = this.lines.length - 1;
      this.trailingComments.set(at, [this.trailingComments.get(at), c.text.trimEnd()].filter(Boolean).join(" "));
      this.next++;
    }
    this.lastPrintedEnd = Math.max(this.lastPrintedEnd, end);
  }

  /** Comments inside a statement's span that come before `offset`, hoisted above the statement. */
  private interior(offset: number, indent: string): void {
    while (this.next < this.comments.length && this.comments[this.next].span.start < offset) this.comment(this.comments[this.next++], indent);
  }

  private statement(s: Stmt, indent: string): void {
    switch (s.kind) {
      case "block": {
        this.interior(s.params.length > 0 ? s.params[s.params.length - 1].span.end : s.name.span.end, indent);
        const params = s.params.map((p) => this.param(p));
        const head = `${indent}block ${s.name.name}(`;
        const flat = `${head}${params.join(", ")}) {`;
        if (flat.length <= WIDTH || params.length === 0) this.lines.push(flat);
        else this.lines.push(head, ...params.map((p, i) => `${indent}${INDENT}${p}${i < params.length - 1 ? "," : ""}`), `${indent}) {`);
        this.statements(s.body, indent + INDENT);
        this.leading(s.span.end, indent + INDENT, false);
        this.lines.push(`${indent}}`);
        this.trailing(s.span.end);
        return;
      }
      case "if":
        this.ifChain(s, indent, "");
        return;
      default: {
        this.interior(s.span.end, indent);
        this.lines.push(...this.simple(s, indent).split("\n"));
        this.trailing(s.span.end);
      }
    }
  }

  /** `if c { } else if d { } else { }`; an else holding only an if prints as `else if` (the same tree). */
  private ifChain(s: Extract<Stmt, { kind: "if" }>, indent: string, prefix: string): void {
    this.interior(s.cond.span.end, indent);
    this.lines.push(`${indent}${prefix}if ${this.expr(s.cond, indent.length + prefix.length + 3, indent)} {`);
    this.statements(s.then, indent + INDENT);
    const elseBody = s.else ?? [];
    const elseIf = elseBody.length === 1 && elseBody[0].kind === "if" ? elseBody[0] : undefined;
    this.leading(elseBody.length > 0 ? (elseIf ? this.closeBefore(elseIf.span.start) : elseBody[0].span.start) : s.span.end, indent + INDENT, false);
    if (elseIf) {
      this.ifChain(elseIf, indent, "} else ");
      return;
    }
    if (s.else) {
      this.lines.push(`${indent}} else {`);
      this.statements(s.else, indent + INDENT);
      this.leading(s.span.end, indent + INDENT, false);
    }
    this.lines.push(`${indent}}`);
    this.trailing(s.span.end);
  }

  /** The offset of the last `}` before `offset`: comments after it belong to the else branch. */
  private closeBefore(offset: number): number {
    const close = this.text.lastIndexOf("}", offset);
    return close === -1 ? offset : close;
  }

  private simple(s: Stmt, indent: string): string {
    const col = indent.length;
    switch (s.kind) {
      case "config": {
        const items = s.items.map((i) => `${i.name.name} = ${this.expr(i.value, col + i.name.name.length + 10, indent)}`);
        const flat = `${indent}config ${items.join(", ")}`;
        if (!flat.includes("\n") && flat.length <= WIDTH) return flat;
        return `${indent}config ${items.join(`,\n${indent}${INDENT}`)}`;
      }
      case "input": {
        const typed = `${indent}input ${s.name.name}${s.optional ? "?" : ""}: ${this.type(s.type)}`;
        const head = s.default ? `${typed} = ${this.expr(s.default, typed.length + 3, indent)}` : typed;
        return s.constraints.length === 0 ? head : `${head} where ${s.constraints.map((c) => this.expr(c, head.length + 7, indent)).join(", ")}`;
      }
      case "output": {
        const head = `${indent}output ${s.name.name}`;
        return s.value ? `${head} = ${this.expr(s.value, head.length + 3, indent)}` : head;
      }
      case "assign": {
        const head = `${indent}${s.targets.map((t) => t.name).join(", ")} = `;
        return head + this.expr(s.value, head.length, indent);
      }
      case "param":
        return `${indent}param ${s.name.name}: ${this.type(s.type)}`;
      case "return":
        return `${indent}return ${this.expr(s.value, col + 7, indent)}`;
      default:
        return "";
    }
  }

  private param(p: Param): string {
    return `${p.name.name}${p.optional ? "?" : ""}${p.type ? `: ${this.type(p.type)}` : ""}`;
  }

  private type(t: TypeExpr): string {
    return `${t.dtype.name}[${t.dims.map((d) => this.flat(d)).join(", ")}]`;
  }

  /** An expression starting at column `col`; calls break one argument per line when too wide. */
  private expr(e: Expr, col: number, indent: string): string {
    const flat = this.flat(e);
    if (col + flat.length <= WIDTH) return flat;
    switch (e.kind) {
      case "call":
        return this.brokenCall(e, indent);
      case "labeled": {
        const head = `${sourcePath(this.text, e.label.span)}: `;
        return head + this.expr(e.expr, col + head.length, indent);
      }
      case "binary": {
        const left = this.operand(e.left, PREC[e.op], "left", e.op, col, indent);
        const lastLine = left.slice(left.lastIndexOf("\n") + 1);
        const start = left.includes("\n") ? lastLine.length : col + left.length;
        return `${left} ${e.op} ${this.operand(e.right, PREC[e.op], "right", e.op, start + e.op.length + 2, indent)}`;
      }
      default:
        return flat;
    }
  }

  private brokenCall(e: Extract<Expr, { kind: "call" }>, indent: string): string {
    if (e.args.length === 0) return this.flat(e);
    const inner = indent + INDENT;
    const args = e.args.map((a) => inner + this.arg(a, inner));
    return `${sourcePath(this.text, e.callee.span)}(\n${args.join(",\n")}\n${indent})`;
  }

  private arg(a: Arg, indent: string): string {
    const head = a.name ? `${a.name.name} = ` : "";
    return head + this.expr(a.value, indent.length + head.length, indent);
  }

  private operand(e: Expr, parent: number, side: "left" | "right", op: string, col: number, indent: string): string {
    return needsParens(e, parent, side, op) ? `(${this.expr(e, col + 1, indent)})` : this.expr(e, col, indent);
  }

  /** The expression on one line. */
  private flat(e: Expr): string {
    switch (e.kind) {
      case "number":
        return e.text;
      case "bool":
        return e.value ? "true" : "false";
      case "string":
      case "name":
        return sourcePath(this.text, e.span);
      case "unary": {
        const inner = this.flat(e.operand);
        const wrap = e.op === "not" ? precOf(e.operand) < NOT : precOf(e.operand) < NEG;
        return `${e.op === "not" ? "not " : "-"}${wrap ? `(${inner})` : inner}`;
      }
      case "binary": {
        const p = PREC[e.op];
        const l = this.flat(e.left);
        const r = this.flat(e.right);
        return `${needsParens(e.left, p, "left", e.op) ? `(${l})` : l} ${e.op} ${needsParens(e.right, p, "right", e.op) ? `(${r})` : r}`;
      }
      case "call":
        return `${sourcePath(this.text, e.callee.span)}(${e.args.map((a) => (a.name ? `${a.name.name} = ` : "") + this.flat(a.value)).join(", ")})`;
      case "labeled":
        return `${sourcePath(this.text, e.label.span)}: ${this.flat(e.expr)}`;
      case "list":
        return `[${e.items.map((x) => this.flat(x)).join(", ")}]`;
      case "index": {
        const target = this.flat(e.target);
        const items = e.items.map((i) =>
          i.kind === "ellipsis" ? "..." : i.kind === "at" ? this.flat(i.value) : `${i.start ? this.flat(i.start) : ""}:${i.stop ? this.flat(i.stop) : ""}${i.step ? `:${this.flat(i.step)}` : ""}`,
        );
        return `${precOf(e.target) < ATOM ? `(${target})` : target}[${items.join(", ")}]`;
      }
      case "error":
        return "";
    }
  }
}

/** Whether an operand must be parenthesised to parse back into the same tree. */
function needsParens(e: Expr, parent: number, side: "left" | "right", op: string): boolean {
  const p = precOf(e);
  if (op === "**") return side === "left" ? p !== ATOM : p < NEG;
  if (p < parent) return true;
  if (p > parent) return false;
  // Equal binding: comparisons do not chain; the others are left-associative.
  return parent === 4 || side === "right";
}

export type { Span };
