import type { ConfigValue } from "./types.js";

/** A `--set name=value` override as typed on the command line, parsed by the value's look. */
export interface ConfigOverride {
  readonly name: string;
  readonly value: ConfigValue;
  readonly text: string;
}

export function parseOverrideValue(text: string): ConfigValue | undefined {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return { kind: "int", value: Number(t) };
  if (/^-?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(t)) return { kind: "float", value: Number(t) };
  if (t === "true" || t === "false") return { kind: "bool", value: t === "true" };
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) return { kind: "ident", value: t };
  return undefined;
}

/** Parses `name=value`; returns an error message for the command line when it is malformed. */
export function parseOverride(arg: string): ConfigOverride | string {
  const eq = arg.indexOf("=");
  if (eq <= 0) return `--set expects name=value, got '${arg}'`;
  const name = arg.slice(0, eq).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `--set: '${name}' is not a config name`;
  const text = arg.slice(eq + 1);
  const value = parseOverrideValue(text);
  if (!value) return `--set ${name}: '${shorten(text)}' is not a number, a boolean or a name`;
  if (value.kind === "int" && !Number.isSafeInteger(value.value)) {
    return `--set ${name}: the integer ${shorten(text.trim())} is too large to be exact: the limit is 9007199254740991 (2^53 - 1)`;
  }
  if (value.kind === "float" && !Number.isFinite(value.value)) return `--set ${name}: ${shorten(text.trim())} is too large: the largest number is about 1.8e308`;
  return { name, value, text };
}

const shorten = (s: string): string => (s.length > 40 ? `${s.slice(0, 20)}... (${s.length} characters)` : s);

export const describeConfigKind = (v: ConfigValue): string =>
  ({ int: "an integer", float: "a number", bool: "a boolean", ident: "a name", string: "a string" })[v.kind];

/** Whether an override of kind `given` may replace a default of kind `expected`. */
export function overrideFits(expected: ConfigValue, given: ConfigValue): ConfigValue | undefined {
  if (expected.kind === given.kind) return given;
  if (expected.kind === "float" && given.kind === "int") return { kind: "float", value: given.value };
  return undefined;
}
