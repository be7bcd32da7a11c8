// Each command's own usage, printed by `tfmc <command> --help` (and `tfmc help <command>`) and
// after a usage error in that command. The overview of every command is USAGE in main.ts.

const ATTENTION = "  --attention KIND     use this kernel for every attention: softmax, linear, performer, linformer, local";
const SET = "  --set name=value     override a config value (repeatable)";
const BUILD = [
  "  -O0 | -O1 | -O2      optimisation level (default -O2)",
  "  --target ts|wasm     wasm: products, attention, norms and activations as WebAssembly SIMD kernels",
  ATTENTION,
  "  --verify-passes      check the graph after every optimisation pass",
  "  --dump-after PASS    print the IR after the named pass ('lower' for the graph before any pass)",
].join("\n");
const HELP = "  -h, --help           show this help";
const WEIGHTS_NAMES = [
  "  --weights-prefix-strip P",
  "                       remove P from the front of the file's names that start with it",
  "  --weights-prefix-add P",
  "                       then put P in front of every name",
  "  --weights-ignore GLOB",
  "                       leave out the file's entries that match (repeatable; * within one",
  "                       dot-separated part, ** across parts: 'h.*.attn.bias')",
].join("\n");

const usage = (synopsis: string, what: string, options: readonly string[]): string =>
  [`usage: tfmc ${synopsis}`, "", what, "", "options:", ...options, HELP].join("\n");

const COMMANDS: Readonly<Record<string, string>> = {
  check: usage("check <file.tfm>... [options]", "Check each model; print its diagnostics, inputs, outputs and parameter count.", [
    "  --json               the report as JSON: diagnostics, inputs, outputs and parameters (name, dtype, shape)",
    ATTENTION,
    SET,
  ]),
  compile: usage("compile <file.tfm> -o <dir> [options]", "Write the model's TypeScript (or JavaScript) module into <dir>.", [
    "  -o, --out <dir>      the folder to write into (required)",
    "  --emit ts|js         ts (default), or js: a .js module and its .d.ts",
    "  --check              write nothing; exit 1 if the files in <dir> are out of date",
    "  --wasm-file          with --target wasm: the kernels in <model>.wasm and <model>.shared.wasm beside the module",
    "  --profile            time every kernel: the model gains profile()",
    "  --watch              recompile on every save; a failed compile keeps the last good output",
    "  --runtime WHERE      where the module imports its runtime from: copy (default) writes tfmc-runtime/",
    "                       beside it; package imports tfmc/runtime; anything else as written",
    SET,
    BUILD,
  ]),
  run: usage("run <file.tfm> --out <out.safetensors> [options]", "Run the model on tensors from files; write every output to <out.safetensors>.", [
    "  -o, --out <file>     where the outputs go (required)",
    "  --inputs <file>      the inputs, one tensor per model input, named as in the model (safetensors)",
    "  --weights <path>     the weights: a .safetensors file, a sharded checkpoint's model.safetensors.index.json",
    "                       or a folder holding either (F16, BF16 read as float32); without it, seeded random weights",
    WEIGHTS_NAMES,
    "  --seed N             the seed of the random weights (default 0)",
    "  --profile            print the time spent per op and per scope",
    SET,
    BUILD,
  ]),
  generate: usage("generate <file.tfm> --prompt 1,2,3 --max-new-tokens N [options]", "Generate tokens: greedy, beam search or seeded sampling, one position per step through a decoding session.", [
    "  --prompt IDS         the prompt's token ids, separated by commas (with --tokenizer: the prompt's text)",
    "  --tokenizer <file>   a Hugging Face tokenizer.json: the prompt is text, the generated text streams as",
    "                       tokens arrive, and generation stops at the tokenizer's end-of-sequence token",
    "  --prompt-ids IDS     the prompt's token ids, also with --tokenizer",
    "  --max-new-tokens N   how many tokens to generate (required)",
    "  --weights <path>     the weights: a .safetensors file, a sharded checkpoint's model.safetensors.index.json",
    "                       or a folder holding either; without it, seeded random weights (a warning says so)",
    WEIGHTS_NAMES,
    "  --source IDS         an encoder-decoder's source token ids",
    "  --bos ID, --eos ID   a token put before the prompt; a token that ends a sequence",
    "  --beam K             beam search with K beams, at most 256 (--length-penalty A in [0, 10], --n-best N <= K)",
    "  --sample             sampling (--temperature T in [1e-4, 1e4], --top-k K, --top-p P in (0, 1])",
    "  --seed S             the seed of the random weights and of sampling (default 0)",
    "  --json               the results as JSON",
    "  --recompute          run the whole prefix every step, for models without decoding sessions",
    SET,
    BUILD,
  ]),
  export: usage("export <file.tfm> -o <model.onnx> [options]", "Write the model as ONNX: the graph after lowering and clean-up, mapped to standard ONNX ops.", [
    "  -o, --out <file>     the .onnx file to write (required)",
    "  --weights <path>     the weights: a .safetensors file, a sharded checkpoint's model.safetensors.index.json",
    "                       or a folder holding either; without it, the seeded random weights of tfmc run",
    WEIGHTS_NAMES,
    "  --seed N             the seed of the random weights (default 0)",
    "  --opset N            the ONNX opset, 13 to 24 (default 17: LayerNormalization; 20 adds Gelu, 23 RMSNormalization)",
    "  --without NAME       leave the input NAME out of the graph: an optional one, or one with a default",
    "                       (then filled with it) (repeatable)",
    "  --external-data      the weights in <model.onnx>.data beside the model (needed past 2 GiB)",
    "  --with-past          a decoder taking past_key_values.N.key/.value and returning present.N.key/.value,",
    "                       with attention_mask [B, past + T] and (positions read) position_ids [B, T] inputs,",
    "                       as Hugging Face's decoders (its optional inputs left out, as in tfmc's sessions)",
    "  --keep-dtypes        keep int32 inputs int32 (by default they are int64 graph inputs, as PyTorch's",
    "                       and Hugging Face's token ids are, converted inside the graph)",
    "  --input-dtype NAME=DTYPE",
    "                       the graph input NAME as f32, i32, i64 or bool, converted inside (repeatable;",
    "                       e.g. attention_mask=i64 for Hugging Face's int64 masks: nonzero is true)",
    ATTENTION,
    "  --verify-passes      check the graph after every optimisation pass",
    "  --dump-after PASS    print the IR after the named pass ('lower' for the graph before any pass)",
    SET,
  ]),
  graph: usage("graph <file.tfm> [-o file] [options]", "Draw the model: one cluster per scope; fused and rewritten ops marked.", [
    "  -o, --out <file>     write to this file; its extension gives the format: .svg, .dot or .gv, .mmd, .html",
    "                       (without -o: DOT or Mermaid on standard output)",
    "  --format FORMAT      svg, dot, mermaid or html (instead of the extension)",
    "  --stage STAGE        source, lowered or optimized (default optimized)",
    "  --diff               the source and the optimised graph side by side",
    ATTENTION,
    SET,
  ]),
  init: usage("init [folder]", "Write a starter model and a script that compiles and runs it (into [folder], default the current one).", []),
  lsp: usage("lsp --stdio", "The language server, for editors (see editors/vscode).", ["  --stdio              speak the language server protocol over standard input and output (required)"]),
  fmt: usage("fmt <file.tfm>... [options]", "Rewrite files in the canonical layout.", ["  --check              write nothing; exit 1 if any file would change"]),
  explain: usage("explain <file.tfm> [options]", "Parameters, FLOPs and activation memory per layer, as written and optimised; where linear-time attention pays off; what passes did.", [
    "  --at T=128,1024      the lengths to evaluate at; B=2,T=16,32 holds B at 2 while T varies",
    ATTENTION,
    SET,
  ]),
};

/** The command's own usage, or undefined for a name that is no command. */
export function commandUsage(command: string | undefined): string | undefined {
  return command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
}

export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

const BUILD_FLAGS = ["opt", "target", "attention", "verify-passes", "dump-after"];
const WEIGHTS_FLAGS = ["weights", "weights-prefix-strip", "weights-prefix-add", "weights-ignore"];

/** The flags each command takes (as named in main's parser): any other is a usage error, never ignored. */
export const COMMAND_FLAGS: Readonly<Record<string, readonly string[]>> = {
  check: ["json", "set", "attention"],
  compile: ["out", "emit", "check", "wasm-file", "profile", "watch", "runtime", "set", ...BUILD_FLAGS],
  run: ["out", "inputs", ...WEIGHTS_FLAGS, "seed", "profile", "set", ...BUILD_FLAGS],
  generate: [
    ...["prompt", "tokenizer", "prompt-ids", "max-new-tokens", ...WEIGHTS_FLAGS, "source", "bos", "eos", "beam", "length-penalty", "n-best"],
    ...["sample", "temperature", "top-k", "top-p", "seed", "json", "recompute", "set", ...BUILD_FLAGS],
  ],
  export: ["out", ...WEIGHTS_FLAGS, "seed", "opset", "without", "external-data", "with-past", "keep-dtypes", "input-dtype", "attention", "verify-passes", "dump-after", "set"],
  graph: ["out", "format", "stage", "diff", "attention", "set"],
  init: [],
  lsp: ["stdio"],
  fmt: ["check"],
  explain: ["at", "attention", "set"],
};

/** How a flag is written: `-O` for the optimisation level, `--name` for the rest. */
export const flagName = (name: string): string => (name === "opt" ? "-O" : `--${name}`);

/** "check takes --json, --set, --attention and --help": for a flag the command does not take. */
export function commandFlagsHint(command: string): string {
  const flags = [...(COMMAND_FLAGS[command] ?? []), "help"].map(flagName);
  return flags.length === 1 ? `${command} takes only ${flags[0]}` : `${command} takes ${flags.slice(0, -1).join(", ")} and ${flags.at(-1)}`;
}
