import type { Span } from "../diagnostics/diagnostic.js";

export type { Span };

export interface Ident {
  readonly name: string;
  readonly span: Span;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "**" | "@" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or";
export type UnaryOp = "-" | "not";

export type Expr =
  | { readonly kind: "number"; readonly value: number; readonly text: string; readonly span: Span }
  | { readonly kind: "string"; readonly value: string; readonly span: Span }
  | { readonly kind: "bool"; readonly value: boolean; readonly span: Span }
  | { readonly kind: "name"; readonly name: string; readonly span: Span }
  | { readonly kind: "binary"; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly opSpan: Span; readonly span: Span }
  | { readonly kind: "unary"; readonly op: UnaryOp; readonly operand: Expr; readonly span: Span }
  | { readonly kind: "call"; readonly callee: Ident; readonly args: readonly Arg[]; readonly span: Span }
  | { readonly kind: "labeled"; readonly label: LabelPath; readonly expr: Expr; readonly span: Span }
  | { readonly kind: "list"; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: "index"; readonly target: Expr; readonly items: readonly IndexItem[]; readonly span: Span }
  | { readonly kind: "error"; readonly span: Span };

/** One position of `x[...]`: an index, a slice with optional bounds, or `...` for the axes between. */
export type IndexItem =
  | { readonly kind: "at"; readonly value: Expr; readonly span: Span }
  | { readonly kind: "slice"; readonly start?: Expr; readonly stop?: Expr; readonly step?: Expr; readonly span: Span }
  | { readonly kind: "ellipsis"; readonly span: Span };

export interface Arg {
  readonly name?: Ident;
  readonly value: Expr;
  readonly span: Span;
}

/** A label path such as `encoder.layers` or `"h.0"`: the segments join with '.' into parameter names. */
export interface LabelPath {
  readonly parts: readonly string[];
  readonly span: Span;
}

export interface TypeExpr {
  readonly dtype: Ident;
  readonly dims: readonly Expr[];
  readonly span: Span;
}

export interface Param {
  readonly name: Ident;
  readonly optional: boolean;
  readonly type?: TypeExpr;
  readonly span: Span;
}

export interface ConfigItem {
  readonly name: Ident;
  readonly value: Expr;
  readonly span: Span;
}

export type Stmt =
  | { readonly kind: "config"; readonly items: readonly ConfigItem[]; readonly span: Span }
  | {
      readonly kind: "input";
      readonly name: Ident;
      readonly optional: boolean;
      readonly type: TypeExpr;
      /** `= value`: the caller may leave the input out; it is then this value everywhere. */
      readonly default?: Expr;
      readonly constraints: readonly Expr[];
      readonly span: Span;
    }
  | { readonly kind: "output"; readonly name: Ident; readonly value?: Expr; readonly span: Span }
  /** `target = value`; with more names (`q, k, v = split(x, 3)`) the value is unpacked into `targets`. */
  | { readonly kind: "assign"; readonly target: Ident; readonly targets: readonly Ident[]; readonly value: Expr; readonly span: Span }
  | { readonly kind: "param"; readonly name: Ident; readonly type: TypeExpr; readonly span: Span }
  | {
      readonly kind: "block";
      readonly name: Ident;
      readonly params: readonly Param[];
      readonly body: readonly Stmt[];
      readonly span: Span;
    }
  | { readonly kind: "if"; readonly cond: Expr; readonly then: readonly Stmt[]; readonly else?: readonly Stmt[]; readonly span: Span }
  | { readonly kind: "return"; readonly value: Expr; readonly span: Span };

export interface ModelDecl {
  readonly name: Ident;
  readonly body: readonly Stmt[];
  readonly span: Span;
}

export interface Comment {
  readonly text: string;
  readonly span: Span;
}

export interface SourceFileAst {
  readonly models: readonly ModelDecl[];
  readonly comments: readonly Comment[];
}
