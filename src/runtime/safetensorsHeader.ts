/**
 * The header half of the safetensors format: the length prefix, the JSON header and the rules
 * that tie it to the byte buffer. Everything here runs before any tensor data is copied, so a
 * hostile file is refused having cost at most one decode of its (bounded) header.
 */
import { printable } from "./printable.js";
import { JsonError, JsonNonInteger, parseStrictJson, type JsonObject, type JsonValue } from "./strictJson.js";

export type SafeDType = "F32" | "F16" | "BF16" | "I64" | "I32" | "U8" | "BOOL";

export type SafetensorsErrorCode =
  // reading: framing
  | "truncated"
  | "header-too-large"
  | "header-out-of-bounds"
  | "header-not-utf8"
  | "invalid-json"
  | "header-not-object"
  | "header-start"
  | "duplicate-name"
  | "duplicate-key"
  // reading: one entry
  | "invalid-entry"
  | "missing-field"
  | "unknown-field"
  | "unknown-dtype"
  | "unsupported-dtype"
  | "invalid-shape"
  | "shape-overflow"
  | "invalid-offsets"
  | "offsets-reversed"
  | "byte-length-mismatch"
  | "offset-out-of-bounds"
  // reading: layout of the byte buffer
  | "offsets-overlap"
  | "offsets-gap"
  | "trailing-bytes"
  // metadata, both ways
  | "metadata-not-object"
  | "metadata-value-not-string"
  // data
  | "invalid-bool"
  // writing and conversion
  | "reserved-name"
  | "invalid-name"
  | "data-type-mismatch"
  | "shape-mismatch"
  | "int32-range"
  | "not-integer";

export class SafetensorsError extends Error {
  override readonly name = "SafetensorsError";
  constructor(
    readonly code: SafetensorsErrorCode,
    message: string,
  ) {
    super(`safetensors: ${message}`);
  }
}

/** The reference implementation refuses larger headers; so do we, before decoding anything. */
export const MAX_HEADER_SIZE = 100_000_000;
export const METADATA_KEY = "__metadata__";

export const DTYPE_SIZE: Readonly<Record<SafeDType, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };

/** Dtypes the format defines that this runtime has no typed array for; refused with their own code. */
const OTHER_FORMAT_DTYPES = new Set([
  "F4", "F6_E2M3", "F6_E3M2", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ",
  "I16", "U16", "U32", "C64", "F64", "U64",
]);

export const isSafeDType = (s: unknown): s is SafeDType => typeof s === "string" && Object.hasOwn(DTYPE_SIZE, s);

export interface HeaderEntry {
  readonly name: string;
  readonly dtype: SafeDType;
  readonly shape: number[];
  /** Offsets into the byte buffer, which starts at `Header.dataStart` in the file. */
  readonly begin: number;
  readonly end: number;
}

export interface Header {
  /** In buffer order (by begin offset), which is the order a reader should copy in. */
  readonly entries: HeaderEntry[];
  readonly metadata: Record<string, string>;
  readonly dataStart: number;
}

const ENTRY_FIELDS = ["dtype", "shape", "data_offsets"] as const;

const fail = (code: SafetensorsErrorCode, message: string): never => {
  throw new SafetensorsError(code, message);
};

/** A short, safe rendering of a JSON value for messages: hostile headers can hold huge strings. */
export function describe(v: unknown): string {
  let s: string;
  if (v instanceof JsonNonInteger) s = v.text;
  else if (v instanceof Map) s = "an object";
  else if (Array.isArray(v)) s = v.length <= 8 ? `[${v.map(describe).join(", ")}]` : `an array of length ${v.length}`;
  else if (typeof v === "bigint") s = `${v}n`;
  else if (v === undefined) s = "undefined";
  else s = JSON.stringify(v) ?? String(v);
  // JSON escapes C0 controls; printable also escapes C1 controls, separators and bidi overrides.
  return printable(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

const isIndex = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0);

/**
 * Elements × bytes per element, refusing anything past 2^53 - 1. Zero dimensions are checked first,
 * since a shape like [2^40, 2^40, 0] really does hold no bytes and must not be mistaken for overflow.
 */
export function byteLength(shape: readonly number[], elementSize: number, what: string): number {
  if (shape.includes(0)) return 0;
  let n = elementSize;
  for (const d of shape) {
    // Exact while below 2^53; past it, rounding can only land on 2^53 or above, never back in range.
    n *= d;
    if (!Number.isSafeInteger(n)) fail("shape-overflow", `${what}: shape ${describe(shape)} holds 2^53 bytes or more`);
  }
  return n;
}

/** Checks that `shape` is a list of non-negative safe integers; shared by the reader and the writer. */
export function checkShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape)) return fail("invalid-shape", `${what}: shape must be an array, not ${describe(shape)}`);
  shape.forEach((d: unknown, i) => {
    if (!isIndex(d)) {
      fail("invalid-shape", `${what}: shape[${i}] is ${describe(d)}, not a non-negative integer below 2^53`);
    }
  });
  return shape as number[];
}

export function readHeader(bytes: Uint8Array): Header {
  if (bytes.length < 8) fail("truncated", `file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  // A u64: compare as a bigint so lengths past 2^53 cannot round into range.
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  // A file of another kind (a .bin, a zip, text) reads as a huge length with no '{' after it.
  const notSafetensors = bytes.length === 8 || bytes[8] !== 0x7b ? "not a safetensors file: " : "";
  const noJson = notSafetensors ? ", and no JSON header follows it" : "";
  if (declared > BigInt(MAX_HEADER_SIZE)) {
    const what = notSafetensors ? `its first 8 bytes read as a header length of ${declared}, implausibly` : `header length ${declared}`;
    fail("header-too-large", `${notSafetensors}${what} past the ${MAX_HEADER_SIZE}-byte limit${noJson}`);
  }
  const n = Number(declared);
  if (n > bytes.length - 8) {
    fail("header-out-of-bounds", `${notSafetensors}header length ${n} runs past the end of the file (${bytes.length - 8} bytes after the length)${noJson}`);
  }
  let text: string;
  try {
    // ignoreBOM keeps a BOM in the text, so the '{' check below refuses it, as the spec requires.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail("header-not-utf8", "header is not valid UTF-8");
  }
  // The spec's rule, checked before parsing; JSON whitespace and a BOM get their own message.
  if (!text.startsWith("{")) {
    let i = 0;
    while (i < text.length && " \t\n\r\ufeff".includes(text[i])) i++;
    if (text[i] === "{") {
      fail("header-start", `header must begin with '{', not ${text[0] === "\ufeff" ? "a byte-order mark" : "whitespace"}`);
    }
    const start = i === text.length ? "is blank" : `begins with ${describe(text.slice(i, i + 20))}`;
    fail("header-not-object", `header must be a JSON object, but ${start}`);
  }
  const root = parseJson(text);
  if (!(root instanceof Map)) return fail("header-not-object", "header must be a JSON object");

  const dataStart = 8 + n;
  const bufferLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of root) {
    if (name === METADATA_KEY) metadata = checkMetadata(value);
    else entries.push(readEntry(name, value, bufferLength));
  }
  checkLayout(entries, bufferLength);
  return { entries, metadata, dataStart };
}

function parseJson(text: string): JsonValue {
  try {
    return parseStrictJson(text);
  } catch (e) {
    if (!(e instanceof JsonError)) throw e;
    if (e.kind === "duplicate-key" && e.path.length === 1) {
      return fail("duplicate-name", `tensor name ${describe(e.path[0])} appears twice in the header (again at character ${e.offset})`);
    }
    if (e.kind === "duplicate-key") return fail("duplicate-key", `header ${e.message} (in ${describe(e.path[0])})`);
    return fail("invalid-json", `header is not valid JSON: ${e.message}`);
  }
}

function checkMetadata(value: JsonValue): Record<string, string> {
  if (!(value instanceof Map)) return fail("metadata-not-object", `${METADATA_KEY} must be an object, not ${describe(value)}`);
  for (const [k, v] of value) {
    if (typeof v !== "string") {
      fail("metadata-value-not-string", `${METADATA_KEY} value for ${describe(k)} is ${describe(v)}, not a string`);
    }
  }
  // fromEntries defines own properties, so a key like "__proto__" stays data, not a prototype.
  return Object.fromEntries(value as Map<string, string>);
}

function readEntry(name: string, value: JsonValue, bufferLength: number): HeaderEntry {
  const what = `tensor ${describe(name)}`;
  if (!(value instanceof Map)) return fail("invalid-entry", `${what} must be described by an object, not ${describe(value)}`);
  const entry = value as JsonObject;
  for (const field of ENTRY_FIELDS) {
    if (!entry.has(field)) fail("missing-field", `${what} has no "${field}"`);
  }
  // Refused rather than ignored: an extra field (say, a quantisation scale) would change what the
  // bytes mean, and dropping it silently would load wrong weights.
  for (const key of entry.keys()) {
    if (!(ENTRY_FIELDS as readonly string[]).includes(key)) fail("unknown-field", `${what} has an unknown field ${describe(key)}`);
  }
  const dtype = entry.get("dtype");
  if (!isSafeDType(dtype)) {
    if (typeof dtype === "string" && OTHER_FORMAT_DTYPES.has(dtype)) {
      fail("unsupported-dtype", `${what} has dtype ${dtype}, which this runtime does not support (F32, F16, BF16, I64, I32, U8, BOOL)`);
    }
    fail("unknown-dtype", `${what} has dtype ${describe(dtype)}, which is not a safetensors dtype`);
  }
  const shape = checkShape(entry.get("shape"), what);
  const offsets = entry.get("data_offsets");
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isIndex(offsets[0]) || !isIndex(offsets[1])) {
    return fail("invalid-offsets", `${what}: data_offsets must be two non-negative integers below 2^53, not ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail("offsets-reversed", `${what}: data_offsets [${begin}, ${end}] end before they begin`);
  const expected = byteLength(shape, DTYPE_SIZE[dtype as SafeDType], what);
  if (end - begin !== expected) {
    fail("byte-length-mismatch", `${what}: ${dtype} ${describe(shape)} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  if (end > bufferLength) {
    fail("offset-out-of-bounds", `${what}: data_offsets [${begin}, ${end}] run past the ${bufferLength}-byte buffer`);
  }
  return { name, dtype: dtype as SafeDType, shape, begin, end };
}

/** Sorts in place. Tensors must tile the buffer: no overlap, no gap, nothing left over. */
function checkLayout(entries: HeaderEntry[], bufferLength: number): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous: HeaderEntry | undefined;
  for (const e of entries) {
    const what = `tensor ${describe(e.name)}`;
    if (e.begin < at) {
      fail("offsets-overlap", `${what} at [${e.begin}, ${e.end}] overlaps ${describe(previous!.name)}, which ends at ${at}`);
    }
    if (e.begin > at) {
      const after = previous ? `the end of ${describe(previous.name)} (${at})` : "the start of the buffer";
      fail("offsets-gap", `${what} begins at ${e.begin}, leaving a gap after ${after}`);
    }
    at = e.end;
    previous = e;
  }
  if (at !== bufferLength) {
    fail("trailing-bytes", `tensors cover ${at} bytes but the buffer after the header holds ${bufferLength}`);
  }
}
