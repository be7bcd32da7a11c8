import type { Diagnostic, Span } from "./diagnostic.js";

export interface FormatOptions {
  readonly color: boolean;
}

const paint = (on: boolean, code: string, s: string): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** Line `line` (1-based) of `text`, where lines end as the lexer counts them: "\r\n", "\n" or a lone "\r". */
function lineAt(text: string, line: number): string {
  const breaks = /\r\n?|\n/g;
  let start = 0;
  for (let l = 1; l < line; l++) {
    if (breaks.exec(text) === null) return "";
    start = breaks.lastIndex;
  }
  breaks.lastIndex = start;
  const end = breaks.exec(text);
  return text.slice(start, end === null ? text.length : end.index);
}

/** Characters that move the cursor, start escape sequences, break lines or reorder text on a terminal. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Makes control characters visible so a code frame cannot corrupt the terminal (one column each, so carets still line up). */
function visible(s: string): string {
  return s.replace(/\t/g, " ").replace(UNPRINTABLE, "?");
}

/** A message, hint or note as printed: control characters from names or strings in the source appear as escapes. */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => (c === "\n" ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

function codeFrame(text: string, span: Span, color: boolean): string {
  const source = lineAt(text, span.line);
  const MAX = 160;
  let from = 0;
  if (span.col - 1 > MAX - 40) from = span.col - 1 - 40;
  const shown = visible(source.slice(from, from + MAX));
  const gutter = String(span.line);
  const pad = " ".repeat(gutter.length);
  const caretStart = span.col - 1 - from;
  const width = Math.max(1, Math.min(span.end - span.start, shown.length - caretStart));
  const carets = " ".repeat(Math.max(0, caretStart)) + "^".repeat(width);
  return [
    `${pad} |`,
    `${paint(color, "2", gutter)} | ${shown}`,
    `${pad} | ${paint(color, "31;1", carets)}`,
  ].join("\n");
}

export function formatDiagnostic(d: Diagnostic, path: string, text: string, opts: FormatOptions): string {
  const kind = d.category === "error" ? paint(opts.color, "31;1", "error") : paint(opts.color, "33;1", "warning");
  const head = `${path}:${d.span.line}:${d.span.col}: ${kind} ${paint(opts.color, "2", `TFM${d.code}`)}: ${printable(d.message)}`;
  const parts = [head, codeFrame(text, d.span, opts.color)];
  if (d.hint) parts.push(`  = help: ${printable(d.hint)}`);
  for (const r of d.related ?? []) {
    parts.push(`${path}:${r.span.line}:${r.span.col}: note: ${printable(r.message)}`);
  }
  return parts.join("\n");
}

export function formatSummary(errors: number, warnings: number): string {
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}`;
}

export function diagnosticToJson(d: Diagnostic, path: string) {
  return {
    file: path,
    line: d.span.line,
    column: d.span.col,
    start: d.span.start,
    end: d.span.end,
    severity: d.category,
    code: `TFM${d.code}`,
    message: d.message,
    ...(d.hint ? { hint: d.hint } : {}),
    ...(d.related
      ? { related: d.related.map((r) => ({ line: r.span.line, column: r.span.col, message: r.message })) }
      : {}),
  };
}
