import type { Decoder } from "./search.js";
import type { Tensor } from "./tensor.js";

// A Decoder over a generated module's parallel `forward`: every step runs the whole prefix and
// reads the logits of its last position. Exact for any model, in time that grows with the prefix.

/** What the decoder needs of a model built by a generated module's `createModel`. */
export interface ForwardModel {
  forward(inputs: Record<string, Tensor | null | undefined>): Record<string, Tensor>;
}

export interface RecomputeOptions {
  /** The input that takes the token ids, shape [1, T]. */
  readonly tokens: string;
  readonly dtype: "i32" | "i64";
  /** The output with the logits, shape [1, T, vocab]. */
  readonly logits: string;
  /** Inputs that stay the same at every step (an encoder-decoder's source). */
  readonly fixed?: Readonly<Record<string, Tensor>>;
}

export function recomputingDecoder(model: ForwardModel, opts: RecomputeOptions): Decoder<readonly number[]> {
  const run = (prefix: readonly number[]) => {
    const data = opts.dtype === "i64" ? BigInt64Array.from(prefix, BigInt) : Int32Array.from(prefix);
    const out = model.forward({ ...opts.fixed, [opts.tokens]: { data, shape: [1, prefix.length] } })[opts.logits];
    const vocab = out.shape[out.shape.length - 1];
    // A copy: the module reuses its output buffers on the next call.
    return Float32Array.from((out.data as Float32Array).subarray((prefix.length - 1) * vocab, prefix.length * vocab));
  };
  return {
    start: (prompt) => {
      if (prompt.length === 0) throw new RangeError("the prompt is empty: give at least one token (a BOS id, for instance)");
      return { state: [...prompt], logits: run(prompt) };
    },
    step: (state, token) => {
      const next = [...state, token];
      return { state: next, logits: run(next) };
    },
  };
}

/** A decoding session of a generated module (see the module's `Session`). */
export interface DecodingSession {
  readonly length: number;
  append(tokens: Tensor): Record<string, Tensor>;
  reset(): void;
  copyFrom(other: DecodingSession): void;
}

/** What the session decoder needs of a model: a generated module's `startSession`. */
export interface SessionModel {
  startSession(options?: { maxLength?: number; batch?: number; inputs?: Readonly<Record<string, Tensor>> }): DecodingSession;
}

export interface SessionDecoderOptions {
  /** The output with the logits, shape [1, n, vocab]. */
  readonly logits: string;
  /** Positions a session holds: the prompt and every token but the last generated. */
  readonly maxLength: number;
  /** The inputs fixed for the session (an encoder-decoder's source). */
  readonly inputs?: Readonly<Record<string, Tensor>>;
}

/**
 * A Decoder over incremental sessions: each step feeds one token to a session that keeps the
 * prefix's keys and values (or running sums), so a step costs one position, not the whole prefix.
 * States are sessions from a pool: beam search's forks copy one into a free one, released states
 * return to the pool, so after the first steps no session and no buffer is made.
 */
export function sessionDecoder(model: SessionModel, opts: SessionDecoderOptions): Decoder<DecodingSession> {
  const free: DecodingSession[] = [];
  const acquire = () => free.pop() ?? model.startSession({ maxLength: opts.maxLength, ...(opts.inputs ? { inputs: opts.inputs } : {}) });
  const one = new Int32Array(1);
  const token = { data: one, shape: [1, 1] };
  const lastRow = (out: Tensor, n: number) => {
    const data = out.data as Float32Array;
    const vocab = out.shape[out.shape.length - 1];
    return n === 1 ? data : data.subarray((n - 1) * vocab, n * vocab);
  };
  return {
    start: (prompt) => {
      if (prompt.length === 0) throw new RangeError("the prompt is empty: give at least one token (a BOS id, for instance)");
      const s = acquire();
      s.reset();
      const out = s.append({ data: Int32Array.from(prompt), shape: [1, prompt.length] })[opts.logits];
      return { state: s, logits: lastRow(out, prompt.length) };
    },
    step: (s, t) => {
      one[0] = t;
      return { state: s, logits: lastRow(s.append(token)[opts.logits], 1) };
    },
    fork: (s) => {
      const copy = acquire();
      copy.copyFrom(s);
      return copy;
    },
    release: (s) => {
      free.push(s);
    },
  };
}
