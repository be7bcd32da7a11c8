import { RuntimeMessages as M, SessionError, ShapeError } from "./errors.js";
import { describeArrayType, describeArrayTypes } from "./inputs.js";
import type { Tensor } from "./tensor.js";

// Checks and copies for the decoding sessions of generated modules. The per-token path
// (`checkStep`) reads the tensor it is given and allocates nothing.

/** The number of positions a session holds: `maxLength`, or the model's limit when absent. */
export function sessionCapacity(maxLength: unknown, limit: number | undefined, symbol: string): number {
  const want = maxLength ?? limit;
  if (want === undefined) throw new SessionError(M.Session_0_must_be_1_got_2, ["maxLength", `given: '${symbol}' has no limit in the model`, "none"]);
  if (typeof want !== "number" || !Number.isSafeInteger(want) || want < 1 || (limit !== undefined && want > limit)) {
    throw new SessionError(M.Session_0_must_be_1_got_2, ["maxLength", `an integer from 1 to ${limit ?? "2^53"} ('${symbol}' <= ${limit ?? "any"})`, String(want)]);
  }
  return want;
}

/** The session's batch: bound by its inputs, or `batch` (default 1); the two must agree. */
export function sessionBatch(bound: number | undefined, batch: unknown): number {
  if (batch !== undefined && (typeof batch !== "number" || !Number.isSafeInteger(batch) || batch < 1)) {
    throw new SessionError(M.Session_0_must_be_1_got_2, ["batch", "a positive integer", String(batch)]);
  }
  if (bound !== undefined && batch !== undefined && bound !== batch) {
    throw new SessionError(M.Session_0_must_be_1_got_2, ["batch", `${bound}, the batch of its inputs`, String(batch)]);
  }
  return bound ?? (batch as number | undefined) ?? 1;
}

/** Checks the tokens of one `append` — [batch, n] integers with n >= 1 that fit — and returns n. */
export function checkStep(tokens: Tensor | null | undefined, name: string, batch: number, past: number, capacity: number): number {
  if (tokens === null || typeof tokens !== "object") throw new ShapeError(M.Missing_input_0, [name], name);
  const data = tokens.data;
  if (!(data instanceof Int32Array) && !(data instanceof BigInt64Array)) {
    throw new ShapeError(M.Input_0_dtype_1_expected_2, [name, describeArrayType(data), describeArrayTypes([Int32Array, BigInt64Array])], name);
  }
  const shape = tokens.shape;
  if (!Array.isArray(shape) || shape.length !== 2) throw new ShapeError(M.Input_0_rank_1_expected_2, [name, Array.isArray(shape) ? shape.length : "unknown", 2, "[batch, new tokens]"], name);
  if (shape[0] !== batch) throw new ShapeError(M.Input_0_dim_1_is_2_expected_3, [name, 0, String(shape[0]), `${batch}, the session's batch`], name, 0);
  const n = shape[1];
  if (!Number.isSafeInteger(n) || n < 1) throw new ShapeError(M.Input_0_dim_1_is_2_expected_3, [name, 1, String(n), "a positive integer"], name, 1);
  if (data.length !== batch * n) throw new ShapeError(M.Input_0_data_length_1_expected_2, [name, data.length, `[${batch}, ${n}]`, batch * n], name);
  if (past + n > capacity) throw new SessionError(M.Session_holds_0_of_1_cannot_take_2, [past, capacity, n]);
  return n;
}

/** A session's buffers as copyFrom sees them. */
export interface SessionState {
  readonly batch: number;
  readonly capacity: number;
  readonly length: number;
  /** Buffers copied whole, and caches of which only the first `length` rows of each head are. */
  readonly buffers: readonly (Float32Array | Float64Array)[];
  /** For each buffer, the row width of a cache [batch·heads, capacity, width], or 0 to copy it whole. */
  readonly rows: readonly number[];
}

/** Copies `src`'s state into `dst`: only the cached rows in use. */
export function copySessionState(dst: SessionState, src: SessionState | undefined): void {
  if (!src) throw new SessionError(M.Session_copy_0, ["not a session of this model"]);
  if (src.batch !== dst.batch || src.capacity !== dst.capacity) {
    throw new SessionError(M.Session_copy_0, [`batch ${src.batch} and maxLength ${src.capacity}, not ${dst.batch} and ${dst.capacity}`]);
  }
  dst.buffers.forEach((to, k) => {
    const from = src.buffers[k];
    const w = dst.rows[k];
    if (w === 0) {
      to.set(from);
      return;
    }
    const block = src.capacity * w;
    const used = src.length * w;
    for (let o = 0; o < to.length; o += block) to.set(from.subarray(o, o + used), o);
  });
}
