import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { printable, readSource, UserError } from "./io.js";

// Text for `tfmc generate --tokenizer`: a Hugging Face tokenizer.json read by Hugging Face's own
// JavaScript implementation (@huggingface/tokenizers), never by a tokenizer of ours.

/** The part of @huggingface/tokenizers' Tokenizer that tfmc uses (its published types do not resolve under NodeNext). */
interface HfTokenizer {
  encode(text: string): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
  token_to_id(token: string): number | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
}

export interface TextTokenizer {
  /** The prompt's ids, with whatever special tokens the tokenizer's post-processor adds (Llama's BOS). */
  encode(text: string): number[];
  /**
   * Text of the ids, special tokens (EOS, BOS) left out. As the tokenizers library decodes: spaces
   * before punctuation are tidied away only when tokenizer_config.json asks for it
   * (`clean_up_tokenization_spaces`).
   */
  decode(ids: readonly number[]): string;
  /** One more than the largest id. */
  readonly vocabSize: number;
  /** The end-of-sequence token found by `eosToken`, if any. */
  readonly eos?: { readonly id: number; readonly token: string; readonly from: string };
}

/** Added tokens taken as the end of a sequence when tokenizer_config.json does not name one, in this order. */
export const EOS_TOKENS = ["<|endoftext|>", "</s>", "<|end_of_text|>", "<|eot_id|>", "<eos>", "<|im_end|>"];

function readJson(path: string, what: string): Record<string, unknown> {
  const text = readSource(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${printable(path)}: not valid JSON (${printable((e as Error).message, 1000)})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UserError(`${printable(path)}: ${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * The end-of-sequence token: tokenizer_config.json's `eos_token` when that file sits beside
 * tokenizer.json, else the first special added token of tokenizer.json named in `EOS_TOKENS`.
 */
function eosToken(tok: HfTokenizer, json: Record<string, unknown>, config: Record<string, unknown> | undefined, configPath: string): TextTokenizer["eos"] {
  const named = config?.eos_token;
  const content = typeof named === "string" ? named : typeof named === "object" && named !== null ? (named as { content?: unknown }).content : undefined;
  if (typeof content === "string") {
    const id = tok.token_to_id(content);
    if (id === undefined) throw new UserError(`${printable(configPath)}: eos_token '${printable(content)}' is not a token of the tokenizer`);
    return { id, token: content, from: configPath };
  }
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { id?: unknown; content?: unknown; special?: unknown }[]) : [];
  for (const name of EOS_TOKENS) {
    const t = added.find((a) => a.content === name && a.special === true && typeof a.id === "number");
    if (t) return { id: t.id as number, token: name, from: "its added tokens" };
  }
  return undefined;
}

/** Reads a tokenizer.json (and tokenizer_config.json beside it, when there is one). */
export function loadTokenizer(path: string): TextTokenizer {
  const json = readJson(path, "a tokenizer.json");
  const configPath = join(dirname(path), "tokenizer_config.json");
  const config = existsSync(configPath) ? readJson(configPath, "a tokenizer_config.json") : undefined;
  let tok: HfTokenizer;
  try {
    tok = new Tokenizer(json, config ?? {}) as HfTokenizer;
  } catch (e) {
    throw new UserError(`${printable(path)}: not a tokenizer @huggingface/tokenizers can read: ${printable((e as Error)?.message ?? String(e), 1000)}`);
  }
  let vocabSize = 0;
  for (const id of tok.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
  const eos = eosToken(tok, json, config, configPath);
  const cleanUp = config?.clean_up_tokenization_spaces === true;
  const guard = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new UserError(`${printable(path)}: cannot ${what}: ${printable((e as Error)?.message ?? String(e), 1000)}`);
    }
  };
  return {
    encode: (text) => guard("encode the prompt", () => tok.encode(text).ids),
    decode: (ids) => (ids.length === 0 ? "" : guard("decode the generated ids", () => tok.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: cleanUp }))),
    vocabSize,
    ...(eos ? { eos } : {}),
  };
}

/**
 * Decoded text as ids arrive: each `push` returns what to print next, so that everything printed
 * is the text of the new ids after the prompt. Decoding always starts from the prompt (a
 * SentencePiece decoder drops the space of a sequence's first word; a byte-level one needs every
 * byte of a character), and the printed text never runs past text that a later id may still
 * change: a trailing U+FFFD (an unfinished UTF-8 character) or trailing whitespace (which tidying
 * such as "hello ." to "hello." may remove) waits for the next id or for `finish`.
 */
export class TextStream {
  private readonly ids: number[] = [];
  private printed = "";

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly prompt: readonly number[],
  ) {}

  private text(): string {
    return continuation(this.tokenizer, this.prompt, this.ids);
  }

  private advance(upTo: string): string {
    if (!upTo.startsWith(this.printed)) return "";
    const next = upTo.slice(this.printed.length);
    this.printed = upTo;
    return next;
  }

  push(id: number): string {
    this.ids.push(id);
    return this.advance(this.text().replace(/[\s\uFFFD]+$/u, ""));
  }

  /** The rest of the text, once generation ended. */
  finish(): string {
    return this.advance(this.text());
  }
}

/** The text of `tokens` generated after `prompt`. */
export function continuation(tokenizer: TextTokenizer, prompt: readonly number[], tokens: readonly number[]): string {
  const start = tokenizer.decode(prompt);
  const all = tokenizer.decode([...prompt, ...tokens]);
  return all.startsWith(start) ? all.slice(start.length) : all;
}
