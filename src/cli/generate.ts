import { formatSummary } from "../diagnostics/format.js";
import { TfmcRuntimeError } from "../runtime/errors.js";
import { randomWeights } from "../runtime/random.js";
import { recomputingDecoder, sessionDecoder, type SessionModel } from "../runtime/decoding.js";
import { beamSearch, greedy, sample, SearchOptionsError, type Decoder, type Generated } from "../runtime/search.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import { formatDim, formatType, isConst, type Dim, type TensorType } from "../semantics/types.js";
import { constantNodes, isIncremental, planIncremental } from "../ir/incremental.js";
import { printDiagnostics } from "./check.js";
import { readBytes } from "./files.js";
import { readSource, UsageError, UserError, type Output } from "./io.js";
import { buildGraph, type BuildOptions } from "./pipeline.js";
import { loadCompiled } from "./run.js";

export interface GenerateOptions {
  readonly file: string;
  readonly overrides: readonly ConfigOverride[];
  readonly build?: BuildOptions;
  readonly weights?: string;
  readonly seed: number;
  readonly prompt: readonly number[];
  readonly source?: readonly number[];
  readonly maxNewTokens: number;
  readonly bos?: number;
  readonly eos?: number;
  readonly json: boolean;
  /** Run the whole prefix at every step even when the model has decoding sessions. */
  readonly recompute?: boolean;
  readonly strategy:
    | { readonly kind: "greedy" }
    | { readonly kind: "beam"; readonly beams: number; readonly lengthPenalty: number; readonly nBest: number }
    | { readonly kind: "sample"; readonly temperature: number; readonly topK: number; readonly topP: number; readonly sampleSeed: number };
}

const sameDim = (a: Dim | undefined, b: Dim | undefined): boolean => a !== undefined && b !== undefined && formatDim(a) === formatDim(b);

/** "2 token inputs input_ids: i32[B, T], token_type_ids: i32[B, T]", or "no token input". */
function describe(what: string, xs: readonly { name: string; type: TensorType }[]): string {
  if (xs.length === 0) return `no ${what}`;
  return `${xs.length === 1 ? `one ${what}` : `${xs.length} ${what}s`} ${xs.map((x) => `${x.name}: ${formatType(x.type)}`).join(", ")}`;
}

/** `--prompt 1,2,3`: token ids, non-negative integers. */
export function parseIds(text: string, flag: string): number[] {
  if (text.trim() === "") return [];
  return text.split(",").map((s) => {
    const v = Number(s.trim());
    if (!Number.isSafeInteger(v) || v < 0 || s.trim() === "") throw new UsageError(`${flag} takes token ids separated by commas, got '${text}'`);
    return v;
  });
}

/**
 * `tfmc generate`: decodes from a model whose logits output is [B, T, vocab] over a token input
 * [B, T] (with a second token input as the source of an encoder-decoder), by greedy search, beam
 * search or sampling. A model with decoding sessions runs one position per step; others (and
 * `--recompute`) run the whole prefix at every step.
 */
export async function runGenerate(opts: GenerateOptions, io: Output): Promise<number> {
  const text = readSource(opts.file);
  const built = buildGraph(text, opts.overrides, opts.build);
  const diags = built.diagnostics.sorted();
  printDiagnostics(io, opts.file, text, diags);
  if (!built.graph) {
    io.err(`${opts.file}: ${formatSummary(built.diagnostics.errorCount, diags.length - built.diagnostics.errorCount)}`);
    return 1;
  }
  const g = built.graph;
  const tokenInputs = g.inputs.filter((i) => !i.optional && (i.type.dtype === "i32" || i.type.dtype === "i64") && i.type.shape.length === 2);
  const logits = g.outputs.find((o) => o.name === "logits") ?? (g.outputs.length === 1 ? g.outputs[0] : undefined);
  const needs = "generate needs a decoder (one token input [B, T] and a logits output [B, T, vocab]) or an encoder-decoder (token inputs source [B, S] and target [B, T], and logits)";
  if (tokenInputs.length === 0 || tokenInputs.length > 2 || !logits || logits.type.shape.length !== 3) {
    throw new UserError(`generate: ${g.meta.name} has ${describe("token input", tokenInputs)} and ${describe("output", g.outputs)}; ${needs}`);
  }
  // Two token inputs are an encoder-decoder's source and target only when their lengths differ;
  // over the same positions they are one sequence in two parts (ids and token types, say).
  if (tokenInputs.length === 2 && sameDim(tokenInputs[0].type.shape[1], tokenInputs[1].type.shape[1])) {
    throw new UserError(
      `generate: ${g.meta.name} is neither a decoder nor an encoder-decoder: its ${describe("token input", tokenInputs)} cover the same positions (ids and token types, say), unlike a source and a target; ${needs}`,
    );
  }
  const target = tokenInputs[tokenInputs.length - 1];
  const source = tokenInputs.length === 2 ? tokenInputs[0] : undefined;
  if (source && !opts.source) throw new UsageError(`generate: ${g.meta.name} is an encoder-decoder (source '${source.name}', target '${target.name}'); give the source ids with --source`);
  if (!source && opts.source) throw new UsageError(`generate: ${g.meta.name} has no source input; --source does not apply`);
  const required = g.inputs.filter((i) => !i.optional && !tokenInputs.includes(i));
  if (required.length > 0) throw new UserError(`generate: the input '${required[0].name}' is required and generate cannot supply it`);

  const prompt = [...(opts.bos !== undefined ? [opts.bos] : []), ...opts.prompt];
  if (prompt.length === 0) throw new UsageError("generate: the prompt is empty; give --prompt or --bos");
  const lengthDim = target.type.shape[1];
  const limit = isConst(lengthDim) ? lengthDim.value : g.meta.symbols.find((s) => s.name === lengthDim.sym)?.max;
  if (limit !== undefined && prompt.length + opts.maxNewTokens - 1 > limit) {
    throw new UserError(`generate: the prompt (${prompt.length} tokens) and --max-new-tokens ${opts.maxNewTokens} need ${prompt.length + opts.maxNewTokens - 1} positions; ${g.meta.name} takes at most ${limit}`);
  }

  const mod = await loadCompiled(g, false, opts.build?.target);
  if (!opts.weights) io.err(`warning: no --weights: ${g.meta.name} generates with random weights (seed ${opts.seed}), so its tokens mean nothing; give trained ones with --weights <file.safetensors>`);
  const weights = opts.weights ? readBytes(opts.weights, "weights") : randomWeights(mod.spec.parameters, opts.seed);
  const ids = (xs: readonly number[], dtype: string) => (dtype === "i64" ? BigInt64Array.from(xs, BigInt) : Int32Array.from(xs));
  let results: Generated[];
  try {
    const model = mod.createModel(weights);
    const fixed = source && opts.source ? { [source.name]: { data: ids(opts.source, source.type.dtype), shape: [1, opts.source.length] } } : undefined;
    const sessions = (model as Partial<SessionModel>).startSession ? (model as unknown as SessionModel) : undefined;
    if (!sessions && !opts.recompute) {
      const plan = planIncremental(g, constantNodes(g));
      if (!isIncremental(plan)) io.err(`note: ${g.meta.name} decodes by running the whole prefix at every step: no decoding session, as ${plan.reason}`);
    }
    const decoder: Decoder<unknown> =
      sessions && !opts.recompute
        ? sessionDecoder(sessions, { logits: logits.name, maxLength: prompt.length + opts.maxNewTokens - 1, ...(fixed ? { inputs: fixed } : {}) })
        : recomputingDecoder(model, { tokens: target.name, dtype: target.type.dtype as "i32", logits: logits.name, ...(fixed ? { fixed } : {}) });
    const common = { maxNewTokens: opts.maxNewTokens, ...(opts.eos !== undefined ? { eos: opts.eos } : {}) };
    const s = opts.strategy;
    results =
      s.kind === "greedy"
        ? [greedy(decoder, prompt, common)]
        : s.kind === "beam"
          ? beamSearch(decoder, prompt, { ...common, beams: s.beams, lengthPenalty: s.lengthPenalty, nBest: s.nBest })
          : [sample(decoder, prompt, { ...common, temperature: s.temperature, topK: s.topK, topP: s.topP, seed: s.sampleSeed })];
  } catch (e) {
    if (e instanceof TfmcRuntimeError) {
      io.err(`tfmc: error ${e.code}: ${e.message}`);
      return 1;
    }
    if (e instanceof SearchOptionsError) throw new UsageError(`generate: ${e.message}`);
    throw e;
  }
  if (opts.json) {
    io.out(JSON.stringify({ prompt, ...(opts.source ? { source: opts.source } : {}), results }, null, 2));
  } else {
    for (const r of results) io.out(`${r.tokens.join(",")}\tscore ${r.score.toFixed(6)}`);
  }
  return 0;
}
