import type { Span } from "../diagnostics/diagnostic.js";
import { unknownArgumentHint } from "../diagnostics/didYouMean.js";
import { Diagnostics } from "../diagnostics/messages.js";
import type { Arg, Expr } from "../syntax/ast.js";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";

/**
 * How an argument is read. `tensor` must be present; `mask` may be an optional input; `label`
 * names a labelled layer and is not evaluated; `choice` accepts bare words from `choices`;
 * `rotary` takes a call `rope(theta = ..., dim = ..., interleaved = ...)` without its tensor.
 */
export type ArgKind = "tensor" | "mask" | "int" | "number" | "bool" | "choice" | "label" | "dim" | "block" | "rotary" | "any";

export interface ArgSpec {
  readonly name: string;
  readonly kind: ArgKind;
  readonly required?: boolean;
  readonly choices?: readonly string[];
  /** Only by keyword: keeps optional arguments from being filled by position by mistake. */
  readonly keywordOnly?: boolean;
  /** One line for editors (completion, signature help); layers without it are documented in lsp/argDocs.ts. */
  readonly doc?: string;
}

export interface BoundArg {
  readonly expr: Expr;
  readonly span: Span;
}

/** Matches a call's arguments to a signature; reports unknown, repeated, missing and surplus ones. */
export function bindArguments(
  diags: DiagnosticBag,
  callee: string,
  calleeSpan: Span,
  specs: readonly ArgSpec[],
  args: readonly Arg[],
  opts: { variadic?: boolean } = {},
): { bound: Map<string, BoundArg>; rest: Arg[] } {
  const bound = new Map<string, BoundArg>();
  const rest: Arg[] = [];
  const positional = specs.filter((s) => !s.keywordOnly);
  let pos = 0;
  for (const a of args) {
    if (a.name) {
      const spec = specs.find((s) => s.name === a.name!.name);
      if (!spec) {
        if (opts.variadic) {
          rest.push(a);
          continue;
        }
        diags.error(Diagnostics.Unknown_argument_0_for_1, a.name.span, [a.name.name, callee], unknownArgumentHint(a.name.name, callee, specs.map((s) => s.name), diags.suggestions));
        continue;
      }
      if (bound.has(spec.name)) {
        diags.error(Diagnostics.Argument_0_given_twice, a.name.span, [spec.name]);
        continue;
      }
      bound.set(spec.name, { expr: a.value, span: a.span });
    } else {
      while (pos < positional.length && bound.has(positional[pos].name)) pos++;
      if (pos >= positional.length) {
        if (opts.variadic) {
          rest.push(a);
          continue;
        }
        diags.error(Diagnostics.Too_many_arguments_for_0_expected_1_got_2, a.span, [callee, positional.length, args.filter((x) => !x.name).length]);
        break;
      }
      bound.set(positional[pos].name, { expr: a.value, span: a.span });
      pos++;
    }
  }
  for (const s of specs) {
    if (s.required && !bound.has(s.name)) diags.error(Diagnostics.Missing_argument_0_for_1, calleeSpan, [s.name, callee]);
  }
  return { bound, rest };
}
