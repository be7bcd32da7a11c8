import { CstParser, type CstNode, type TokenType } from "./chevrotain.js";
import { parserErrorMessages } from "./errorMessages.js";
import * as T from "./tokens.js";

/**
 * The grammar of .tfm files. It is kept permissive (any statement anywhere, any expression as a
 * dimension): the narrow checks live in semantics/, where the messages can be precise.
 */
export class TfmParser extends CstParser {
  /** `validate` runs chevrotain's grammar checks; the tests do, the CLI skips them to start faster. */
  constructor(opts: { validate?: boolean } = {}) {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: parserErrorMessages, skipValidations: !opts.validate });
    this.performSelfAnalysis();
  }

  file = this.RULE("file", () => {
    this.MANY(() => this.SUBRULE(this.modelDecl));
  });

  modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.body);
  });

  body = this.RULE("body", () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(T.RBrace);
  });

  statement = this.RULE("statement", () => {
    // A syntax error inside `x[...]` may skip its closing action: no index spans statements.
    this.ACTION(() => (this.indexDepth = 0));
    this.OR([
      { ALT: () => this.SUBRULE(this.configDecl) },
      { ALT: () => this.SUBRULE(this.inputDecl) },
      { ALT: () => this.SUBRULE(this.outputDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
      { ALT: () => this.SUBRULE(this.ifStmt) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { GATE: () => this.paramAhead(), ALT: () => this.SUBRULE(this.paramStmt) },
      { ALT: () => this.SUBRULE(this.assignStmt) },
      { ALT: () => this.CONSUME(T.Semicolon) },
    ]);
  });

  configDecl = this.RULE("configDecl", () => {
    this.CONSUME(T.Config);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.configItem) });
  });

  configItem = this.RULE("configItem", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  inputDecl = this.RULE("inputDecl", () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.CONSUME(T.Question));
    this.CONSUME(T.Colon);
    this.SUBRULE(this.tensorType);
    this.OPTION3(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE2(this.expression, { LABEL: "default" });
    });
    this.OPTION2(() => {
      this.CONSUME(T.Where);
      this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
    });
  });

  outputDecl = this.RULE("outputDecl", () => {
    this.CONSUME(T.Output);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  blockDecl = this.RULE("blockDecl", () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.param) });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.body);
  });

  param = this.RULE("param", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.CONSUME(T.Question));
    this.OPTION2(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.tensorType);
    });
  });

  tensorType = this.RULE("tensorType", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(T.RBracket);
  });

  ifStmt = this.RULE("ifStmt", () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.body);
    this.OPTION(() => {
      this.CONSUME(T.Else);
      this.OR([{ ALT: () => this.SUBRULE(this.ifStmt) }, { ALT: () => this.SUBRULE2(this.body) }]);
    });
  });

  returnStmt = this.RULE("returnStmt", () => {
    this.CONSUME(T.Return);
    this.SUBRULE(this.expression);
  });

  /** `param in_proj_weight: f32[3 * d, d]`: a parameter under the current label scope. */
  paramStmt = this.RULE("paramStmt", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME2(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.tensorType);
  });

  /** `x = ...`, or `q, k, v = split(qkv, 3)`. */
  assignStmt = this.RULE("assignStmt", () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.CONSUME2(T.Identifier);
    });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  expression = this.RULE("expression", () => {
    this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.andExpr);
    });
  });

  andExpr = this.RULE("andExpr", () => {
    this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.notExpr);
    });
  });

  notExpr = this.RULE("notExpr", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.comparison) },
    ]);
  });

  comparison = this.RULE("comparison", () => {
    this.SUBRULE(this.additive);
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LessEq) },
        { ALT: () => this.CONSUME(T.GreaterEq) },
        { ALT: () => this.CONSUME(T.Less) },
        { ALT: () => this.CONSUME(T.Greater) },
      ]);
      this.SUBRULE2(this.additive);
    });
  });

  additive = this.RULE("additive", () => {
    this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.multiplicative);
    });
  });

  multiplicative = this.RULE("multiplicative", () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
        { ALT: () => this.CONSUME(T.At) },
      ]);
      this.SUBRULE2(this.unary);
    });
  });

  unary = this.RULE("unary", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.power) },
    ]);
  });

  power = this.RULE("power", () => {
    this.SUBRULE(this.postfix);
    this.OPTION(() => {
      this.CONSUME(T.StarStar);
      this.SUBRULE(this.unary);
    });
  });

  /** A primary followed by indexing: `x[:, 0]`, `x[..., 0:64]`, `x[:, ::2]`. */
  postfix = this.RULE("postfix", () => {
    this.SUBRULE(this.primary);
    this.MANY(() => this.SUBRULE(this.indexSuffix));
  });

  indexSuffix = this.RULE("indexSuffix", () => {
    this.CONSUME(T.LBracket);
    this.ACTION(() => this.indexDepth++);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.indexItem) });
    this.ACTION(() => this.indexDepth--);
    this.CONSUME(T.RBracket);
  });

  /** `...`, an index, or a slice `start:stop:step` with each part optional. */
  indexItem = this.RULE("indexItem", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Ellipsis) },
      { ALT: () => this.SUBRULE(this.sliceTail) },
      {
        ALT: () => {
          this.SUBRULE(this.expression);
          this.OPTION(() => this.SUBRULE2(this.sliceTail));
        },
      },
    ]);
  });

  sliceTail = this.RULE("sliceTail", () => {
    this.CONSUME(T.Colon);
    this.OPTION(() => this.SUBRULE(this.expression));
    this.OPTION2(() => {
      this.CONSUME2(T.Colon);
      this.OPTION3(() => this.SUBRULE2(this.expression));
    });
  });

  primary = this.RULE("primary", () => {
    this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
      { GATE: () => this.labelAhead(), ALT: () => this.SUBRULE(this.labeledCall) },
      // Before `true` and `where(`: a reference may be `true.x` or `model.embed_tokens`.
      { ALT: () => this.SUBRULE(this.reference) },
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
      { ALT: () => this.SUBRULE(this.listExpr) },
      { ALT: () => this.SUBRULE(this.keywordCall) },
      ],
    });
  });

  parenExpr = this.RULE("parenExpr", () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
  });

  /** `where(cond, a, b)`: the primitive shares its name with the keyword of input constraints. */
  keywordCall = this.RULE("keywordCall", () => {
    this.CONSUME(T.Where);
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
    this.CONSUME(T.RParen);
  });

  /** `[B, T, heads, -1]`: a list of values (dimensions, axes, tensors to concatenate). */
  listExpr = this.RULE("listExpr", () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(T.RBracket);
  });

  /** `label: layer(...)`, where the label may be dotted (`encoder.layers`) or a string. */
  labeledCall = this.RULE("labeledCall", () => {
    this.SUBRULE(this.labelPath);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.reference);
  });

  /** A label declared: each segment may be any word, keywords included (`model.layers`, `output.dense`, `output`). */
  labelPath = this.RULE("labelPath", () => {
    this.OR([{ ALT: () => this.SUBRULE(this.labelWord) }, { ALT: () => this.CONSUME(T.StringLiteral) }]);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.SUBRULE(this.labelSegment);
    });
  });

  /** A name used: as a label path, except that a keyword first segment needs a '.' after it (`model.embed_tokens`). */
  namePath = this.RULE("namePath", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      {
        GATE: () => this.LA(2).tokenType === T.Dot,
        ALT: () => {
          this.SUBRULE(this.keyword);
          this.CONSUME(T.Dot);
          this.SUBRULE(this.labelSegment);
        },
      },
    ]);
    this.MANY(() => {
      this.CONSUME2(T.Dot);
      this.SUBRULE2(this.labelSegment);
    });
  });

  labelSegment = this.RULE("labelSegment", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.labelWord) },
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
    ]);
  });

  /** A name or a keyword used as a name. */
  labelWord = this.RULE("labelWord", () => {
    this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.SUBRULE(this.keyword) }]);
  });

  keyword = this.RULE("keyword", () => {
    this.OR(T.keywordTokens.map((t) => ({ ALT: () => this.CONSUME(t) })));
  });

  /** A name, a dotted label reference, or a call of a layer or block. */
  reference = this.RULE("reference", () => {
    this.SUBRULE(this.namePath);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
      this.CONSUME(T.RParen);
    });
  });

  argument = this.RULE("argument", () => {
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Equals,
      DEF: () => {
        this.SUBRULE(this.argumentName);
        this.CONSUME(T.Equals);
      },
    });
    this.SUBRULE(this.expression);
  });

  /** Keywords are valid argument names (`block = mask`): the '=' after them makes it unambiguous. */
  argumentName = this.RULE("argumentName", () => {
    this.OR(T.argumentNameTokens.map((t) => ({ ALT: () => this.CONSUME(t) })));
  });

  /** Inside `x[...]` a ':' separates slice bounds, so `a:b` is not a label. */
  private indexDepth = 0;

  /** `param name: type` (`param` is not a keyword: it stays usable as a name elsewhere). */
  private paramAhead(): boolean {
    return this.LA(1).image === "param" && this.LA(2).tokenType === T.Identifier && this.LA(3).tokenType === T.Colon;
  }

  /** Whether a label path followed by ':' starts here (labels are arbitrarily long, so scan). */
  private labelAhead(): boolean {
    if (this.indexDepth > 0) return false;
    const isSegment = (k: number, first: boolean) => {
      const t = this.LA(k).tokenType;
      return t === T.Identifier || t === T.StringLiteral || KEYWORDS.has(t) || (!first && t === T.NumberLiteral);
    };
    if (!isSegment(1, true)) return false;
    let k = 1;
    while (this.LA(k + 1).tokenType === T.Dot && isSegment(k + 2, false)) k += 2;
    return this.LA(k + 1).tokenType === T.Colon;
  }
}

const KEYWORDS = new Set<TokenType>(T.keywordTokens);

let shared: TfmParser | undefined;
/** The parser is stateless between inputs; building it once saves its self-analysis. */
export function getParser(): TfmParser {
  shared ??= new TfmParser();
  return shared;
}

export type { CstNode };
