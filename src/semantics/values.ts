import type { Span } from "../diagnostics/diagnostic.js";
import { formatType, type TensorType } from "./types.js";

/** What an expression evaluates to during elaboration. `error` poisons, so one mistake reports once. */
export type Value =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "bool"; readonly value: boolean }
  /** A bare word such as `gelu` or `causal`; `unbound` is where it was written if it named nothing. */
  | { readonly kind: "ident"; readonly value: string; readonly unbound?: Span }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "dim"; readonly sym: string }
  | { readonly kind: "tensor"; readonly node: number; readonly type: TensorType; readonly optional: boolean; readonly name?: string }
  /** An optional block parameter the caller left out. */
  | { readonly kind: "absent"; readonly name: string }
  | { readonly kind: "block"; readonly name: string }
  /** `[a, b, ...]`: dimensions, axes, or tensors to join. */
  | { readonly kind: "list"; readonly items: readonly Value[] }
  /** `rope(theta = ..., dim = ..., interleaved = ...)` as attention's `rotary`: `dim` undefined for the whole head. */
  | { readonly kind: "rotary"; readonly theta: number; readonly dim?: number; readonly interleaved: boolean }
  | { readonly kind: "error" };

export type TensorValue = Extract<Value, { kind: "tensor" }>;

export const ERROR: Value = { kind: "error" };

export function describeValue(v: Value): string {
  switch (v.kind) {
    case "int":
      return `integer ${v.value}`;
    case "float":
      return `number ${v.value}`;
    case "bool":
      return `boolean ${v.value}`;
    case "ident":
      return `identifier '${v.value}'`;
    case "string":
      return `string ${JSON.stringify(v.value)}`;
    case "dim":
      return `symbolic dimension '${v.sym}'`;
    case "tensor":
      return `tensor ${formatType(v.type)}`;
    case "absent":
      return `absent optional '${v.name}'`;
    case "block":
      return `block '${v.name}'`;
    case "list":
      return `a list of ${v.items.length}`;
    case "rotary":
      return "rotary embeddings";
    case "error":
      return "an invalid value";
  }
}

export const isNumeric = (v: Value): v is Extract<Value, { kind: "int" | "float" }> => v.kind === "int" || v.kind === "float";
