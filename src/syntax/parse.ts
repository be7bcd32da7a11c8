import { Lexer, type IToken, type TokenType, type IRecognitionException, type LexerType } from "./chevrotain.js";
import { DiagnosticBag, type Span } from "../diagnostics/diagnostic.js";
import { printable } from "../diagnostics/format.js";
import { Diagnostics } from "../diagnostics/messages.js";
import type { Comment, Expr, SourceFileAst, Stmt } from "./ast.js";
import { AstBuilder, tokenSpan } from "./cstToAst.js";
import { repairTokens } from "./repair.js";
import { describeToken } from "./errorMessages.js";
import { getParser } from "./parser.js";
import { decodeString } from "./strings.js";
import * as T from "./tokens.js";

/** Deepest nesting of brackets, prefix operators and expressions that the front end accepts. */
export const MAX_NESTING = 128;
export const MAX_FILE_BYTES = 1 << 20;
/** The most operators along one path through an expression, chains included. */
export const MAX_CHAIN = 1024;

let lexer: LexerType | undefined;
const getLexer = () => (lexer ??= new Lexer(T.allTokens, { positionTracking: "full", ensureOptimizations: false }));

export interface ParseResult {
  readonly ast: SourceFileAst;
  readonly diagnostics: DiagnosticBag;
}

function endSpan(text: string): Span {
  const lines = text.split(/\r\n?|\n/);
  return { start: text.length, end: text.length, line: lines.length, col: lines[lines.length - 1].length + 1 };
}

/** Finds the first point where brackets, prefix operators or `else if` chains nest too deeply. */
function findExcessNesting(tokens: IToken[], limit: number): IToken | undefined {
  const open = new Set<TokenType>([T.LParen, T.LBracket, T.LBrace]);
  const close = new Set<TokenType>([T.RParen, T.RBracket, T.RBrace]);
  const operandEnd = new Set<TokenType>([T.RParen, T.RBracket, T.Identifier, T.NumberLiteral, T.StringLiteral, T.True, T.False]);
  let depth = 0;
  let prefixRun = 0;
  let prev: TokenType | undefined;
  for (const t of tokens) {
    const type = t.tokenType;
    const prefixPosition = prev === undefined || !operandEnd.has(prev);
    if (open.has(type)) depth++;
    else if (close.has(type)) depth = Math.max(0, depth - 1);
    if ((type === T.Minus && prefixPosition) || type === T.Not || type === T.StarStar || (type === T.If && prev === T.Else)) prefixRun++;
    else if (type !== T.LParen) prefixRun = operandEnd.has(type) || type === T.Comma || close.has(type) || type === T.Semicolon ? prefixRun : 0;
    if (type === T.Comma || type === T.Semicolon || type === T.LBrace || type === T.RBrace || type === T.Equals) prefixRun = 0;
    if (depth + prefixRun > limit) return t;
    prev = type;
  }
  return undefined;
}

/**
 * Where the AST's expressions nest too deeply, measured without recursion. Nesting is `d`: a chain
 * such as `a + b + c` is one level, its left operands staying at the chain's depth. Every operator
 * still costs the stages that walk the tree a level of recursion, so the operators along any one
 * path are counted too (`r`) and bounded by MAX_CHAIN.
 */
function exprDepthExceeds(stmts: readonly Stmt[], limit: number): { span: Span; chain: boolean } | undefined {
  const stack: { e: Expr; d: number; r: number }[] = [];
  const pushStmt = (s: Stmt, d: number) => {
    const push = (e: Expr) => stack.push({ e, d, r: d });
    switch (s.kind) {
      case "config":
        for (const i of s.items) push(i.value);
        break;
      case "input":
        for (const e of [...s.type.dims, ...(s.default ? [s.default] : []), ...s.constraints]) push(e);
        break;
      case "output":
        if (s.value) push(s.value);
        break;
      case "assign":
      case "return":
        push(s.value);
        break;
      case "if":
        push(s.cond);
        for (const x of [...s.then, ...(s.else ?? [])]) pushStmt(x, d + 1);
        break;
      case "block":
        for (const p of s.params) for (const e of p.type?.dims ?? []) push(e);
        for (const x of s.body) pushStmt(x, d + 1);
        break;
    }
  };
  for (const s of stmts) pushStmt(s, 0);
  while (stack.length > 0) {
    const { e, d, r } = stack.pop()!;
    if (d > limit) return { span: e.span, chain: false };
    if (r > MAX_CHAIN) return { span: e.span, chain: true };
    switch (e.kind) {
      case "binary":
        stack.push({ e: e.left, d: e.left.kind === "binary" ? d : d + 1, r: r + 1 }, { e: e.right, d: d + 1, r: r + 1 });
        break;
      case "unary":
        stack.push({ e: e.operand, d: d + 1, r: r + 1 });
        break;
      case "labeled":
        stack.push({ e: e.expr, d: d + 1, r: r + 1 });
        break;
      case "call":
        for (const a of e.args) stack.push({ e: a.value, d: d + 1, r: r + 1 });
        break;
    }
  }
  return undefined;
}

/** A token as editor features see it: its type's name ("Identifier", "LParen", "LineComment", ...) and offsets. */
export interface EditorToken {
  readonly type: string;
  readonly image: string;
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

/** Every token of `text` in order, comments and unterminated strings included (for completion). */
export function lexForEditor(text: string): EditorToken[] {
  const lexed = getLexer().tokenize(text.length > MAX_FILE_BYTES ? "" : text);
  const all = [...lexed.tokens, ...(lexed.groups["comments"] ?? [])].sort((a, b) => a.startOffset - b.startOffset);
  return all.map((t) => ({ type: t.tokenType.name, image: t.image, start: t.startOffset, end: t.startOffset + t.image.length }));
}

export function parseTfm(text: string): ParseResult {
  const diagnostics = new DiagnosticBag();
  const empty: SourceFileAst = { models: [], comments: [] };
  if (text.length > MAX_FILE_BYTES) {
    diagnostics.error(Diagnostics.File_too_large_0, { start: 0, end: 0, line: 1, col: 1 }, [text.length]);
    return { ast: empty, diagnostics };
  }
  const lexed = getLexer().tokenize(text);
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    const first = ch.length === 0 ? ch : String.fromCodePoint(ch.codePointAt(0)!);
    const shown = printable(JSON.stringify(first)).replace(/^"|"$/g, "'");
    diagnostics.error(Diagnostics.Unexpected_character_0, { start: e.offset, end: e.offset + 1, line: e.line ?? 1, col: e.column ?? 1 }, [shown]);
  }
  const tokens: IToken[] = [];
  for (const t of lexed.tokens) {
    if (t.tokenType === T.UnterminatedComment) {
      diagnostics.error(Diagnostics.Unterminated_block_comment, { ...tokenSpan(t), end: t.startOffset + 2 });
    } else if (t.tokenType === T.UnterminatedString) {
      diagnostics.error(Diagnostics.Unterminated_string, { ...tokenSpan(t), end: t.startOffset + 1 });
    } else if (t.tokenType === T.NumberLiteral && !Number.isFinite(Number(t.image))) {
      diagnostics.error(Diagnostics.Invalid_number_0, tokenSpan(t), [describeToken(t)]);
      tokens.push(t);
    } else if (t.tokenType === T.NumberLiteral && /^\d+$/.test(t.image) && !Number.isSafeInteger(Number(t.image))) {
      diagnostics.error(Diagnostics.Integer_0_too_large, tokenSpan(t), [t.image.length > 40 ? `${t.image.slice(0, 20)}... (${t.image.length} digits)` : t.image]);
      tokens.push(t);
    } else {
      if (t.tokenType === T.StringLiteral) {
        const bad = decodeString(t.image).badEscape;
        if (bad) {
          const s = tokenSpan(t);
          const shown = `'${bad.text.replace(/[\u0000-\u001f\u007f]/g, "?")}'`;
          diagnostics.error(Diagnostics.Invalid_escape_0, { start: s.start + bad.offset, end: s.start + bad.offset + bad.text.length, line: s.line, col: s.col + bad.offset }, [shown]);
        }
      }
      tokens.push(t);
    }
  }
  const comments: Comment[] = (lexed.groups["comments"] ?? []).map((t) => ({ text: t.image, span: tokenSpan(t) }));

  const deep = findExcessNesting(tokens, MAX_NESTING);
  if (deep) {
    diagnostics.error(Diagnostics.Nesting_too_deep_limit_0, tokenSpan(deep), [MAX_NESTING]);
    return { ast: { models: [], comments }, diagnostics };
  }

  const parser = getParser();
  parser.input = repairTokens(tokens, diagnostics);
  const cst = parser.file();
  const eof = endSpan(text);
  // Recovery can report several errors for one mistake; the first on each line is the useful one,
  // and an error that follows straight on from a line with an error is usually its echo.
  const linesWithErrors = new Set<number>(diagnostics.items.map((d) => d.span.line));
  for (const err of parser.errors) {
    const line = Number.isFinite(err.token?.startLine) ? err.token.startLine! : eof.line;
    const after = (err as { previousToken?: IToken }).previousToken?.startLine;
    if (linesWithErrors.has(line) || (after !== undefined && after !== line && linesWithErrors.has(after))) continue;
    linesWithErrors.add(line);
    reportParseError(err, diagnostics, eof, (cst.children["modelDecl"]?.length ?? 0) > 0);
  }
  const models = new AstBuilder(eof).file(cst);
  for (const m of models) {
    const deep = exprDepthExceeds(m.body, MAX_NESTING);
    if (deep?.chain) diagnostics.error(Diagnostics.Expression_too_long_0, deep.span, [MAX_CHAIN]);
    else if (deep) diagnostics.error(Diagnostics.Nesting_too_deep_limit_0, deep.span, [MAX_NESTING]);
  }
  return { ast: { models, comments }, diagnostics };
}

function reportParseError(err: IRecognitionException, bag: DiagnosticBag, eof: Span, afterModel: boolean): void {
  const t = err.token;
  const span = t && Number.isFinite(t.startOffset) && t.tokenType.name !== "EOF" ? tokenSpan(t) : eof;
  const [a, b] = err.message.split("\u0000");
  switch (err.name) {
    case "MismatchedTokenException":
      // The file rule ends where the model ends; anything after it is "expected end of file".
      if (a === "EOF") bag.error(Diagnostics.Unexpected_0_after_end_of_model, span, [b ?? ""]);
      // A body ends where a token cannot start a statement: that token is the mistake, not the '}'.
      else if (a === "'}'" && span !== eof && err.context?.ruleStack.at(-1) === "body") bag.error(Diagnostics.Unexpected_0_1, span, [b ?? "", "a statement or '}'"]);
      else bag.error(Diagnostics.Expected_0_found_1, span, [a, b ?? ""]);
      break;
    case "NotAllInputParsedException":
      // With no model before it, the file does not start with one.
      if (afterModel) bag.error(Diagnostics.Unexpected_0_after_end_of_model, span, [a]);
      else bag.error(Diagnostics.Expected_0_found_1, span, ["'model'", a]);
      break;
    default:
      bag.error(Diagnostics.Unexpected_0_1, span, [a, b ?? "an expression"]);
  }
}
