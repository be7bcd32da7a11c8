import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { Diagnostics } from "../diagnostics/messages.js";
import { createTokenInstance, type IToken } from "./chevrotain.js";
import { tokenSpan } from "./cstToAst.js";
import { describeToken } from "./errorMessages.js";
import * as T from "./tokens.js";

// Repairs to the token stream before parsing, where the parser's own recovery guesses badly.
//
// A misspelt `model` keyword: the parser would find no model at all and check nothing, so a
// file starting `name {` or `word name {` is read as `model name {`, with the error reported.
//
// When a file's braces do not balance, which brace is missing or extra is a guess the parser
// makes badly: a block left open swallows every statement after it, and an extra '}' ends the
// model early, losing the rest. The layout usually says what was meant, so it decides here,
// before parsing: a statement that starts a line no further right than the line that opened an
// indented block closes that block, and a '}' starting a line further right than the line that
// opened the brace it would close is the extra one. Each repair is reported; a file whose braces
// balance is never touched, and neither is the model's own brace.

interface Open {
  readonly brace: IToken;
  /** Column of the first token on the line of the '{'. */
  readonly indent: number;
  /** Column of the first token on the line after it (undefined until seen). */
  body?: number;
}

export function repairTokens(tokens: readonly IToken[], diagnostics: DiagnosticBag): IToken[] {
  return repairBraces(repairHeader(tokens, diagnostics), diagnostics);
}

function repairHeader(tokens: readonly IToken[], diagnostics: DiagnosticBag): readonly IToken[] {
  const [a, b, c] = tokens;
  if (a?.tokenType !== T.Identifier) return tokens;
  if (b?.tokenType === T.Identifier && c?.tokenType === T.LBrace) {
    diagnostics.error(Diagnostics.Expected_0_found_1, tokenSpan(a), ["'model'", describeToken(a)]);
    const keyword = createTokenInstance(T.Model, a.image, a.startOffset, a.endOffset ?? a.startOffset, a.startLine ?? 1, a.endLine ?? 1, a.startColumn ?? 1, a.endColumn ?? 1);
    return [keyword, ...tokens.slice(1)];
  }
  if (b?.tokenType === T.LBrace) {
    diagnostics.error(Diagnostics.Expected_0_found_1, tokenSpan(a), ["'model'", describeToken(a)]);
    const keyword = createTokenInstance(T.Model, "model", a.startOffset, a.startOffset, a.startLine ?? 1, a.startLine ?? 1, a.startColumn ?? 1, a.startColumn ?? 1);
    keyword.isInsertedInRecovery = true;
    return [keyword, ...tokens];
  }
  return tokens;
}

function repairBraces(tokens: readonly IToken[], diagnostics: DiagnosticBag): IToken[] {
  let missing = 0;
  for (const t of tokens) missing += t.tokenType === T.LBrace ? 1 : t.tokenType === T.RBrace ? -1 : 0;
  if (missing === 0) return [...tokens];
  const out: IToken[] = [];
  const stack: Open[] = [];
  let lineIndent = 1;
  tokens.forEach((t, i) => {
    const first = i === 0 || (tokens[i - 1].endLine ?? 0) < (t.startLine ?? 0);
    const col = t.startColumn ?? 1;
    if (first) {
      lineIndent = col;
      const top = stack[stack.length - 1];
      if (top && top.body === undefined && (top.brace.startLine ?? 0) < (t.startLine ?? 0)) top.body = col;
    }
    if (first && missing > 0 && t.tokenType !== T.RBrace) {
      // Close the blocks (never the model's) whose indented body this line has left.
      for (let top = stack[stack.length - 1]; stack.length > 1 && missing > 0 && top.body !== undefined && top.body > top.indent && col <= top.indent; top = stack[stack.length - 1]) {
        diagnostics.error(Diagnostics.Expected_0_found_1, tokenSpan(t), ["'}'", describeToken(t)], { related: [{ span: tokenSpan(top.brace), message: "the '{' that is not closed" }] });
        const s = t.startOffset;
        const closing = createTokenInstance(T.RBrace, "}", s, s, t.startLine ?? 1, t.startLine ?? 1, col, col);
        closing.isInsertedInRecovery = true;
        out.push(closing);
        stack.pop();
        missing--;
      }
    }
    if (t.tokenType === T.LBrace) {
      // A body opens after a header (`model m`, `block f(...)`, `if cond`, `else`) and ends its
      // line, or closes on it; inside an expression or an assignment a '{' opens nothing.
      if (missing > 0 && (!opensBody(tokens, i) || !endsBodyLine(tokens, i))) {
        diagnostics.error(Diagnostics.Unexpected_0_1, tokenSpan(t), ["'{'", "an expression"]);
        missing--;
        return;
      }
      stack.push({ brace: t, indent: lineIndent });
    } else if (t.tokenType === T.RBrace) {
      const top = stack[stack.length - 1];
      // A '}' in line with nothing: further right than the line that opened its '{', or after
      // other tokens when that '{' is on an earlier line.
      if (missing < 0 && top && (first ? col > top.indent : top.brace.startLine !== t.startLine)) {
        diagnostics.error(Diagnostics.Unexpected_0_1, tokenSpan(t), ["'}'", "a statement (there is one '}' too many)"], {
          related: [{ span: tokenSpan(top.brace), message: "this '{' is closed further down" }],
        });
        missing++;
        return;
      }
      stack.pop();
    }
    out.push(t);
  });
  return out;
}

/** Whether the '{' at `i` is the last token on its line, or a '}' follows it on that line. */
function endsBodyLine(tokens: readonly IToken[], i: number): boolean {
  const line = tokens[i].startLine;
  for (let j = i + 1; j < tokens.length && tokens[j].startLine === line; j++) if (tokens[j].tokenType === T.RBrace) return true;
  return tokens[i + 1]?.startLine !== line;
}

/** Whether the '{' at `i` follows a header: `model`, `block`, `if` or `else` begins its statement. */
function opensBody(tokens: readonly IToken[], i: number): boolean {
  let depth = 0;
  for (let j = i - 1; j >= 0; j--) {
    const t = tokens[j].tokenType;
    if (t === T.RParen || t === T.RBracket) depth++;
    else if (t === T.LParen || t === T.LBracket) {
      if (--depth < 0) return false;
    } else if (depth === 0 && (t === T.Model || t === T.Block || t === T.If || t === T.Else)) return true;
    else if (depth === 0 && (t === T.LBrace || t === T.RBrace || t === T.Equals || t === T.Semicolon)) return false;
  }
  return false;
}
