import { createToken, Lexer, type TokenType } from "./chevrotain.js";

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

const keyword = (word: string): TokenType =>
  createToken({ name: word[0].toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });

export const Model = keyword("model");
export const Config = keyword("config");
export const Input = keyword("input");
export const Output = keyword("output");
export const Block = keyword("block");
export const Return = keyword("return");
export const If = keyword("if");
export const Else = keyword("else");
export const Where = keyword("where");
export const True = keyword("true");
export const False = keyword("false");
export const And = keyword("and");
export const Or = keyword("or");
export const Not = keyword("not");

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n\r\u2028\u2029]*/, group: "comments" });
export const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, group: "comments", line_breaks: true });
/** An opening '/*' with no close; matched only when BlockComment fails, reported as an error. */
export const UnterminatedComment = createToken({ name: "UnterminatedComment", pattern: /\/\*[\s\S]*/, line_breaks: true });

export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/,
  label: "number",
});
export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\n\r]|\\.)*"/, label: "string" });
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"(?:[^"\\\n\r]|\\.)*/ });

const punct = (name: string, pattern: RegExp | string, label: string): TokenType =>
  createToken({ name, pattern, label: `'${label}'` });

export const LBrace = punct("LBrace", "{", "{");
export const RBrace = punct("RBrace", "}", "}");
export const LParen = punct("LParen", "(", "(");
export const RParen = punct("RParen", ")", ")");
export const LBracket = punct("LBracket", "[", "[");
export const RBracket = punct("RBracket", "]", "]");
export const Comma = punct("Comma", ",", ",");
export const Semicolon = punct("Semicolon", ";", ";");
export const Colon = punct("Colon", ":", ":");
export const Question = punct("Question", "?", "?");
export const Ellipsis = punct("Ellipsis", "...", "...");
export const Dot = punct("Dot", ".", ".");
export const EqEq = punct("EqEq", "==", "==");
export const NotEq = punct("NotEq", "!=", "!=");
export const LessEq = punct("LessEq", "<=", "<=");
export const GreaterEq = punct("GreaterEq", ">=", ">=");
export const Less = punct("Less", "<", "<");
export const Greater = punct("Greater", ">", ">");
export const Equals = punct("Equals", "=", "=");
export const Plus = punct("Plus", "+", "+");
export const Minus = punct("Minus", "-", "-");
export const StarStar = punct("StarStar", "**", "**");
export const Star = punct("Star", "*", "*");
export const Slash = punct("Slash", "/", "/");
export const Percent = punct("Percent", "%", "%");
export const At = punct("At", "@", "@");

export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  StringLiteral,
  UnterminatedString,
  NumberLiteral,
  Model, Config, Input, Output, Block, Return, If, Else, Where, True, False, And, Or, Not,
  Identifier,
  LBrace, RBrace, LParen, RParen, LBracket, RBracket, Comma, Semicolon, Colon, Question,
  EqEq, NotEq, LessEq, GreaterEq, Less, Greater, Equals,
  Plus, Minus, StarStar, Star, Slash, Percent, At,
  Ellipsis, Dot,
];

export const KEYWORDS = ["model", "config", "input", "output", "block", "return", "if", "else", "where", "true", "false", "and", "or", "not"];

/** The keyword tokens: as words they may still be a label's segment (`model.embed_tokens: ...`). */
export const keywordTokens: TokenType[] = [Model, Config, Input, Output, Block, Return, If, Else, Where, True, False, And, Or, Not];

/** Tokens that may name a keyword argument. */
export const argumentNameTokens: TokenType[] = [Identifier, Model, Config, Input, Output, Block, Return, If, Else, Where];
