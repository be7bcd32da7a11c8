import { RuntimeMessages, TfmcRuntimeError } from "./errors.js";
import { describeValue } from "./printable.js";
import { seededRandom } from "./random.js";

/**
 * The arguments of greedy, beamSearch and sample, checked before any step: a decoder with start
 * and step, the prompt's token ids as an array, options as an object.
 */
function checkCall(fn: string, decoder: unknown, prompt: unknown, opts: unknown): void {
  const fail = (what: string, got: unknown) => new TfmcRuntimeError(RuntimeMessages.Search_0_takes_1_got_2, [fn, what, describeValue(got)]);
  const d = decoder as Partial<Decoder<unknown>> | null;
  if (d === null || typeof d !== "object" || typeof d.start !== "function" || typeof d.step !== "function") throw fail("the decoder must have start() and step() (sessionDecoder or recomputingDecoder makes one)", decoder);
  if (!Array.isArray(prompt) && !ArrayBuffer.isView(prompt)) throw fail("the prompt must be an array of token ids", prompt);
  if (opts === null || typeof opts !== "object") throw fail("the options must be an object such as { maxNewTokens: 20 }", opts);
}

// Search strategies over any next-token model: greedy, beam search and sampling. They see a model
// only through `Decoder`, so the same code drives a generated module's incremental sessions, a
// full recomputation, or a test's toy model. Log-probabilities are computed in float64.

/**
 * What a strategy needs from a model: logits for the token after a prefix, state carried along.
 * Logits stay valid until their state is stepped or released.
 */
export interface Decoder<S> {
  /** The state after the prompt, and the logits of the token that follows it. */
  start(prompt: readonly number[]): { readonly state: S; readonly logits: ArrayLike<number> };
  /** The state after appending `token`, and the logits of the next token. `state` is used up: to step it twice, fork it first. */
  step(state: S, token: number): { readonly state: S; readonly logits: ArrayLike<number> };
  /** A copy of a state that steps independently. Absent when states are values that steps never change. */
  fork?(state: S): S;
  /** A state that will not be stepped again. */
  release?(state: S): void;
}

export interface Generated {
  /** The new tokens (the prompt excluded), ending with EOS when one was produced. */
  readonly tokens: number[];
  /** Sum of the log-probabilities of the new tokens. */
  readonly logProb: number;
  /** For beam search, logProb / length^α; otherwise logProb. */
  readonly score: number;
}

/** The search options, by the names this API gives them. */
export type SearchOption = "maxNewTokens" | "beams" | "nBest" | "lengthPenalty" | "temperature" | "topK" | "topP" | "seed" | "eos";

/** An option out of its bounds: which one, what it must be, and the value given. */
export class SearchOptionsError extends Error {
  constructor(
    readonly option: SearchOption,
    readonly requirement: string,
    readonly value: unknown,
  ) {
    super(`${option} must be ${requirement}, got ${typeof value === "string" ? JSON.stringify(value) : String(value)}`);
    this.name = "SearchOptionsError";
  }
}

/**
 * Bounds of the search options. Beam search keeps `beams` decoder states and weighs at most
 * beams² candidates a step; the length penalty's power of `maxNewTokens` stays finite; below the
 * smallest temperature sampling is greedy search in all but name, and logits / temperature could
 * overflow; seeds past 2^32 - 1 would repeat smaller ones.
 */
export const SEARCH_LIMITS = { maxNewTokens: 1 << 20, beams: 256, lengthPenalty: 10, temperature: [1e-4, 1e4], seed: 2 ** 32 - 1 } as const;

function intIn(option: SearchOption, v: unknown, min: number, max: number, what = `an integer from ${min} to ${max}`): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) throw new SearchOptionsError(option, what, v);
  return v;
}

function numberIn(option: SearchOption, v: unknown, min: number, max: number, what = `a number from ${min} to ${max}`): number {
  if (typeof v !== "number" || !(v >= min && v <= max)) throw new SearchOptionsError(option, what, v);
  return v;
}

/** A seed of the generators here and of randomWeights: an integer from 0 to 2^32 - 1. */
export const checkSeed = (v: unknown): number => intIn("seed", v, 0, SEARCH_LIMITS.seed);
const checkMax = (v: unknown) => intIn("maxNewTokens", v, 1, SEARCH_LIMITS.maxNewTokens);
const checkEos = (v: unknown) => (v === undefined ? undefined : intIn("eos", v, 0, Number.MAX_SAFE_INTEGER, "a token id (an integer >= 0)"));

/** `eos` against the vocabulary the model's logits have: a token that can never be drawn is a mistake. */
function checkEosInVocabulary(eos: number | undefined, vocabulary: number): void {
  if (eos !== undefined && eos >= vocabulary) throw new SearchOptionsError("eos", `a token id below the vocabulary size, ${vocabulary}`, eos);
}

/** Checks greedy search's options; throws SearchOptionsError naming the first one out of bounds. */
export function checkGreedyOptions(opts: GreedyOptions): void {
  checkMax(opts.maxNewTokens);
  checkEos(opts.eos);
}

/** Checks beam search's options (see SEARCH_LIMITS); nBest is at most beams. */
export function checkBeamOptions(opts: BeamOptions): void {
  const beams = intIn("beams", opts.beams, 1, SEARCH_LIMITS.beams);
  checkMax(opts.maxNewTokens);
  numberIn("lengthPenalty", opts.lengthPenalty ?? 1, 0, SEARCH_LIMITS.lengthPenalty);
  intIn("nBest", opts.nBest ?? 1, 1, beams, `an integer from 1 to the number of beams, ${beams}`);
  checkEos(opts.eos);
}

/** Checks sampling's options (see SEARCH_LIMITS). */
export function checkSampleOptions(opts: SampleOptions): void {
  checkMax(opts.maxNewTokens);
  const [tMin, tMax] = SEARCH_LIMITS.temperature;
  numberIn("temperature", opts.temperature ?? 1, tMin, tMax);
  intIn("topK", opts.topK ?? 0, 0, Number.MAX_SAFE_INTEGER, "an integer >= 0 (0: every token)");
  const topP = opts.topP ?? 1;
  if (typeof topP !== "number" || !(topP > 0 && topP <= 1)) throw new SearchOptionsError("topP", "in (0, 1]", topP);
  checkSeed(opts.seed ?? 0);
  checkEos(opts.eos);
}

/** log softmax(logits / temperature) in float64. */
export function logSoftmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const n = logits.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i] / temperature);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i] / temperature - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < n; i++) out[i] = logits[i] / temperature - lse;
  return out;
}

/** Index of the largest value; the lowest index wins a tie (as torch.argmax). */
function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

export interface GreedyOptions {
  readonly maxNewTokens: number;
  readonly eos?: number;
  /** Called with each new token as soon as it is chosen (to stream text). */
  readonly onToken?: (token: number) => void;
}

/** The most probable token at every step, until EOS or `maxNewTokens`. */
export function greedy<S>(decoder: Decoder<S>, prompt: readonly number[], opts: GreedyOptions): Generated {
  checkCall("greedy", decoder, prompt, opts);
  checkGreedyOptions(opts);
  const max = opts.maxNewTokens;
  let { state, logits } = decoder.start(prompt);
  checkEosInVocabulary(opts.eos, logits.length);
  const tokens: number[] = [];
  let logProb = 0;
  for (;;) {
    const lp = logSoftmax(logits);
    const t = argmax(lp);
    tokens.push(t);
    logProb += lp[t];
    opts.onToken?.(t);
    if (t === opts.eos || tokens.length >= max) break;
    ({ state, logits } = decoder.step(state, t));
  }
  decoder.release?.(state);
  return { tokens, logProb, score: logProb };
}

export interface BeamOptions {
  readonly beams: number;
  readonly maxNewTokens: number;
  /** α in score = logProb / length^α, length counting the new tokens with EOS. Default 1. */
  readonly lengthPenalty?: number;
  readonly eos?: number;
  /** How many hypotheses to return, best first. Default 1; at most `beams`. */
  readonly nBest?: number;
}

interface Beam<S> {
  readonly tokens: number[];
  readonly logProb: number;
  readonly state: S;
  readonly logits: ArrayLike<number>;
}

/**
 * Beam search. Each step expands every live beam by every token and keeps the `beams` best
 * candidates by summed log-probability (ties: lower beam, then lower token id). A candidate ending
 * in EOS is finished and kept with its score; the others stay live. The search stops at
 * `maxNewTokens`, when no beam is live, or when no live beam can still beat the worst of the
 * `nBest` best finished ones: log-probabilities only fall, so a live beam's best possible score is
 * its logProb / maxNewTokens^α (α >= 0). Beams still live at the end count as finished.
 */
export function beamSearch<S>(decoder: Decoder<S>, prompt: readonly number[], opts: BeamOptions): Generated[] {
  checkCall("beamSearch", decoder, prompt, opts);
  checkBeamOptions(opts);
  const [width, max, alpha, nBest] = [opts.beams, opts.maxNewTokens, opts.lengthPenalty ?? 1, opts.nBest ?? 1];
  const score = (logProb: number, length: number) => logProb / Math.pow(length, alpha);
  const finished: Generated[] = [];
  const keepFinished = (g: Generated) => {
    finished.push(g);
    finished.sort((a, b) => b.score - a.score);
    if (finished.length > nBest) finished.length = nBest;
  };

  const first = decoder.start(prompt);
  checkEosInVocabulary(opts.eos, first.logits.length);
  let live: Beam<S>[] = [{ tokens: [], logProb: 0, state: first.state, logits: first.logits }];
  for (let length = 1; length <= max && live.length > 0; length++) {
    const candidates: { beam: number; token: number; logProb: number }[] = [];
    live.forEach((b, beam) => {
      const lp = logSoftmax(b.logits);
      for (const t of topTokens(lp, width)) candidates.push({ beam, token: t, logProb: b.logProb + lp[t] });
    });
    candidates.sort((a, b) => b.logProb - a.logProb || a.beam - b.beam || a.token - b.token);
    const chosen = candidates.slice(0, width);
    const ends = (c: { token: number }) => c.token === opts.eos || length === max;
    // Each live beam's state goes to its last continuing child; the others step forks of it.
    const children = live.map((_, beam) => chosen.filter((c) => c.beam === beam && !ends(c)).length);
    live.forEach((b, beam) => children[beam] === 0 && decoder.release?.(b.state));
    const next: Beam<S>[] = [];
    for (const c of chosen) {
      const tokens = [...live[c.beam].tokens, c.token];
      if (ends(c)) {
        keepFinished({ tokens, logProb: c.logProb, score: score(c.logProb, length) });
        continue;
      }
      const parent = live[c.beam].state;
      const from = --children[c.beam] > 0 && decoder.fork ? decoder.fork(parent) : parent;
      const { state, logits } = decoder.step(from, c.token);
      next.push({ tokens, logProb: c.logProb, state, logits });
    }
    live = next;
    if (finished.length === nBest && live.length > 0) {
      const bestPossible = Math.max(...live.map((b) => score(b.logProb, max)));
      if (bestPossible <= finished[finished.length - 1].score) break;
    }
  }
  for (const b of live) decoder.release?.(b.state);
  return finished;
}

export interface SampleOptions {
  readonly maxNewTokens: number;
  readonly eos?: number;
  /** Divides the logits; default 1. Must be > 0. */
  readonly temperature?: number;
  /** Keep only the k most probable tokens (0 or absent: all). */
  readonly topK?: number;
  /** Keep the smallest set of most probable tokens whose probability reaches p (1 or absent: all). */
  readonly topP?: number;
  /** The same seed gives the same tokens. */
  readonly seed?: number;
  /** Called with each new token as soon as it is drawn (to stream text). */
  readonly onToken?: (token: number) => void;
}

/**
 * Sampling with temperature, then top-k, then top-p (nucleus) filtering, from a seeded generator.
 * The log-probability reported is under the unfiltered distribution at temperature 1.
 */
export function sample<S>(decoder: Decoder<S>, prompt: readonly number[], opts: SampleOptions): Generated {
  checkCall("sample", decoder, prompt, opts);
  checkSampleOptions(opts);
  const [max, temperature, topK, topP] = [opts.maxNewTokens, opts.temperature ?? 1, opts.topK ?? 0, opts.topP ?? 1];
  const rand = seededRandom(opts.seed ?? 0);
  let { state, logits } = decoder.start(prompt);
  checkEosInVocabulary(opts.eos, logits.length);
  const tokens: number[] = [];
  let logProb = 0;
  for (;;) {
    const t = drawToken(logSoftmax(logits, temperature), topK, topP, rand());
    tokens.push(t);
    logProb += logSoftmax(logits)[t];
    opts.onToken?.(t);
    if (t === opts.eos || tokens.length >= max) break;
    ({ state, logits } = decoder.step(state, t));
  }
  decoder.release?.(state);
  return { tokens, logProb, score: logProb };
}

/**
 * The `k` tokens of highest log-probability (ties: lower id first), in no particular order; all of
 * them when k >= their number. The k best candidates of a beam step are among the k best tokens
 * of each beam, so a step weighs at most beams² candidates however large the vocabulary.
 */
export function topTokens(lp: Float64Array, k: number): number[] {
  const all = Array.from(lp.keys());
  if (k >= lp.length) return all;
  const threshold = Float64Array.from(lp).sort()[lp.length - k];
  const above = all.filter((t) => lp[t] > threshold);
  const ties = all.filter((t) => lp[t] === threshold).slice(0, k - above.length);
  return [...above, ...ties];
}

/** One draw from the filtered distribution, with `u` uniform in [0, 1). */
export function drawToken(logProbs: Float64Array, topK: number, topP: number, u: number): number {
  const order = Array.from(logProbs.keys()).sort((a, b) => logProbs[b] - logProbs[a] || a - b);
  let keep = topK > 0 ? Math.min(topK, order.length) : order.length;
  if (topP < 1) {
    let mass = 0;
    for (let i = 0; i < keep; i++) {
      mass += Math.exp(logProbs[order[i]]);
      if (mass >= topP) {
        keep = i + 1;
        break;
      }
    }
  }
  const kept = order.slice(0, keep);
  const weights = kept.map((t) => Math.exp(logProbs[t]));
  const total = weights.reduce((a, b) => a + b, 0);
  let x = u * total;
  for (let i = 0; i < kept.length; i++) {
    x -= weights[i];
    if (x < 0) return kept[i];
  }
  return kept[kept.length - 1];
}
