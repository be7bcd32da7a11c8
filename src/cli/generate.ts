import { TfmcRuntimeError } from "../runtime/errors.js";
import { randomWeights } from "../runtime/random.js";
import { recomputingDecoder, sessionDecoder, type SessionModel } from "../runtime/decoding.js";
import { beamSearch, greedy, sample, SearchOptionsError, type Decoder, type Generated } from "../runtime/search.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import { formatDim, formatType, isConst, type ConfigValue, type Dim, type TensorType } from "../semantics/types.js";
import type { IrGraph } from "../ir/graph.js";
import { constantNodes, isIncremental, planIncremental } from "../ir/incremental.js";
import { buildReported } from "./buildReported.js";
import { printable, printableLines, UsageError, UserError, type Output } from "./io.js";
import type { BuildOptions } from "./pipeline.js";
import { readWeights, type WeightsFlags } from "./weightsFlags.js";
import { searchUsageError } from "./generateArgs.js";
import { loadCompiled } from "./run.js";
import { continuation, loadTokenizer, TextStream, type TextTokenizer } from "./tokenizer.js";

export interface GenerateOptions {
  readonly file: string;
  readonly overrides: readonly ConfigOverride[];
  readonly build?: BuildOptions;
  readonly weights?: WeightsFlags;
  readonly seed: number;
  readonly prompt: readonly number[];
  /** A Hugging Face tokenizer.json: the prompt is `promptText` (when given) and output is text. */
  readonly tokenizer?: string;
  readonly promptText?: string;
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

/**
 * `tfmc generate`: decodes from a model whose logits output is [B, T, vocab] over a token input
 * [B, T] (with a second token input as the source of an encoder-decoder), by greedy search, beam
 * search or sampling. A model with decoding sessions runs one position per step; others (and
 * `--recompute`) run the whole prefix at every step.
 */
export async function runGenerate(opts: GenerateOptions, io: Output): Promise<number> {
  const reported = buildReported(opts.file, opts.overrides, opts.build, io);
  if (!reported) return 1;
  const { built } = reported;
  const g = built.graph;
  const tokenInputs = g.inputs.filter((i) => !i.optional && i.default === undefined && (i.type.dtype === "i32" || i.type.dtype === "i64") && i.type.shape.length === 2);
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
  const required = g.inputs.filter((i) => !i.optional && i.default === undefined && !tokenInputs.includes(i));
  if (required.length > 0) throw new UserError(`generate: the input '${required[0].name}' is required and generate cannot supply it`);

  const tokenizer = opts.tokenizer !== undefined ? loadTokenizer(opts.tokenizer) : undefined;
  if (opts.promptText !== undefined && !tokenizer) throw new UsageError("generate: a text prompt needs --tokenizer tokenizer.json");
  const given = tokenizer && opts.promptText !== undefined ? tokenizer.encode(opts.promptText) : opts.prompt;
  const prompt = [...(opts.bos !== undefined ? [opts.bos] : []), ...given];
  if (prompt.length === 0) throw new UsageError("generate: the prompt is empty; give --prompt or --bos");
  const eos = opts.eos ?? modelEos(g.meta.config.get("eos_token_id")) ?? tokenizer?.eos?.id;
  if (tokenizer) checkVocab(tokenizer, opts.tokenizer!, logits.type.shape[2], prompt, eos === undefined, io);
  checkIdsBeforeRunning(g, { target: target.name, ...(source ? { source: source.name } : {}) }, opts, prompt, logits.type.shape[2], eos);
  const lengthDim = target.type.shape[1];
  const limit = isConst(lengthDim) ? lengthDim.value : g.meta.symbols.find((s) => s.name === lengthDim.sym)?.max;
  if (limit !== undefined && prompt.length + opts.maxNewTokens - 1 > limit) {
    throw new UserError(`generate: the prompt (${prompt.length} token${prompt.length === 1 ? "" : "s"}) and --max-new-tokens ${opts.maxNewTokens} need ${prompt.length + opts.maxNewTokens - 1} positions; ${g.meta.name} takes at most ${limit}`);
  }

  const mod = await loadCompiled(g, false, opts.build?.target);
  if (!opts.weights) io.err(`warning: no --weights: ${g.meta.name} generates with random weights (seed ${opts.seed}), so its tokens mean nothing; give trained ones with --weights <file.safetensors>`);
  const weights = opts.weights ? readWeights(opts.weights.path) : randomWeights(mod.spec.parameters, opts.seed);
  const ids = (xs: readonly number[], dtype: string) => (dtype === "i64" ? BigInt64Array.from(xs, BigInt) : Int32Array.from(xs));
  let results: Generated[];
  let stream: TextStream | undefined;
  try {
    const model = mod.createModel(weights, opts.weights?.options);
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
    const s = opts.strategy;
    stream = tokenizer && !opts.json && s.kind !== "beam" ? new TextStream(tokenizer, prompt) : undefined;
    const common = {
      maxNewTokens: opts.maxNewTokens,
      ...(eos !== undefined ? { eos } : {}),
      ...(stream ? { onToken: (t: number) => write(io, stream!.push(t)) } : {}),
    };
    results =
      s.kind === "greedy"
        ? [greedy(decoder, prompt, common)]
        : s.kind === "beam"
          ? beamSearch(decoder, prompt, { ...common, beams: s.beams, lengthPenalty: s.lengthPenalty, nBest: s.nBest })
          : [sample(decoder, prompt, { ...common, temperature: s.temperature, topK: s.topK, topP: s.topP, seed: s.sampleSeed })];
  } catch (e) {
    if (e instanceof TfmcRuntimeError) {
      io.err(`tfmc: error ${e.code}: ${printableLines(e.message)}`);
      return 1;
    }
    if (e instanceof RangeError && /typed array length|allocation failed/i.test(e.message)) {
      // A session holds every position up front: more than memory (or a typed array) can take.
      const positions = prompt.length + opts.maxNewTokens - 1;
      throw new UserError(`generate: decoding ${positions} positions of ${g.meta.name} needs more memory than can be allocated (${e.message}); lower --max-new-tokens`);
    }
    if (e instanceof SearchOptionsError && e.option === "eos" && opts.eos === undefined) {
      // Not a flag's fault: the id came from the model's eos_token_id or the tokenizer.
      const from = modelEos(g.meta.config.get("eos_token_id")) !== undefined ? `${g.meta.name}'s eos_token_id` : `the tokenizer's end-of-sequence token`;
      throw new UserError(`generate: ${from}, ${eos}, is not below the model's vocabulary size (${e.requirement.replace(/^.*, /, "")}); give --eos`);
    }
    if (e instanceof SearchOptionsError) throw searchUsageError(e);
    throw e;
  }
  if (stream) {
    write(io, stream.finish());
    write(io, "\n");
    flush(io);
  } else if (tokenizer && opts.json) {
    const texts = results.map((r) => ({ ...r, text: continuation(tokenizer, prompt, r.tokens) }));
    const head = { prompt, ...(opts.promptText !== undefined ? { promptText: opts.promptText } : {}), ...(eos !== undefined ? { eos } : {}) };
    io.out(JSON.stringify({ ...head, ...(opts.source ? { source: opts.source } : {}), results: texts }, null, 2));
  } else if (tokenizer) {
    for (const r of results) io.out(continuation(tokenizer, prompt, r.tokens));
  } else if (opts.json) {
    io.out(JSON.stringify({ prompt, ...(opts.source ? { source: opts.source } : {}), results }, null, 2));
  } else {
    for (const r of results) io.out(`${r.tokens.join(",")}\tscore ${r.score.toFixed(6)}`);
  }
  return 0;
}

/** The model's own end-of-sequence id: an integer config value `eos_token_id` (Hugging Face's name). */
function modelEos(v: ConfigValue | undefined): number | undefined {
  return v?.kind === "int" && v.value >= 0 ? v.value : undefined;
}

/**
 * The rows of each embedding table the input indexes directly, known when compiling: every id
 * must be below the fewest of them. Undefined when no table with a fixed size reads the input.
 */
function embeddingRows(g: IrGraph, input: string): { rows: number; table: string } | undefined {
  let best: { rows: number; table: string } | undefined;
  for (const id of g.order()) {
    const n = g.node(id);
    if (n.op !== "gather") continue;
    const [table, ids] = n.inputs.map((i) => g.node(i));
    if (ids?.op !== "input" || ids.attrs.name !== input) continue;
    const rows = table.shape[0];
    if (rows === undefined || !isConst(rows)) continue;
    if (!best || rows.value < best.rows) best = { rows: rows.value, table: table.op === "param" ? String(table.attrs.name) : "an embedding table" };
  }
  return best;
}

/**
 * Ids from flags (and the model's or tokenizer's end-of-sequence id) against the vocabulary the
 * compiled graph fixes, so a wrong one is refused before any weights are made or read.
 */
function checkIdsBeforeRunning(g: IrGraph, inputs: { target: string; source?: string }, opts: GenerateOptions, prompt: readonly number[], vocabDim: Dim, eos: number | undefined): void {
  const fail = (flag: string, message: string) => (flag.startsWith("--") ? new UsageError(`generate: ${message}`) : new UserError(`generate: ${message}`));
  const check = (input: string, ids: readonly number[], flagOf: (i: number) => string) => {
    const table = embeddingRows(g, input);
    if (!table) return;
    const i = ids.findIndex((t) => t >= table.rows);
    if (i >= 0) {
      const flag = flagOf(i);
      throw fail(flag, `${flag} token id ${ids[i]} is outside ${g.meta.name}'s vocabulary: the embedding table ${printable(table.table)} of input '${input}' has ${table.rows} rows (ids 0 to ${table.rows - 1})`);
    }
  };
  const promptFlag = opts.promptText !== undefined ? "the prompt's" : opts.tokenizer !== undefined && opts.prompt.length > 0 ? "--prompt-ids" : "--prompt";
  check(inputs.target, prompt, (i) => (i === 0 && opts.bos !== undefined ? "--bos" : promptFlag));
  if (inputs.source && opts.source) check(inputs.source, opts.source, () => "--source");
  if (eos !== undefined && isConst(vocabDim) && eos >= vocabDim.value) {
    if (opts.eos !== undefined) throw new UsageError(`generate: --eos must be a token id below the vocabulary size, ${vocabDim.value}, got ${eos}`);
    const from = modelEos(g.meta.config.get("eos_token_id")) !== undefined ? `${g.meta.name}'s eos_token_id` : `the tokenizer's end-of-sequence token`;
    throw new UserError(`generate: ${from}, ${eos}, is not below the model's vocabulary size (${vocabDim.value}); give --eos`);
  }
}

/** The prompt must fit the model's vocabulary; ids the tokenizer has no text for are worth a note. */
function checkVocab(tokenizer: TextTokenizer, path: string, vocabDim: Dim, prompt: readonly number[], noEos: boolean, io: Output): void {
  if (isConst(vocabDim)) {
    const outside = prompt.find((t) => t >= vocabDim.value);
    if (outside !== undefined) throw new UserError(`generate: the prompt's token ${outside} is outside the model's vocabulary of ${vocabDim.value} (${printable(path)} has ${tokenizer.vocabSize} tokens; set the model's vocabulary size to match)`);
    if (vocabDim.value > tokenizer.vocabSize) io.err(`note: the model's ${vocabDim.value} logits outnumber the ${tokenizer.vocabSize} tokens of ${printable(path)}; generated ids from ${tokenizer.vocabSize} on have no text`);
  }
  if (noEos) io.err(`note: ${printable(path)} names no end-of-sequence token (see --eos); generating --max-new-tokens tokens`);
}

/** Text without a line break: streamed as it comes when the output can, else kept for `flush`. */
const pending = new WeakMap<Output, string>();
function write(io: Output, text: string): void {
  if (text === "") return;
  if (io.write) io.write(text);
  else pending.set(io, (pending.get(io) ?? "") + text);
}
function flush(io: Output): void {
  const rest = pending.get(io);
  pending.delete(io);
  if (rest !== undefined) io.out(rest.endsWith("\n") ? rest.slice(0, -1) : rest);
}
