import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/diagnostics/format.js";
import { MAX_SUGGESTED_NAME, SUGGESTION_CELLS } from "../../src/diagnostics/didYouMean.js";
import { Diagnostics } from "../../src/diagnostics/messages.js";
import { formatTfm } from "../../src/format/format.js";
import { analyze } from "../../src/lsp/analysis.js";
import { randomWeights } from "../../src/runtime/random.js";
import { writeSafetensors } from "../../src/runtime/safetensors.js";
import { checkSource } from "../../src/semantics/check.js";
import { MAX_OPERATIONS } from "../../src/semantics/elaborator.js";
import { parseOverride } from "../../src/semantics/overrides.js";
// Generated modules import the built runtime, so the errors they throw are dist/'s classes.
import { TfmcRuntimeError } from "../../dist/runtime/errors.js";
import { graphOf, importGenerated, type GeneratedModule } from "../compileHelpers.js";
import { ROOT } from "../helpers.js";
import { hostileFeeds, hostileSet, hostileSource, hostileWeights, Random } from "./hostileInputs.js";

// At least 10,000 hostile inputs across the four ways into tfmc: .tfm sources (checker, code
// frames, formatter, language server), --set arguments, safetensors weights and forward() feeds.
// Each must end in a result or a clear error of tfmc's own: never an exception of another kind,
// never a stack trace. Work is bounded by counts (suggestion cells, layers, values looked at), not
// by the clock. TFMC_FUZZ_SCALE multiplies the counts for a longer run.

const SCALE = Number(process.env.TFMC_FUZZ_SCALE ?? "1");
const COUNTS = { sources: 4000 * SCALE, sets: 1500 * SCALE, weights: 2500 * SCALE, forward: 2000 * SCALE };

const CODES = new Set<number>(Object.values(Diagnostics).map((d) => d.code));
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const STACK = /\n\s+at .+:\d+:\d+/;
const SUGGESTION_TABLE = MAX_SUGGESTED_NAME * (2 * Math.floor(MAX_SUGGESTED_NAME / 3) + 1);
const EXAMPLES = [
  ...readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".tfm")).map((f) => join("examples", f)),
  ...readdirSync(join(ROOT, "examples", "torch")).map((f) => join("examples", "torch", f)),
].map((p) => readFileSync(join(ROOT, p), "utf8").replace(/\b(layers|num_encoder_layers|num_decoder_layers) = \d+/g, "$1 = 2"));
// The --set target: GPT's configuration and layers, one layer deep so that checking it is cheap.
const SMALL_GPT = readFileSync(join(ROOT, "examples", "gpt.tfm"), "utf8").replace(/\blayers = \d+/, "layers = 1");

let failures: string[] = [];
const tally = new Map<string, number>();
const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
const show = (s: string) => JSON.stringify(s.length > 160 ? s.slice(0, 160) + "…" : s);

function fail(category: string, input: string, problem: string): void {
  count(`${category}: FAILED`);
  if (failures.length < 20) failures.push(`${category} ${show(input)}: ${problem}`);
}

/** A thrown value is acceptable when it is tfmc's own runtime error and carries no stack in its message. */
function judgeThrown(category: string, input: string, e: unknown): void {
  if (e instanceof TfmcRuntimeError && !STACK.test(e.message) && e.message.length > 0) count(`${category}: refused`);
  else fail(category, input, `${(e as Error)?.name}: ${(e as Error)?.message}`.slice(0, 300));
}

function checkSourceQuietly(category: string, text: string, sets: Parameters<typeof checkSource>[1] = [], input = text): ReturnType<typeof checkSource> | undefined {
  let r: ReturnType<typeof checkSource>;
  try {
    r = checkSource(text, sets);
  } catch (e) {
    fail(category, input, `checkSource threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return undefined;
  }
  for (const d of r.diagnostics.items) {
    if (!CODES.has(d.code)) return void fail(category, input, `unknown code ${d.code}`);
    const s = d.span;
    if (!(s.line >= 1 && s.col >= 1 && s.start >= 0 && s.start <= s.end && s.end <= text.length)) return void fail(category, input, `bad span ${JSON.stringify(s)}`);
    const shown = formatDiagnostic(d, "f.tfm", text, { color: false });
    if (RAW_CONTROL.test(shown)) return void fail(category, input, `raw control character in ${show(shown)}`);
  }
  if (r.diagnostics.suggestions.cells > SUGGESTION_CELLS + SUGGESTION_TABLE) return void fail(category, input, `${r.diagnostics.suggestions.cells} suggestion cells`);
  if (r.model && r.model.nodes.length > MAX_OPERATIONS) return void fail(category, input, `${r.model.nodes.length} nodes`);
  return r;
}

let gpt: GeneratedModule;
let mha: GeneratedModule;
let mhaBytes: Uint8Array;

beforeEach(() => {
  failures = [];
});

beforeAll(async () => {
  gpt = await importGenerated(graphOf("examples/gpt.tfm", "-O2", "d=16", "heads=2", "layers=1", "ctx=8", "vocab=20"));
  mha = await importGenerated(graphOf("examples/torch/multihead_attention.tfm", "-O2", "embed_dim=8", "num_heads=2"));
  mhaBytes = writeSafetensors(randomWeights(mha.spec.parameters, 5));
});

describe(`hostile inputs (${Object.values(COUNTS).reduce((a, b) => a + b, 0).toLocaleString("en-US")}, fixed seeds)`, () => {
  it(".tfm sources: diagnostics from the table with sane spans and clean code frames; the language server and formatter survive", () => {
    const r = new Random(20261130);
    for (let i = 0; i < COUNTS.sources; i++) {
      const { kind, text } = hostileSource(r, EXAMPLES);
      const checked = checkSourceQuietly("source", text);
      if (!checked) continue;
      count(`source: ${checked.model ? "clean" : "diagnosed"}`);
      count(`source kind: ${kind}`);
      if (i % 8 === 0) {
        try {
          analyze(text);
          if (checked.ast.models.length > 0) formatTfm(text);
        } catch (e) {
          fail("source (editor)", text, `${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("--set arguments: refused with a message, or checked against the model", () => {
    const r = new Random(7);
    // Not `layers`: a huge repeat count is bounded by MAX_OPERATIONS, but elaborating that many layers is the
    // compile-time scaling's business, covered by its own tests, and would dominate this run.
    const configNames = ["vocab", "d", "heads", "ctx"];
    for (let i = 0; i < COUNTS.sets; i++) {
      const args = Array.from({ length: 1 + r.int(3) }, () => hostileSet(r, configNames));
      const parsed: Exclude<ReturnType<typeof parseOverride>, string>[] = [];
      let refused = false;
      for (const a of args) {
        let o: ReturnType<typeof parseOverride>;
        try {
          o = parseOverride(a);
        } catch (e) {
          fail("--set", a, `parseOverride threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
          refused = true;
          break;
        }
        if (typeof o === "string") {
          if (o.length === 0 || STACK.test(o)) fail("--set", a, `message ${show(o)}`);
          refused = true;
          break;
        }
        parsed.push(o);
      }
      if (refused) {
        count("--set: refused");
        continue;
      }
      const unique = [...new Map(parsed.map((o) => [o.name, o])).values()];
      const checked = checkSourceQuietly("--set", SMALL_GPT, unique, args.join(" "));
      if (checked) count(`--set: ${checked.model ? "checked clean" : "diagnosed"}`);
    }
    expect(failures).toEqual([]);
  });

  it("safetensors weights: loaded, or refused with tfmc's error", () => {
    const r = new Random(11);
    for (let i = 0; i < COUNTS.weights; i++) {
      const bytes = hostileWeights(r, mhaBytes);
      try {
        mha.createModel(bytes);
        count("weights: loaded");
      } catch (e) {
        judgeThrown("weights", new TextDecoder().decode(bytes.subarray(0, 200)), e);
      }
    }
    expect(failures).toEqual([]);
  });

  it("forward feeds: a result, or tfmc's error naming the input", () => {
    const r = new Random(13);
    const models = [
      { m: gpt.createModel(randomWeights(gpt.spec.parameters, 1)), inputs: [{ name: "tokens", dtype: "i32", shape: [1, 4] }] },
      {
        m: mha.createModel(mhaBytes),
        inputs: [
          { name: "query", dtype: "f32", shape: [1, 2, 8] },
          { name: "key", dtype: "f32", shape: [1, 3, 8] },
          { name: "value", dtype: "f32", shape: [1, 3, 8] },
          { name: "key_padding_mask", dtype: "bool", shape: [1, 3] },
          { name: "attn_mask", dtype: "bool", shape: [2, 3] },
        ],
      },
    ];
    for (let i = 0; i < COUNTS.forward; i++) {
      const { m, inputs } = models[i % 2];
      const feeds = hostileFeeds(r, inputs);
      const described = () => JSON.stringify(feeds, (_k, v: unknown) => (ArrayBuffer.isView(v) ? `${v.constructor.name}(${(v as unknown as { length?: number }).length ?? "?"})` : typeof v === "bigint" ? String(v) : v));
      try {
        const out = m.forward(feeds);
        for (const t of Object.values(out)) if (t.data.length > 1 << 16) fail("forward", described(), `an output of ${t.data.length} values`);
        count("forward: ran");
      } catch (e) {
        judgeThrown("forward", described(), e);
      }
    }
    expect(failures).toEqual([]);
  });

  it("prints the figures", () => {
    const total = [...tally].filter(([k]) => !k.startsWith("source kind")).reduce((n, [, v]) => n + v, 0);
    const line = [...tally].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(", ");
    console.log(`hostile fuzz: ${total} inputs; ${line}`);
    expect(total).toBeGreaterThanOrEqual(10_000 * SCALE);
  });
});
