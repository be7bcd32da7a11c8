import { checkBeamOptions, checkGreedyOptions, checkSampleOptions, checkSeed, SearchOptionsError, type SearchOption } from "../runtime/search.js";
import { printable, UsageError } from "./io.js";
import type { GenerateOptions } from "./generate.js";

// `tfmc generate`'s flags: parsed, checked against the search API's own bounds before anything is
// compiled, and every complaint worded with the flag a user typed.

/** The flag that sets each option of the search API. */
export const FLAG_OF: Readonly<Record<SearchOption, string>> = {
  maxNewTokens: "--max-new-tokens",
  beams: "--beam",
  nBest: "--n-best",
  lengthPenalty: "--length-penalty",
  temperature: "--temperature",
  topK: "--top-k",
  topP: "--top-p",
  seed: "--seed",
  eos: "--eos",
};

/** A SearchOptionsError as the CLI says it: with the flag, not the API's name. */
export function searchUsageError(e: SearchOptionsError): UsageError {
  const got = typeof e.value === "number" ? String(e.value) : printable(String(e.value));
  return new UsageError(`generate: ${FLAG_OF[e.option]} must be ${e.requirement}, got ${got}`);
}

export interface GenerateFlags {
  readonly prompt?: string;
  readonly "prompt-ids"?: string;
  readonly tokenizer?: string;
  readonly source?: string;
  readonly "max-new-tokens"?: string;
  readonly beam?: string;
  readonly "length-penalty"?: string;
  readonly "n-best"?: string;
  readonly sample?: boolean;
  readonly temperature?: string;
  readonly "top-k"?: string;
  readonly "top-p"?: string;
  readonly bos?: string;
  readonly eos?: string;
  readonly seed?: string;
}

/** Flags that only mean something with another: each with the flag it needs. */
const NEEDS: readonly [keyof GenerateFlags, "beam" | "sample"][] = [
  ["length-penalty", "beam"],
  ["n-best", "beam"],
  ["temperature", "sample"],
  ["top-k", "sample"],
  ["top-p", "sample"],
];

/** `--prompt 1,2,3`: token ids, non-negative integers. */
export function parseIds(text: string, flag: string, hint = ""): number[] {
  if (text.trim() === "") return [];
  return text.split(",").map((s) => {
    const v = Number(s.trim());
    if (!Number.isSafeInteger(v) || v < 0 || s.trim() === "") throw new UsageError(`${flag} takes token ids separated by commas, got '${printable(text)}'${hint}`);
    return v;
  });
}

const int = (v: string, flag: string): number => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isSafeInteger(n)) throw new UsageError(`generate: ${flag} takes an integer, got '${printable(v)}'`);
  return n;
};

const num = (v: string, flag: string): number => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`generate: ${flag} takes a number, got '${printable(v)}'`);
  return n;
};

type SearchPart = Pick<GenerateOptions, "seed" | "prompt" | "tokenizer" | "promptText" | "source" | "maxNewTokens" | "bos" | "eos" | "strategy">;

/** The prompt and search part of GenerateOptions from the flags; UsageError for any flag out of place or out of bounds. */
export function searchFromFlags(values: GenerateFlags): SearchPart {
  if (values.beam !== undefined && values.sample) throw new UsageError("generate: choose --beam or --sample, not both");
  if (values.prompt !== undefined && values["prompt-ids"] !== undefined) throw new UsageError("generate: give --prompt or --prompt-ids, not both");
  for (const [flag, needs] of NEEDS) {
    if (values[flag] === undefined) continue;
    if (needs === "beam" && values.beam === undefined) throw new UsageError(`generate: --${flag} goes with --beam K (beam search); without it, it would be ignored`);
    if (needs === "sample" && !values.sample) throw new UsageError(`generate: --${flag} goes with --sample; without it, it would be ignored`);
  }
  if (values["max-new-tokens"] === undefined) throw new UsageError("generate: --max-new-tokens N is required");
  const opt = <T>(v: string | undefined, parse: (v: string) => T): T | undefined => (v === undefined ? undefined : parse(v));
  const seed = opt(values.seed, (v) => int(v, "--seed")) ?? 0;
  const bos = opt(values.bos, (v) => int(v, "--bos"));
  if (bos !== undefined && bos < 0) throw new UsageError(`generate: --bos must be a token id (an integer >= 0), got ${bos}`);
  const eos = opt(values.eos, (v) => int(v, "--eos"));
  const maxNewTokens = int(values["max-new-tokens"], "--max-new-tokens");
  const common = { maxNewTokens, ...(eos !== undefined ? { eos } : {}) };
  let strategy: GenerateOptions["strategy"];
  try {
    if (values.beam !== undefined) {
      strategy = {
        kind: "beam",
        beams: int(values.beam, "--beam"),
        lengthPenalty: opt(values["length-penalty"], (v) => num(v, "--length-penalty")) ?? 1,
        nBest: opt(values["n-best"], (v) => int(v, "--n-best")) ?? 1,
      };
      checkBeamOptions({ ...common, ...strategy });
    } else if (values.sample) {
      strategy = {
        kind: "sample",
        temperature: opt(values.temperature, (v) => num(v, "--temperature")) ?? 1,
        topK: opt(values["top-k"], (v) => int(v, "--top-k")) ?? 0,
        topP: opt(values["top-p"], (v) => num(v, "--top-p")) ?? 1,
        sampleSeed: seed,
      };
      checkSampleOptions({ ...common, ...strategy, seed });
    } else {
      strategy = { kind: "greedy" };
      checkGreedyOptions(common);
    }
    // The seed also draws random weights when there is no --weights file.
    checkSeed(seed);
  } catch (e) {
    if (e instanceof SearchOptionsError) throw searchUsageError(e);
    throw e;
  }
  const textPrompt = values.tokenizer !== undefined && values.prompt !== undefined;
  const prompt = textPrompt
    ? []
    : values["prompt-ids"] !== undefined
      ? parseIds(values["prompt-ids"], "--prompt-ids")
      : parseIds(values.prompt ?? "", "--prompt", "; for a text prompt give --tokenizer tokenizer.json");
  return {
    seed,
    prompt,
    ...(values.tokenizer !== undefined ? { tokenizer: values.tokenizer } : {}),
    ...(textPrompt ? { promptText: values.prompt } : {}),
    ...(values.source !== undefined ? { source: parseIds(values.source, "--source") } : {}),
    maxNewTokens,
    ...(bos !== undefined ? { bos } : {}),
    ...(eos !== undefined ? { eos } : {}),
    strategy,
  };
}
