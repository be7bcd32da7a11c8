import type { ArgSpec } from "../semantics/args.js";
import { LAYERS } from "../semantics/layers/index.js";
import type { Stmt } from "../syntax/ast.js";
import type { Analysis } from "./analysis.js";
import { ARG_DOCS, OTHER_CALLS } from "./argDocs.js";
import { cursorContext } from "./context.js";

// Signature help: the signature of the layer, block or built-in being called, with the argument
// the cursor is in marked. Layers' signatures come from their own argument specs: positional
// parameters first, then `*` and those that can only be given by name.

export interface SignatureParam {
  /** Offsets of the parameter within the signature's label. */
  readonly label: readonly [number, number];
  readonly doc?: string;
}

export interface SignatureInfo {
  readonly label: string;
  readonly doc?: string;
  readonly params: readonly SignatureParam[];
  /** The parameter the cursor is in; `params.length` when none fits. */
  readonly active: number;
}

export type BlockStmt = Extract<Stmt, { kind: "block" }>;

/** A built-in layer by name (own properties only: `toString` is no layer). */
export const layerNamed = (name: string) => (Object.hasOwn(LAYERS, name) ? LAYERS[name] : undefined);

/** How a layer argument's type is written in a signature. */
export function argType(spec: ArgSpec): string {
  if (spec.kind === "choice") return (spec.choices ?? []).join(" | ");
  if (spec.kind === "mask") return "mask";
  return spec.kind;
}

function build(name: string, pieces: readonly { text: string; doc?: string }[], star: number): { label: string; params: SignatureParam[] } {
  let label = `${name}(`;
  const params: SignatureParam[] = [];
  pieces.forEach((p, i) => {
    if (i > 0) label += ", ";
    if (i === star) label += "*, ";
    params.push({ label: [label.length, label.length + p.text.length], ...(p.doc ? { doc: p.doc } : {}) });
    label += p.text;
  });
  return { label: `${label})`, params };
}

/** `linear(x: tensor, out?: int, *, bias?: bool, tied?: label)`. */
export function layerSignature(name: string): { label: string; params: SignatureParam[] } | undefined {
  const layer = layerNamed(name);
  if (!layer) return undefined;
  const specs = [...layer.args.filter((s) => !s.keywordOnly), ...layer.args.filter((s) => s.keywordOnly)];
  const pieces = specs.map((s) => ({ text: `${s.name}${s.required ? "" : "?"}: ${argType(s)}`, doc: s.doc ?? ARG_DOCS[name]?.[s.name] }));
  const star = specs.findIndex((s) => s.keywordOnly);
  return build(name, pieces, star < 0 ? -1 : star);
}

export function blockSignature(text: string, decl: BlockStmt): { label: string; params: SignatureParam[] } {
  const pieces = decl.params.map((p) => ({ text: text.slice(p.span.start, p.span.end) }));
  return build(decl.name.name, pieces, -1);
}

/** The active parameter among `specs` (in signature order) for the argument being written. */
function activeIndex(names: readonly string[], keywordOnly: readonly boolean[], call: { currentName?: string; named: readonly string[]; positionalBefore: number }): number {
  if (call.currentName !== undefined) {
    const i = names.indexOf(call.currentName);
    return i < 0 ? names.length : i;
  }
  const free = names.map((n, i) => i).filter((i) => !keywordOnly[i] && !call.named.includes(names[i]));
  return free[call.positionalBefore] ?? names.length;
}

export function signatureAt(a: Analysis, offset: number): SignatureInfo | undefined {
  const cx = cursorContext(a.text, offset);
  const call = cx.call;
  if (!call || call.declaration || cx.inCommentOrString) return undefined;
  const layer = layerNamed(call.callee);
  if (layer) {
    const sig = layerSignature(call.callee)!;
    const specs = [...layer.args.filter((s) => !s.keywordOnly), ...layer.args.filter((s) => s.keywordOnly)];
    const active = activeIndex(
      specs.map((s) => s.name),
      specs.map((s) => s.keywordOnly === true),
      call,
    );
    return { ...sig, doc: layer.doc, active };
  }
  const model = a.ast.models.find((m) => m.span.start <= offset) ?? a.ast.models[0];
  const decl = model?.body.find((s): s is BlockStmt => s.kind === "block" && s.name.name === call.callee);
  if (decl) {
    const sig = blockSignature(a.text, decl);
    const names = decl.params.map((p) => p.name.name);
    return {
      ...sig,
      active: activeIndex(
        names,
        names.map(() => false),
        call,
      ),
    };
  }
  const other = Object.hasOwn(OTHER_CALLS, call.callee) ? OTHER_CALLS[call.callee] : undefined;
  if (other) {
    const sig = build(
      call.callee,
      other.params.map((p) => ({ text: p.name, ...(p.doc ? { doc: p.doc } : {}) })),
      -1,
    );
    return { ...sig, doc: other.doc, active: Math.min(call.argIndex, other.params.length - 1) };
  }
  return undefined;
}
