// Text from outside — tensor names from a weights file, input names, file paths, --set values —
// reaches error messages and the terminal. These functions are the one place it is made safe to
// print: control characters (C0, DEL, C1: escape sequences, carriage returns, newlines), line and
// paragraph separators, bidirectional overrides and lone surrogates become visible escapes, and
// long text and long lists are cut. Escapes use JSON's forms (\n, \r, \t, \uXXXX), so text that
// is part of JSON output stays valid JSON. Backslashes are left alone, so applying a function twice
// changes nothing more than applying it once.

/** Characters that can move the cursor, end a line, recolour or reorder what a terminal shows. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_KEEPING_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const escape = (c: string): string => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** How many characters of one piece of outside text a message shows. */
export const MAX_PRINTED_CHARS = 200;
/** How many items of one list (problems, names) a message shows. */
export const MAX_LISTED = 20;
/** How many lines one error message prints. */
export const MAX_MESSAGE_LINES = 60;

/**
 * One piece of outside text (a name, a path, a value) for a message: on one line, with every
 * unsafe character escaped, cut to `max` characters with the full length said.
 */
export function printable(text: string, max = MAX_PRINTED_CHARS): string {
  const s = String(text);
  const cut = s.length > max ? s.slice(0, max) : s;
  const shown = cut.replace(UNSAFE, escape);
  return s.length > max ? `${shown}... (${s.length} characters)` : shown;
}

/**
 * A whole message of several lines: unsafe characters escaped except newlines and tabs, and at
 * most `maxLines` lines, then how many more there were.
 */
export function printableLines(text: string, maxLines = MAX_MESSAGE_LINES): string {
  const lines = String(text).replace(UNSAFE_KEEPING_LINES, escape).split("\n");
  if (lines.length <= maxLines) return lines.join("\n");
  return [...lines.slice(0, maxLines), `... and ${lines.length - maxLines} more lines`].join("\n");
}

/** The first `max` items, then "and K more" as one further item. */
export function capped(items: readonly string[], max = MAX_LISTED): string[] {
  if (items.length <= max) return [...items];
  return [...items.slice(0, max), `and ${items.length - max} more`];
}

/**
 * The items of a list as lines of a message, each after a newline and `bullet`: each printable,
 * the first MAX_LISTED, then how many more. An item quotes names already cut to MAX_PRINTED_CHARS,
 * so its line is cut at three times that.
 */
export function listLines(items: readonly string[], bullet: string): string {
  return capped(items.map((p) => printable(p, 3 * MAX_PRINTED_CHARS)), MAX_LISTED)
    .map((p) => `\n${bullet}${p}`)
    .join("");
}

/** `n thing` or `n things`. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * A value of unknown type as a message shows it, its type visible: numbers bare, strings quoted,
 * arrays (the first MAX_LISTED items) in brackets, anything else by its kind.
 */
export function describeValue(v: unknown): string {
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return printable(JSON.stringify(v));
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) {
    const shown = v.slice(0, MAX_LISTED).map(describeValue);
    if (v.length > MAX_LISTED) shown.push(`and ${v.length - MAX_LISTED} more`);
    return `[${shown.join(", ")}]`;
  }
  const name = (v as object).constructor?.name;
  return typeof name === "string" && name !== "Object" ? `a ${printable(name)}` : `an ${typeof v}`;
}
