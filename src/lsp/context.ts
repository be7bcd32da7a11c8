import { keywordTokens } from "../syntax/tokens.js";
import { lexForEditor, type EditorToken } from "../syntax/parse.js";

// Where the cursor is, read from the tokens before it rather than from the syntax tree: while a
// line is being typed the tree is at its least reliable, the tokens are all there.

export interface CallContext {
  /** The called name, dotted parts joined. */
  readonly callee: string;
  readonly calleeStart: number;
  /** Whether this is a block declaration's parameter list rather than a call. */
  readonly declaration: boolean;
  /** Which argument the cursor is in (0-based, counting every comma before it). */
  readonly argIndex: number;
  /** Arguments before the current one written without a name. */
  readonly positionalBefore: number;
  /** Names of the keyword arguments written before the current one. */
  readonly named: readonly string[];
  /** The name of the current argument, when the cursor is after its `name =`. */
  readonly currentName?: string;
  /** Whether nothing but the word being typed stands between the argument's start and the cursor. */
  readonly atArgStart: boolean;
}

export type Enclosing = { readonly kind: "file" } | { readonly kind: "model" } | { readonly kind: "block"; readonly name: string } | { readonly kind: "if" };

export interface CursorContext {
  /** The identifier being typed (possibly empty), which a completion replaces. */
  readonly word: { readonly start: number; readonly end: number; readonly text: string };
  /** The token before the word. */
  readonly prev?: EditorToken;
  readonly inCommentOrString: boolean;
  readonly call?: CallContext;
  /** Inside the brackets of a tensor type. */
  readonly inBrackets: boolean;
  /** Where a statement may begin. */
  readonly statementStart: boolean;
  /** After `:` in an input declaration or a block parameter: a dtype comes next. */
  readonly dtype: boolean;
  /** After `label:` in an expression: a layer or block call comes next. */
  readonly afterLabel: boolean;
  /** The first token of the statement the cursor is in, and where it starts. */
  readonly statementKeyword?: string;
  readonly statementFirst?: number;
  /** Innermost first. */
  readonly enclosing: readonly Enclosing[];
  /** Whether the `}` just before the cursor closed an `if` (so `else` fits). */
  readonly afterIfBody: boolean;
}

const OPERAND_END = new Set(["Identifier", "NumberLiteral", "StringLiteral", "True", "False", "RParen", "RBracket"]);
const WORD = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function cursorContext(text: string, offset: number): CursorContext {
  const all = lexForEditor(text);
  const inCommentOrString = all.some(
    (t) =>
      (t.type.endsWith("Comment") || t.type.endsWith("String") || t.type === "StringLiteral") &&
      t.start < offset &&
      (offset < t.end || (offset === t.end && t.type !== "StringLiteral" && t.type !== "BlockComment")),
  );
  const toks = all.filter((t) => !t.type.endsWith("Comment"));
  // The word under the cursor: an identifier or keyword token that ends at (or spans) the cursor.
  let wordTok = toks.find((t) => t.start < offset && offset <= t.end && WORD.test(t.image));
  const word = wordTok ? { start: wordTok.start, end: wordTok.end, text: text.slice(wordTok.start, offset) } : { start: offset, end: offset, text: "" };
  const before = toks.filter((t) => t.end <= word.start);
  const prev = before[before.length - 1];
  const newLine = prev === undefined || text.slice(prev.end, word.start).includes("\n");
  const statementStart = prev === undefined || prev.type === "LBrace" || prev.type === "RBrace" || prev.type === "Semicolon" || (newLine && OPERAND_END.has(prev.type));

  // Scan back for the innermost unclosed bracket, then the braces around it.
  let call: CallContext | undefined;
  let inBrackets = false;
  const enclosing: Enclosing[] = [];
  let depth = 0;
  let commas = 0;
  let argStart = before.length;
  let scanningCall = !statementStart;
  for (let i = before.length - 1; i >= 0; i--) {
    const t = before[i];
    if (t.type === "RParen" || t.type === "RBracket" || t.type === "RBrace") depth++;
    else if (t.type === "LParen" || t.type === "LBracket" || t.type === "LBrace") {
      if (depth > 0) {
        depth--;
        continue;
      }
      if (t.type === "LBrace") {
        enclosing.push(braceOwner(before, i));
        scanningCall = false;
        continue;
      }
      if (!scanningCall) continue;
      scanningCall = false;
      if (t.type === "LBracket") inBrackets = true;
      else call = callAt(before, i, commas, argStart);
    } else if (depth === 0 && scanningCall && t.type === "Comma") {
      if (commas === 0) argStart = i + 1;
      commas++;
    }
  }
  if (enclosing.length === 0 || enclosing[enclosing.length - 1].kind !== "model") enclosing.push({ kind: "file" });

  const stmtFirst = statementFirst(text, before);
  const prev2 = before[before.length - 2];
  const dtype = prev?.type === "Colon" && (stmtFirst?.type === "Input" ? !before.slice(before.indexOf(stmtFirst)).some((t) => t.type === "LBracket") : call?.declaration === true);
  const afterLabel = prev?.type === "Colon" && !dtype && (prev2?.type === "Identifier" || prev2?.type === "StringLiteral" || prev2?.type === "NumberLiteral" || KEYWORD_TYPES.has(prev2?.type ?? ""));
  return {
    word,
    ...(prev ? { prev } : {}),
    inCommentOrString,
    ...(call && !statementStart ? { call } : {}),
    inBrackets,
    statementStart: statementStart && !inBrackets,
    dtype,
    afterLabel,
    ...(stmtFirst && !statementStart ? { statementKeyword: stmtFirst.image, statementFirst: stmtFirst.start } : {}),
    enclosing,
    afterIfBody: prev?.type === "RBrace" && closedOwner(before, before.length - 1)?.kind === "if",
  };
}

/** What the `{` at index `i` opens: a block (named), the model, or an `if`/`else` body. */
function braceOwner(toks: readonly EditorToken[], i: number): Enclosing {
  const p = toks[i - 1];
  if (p?.type === "Identifier" && toks[i - 2]?.type === "Model") return { kind: "model" };
  if (p?.type === "RParen") {
    let depth = 0;
    for (let j = i - 1; j >= 0; j--) {
      if (toks[j].type === "RParen") depth++;
      else if (toks[j].type === "LParen" && --depth === 0) {
        if (toks[j - 1]?.type === "Identifier" && toks[j - 2]?.type === "Block") return { kind: "block", name: toks[j - 1].image };
        break;
      }
    }
  }
  return { kind: "if" };
}

/** What the `}` at index `i` closes. */
function closedOwner(toks: readonly EditorToken[], i: number): Enclosing | undefined {
  let depth = 0;
  for (let j = i; j >= 0; j--) {
    if (toks[j].type === "RBrace") depth++;
    else if (toks[j].type === "LBrace" && --depth === 0) return braceOwner(toks, j);
  }
  return undefined;
}

function callAt(toks: readonly EditorToken[], open: number, commas: number, argStart: number): CallContext | undefined {
  let k = open - 1;
  if (toks[k]?.type !== "Identifier") return undefined;
  const parts = [toks[k].image];
  while (toks[k - 1]?.type === "Dot" && (toks[k - 2]?.type === "Identifier" || toks[k - 2]?.type === "NumberLiteral")) {
    parts.unshift(toks[k - 2].image);
    k -= 2;
  }
  const declaration = toks[k - 1]?.type === "Block";
  const argFrom = commas === 0 ? open + 1 : argStart;
  const named: string[] = [];
  let positionalBefore = 0;
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i <= toks.length; i++) {
    const t = toks[i];
    if (t && (t.type === "LParen" || t.type === "LBracket")) depth++;
    else if (t && (t.type === "RParen" || t.type === "RBracket")) depth--;
    else if (!t || (t.type === "Comma" && depth === 0)) {
      if (i >= argFrom) break;
      if (toks[start + 1]?.type === "Equals" && WORD.test(toks[start]?.image ?? "")) named.push(toks[start].image);
      else positionalBefore++;
      start = i + 1;
    }
  }
  return { callee: parts.join("."), calleeStart: toks[k].start, declaration, argIndex: commas, positionalBefore, named, ...currentArg(toks, argFrom) };
}

/** The argument that starts at token `start` and runs to the cursor. */
function currentArg(toks: readonly EditorToken[], start: number): { currentName?: string; atArgStart: boolean } {
  const first = toks[start];
  const named = first !== undefined && toks[start + 1]?.type === "Equals" && WORD.test(first.image);
  return { ...(named ? { currentName: first.image } : {}), atArgStart: start >= toks.length };
}

/**
 * The first token of the statement the last token belongs to: a keyword, or an assignment's name.
 * Line breaks do not end statements, so a statement is taken to begin on a new line after a token
 * that can end one (as `statementStart` does for the cursor).
 */
function statementFirst(text: string, toks: readonly EditorToken[]): EditorToken | undefined {
  let depth = 0;
  for (let i = toks.length - 1; i >= 0; i--) {
    const t = toks[i];
    const p = toks[i - 1];
    if (t.type === "RParen" || t.type === "RBracket") depth++;
    else if (t.type === "LParen" || t.type === "LBracket") depth = Math.max(0, depth - 1);
    if (t.type === "LBrace" || t.type === "RBrace" || t.type === "Semicolon") return toks[i + 1];
    // `input.x: linear(...)`: a keyword starting a label is a name, not its statement.
    if (depth === 0 && STATEMENT_KEYWORDS.has(t.type) && toks[i + 1]?.type !== "Dot" && toks[i + 1]?.type !== "Colon") return t;
    if (!p || (text.slice(p.end, t.start).includes("\n") && (OPERAND_END.has(p.type) || p.type === "LBrace" || p.type === "RBrace"))) return t;
  }
  return undefined;
}

const STATEMENT_KEYWORDS = new Set(["Config", "Input", "Output", "Return", "If", "Block"]);
/** Keywords' token types: a label's segment may be one (`output.dense:`). */
const KEYWORD_TYPES = new Set(keywordTokens.map((t) => t.name));
