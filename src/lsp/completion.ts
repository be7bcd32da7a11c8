import type { Span } from "../diagnostics/diagnostic.js";
import type { ArgSpec } from "../semantics/args.js";
import { CONST_FUNCTIONS, LAYERS } from "../semantics/layers/index.js";
import { DTYPES } from "../semantics/types.js";
import type { ModelDecl } from "../syntax/ast.js";
import { flatten, labels, type Analysis } from "./analysis.js";
import { ARG_DOCS, OTHER_CALLS } from "./argDocs.js";
import { cursorContext, type CursorContext } from "./context.js";
import { argType, blockSignature, layerNamed, layerSignature, type BlockStmt } from "./signature.js";

// Completion: what may be written where the cursor is. Statement keywords where a statement
// begins, dtypes after `input x:`, the arguments of the layer or block being called (and the
// values a choice, label or block argument accepts), and otherwise the names in scope: variables,
// inputs, config values, symbols, layers, blocks and the compile-time functions.

export type CompletionKind = "keyword" | "layer" | "block" | "function" | "config" | "variable" | "input" | "symbol" | "label" | "argument" | "choice" | "dtype";

export interface CompletionEntry {
  readonly label: string;
  readonly kind: CompletionKind;
  readonly detail?: string;
  /** Markdown. */
  readonly doc?: string;
  readonly insertText?: string;
  /** Lower sorts first. */
  readonly rank: number;
}

export interface Completions {
  readonly items: readonly CompletionEntry[];
  /** The text a chosen item replaces (the word being typed). */
  readonly replace: Span;
}

const keyword = (label: string, rank = 3): CompletionEntry => ({ label, kind: "keyword", rank });

export function completionsAt(a: Analysis, offset: number): Completions {
  const cx = cursorContext(a.text, offset);
  const replace: Span = { start: cx.word.start, end: offset, line: 0, col: 0 };
  return { items: entries(a, cx, offset), replace };
}

function entries(a: Analysis, cx: CursorContext, offset: number): CompletionEntry[] {
  if (cx.inCommentOrString) return [];
  const prev = cx.prev?.type;
  const scope = cx.enclosing[0];
  if (scope.kind === "file") return cx.statementStart ? [keyword("model")] : [];
  // A name being declared: nothing to offer.
  if (prev === "Model" || prev === "Block" || prev === "Input" || prev === "Output") return [];
  if (cx.call?.declaration) return cx.dtype ? dtypes() : [];
  if (cx.statementKeyword === "config" && !cx.call && (prev === "Config" || prev === "Comma")) return [];
  if (cx.dtype) return dtypes();
  const model = modelAt(a, offset);
  const names = new Names(a, model, cx, offset);
  if (cx.statementStart) {
    const inBlock = cx.enclosing.some((e) => e.kind === "block");
    const words = inBlock ? ["return", "if"] : ["config", "input", "output", "block", "if"];
    if (cx.afterIfBody) words.unshift("else");
    return [...words.map((w) => keyword(w, 0)), ...names.variables()];
  }
  if (prev === "Where") return names.symbols();
  if (prev === "Else") return [keyword("if", 0)];
  if (cx.afterLabel) return names.callables();
  if (cx.inBrackets) return [...names.configs(), ...names.symbols()];
  if (cx.prev?.type === "RBracket" && cx.statementKeyword === "input") return [keyword("where", 0)];
  const call = cx.call;
  if (call) {
    const specs = argSpecs(call.callee, names.block(call.callee), a.text);
    if (call.currentName !== undefined) {
      const spec = specs?.find((s) => s.name === call.currentName);
      return spec ? [...valuesFor(spec, names), ...names.expression()] : names.expression();
    }
    if (call.atArgStart && specs) {
      const given = new Set(call.named);
      const open = specs.filter((s) => !s.keywordOnly && !given.has(s.name));
      for (const s of open.slice(0, call.positionalBefore)) given.add(s.name);
      const positional = open[call.positionalBefore];
      const kw: CompletionEntry[] = specs
        .filter((s) => !given.has(s.name))
        .map((s) => ({
          label: `${s.name} =`,
          kind: "argument",
          detail: `${s.typeText ?? argType(s)}${s.required ? "" : " (optional)"}${s.keywordOnly ? ", by name only" : ""}`,
          ...(s.doc ? { doc: s.doc } : {}),
          insertText: `${s.name} = `,
          rank: s === positional ? 0 : 1,
        }));
      const slot = positional ? valuesFor(positional, names) : [];
      return [...slot, ...kw, ...names.expression()];
    }
  }
  return names.expression();
}

const dtypes = (): CompletionEntry[] => DTYPES.map((d) => ({ label: d, kind: "dtype", rank: 0 }));

function modelAt(a: Analysis, offset: number): ModelDecl | undefined {
  const before = a.ast.models.filter((m) => m.span.start <= offset);
  return before[before.length - 1] ?? a.ast.models[0];
}

type Spec = ArgSpec & { readonly doc?: string; readonly typeText?: string };

/** The arguments of what is called: a layer's specs, a block's parameters, or repeat's two. */
function argSpecs(callee: string, block: BlockStmt | undefined, text: string): Spec[] | undefined {
  const layer = layerNamed(callee);
  if (layer) return layer.args.map((s) => ({ ...s, ...((s.doc ?? ARG_DOCS[callee]?.[s.name]) ? { doc: s.doc ?? ARG_DOCS[callee][s.name] } : {}) }));
  if (block) {
    return block.params.map((p) => ({ name: p.name.name, kind: "any", required: !p.optional, typeText: p.type ? text.slice(p.type.span.start, p.type.span.end) : "any" }));
  }
  if (callee === "repeat") {
    return [
      { name: "count", kind: "int", required: true, doc: OTHER_CALLS.repeat.params[0].doc },
      { name: "block", kind: "block", required: true, doc: OTHER_CALLS.repeat.params[1].doc },
    ];
  }
  return undefined;
}

function valuesFor(spec: ArgSpec, names: Names): CompletionEntry[] {
  switch (spec.kind) {
    case "choice":
      return (spec.choices ?? []).map((c) => ({ label: c, kind: "choice", detail: `${spec.name}`, rank: 0 }));
    case "bool":
      return [keyword("true", 0), keyword("false", 0)];
    case "label":
      return names.labels();
    case "block":
      return names.blocks(0);
    default:
      return [];
  }
}

/** The names in scope at the cursor, each with what the checker found it to be. */
class Names {
  private readonly blockDecl: BlockStmt | undefined;
  /** Where the statement the cursor is in starts. */
  private readonly current: number | undefined;
  constructor(
    private readonly a: Analysis,
    private readonly model: ModelDecl | undefined,
    cx: CursorContext,
    private readonly offset: number,
  ) {
    const inner = cx.enclosing.find((e) => e.kind === "block");
    this.blockDecl = inner?.kind === "block" ? this.block(inner.name) : undefined;
    this.current = cx.statementStart ? undefined : cx.statementFirst;
  }

  block(name: string): BlockStmt | undefined {
    return this.model?.body.find((s): s is BlockStmt => s.kind === "block" && s.name.name === name);
  }

  /** What hover shows for a span, if the checker saw it. */
  private valueAt(span: Span): string | undefined {
    const o = this.a.observed.find((x) => x.span.start === span.start && x.span.end === span.end);
    return o ? [...o.values][0] : undefined;
  }

  variables(): CompletionEntry[] {
    const out = new Map<string, CompletionEntry>();
    const add = (name: string, span: Span, kind: CompletionKind, what: string) => {
      // The statement being written does not bind its name yet; a binding whose value failed
      // leaves the earlier one in view.
      if (name === "" || span.start === this.current) return;
      const v = this.valueAt(span);
      if (!v && out.has(name)) return;
      out.set(name, { label: name, kind, detail: v ? `${what}: ${v}` : what, rank: 1 });
    };
    const top = flatten(this.model?.body ?? []);
    if (this.blockDecl) {
      for (const p of this.blockDecl.params) add(p.name.name, p.name.span, "variable", "parameter");
      for (const s of flatten(this.blockDecl.body)) if (s.kind === "assign" && s.span.end <= this.offset) add(s.target.name, s.target.span, "variable", "variable");
    } else {
      for (const s of top) {
        if (s.span.end > this.offset) continue;
        if (s.kind === "input") add(s.name.name, s.name.span, "input", s.optional ? "optional input" : "input");
        if (s.kind === "assign") add(s.target.name, s.target.span, "variable", "variable");
      }
    }
    return [...out.values()];
  }

  configs(): CompletionEntry[] {
    const out: CompletionEntry[] = [];
    for (const s of flatten(this.model?.body ?? [])) {
      if (s.kind !== "config") continue;
      for (const i of s.items) {
        if (i.name.name === "" || out.some((o) => o.label === i.name.name)) continue;
        const v = this.valueAt(i.name.span);
        out.push({ label: i.name.name, kind: "config", detail: v ? `config ${i.name.name}: ${v}` : "config", rank: 1 });
      }
    }
    return out;
  }

  symbols(): CompletionEntry[] {
    const config = new Set(this.configs().map((c) => c.label));
    const out = new Map<string, CompletionEntry>();
    for (const s of flatten(this.model?.body ?? [])) {
      if (s.kind !== "input") continue;
      for (const d of s.type.dims) if (d.kind === "name" && !config.has(d.name)) out.set(d.name, { label: d.name, kind: "symbol", detail: "dimension", rank: 1 });
    }
    return [...out.values()];
  }

  labels(): CompletionEntry[] {
    return this.model ? [...labels(this.model).keys()].map((l) => ({ label: l, kind: "label", detail: "label", rank: 0 })) : [];
  }

  blocks(rank = 2): CompletionEntry[] {
    return (this.model?.body ?? [])
      .filter((s): s is BlockStmt => s.kind === "block" && s.name.name !== "")
      .map((b) => ({ label: b.name.name, kind: "block", detail: blockSignature(this.a.text, b).label, rank }));
  }

  callables(): CompletionEntry[] {
    const layers: CompletionEntry[] = Object.entries(LAYERS).map(([name, l]) => ({ label: name, kind: "layer", detail: layerSignature(name)!.label, doc: l.doc, rank: 2 }));
    const repeat: CompletionEntry = { label: "repeat", kind: "function", detail: "repeat(count: int, block: block, x, ...)", doc: OTHER_CALLS.repeat.doc, rank: 2 };
    return [...layers, ...this.blocks(), repeat];
  }

  expression(): CompletionEntry[] {
    const fns: CompletionEntry[] = Object.keys(CONST_FUNCTIONS).map((f) => ({ label: f, kind: "function", detail: "compile-time", doc: OTHER_CALLS[f]?.doc ?? "", rank: 3 }));
    const atTop = this.blockDecl === undefined;
    return [...this.variables(), ...this.configs(), ...(atTop ? this.symbols() : []), ...this.callables(), ...fns, keyword("true"), keyword("false"), keyword("not")];
  }
}
