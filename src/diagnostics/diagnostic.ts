import { SuggestionBudget } from "./didYouMean.js";
import type { Category, MessageInfo } from "./messages.js";

/** A half-open range of source text, with the 1-based line and column of its start. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly col: number;
}

export interface RelatedInfo {
  readonly span: Span;
  readonly message: string;
}

export interface Diagnostic {
  readonly code: number;
  readonly category: Category;
  readonly message: string;
  readonly span: Span;
  readonly hint?: string;
  readonly related?: readonly RelatedInfo[];
}

export const NO_SPAN: Span = { start: 0, end: 0, line: 1, col: 1 };

export function formatMessage(template: string, args: readonly (string | number)[]): string {
  return template.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? ""));
}

export function makeDiagnostic(
  info: MessageInfo,
  span: Span,
  args: readonly (string | number)[] = [],
  extra: { hint?: string; related?: RelatedInfo[] } = {},
): Diagnostic {
  return {
    code: info.code,
    category: info.category,
    message: formatMessage(info.message, args),
    span,
    ...(extra.hint !== undefined ? { hint: extra.hint } : {}),
    ...(extra.related !== undefined ? { related: extra.related } : {}),
  };
}

/** Collects diagnostics; stages report into it rather than throwing. Duplicates are dropped. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  /** What every "did you mean" of this check may spend, together. */
  readonly suggestions = new SuggestionBudget();
  private readonly seen = new Set<string>();

  error(
    info: MessageInfo,
    span: Span,
    args: readonly (string | number)[] = [],
    extra: { hint?: string; related?: RelatedInfo[] } = {},
  ): void {
    this.add(makeDiagnostic(info, span, args, extra));
  }

  add(d: Diagnostic): void {
    const key = `${d.code}:${d.span.start}:${d.span.end}:${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(d);
  }

  get errorCount(): number {
    return this.items.filter((d) => d.category === "error").length;
  }

  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => a.span.start - b.span.start || a.code - b.code);
  }
}
