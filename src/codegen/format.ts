import * as prettier from "prettier";

// Pretty-printing a large module costs time linear in its size but with a large constant (tens of
// seconds for a few thousand layers). Almost all of it is one-line statements in function bodies
// that differ only in the numbers inside names (`k3(v120, v118, p40, s0, s1);`), and the entries
// of `spec.parameters`. Prettier lays such a statement out by its tokens' lengths alone, so each
// shape is formatted once: digits inside identifiers and plain strings become `1`s of the same
// length, the shapes are formatted together, and the original tokens are put back in order. The
// rest of the module (the skeleton, with one marker statement per run of such lines) is formatted
// as usual. The result is the text prettier gives for the whole module; anything unexpected falls
// back to formatting the whole module.

const TOKEN = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[A-Za-z_$][\w$]*|\d[\w.]*|\s+|[^]/g;
const DECLARATION = /^(?:const|let) [A-Za-z_$][\w$]*(?:!?: | = |;)/;
const CALL_OR_ASSIGNMENT = /^(?:await )?([A-Za-z_$][\w$]*)(?:\.[A-Za-z_$][\w$]*)*(?:\(| = )/;
const BLOCK_HEADER = /^(?:(?:export )?(?:async )?function\b|(?:\} )?(?:if|else|for|while|do|try|catch|finally)\b)/;
const KEYWORDS = new Set(["return", "if", "for", "while", "do", "switch", "case", "default", "throw", "function", "class", "new", "delete", "typeof", "void", "yield", "export", "import", "else", "try", "catch", "finally", "with", "break", "continue", "var", "interface", "type", "enum", "declare"]);
const CLEAN_STRING = /^"[^"\\']*"$/;
const MARKER = "__tfmc_run_";
const SEPARATOR = "__tfmc_separator();";
const SEPARATOR_ELEMENT = `__tfmc_separator_${"x".repeat(100)}`;

class Fallback extends Error {}

/** A prettier-compatible formatter; tests pass one that counts the text it is given. */
export type Formatter = (source: string, options: prettier.Options) => Promise<string>;

/** Formats a generated module exactly as `prettier.format(source, options)` would, faster when it is large. */
export async function formatModule(source: string, options: prettier.Options, format: Formatter = prettier.format): Promise<string> {
  try {
    return await formatByShapes(source, options, format);
  } catch (e) {
    if (!(e instanceof Fallback)) throw e;
    return format(source, options);
  }
}

interface Piece {
  readonly template: string;
  readonly originals: readonly string[];
}

/** Consecutive statement lines, or the elements of one long array of objects. */
interface Run {
  readonly kind: "statements" | "elements";
  readonly pieces: Piece[];
}

/** The skeleton's stand-in for a run; an element marker is long enough that its array must break. */
const markerOf = (kind: Run["kind"], k: number) => (kind === "statements" ? `${MARKER}${k}();` : `${MARKER}${k}_${"x".repeat(100)}`);

async function formatByShapes(source: string, options: prettier.Options, format: Formatter): Promise<string> {
  const lines = source.split("\n");
  const simple = findStatementLines(lines);
  const runs: Run[] = [];
  const skeleton: string[] = [];
  lines.forEach((text, i) => {
    if (!simple[i]) return skeleton.push(splitSpecParameters(text, runs));
    if (!simple[i - 1]) {
      skeleton.push(markerOf("statements", runs.length));
      runs.push({ kind: "statements", pieces: [] });
    }
    runs[runs.length - 1].pieces.push(templateOf(text));
  });
  if (runs.length === 0) return format(source, options);
  const formatted = (await format(skeleton.join("\n"), options)).split("\n");
  // Where each run's marker landed, and so how deep its pieces are indented.
  const depthOf = new Map<number, number>();
  formatted.forEach((l, i) => {
    const m = /^( *)__tfmc_run_(\d+)(?:\(\);|_x+,)$/.exec(l);
    if (!m) return;
    const k = Number(m[2]);
    if (depthOf.has(k) || l.trim() !== markerOf(runs[k]?.kind, k) + (runs[k].kind === "elements" ? "," : "")) throw new Fallback();
    if (m[1].length % 2 !== 0 || m[1].length === 0) throw new Fallback();
    depthOf.set(k, m[1].length / 2);
    formatted[i] = `${MARKER}${k}`;
  });
  if (depthOf.size !== runs.length) throw new Fallback();
  // Shapes by kind and depth, each formatted once.
  const shapes = new Map<string, Map<string, string>>();
  const shapesOf = (k: number) => `${runs[k].kind} ${depthOf.get(k)}`;
  runs.forEach((run, k) => {
    const byTemplate = shapes.get(shapesOf(k)) ?? new Map<string, string>();
    shapes.set(shapesOf(k), byTemplate);
    for (const p of run.pieces) byTemplate.set(p.template, "");
  });
  for (const [where, byTemplate] of shapes) {
    const [kind, depth] = where.split(" ");
    await formatShapes(kind as Run["kind"], Number(depth), byTemplate, options, format);
  }
  const out: string[] = [];
  for (const l of formatted) {
    const m = /^__tfmc_run_(\d+)$/.exec(l);
    if (!m) {
      out.push(l);
      continue;
    }
    const k = Number(m[1]);
    const byTemplate = shapes.get(shapesOf(k))!;
    for (const p of runs[k].pieces) out.push(restore(byTemplate.get(p.template)!, p.originals));
  }
  return out.join("\n");
}

/**
 * Formats every shape of one kind at one depth in a single call: statements in nested blocks of
 * a function, elements in an array nested in objects, separated by a marker line.
 */
async function formatShapes(kind: Run["kind"], depth: number, byTemplate: Map<string, string>, options: prettier.Options, format: Formatter): Promise<void> {
  const templates = [...byTemplate.keys()];
  const statements = kind === "statements";
  if (!statements && depth < 2) throw new Fallback();
  const separator = statements ? SEPARATOR : `${SEPARATOR_ELEMENT},`;
  const open = statements ? ["async function __tfmc_shapes() {", ...Array<string>(depth - 1).fill("{")] : ["const __tfmc_shapes = {", ...Array<string>(depth - 2).fill("a: {"), "a: ["];
  const close = statements ? Array<string>(depth).fill("}") : ["],", ...Array<string>(depth - 2).fill("},"), "};"];
  const text = [...open, templates.join(statements ? `\n${separator}\n` : `,\n${separator}\n`) + (statements ? "" : ","), ...close].join("\n");
  const lines = (await format(text, options)).split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length < 2 * depth || lines[depth - 1].trim() !== open[depth - 1]) throw new Fallback();
  const body = lines.slice(depth, lines.length - depth);
  const indented = " ".repeat(2 * depth) + separator;
  const parts: string[][] = [[]];
  for (const l of body) {
    if (l === indented) parts.push([]);
    else parts[parts.length - 1].push(l);
  }
  if (parts.length !== templates.length || parts.some((p) => p.length === 0)) throw new Fallback();
  templates.forEach((t, i) => byTemplate.set(t, parts[i].join("\n")));
}

/**
 * The skeleton's form of a line: `spec`'s parameter list (a few entries per layer, on the one line
 * `printValue` writes) becomes an element run when it is too long to stay on one line.
 */
function splitSpecParameters(text: string, runs: Run[]): string {
  const head = '"parameters": [';
  const at = text.indexOf(head);
  if (!text.startsWith("export const spec = {") || at < 0) return text;
  const tokens = text.slice(at + head.length).match(TOKEN) ?? [];
  const elements: string[] = [];
  let current = "";
  let depth = 0;
  let end = -1;
  for (let i = 0; i < tokens.length && end < 0; i++) {
    const t = tokens[i];
    if (t === "`" || t === '"' || t === "'" || t === "/") return text;
    if (t === "[" || t === "{" || t === "(") depth++;
    if (t === "]" || t === "}" || t === ")") depth--;
    if (depth < 0) end = i;
    else if (depth === 0 && t === ",") {
      elements.push(current.trim());
      current = "";
    } else current += t;
  }
  if (end < 0) return text;
  elements.push(current.trim());
  const content = tokens.slice(0, end).join("");
  if (elements.length < 2 || content.length <= 100 || elements.some((e) => !e.startsWith("{") || !e.endsWith("}"))) return text;
  const k = runs.length;
  runs.push({ kind: "elements", pieces: elements.map(templateOf) });
  return text.slice(0, at + head.length) + markerOf("elements", k) + tokens.slice(end).join("");
}

/** A line with the digits of its identifiers and plain strings (not object keys) made `1`s; the tokens changed. */
function templateOf(text: string): { template: string; originals: string[] } {
  const originals: string[] = [];
  const tokens = text.match(TOKEN) ?? [];
  const template = tokens.map((t, i) => {
    if (!substitutable(tokens, i)) return t;
    originals.push(t);
    return normalise(t);
  });
  return { template: template.join(""), originals };
}

function substitutable(tokens: readonly string[], i: number): boolean {
  const t = tokens[i];
  if (!/\d/.test(t)) return false;
  if (/^[A-Za-z_$]/.test(t)) return true;
  if (!CLEAN_STRING.test(t)) return false;
  // A string before `:` may be an object key, whose quotes prettier keeps or drops by its text.
  let j = i + 1;
  while (j < tokens.length && /^\s+$/.test(tokens[j])) j++;
  return tokens[j] !== ":";
}

const normalise = (t: string) => t.replace(/\d/g, "1");

/** Puts a line's own tokens back into its formatted shape. */
function restore(shape: string, originals: readonly string[]): string {
  const tokens = shape.match(TOKEN) ?? [];
  let k = 0;
  const out = tokens.map((t, i) => {
    if (!substitutable(tokens, i)) return t;
    const original = originals[k++];
    if (original === undefined || normalise(original) !== t) throw new Fallback();
    return original;
  });
  if (k !== originals.length) throw new Fallback();
  return out.join("");
}

/**
 * Which lines are whole statements directly in a block of statements (a function body, or the
 * body of an if or a loop): one line, brackets balanced, ending in `;`, no comment. Brackets are
 * followed from line to line to know which block a line is in.
 */
function findStatementLines(lines: readonly string[]): boolean[] {
  const stack: ("block" | "other")[] = [];
  let inComment = false;
  return lines.map((line) => {
    const trimmed = line.trim();
    if (inComment) {
      if (trimmed.includes("*/")) {
        if (!trimmed.endsWith("*/")) throw new Fallback();
        inComment = false;
      }
      return false;
    }
    if (trimmed.startsWith("/*")) {
      if (!trimmed.includes("*/")) inComment = true;
      else if (!trimmed.endsWith("*/") || trimmed.indexOf("*/") !== trimmed.length - 2) throw new Fallback();
      return false;
    }
    if (trimmed.startsWith("//")) return false;
    const inBlock = stack.length > 0 && stack[stack.length - 1] === "block";
    const depth = stack.length;
    let lowest = depth;
    let comment = false;
    const tokens = trimmed.match(TOKEN) ?? [];
    let previous = "";
    let lastToken = tokens.length - 1;
    while (lastToken >= 0 && /^\s+$/.test(tokens[lastToken])) lastToken--;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (/^\s+$/.test(t)) continue;
      if (t === "`" || t === '"' || t === "'") throw new Fallback();
      if (t === "/") {
        if (tokens[i + 1] === "/") {
          comment = true;
          break;
        }
        // A slash where a value is expected would start a regular expression, which this does not read.
        if (tokens[i + 1] === "*" || !/^[\w$)\]"']/.test(previous)) throw new Fallback();
      }
      if (t === "{" || t === "(" || t === "[") {
        const block = t === "{" && i === lastToken && (stack.length === 0 || stack[stack.length - 1] === "block") && (BLOCK_HEADER.test(trimmed) || trimmed.endsWith("=> {"));
        stack.push(block ? "block" : "other");
      } else if (t === "}" || t === ")" || t === "]") {
        if (stack.pop() === undefined) throw new Fallback();
        lowest = Math.min(lowest, stack.length);
      }
      previous = t;
    }
    if (comment || !inBlock || stack.length !== depth || lowest !== depth || !trimmed.endsWith(";")) return false;
    if (DECLARATION.test(trimmed)) return true;
    const call = CALL_OR_ASSIGNMENT.exec(trimmed);
    return call !== null && !KEYWORDS.has(call[1]);
  });
}
