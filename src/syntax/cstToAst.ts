import type { CstElement, CstNode, IToken } from "./chevrotain.js";
import type { Arg, BinaryOp, ConfigItem, Expr, Ident, IndexItem, LabelPath, ModelDecl, Param, Span, Stmt, TypeExpr } from "./ast.js";
import { decodeString } from "./strings.js";

// Turns the concrete syntax tree into the AST. After error recovery a CST can miss any child, so
// every accessor tolerates absence and the result holds `error` expressions where text was missing.

type Children = Record<string, CstElement[] | undefined>;

const isToken = (e: CstElement): e is IToken => (e as IToken).image !== undefined;
const usable = (t: IToken | undefined): t is IToken => t !== undefined && !t.isInsertedInRecovery && Number.isFinite(t.startOffset);

export function tokenSpan(t: IToken): Span {
  return { start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1, line: t.startLine ?? 1, col: t.startColumn ?? 1 };
}

function tokensOf(node: CstElement, out: IToken[] = []): IToken[] {
  if (isToken(node)) {
    if (usable(node)) out.push(node);
    return out;
  }
  for (const list of Object.values(node.children)) for (const c of list ?? []) tokensOf(c, out);
  return out;
}

/** The first and last usable tokens under a CST node, each node's computed once (spans of nested nodes are asked for again and again). */
const boundsCache = new WeakMap<CstNode, { first?: IToken; last?: IToken }>();

function bounds(node: CstNode): { first?: IToken; last?: IToken } {
  const cached = boundsCache.get(node);
  if (cached) return cached;
  let first: IToken | undefined;
  let last: IToken | undefined;
  const take = (t: IToken | undefined) => {
    if (t === undefined) return;
    if (first === undefined || t.startOffset < first.startOffset) first = t;
    if (last === undefined || t.startOffset > last.startOffset) last = t;
  };
  for (const list of Object.values(node.children)) {
    for (const c of list ?? []) {
      if (isToken(c)) take(usable(c) ? c : undefined);
      else {
        const b = bounds(c);
        take(b.first);
        take(b.last);
      }
    }
  }
  const result = { ...(first ? { first } : {}), ...(last ? { last } : {}) };
  boundsCache.set(node, result);
  return result;
}

/** The span of everything a CST node covers (children are stored per name, so search for the bounds). */
function nodeSpan(node: CstElement, fallback: Span): Span {
  const { first, last } = isToken(node) ? { first: usable(node) ? node : undefined, last: usable(node) ? node : undefined } : bounds(node);
  if (!first || !last) return fallback;
  return { ...tokenSpan(first), end: (last.endOffset ?? last.startOffset) + 1 };
}

export class AstBuilder {
  constructor(private readonly eofSpan: Span) {}

  private tok(c: Children, name: string, i = 0): IToken | undefined {
    const t = c[name]?.[i];
    return t !== undefined && isToken(t) && usable(t) ? t : undefined;
  }

  private node(c: Children, name: string, i = 0): CstNode | undefined {
    const n = c[name]?.[i];
    return n !== undefined && !isToken(n) ? n : undefined;
  }

  private nodes(c: Children, name: string): CstNode[] {
    return (c[name] ?? []).filter((n): n is CstNode => !isToken(n));
  }

  private span(n: CstElement | undefined): Span {
    return n === undefined ? this.eofSpan : nodeSpan(n, this.eofSpan);
  }

  private ident(t: IToken | undefined, fallback: Span): Ident {
    return t ? { name: t.image, span: tokenSpan(t) } : { name: "", span: fallback };
  }

  file(node: CstNode): ModelDecl[] {
    return this.nodes(node.children, "modelDecl").map((m) => this.model(m));
  }

  private model(node: CstNode): ModelDecl {
    const c = node.children;
    const span = this.span(node);
    return { name: this.ident(this.tok(c, "Identifier"), span), body: this.body(this.node(c, "body")), span };
  }

  private body(node: CstNode | undefined): Stmt[] {
    if (!node) return [];
    const out: Stmt[] = [];
    for (const s of this.nodes(node.children, "statement")) {
      const st = this.statement(s);
      if (st) out.push(st);
    }
    return out;
  }

  private statement(node: CstNode): Stmt | undefined {
    const c = node.children;
    const inner = Object.keys(c)
      .map((k) => this.node(c, k))
      .find((n): n is CstNode => n !== undefined);
    if (!inner) return undefined;
    const ic = inner.children;
    const span = this.span(inner);
    switch (inner.name) {
      case "configDecl":
        return { kind: "config", items: this.nodes(ic, "configItem").map((i) => this.configItem(i)), span };
      case "inputDecl":
        return {
          kind: "input",
          name: this.ident(this.tok(ic, "Identifier"), span),
          optional: this.tok(ic, "Question") !== undefined,
          type: this.tensorType(this.node(ic, "tensorType"), span),
          ...(this.node(ic, "default") ? { default: this.expression(this.node(ic, "default")!) } : {}),
          constraints: this.nodes(ic, "expression").map((e) => this.expression(e)),
          span,
        };
      case "outputDecl": {
        const e = this.node(ic, "expression");
        return { kind: "output", name: this.ident(this.tok(ic, "Identifier"), span), ...(e ? { value: this.expression(e) } : {}), span };
      }
      case "blockDecl":
        return {
          kind: "block",
          name: this.ident(this.tok(ic, "Identifier"), span),
          params: this.nodes(ic, "param").map((p) => this.param(p)),
          body: this.body(this.node(ic, "body")),
          span,
        };
      case "ifStmt":
        return this.ifStmt(inner);
      case "returnStmt":
        return { kind: "return", value: this.expressionOrError(this.node(ic, "expression"), span), span };
      case "assignStmt": {
        const targets = (ic.Identifier ?? []).map((t) => this.ident(t as IToken, span));
        return { kind: "assign", target: targets[0] ?? this.ident(undefined, span), targets, value: this.expressionOrError(this.node(ic, "expression"), span), span };
      }
      case "paramStmt": {
        const type = this.node(ic, "tensorType");
        return { kind: "param", name: this.ident((ic.Identifier ?? [])[1] as IToken | undefined, span), type: this.tensorType(type, span), span };
      }
      default:
        return undefined;
    }
  }

  private ifStmt(node: CstNode): Stmt {
    const c = node.children;
    const span = this.span(node);
    const bodies = this.nodes(c, "body");
    const elseIf = this.node(c, "ifStmt");
    const elseBody = elseIf ? [this.ifStmt(elseIf)] : bodies[1] ? this.body(bodies[1]) : undefined;
    return {
      kind: "if",
      cond: this.expressionOrError(this.node(c, "expression"), span),
      then: this.body(bodies[0]),
      ...(elseBody ? { else: elseBody } : {}),
      span,
    };
  }

  private configItem(node: CstNode): ConfigItem {
    const c = node.children;
    const span = this.span(node);
    return { name: this.ident(this.tok(c, "Identifier"), span), value: this.expressionOrError(this.node(c, "expression"), span), span };
  }

  private param(node: CstNode): Param {
    const c = node.children;
    const span = this.span(node);
    const t = this.node(c, "tensorType");
    return {
      name: this.ident(this.tok(c, "Identifier"), span),
      optional: this.tok(c, "Question") !== undefined,
      ...(t ? { type: this.tensorType(t, span) } : {}),
      span,
    };
  }

  private tensorType(node: CstNode | undefined, fallback: Span): TypeExpr {
    if (!node) return { dtype: { name: "", span: fallback }, dims: [], span: fallback };
    const c = node.children;
    const span = this.span(node);
    return { dtype: this.ident(this.tok(c, "Identifier"), span), dims: this.nodes(c, "expression").map((e) => this.expression(e)), span };
  }

  private expressionOrError(node: CstNode | undefined, fallback: Span): Expr {
    return node ? this.expression(node) : { kind: "error", span: fallback };
  }

  expression(node: CstNode): Expr {
    switch (node.name) {
      case "expression":
        return this.chain(node, "andExpr", ["Or"]);
      case "andExpr":
        return this.chain(node, "notExpr", ["And"]);
      case "notExpr": {
        const not = this.tok(node.children, "Not");
        const inner = this.node(node.children, not ? "notExpr" : "comparison");
        const operand = this.expressionOrError(inner, this.span(node));
        return not ? { kind: "unary", op: "not", operand, span: this.span(node) } : operand;
      }
      case "comparison":
        return this.chain(node, "additive", ["EqEq", "NotEq", "LessEq", "GreaterEq", "Less", "Greater"]);
      case "additive":
        return this.chain(node, "multiplicative", ["Plus", "Minus"]);
      case "multiplicative":
        return this.chain(node, "unary", ["Star", "Slash", "Percent", "At"]);
      case "unary": {
        const minus = this.tok(node.children, "Minus");
        const inner = this.node(node.children, minus ? "unary" : "power");
        const operand = this.expressionOrError(inner, this.span(node));
        return minus ? { kind: "unary", op: "-", operand, span: this.span(node) } : operand;
      }
      case "postfix": {
        let acc = this.expressionOrError(this.node(node.children, "primary"), this.span(node));
        for (const suffix of this.nodes(node.children, "indexSuffix")) {
          const items = this.nodes(suffix.children, "indexItem").map((i) => this.indexItem(i));
          acc = { kind: "index", target: acc, items, span: { ...acc.span, end: Math.max(acc.span.end, this.span(suffix).end) } };
        }
        return acc;
      }
      case "power": {
        const base = this.expressionOrError(this.node(node.children, "postfix"), this.span(node));
        const op = this.tok(node.children, "StarStar");
        if (!op) return base;
        const exp = this.expressionOrError(this.node(node.children, "unary"), this.span(node));
        return { kind: "binary", op: "**", left: base, right: exp, opSpan: tokenSpan(op), span: this.span(node) };
      }
      case "primary":
        return this.primary(node);
      default:
        return { kind: "error", span: this.span(node) };
    }
  }

  /** Left-associative operator chains, built in a loop so long chains cannot exhaust the stack. */
  private chain(node: CstNode, operandRule: string, opTokens: string[]): Expr {
    const operands = this.nodes(node.children, operandRule);
    const ops: IToken[] = [];
    for (const name of opTokens) for (const t of node.children[name] ?? []) if (isToken(t) && usable(t)) ops.push(t);
    ops.sort((a, b) => a.startOffset - b.startOffset);
    if (operands.length === 0) return { kind: "error", span: this.span(node) };
    let acc = this.expression(operands[0]);
    for (let i = 1; i < operands.length; i++) {
      const right = this.expression(operands[i]);
      const opTok = ops[i - 1];
      const op = (opTok ? (opTok.image === "and" || opTok.image === "or" ? opTok.image : opTok.image) : "+") as BinaryOp;
      const opSpan = opTok ? tokenSpan(opTok) : right.span;
      acc = { kind: "binary", op, left: acc, right, opSpan, span: { ...acc.span, end: Math.max(acc.span.end, right.span.end) } };
    }
    return acc;
  }

  private indexItem(node: CstNode): IndexItem {
    const c = node.children;
    const span = this.span(node);
    if (this.tok(c, "Ellipsis")) return { kind: "ellipsis", span };
    const head = this.node(c, "expression");
    const tail = this.node(c, "sliceTail");
    if (!tail) return { kind: "at", value: this.expressionOrError(head, span), span };
    // The tail's expressions: the one before its second ':' is the stop, the one after the step.
    const colons = ((tail.children.Colon ?? []) as IToken[]).map((t) => t.startOffset).sort((a, b) => a - b);
    const parts = this.nodes(tail.children, "expression");
    const stop = parts.find((p) => colons.length < 2 || this.span(p).start < colons[1]);
    const step = colons.length > 1 ? parts.find((p) => this.span(p).start > colons[1]) : undefined;
    return {
      kind: "slice",
      ...(head ? { start: this.expressionOrError(head, span) } : {}),
      ...(stop ? { stop: this.expressionOrError(stop, span) } : {}),
      ...(step ? { step: this.expressionOrError(step, span) } : {}),
      span,
    };
  }

  private primary(node: CstNode): Expr {
    const c = node.children;
    const span = this.span(node);
    const num = this.tok(c, "NumberLiteral");
    if (num) return { kind: "number", value: Number(num.image), text: num.image, span };
    if (this.tok(c, "True")) return { kind: "bool", value: true, span };
    if (this.tok(c, "False")) return { kind: "bool", value: false, span };
    const paren = this.node(c, "parenExpr");
    if (paren) return this.expressionOrError(this.node(paren.children, "expression"), span);
    const list = this.node(c, "listExpr");
    if (list) return { kind: "list", items: (list.children.expression ?? []).map((x) => this.expressionOrError(x as CstNode, span)), span };
    const labeled = this.node(c, "labeledCall");
    if (labeled) {
      const label = this.labelPath(this.node(labeled.children, "labelPath"), span);
      const ref = this.node(labeled.children, "reference");
      const expr: Expr = ref ? this.reference(ref) : { kind: "error", span };
      // `label:` with nothing after it (recovery): the whole expression is missing, not misused.
      return expr.kind === "error" ? expr : { kind: "labeled", label, expr, span };
    }
    const ref = this.node(c, "reference");
    if (ref) return this.reference(ref);
    const kw = this.node(c, "keywordCall");
    const where = kw && this.tok(kw.children, "Where");
    if (kw && where) return { kind: "call", callee: { name: where.image, span: tokenSpan(where) }, args: this.nodes(kw.children, "argument").map((a) => this.argument(a)), span };
    return { kind: "error", span };
  }

  private labelPath(node: CstNode | undefined, fallback: Span): LabelPath {
    if (!node) return { parts: [], span: fallback };
    const toks = tokensOf(node).filter((t) => t.tokenType.name !== "Dot");
    toks.sort((a, b) => a.startOffset - b.startOffset);
    const parts = toks.map((t) => (t.tokenType.name === "StringLiteral" ? decodeString(t.image).value : t.image));
    return { parts, span: this.span(node) };
  }

  private reference(node: CstNode): Expr {
    const c = node.children;
    const span = this.span(node);
    const pathNode = this.node(c, "namePath");
    const path = this.labelPath(pathNode, span);
    const pathToks = pathNode ? tokensOf(pathNode) : [];
    const onlyString = pathToks.length === 1 && pathToks[0].tokenType.name === "StringLiteral";
    if (pathToks.length === 0) return { kind: "error", span };
    if (this.tok(c, "LParen") || (c["LParen"]?.length ?? 0) > 0) {
      const callee: Ident = { name: path.parts.join("."), span: path.span };
      return { kind: "call", callee, args: this.nodes(c, "argument").map((a) => this.argument(a)), span };
    }
    if (onlyString) return { kind: "string", value: path.parts[0] ?? "", span };
    return { kind: "name", name: path.parts.join("."), span };
  }

  private argument(node: CstNode): Arg {
    const c = node.children;
    const span = this.span(node);
    const nameNode = this.node(c, "argumentName");
    const name = nameNode ? tokensOf(nameNode)[0] : undefined;
    const value = this.expressionOrError(this.node(c, "expression"), span);
    return name ? { name: { name: name.image, span: tokenSpan(name) }, value, span } : { value, span };
  }
}
