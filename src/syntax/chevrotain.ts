import type * as Chevrotain from "chevrotain";

// chevrotain's package entry loads hundreds of small modules (~300 ms at start-up); the package
// also ships the same code as one bundled file, which loads in a few milliseconds. Only syntax/
// imports chevrotain, and only through here.
const entry = import.meta.resolve("chevrotain");
const bundled = new URL("../chevrotain.mjs", entry).href;
const lib = (await import(bundled)) as typeof Chevrotain;

export const { createToken, createTokenInstance, Lexer, CstParser, createSyntaxDiagramsCode } = lib;
export type { CstElement, CstNode, IParserErrorMessageProvider, IRecognitionException, IToken, TokenType, Lexer as LexerType } from "chevrotain";
