import { printable } from "../diagnostics/format.js";
import type { IParserErrorMessageProvider, IToken, TokenType } from "./chevrotain.js";

// Parser errors carry two fields separated by NUL; parse.ts turns them into table diagnostics.

export function describeToken(t: IToken): string {
  if (t.tokenType.name === "EOF") return "end of file";
  const image = t.image.length > 24 ? t.image.slice(0, 21) + "..." : t.image;
  return printable(JSON.stringify(image)).replace(/^"|"$/g, "'");
}

const RULE_WORDS: Record<string, string> = {
  statement: "a statement (config, input, output, block, if, return or an assignment)",
  primary: "an expression",
  notExpr: "an expression",
  unary: "an expression",
  labelPath: "a name",
  namePath: "a name",
  labelSegment: "a name",
  file: "'model'",
};

const tokenLabel = (t: TokenType): string => (t.LABEL ?? t.name).replace(/^Identifier$/, "a name");

export const parserErrorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) => `${tokenLabel(expected)}\u0000${describeToken(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => describeToken(firstRedundant),
  buildNoViableAltMessage: ({ actual, ruleName }) => `${describeToken(actual[0])}\u0000${RULE_WORDS[ruleName] ?? "an expression"}`,
  buildEarlyExitMessage: ({ actual, ruleName }) => `${describeToken(actual[0])}\u0000${RULE_WORDS[ruleName] ?? "an expression"}`,
};

