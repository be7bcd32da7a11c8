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
