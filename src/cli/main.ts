import { parseArgs } from "node:util";
import { parseOverride, type ConfigOverride } from "../semantics/overrides.js";
import { SEARCH_LIMITS } from "../runtime/search.js";
import { runCheck } from "./check.js";
import { InternalGraphError, type BuildOptions } from "./pipeline.js";
import { PassVerificationError } from "../passes/pipeline.js";
import { guardedOutput, printable, printableLines, processOutput, UsageError, UserError, type Output } from "./io.js";
import { COMMAND_FLAGS, commandFlagsHint, commandUsage } from "./usage.js";
import { weightsFlags } from "./weightsFlags.js";

const USAGE = `usage: tfmc <command> [options]

commands:
  check <file.tfm>... [--json] [--attention KIND]
                                      check a model; print its symbols, outputs and parameter count
  compile <file.tfm> -o <dir>         write the model's TypeScript module
      [--emit ts|js] [--check]        (--emit js: .js and .d.ts; --check: exit 1 if out of date)
      [--target ts|wasm]              wasm: products, attention, norms and activations as WebAssembly
                                      SIMD kernels embedded in the module (also for run and generate)
      [--wasm-file]                   with --target wasm: the kernels in <model>.wasm and <model>.shared.wasm
                                      beside the module, read by its loadWasm()
      [--runtime copy|package|SPEC]   where the module imports its runtime from: copy (default) writes
                                      tfmc-runtime/ beside it, so it runs anywhere without installing
                                      tfmc; package imports tfmc/runtime; anything else as written
      [--profile]                     time every kernel: the model gains profile()
      [--watch]                       recompile on every save; a failed compile keeps the last good output
  run <file.tfm> --out <out.safetensors> [--weights <w.safetensors>] [--inputs <in.safetensors>] [--seed n]
                                      run the model on tensors from files (random weights without --weights)
      [--profile]                     print the time spent per op and per scope
      --weights also takes a sharded checkpoint's model.safetensors.index.json, or a folder holding
      it or model.safetensors (also for generate); F16 and BF16 are read as float32
      [--weights-prefix-strip P]      remove P from the front of the file's names that start with it
      [--weights-prefix-add P]        then put P in front of every name
      [--weights-ignore GLOB]         leave out the file's entries that match (repeatable; * within
                                      one dot-separated part, ** across parts: 'h.*.attn.bias')
  generate <file.tfm> --prompt 1,2,3 --max-new-tokens N [--weights w.safetensors] [--source 4,5,6]
      [--tokenizer tokenizer.json --prompt "text" | --prompt-ids 1,2,3]
                                      with a Hugging Face tokenizer.json: the prompt is text, the
                                      output text streams as tokens arrive, and generation stops at
                                      the tokenizer's end-of-sequence token unless --eos says otherwise
      [--beam K --length-penalty A --n-best N] [--sample --temperature T --top-k K --top-p P]
      [--bos ID] [--eos ID] [--seed S] [--json] [--recompute]
                                      generate tokens: greedy, beam search or seeded sampling, one
                                      position per step through a decoding session (--recompute:
                                      the whole prefix every step, for models without sessions)
  export <file.tfm> -o <model.onnx> [--weights w.safetensors] [--opset N] [--without NAME]... [--external-data] [--with-past]
                                      the model as ONNX (after lowering and clean-up): inputs and outputs
                                      named as in the .tfm, symbols as named dynamic dimensions, weights
                                      as initializers under their names (seeded random ones without
                                      --weights; --external-data: in <model.onnx>.data beside it);
                                      --without leaves out an optional input or one with a default;
                                      opsets 13 to 24 (default 17);
                                      --with-past: a decoder taking and returning its key/value cache
                                      (and attention_mask, position_ids, as Hugging Face's decoders);
                                      int32 inputs are int64 in the graph unless --keep-dtypes;
                                      --input-dtype NAME=i64 types one input (an int64 attention_mask)
  graph <file.tfm> [-o file] [--stage source|lowered|optimized] [--format svg|dot|mermaid|html] [--diff] [--attention KIND]
                                      draw the model (one cluster per scope; fused and rewritten ops marked)
  init [folder]                       write a starter model and a script that compiles and runs it
  lsp --stdio                         the language server, for editors (see editors/vscode)
  fmt <file.tfm>... [--check]         rewrite files in the canonical layout (--check: exit 1 if any would change)
  explain <file.tfm> [--at T=128,1024] [--attention KIND]
                                      parameters, FLOPs and activation memory per layer, as written
                                      and optimised; where linear-time attention pays off; what passes did
                                      (--at B=2,T=16,32: B held at 2 while T varies)

options (each command takes only its own: tfmc <command> --help lists them):
  --set name=value   override a config value (repeatable; not for fmt, init, lsp)
  -O0 | -O1 | -O2    optimisation level for compile, run and generate (default -O2)
  --verify-passes    check the graph after every optimisation pass (compile, run, generate, export)
  --dump-after PASS  print the IR after the named pass ('lower' for the graph before any pass)
  --attention KIND   use this kernel for every attention: softmax, linear, performer, linformer, local
                     (check, compile, run, generate, export, graph, explain)
  --json             machine-readable output (check, generate)
  -h, --help         show this help (tfmc <command> --help: the command's own)
  -v, --version      show the version`;

function overridesFrom(values: readonly string[] | undefined): ConfigOverride[] {
  return (values ?? []).map((s) => {
    const o = parseOverride(s);
    if (typeof o === "string") throw new UsageError(printable(o, 1000));
    return o;
  });
}

function optLevel(value: string | undefined): 0 | 1 | 2 {
  if (value === undefined) return 2;
  if (value === "0" || value === "1" || value === "2") return Number(value) as 0 | 1 | 2;
  throw new UsageError(`-O takes 0, 1 or 2, got '${value}'`);
}

function seedFrom(value: string | undefined, command: string): number {
  const seed = value === undefined ? 0 : Number(value);
  if (value?.trim() === "" || !Number.isSafeInteger(seed) || seed < 0 || seed > SEARCH_LIMITS.seed) {
    throw new UsageError(`${command}: --seed takes an integer from 0 to ${SEARCH_LIMITS.seed}, got '${printable(String(value))}'`);
  }
  return seed;
}

function single(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`${command}: give exactly one .tfm file`);
  return positionals[0];
}

function required(value: string | undefined, flag: string, command: string): string {
  if (!value) throw new UsageError(`${command}: ${flag} is required`);
  return value;
}

function wasmFileOption(values: { "wasm-file"?: boolean; target?: string }): boolean {
  if (values["wasm-file"] && values.target !== "wasm") throw new UsageError("compile: --wasm-file goes with --target wasm");
  return Boolean(values["wasm-file"]);
}

/** `--attention KIND`, checked against the kernels there are. */
function attentionOption(value: string | undefined): string | undefined {
  const kernels = ["softmax", "linear", "performer", "linformer", "local"];
  if (value !== undefined && !kernels.includes(value)) throw new UsageError(`--attention takes ${kernels.join(", ")}, got '${printable(value)}'`);
  return value || undefined;
}

function buildOptions(values: { opt?: string; "verify-passes"?: boolean; "dump-after"?: string; attention?: string; target?: string }, io: Output): BuildOptions {
  attentionOption(values.attention);
  if (values.target !== undefined && values.target !== "ts" && values.target !== "wasm") throw new UsageError(`--target takes ts or wasm, got '${printable(values.target)}'`);
  return {
    ...(values.attention ? { attentionKernel: values.attention } : {}),
    ...(values.target === "wasm" ? { target: "wasm" as const } : {}),
    level: optLevel(values.opt),
    verifyPasses: Boolean(values["verify-passes"]),
    ...(values["dump-after"] !== undefined ? { dumpAfter: values["dump-after"], dump: (text: string) => io.err(text) } : {}),
  };
}

async function dispatch(argv: readonly string[], io: Output): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    if (command === "help" && rest.length > 0) {
      const own = commandUsage(rest[0]);
      if (own === undefined) throw new UsageError(`help: unknown command '${printable(rest[0])}'`);
      io.out(own);
      return 0;
    }
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "-v" || command === "--version") {
    io.out("tfmc 0.1.0");
    return 0;
  }
  const own = COMMAND_FLAGS[command];
  if (!Object.hasOwn(COMMAND_FLAGS, command) || own === undefined) throw new UsageError(`unknown command '${printable(command)}'`);
  const { values, positionals, tokens } = (() => {
    try {
      return parseArgs({
        args: [...rest],
        allowPositionals: true,
        strict: true,
        tokens: true,
        options: {
          set: { type: "string", multiple: true },
          json: { type: "boolean" },
          help: { type: "boolean", short: "h" },
          out: { type: "string", short: "o" },
          emit: { type: "string" },
          target: { type: "string" },
          "wasm-file": { type: "boolean" },
          check: { type: "boolean" },
          runtime: { type: "string" },
          weights: { type: "string" },
          "weights-prefix-strip": { type: "string" },
          "weights-prefix-add": { type: "string" },
          "weights-ignore": { type: "string", multiple: true },
          inputs: { type: "string" },
          seed: { type: "string" },
          opt: { type: "string", short: "O" },
          "verify-passes": { type: "boolean" },
          "dump-after": { type: "string" },
          at: { type: "string" },
          attention: { type: "string" },
          stage: { type: "string" },
          format: { type: "string" },
          diff: { type: "boolean" },
          profile: { type: "boolean" },
          stdio: { type: "boolean" },
          watch: { type: "boolean" },
          prompt: { type: "string" },
          "prompt-ids": { type: "string" },
          tokenizer: { type: "string" },
          source: { type: "string" },
          "max-new-tokens": { type: "string" },
          beam: { type: "string" },
          "length-penalty": { type: "string" },
          "n-best": { type: "string" },
          sample: { type: "boolean" },
          temperature: { type: "string" },
          "top-k": { type: "string" },
          "top-p": { type: "string" },
          bos: { type: "string" },
          eos: { type: "string" },
          recompute: { type: "boolean" },
          opset: { type: "string" },
          without: { type: "string", multiple: true },
          "external-data": { type: "boolean" },
          "with-past": { type: "boolean" },
          "keep-dtypes": { type: "boolean" },
          "input-dtype": { type: "string", multiple: true },
        },
      });
    } catch (e) {
      // A value Node refuses ('--prompt -1'): its message names only a declared flag, over three lines.
      const err = e as Error & { code?: string };
      const unknown = err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /^Unknown option '(.*?)'\./.exec(err.message) : null;
      if (unknown) throw new UsageError(`${command}: unknown option '${printable(unknown[1], 200)}'; ${commandFlagsHint(command)} (a file name starting with '-' goes after '--')`);
      const message = err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" ? err.message.replace(/\n/g, " ") : err.message;
      throw new UsageError(printable(message, 1000));
    }
  })();
  if (values.help) {
    io.out(commandUsage(command) ?? USAGE);
    return 0;
  }
  // A flag another command takes is refused here rather than silently ignored.
  for (const t of tokens) {
    if (t.kind !== "option" || t.name === "help" || own.includes(t.name)) continue;
    throw new UsageError(`${command}: ${printable(t.rawName)} does not apply to ${command}; ${commandFlagsHint(command)}`);
  }
  switch (command) {
    case "check":
      if (positionals.length === 0) throw new UsageError("check: give at least one .tfm file");
      return runCheck({ files: positionals, overrides: overridesFrom(values.set), json: Boolean(values.json), ...(values.attention ? { attention: attentionOption(values.attention) } : {}) }, io);
    case "compile": {
      const emit = values.emit ?? "ts";
      if (emit !== "ts" && emit !== "js") throw new UsageError(`compile: --emit takes ts or js, got '${printable(emit)}'`);
      // Loaded on demand: code generation pulls in prettier, which `check` has no use for.
      const { runCompile } = await import("./compile.js");
      if (values.watch && values.check) throw new UsageError("compile: --watch and --check do not go together");
      const run = values.watch ? (await import("./watch.js")).runWatch : runCompile;
      return run(
        {
          file: single(positionals, command),
          outDir: required(values.out, "-o <dir>", command),
          overrides: overridesFrom(values.set),
          emit,
          check: Boolean(values.check),
          profile: Boolean(values.profile),
          wasmFile: wasmFileOption(values),
          ...(values.runtime ? { runtime: values.runtime } : {}),
          build: buildOptions(values, io),
        },
        io,
      );
    }
    case "run": {
      const seed = seedFrom(values.seed, command);
      const weights = weightsFlags(values, command);
      const { runModel } = await import("./run.js");
      return runModel(
        {
          file: single(positionals, command),
          out: required(values.out, "--out <file.safetensors>", command),
          overrides: overridesFrom(values.set),
          seed,
          profile: Boolean(values.profile),
          build: buildOptions(values, io),
          ...(weights ? { weights } : {}),
          ...(values.inputs ? { inputs: values.inputs } : {}),
        },
        io,
      );
    }
    case "export": {
      const weights = weightsFlags(values, command);
      const { runExport, parseOpset, parseInputDtypes } = await import("./export.js");
      const opset = parseOpset(values.opset);
      if (typeof opset === "string") throw new UsageError(opset);
      const inputDtypes = parseInputDtypes(values["input-dtype"]);
      if (typeof inputDtypes === "string") throw new UsageError(inputDtypes);
      return runExport(
        {
          file: single(positionals, command),
          out: required(values.out, "-o <model.onnx>", command),
          overrides: overridesFrom(values.set),
          seed: seedFrom(values.seed, command),
          opset,
          without: values.without ?? [],
          externalData: Boolean(values["external-data"]),
          withPast: Boolean(values["with-past"]),
          keepDtypes: Boolean(values["keep-dtypes"]),
          inputDtypes,
          build: buildOptions(values, io),
          ...(weights ? { weights } : {}),
        },
        io,
      );
    }
    case "generate": {
      const weights = weightsFlags(values, command);
      const { runGenerate } = await import("./generate.js");
      const { searchFromFlags } = await import("./generateArgs.js");
      return runGenerate(
        {
          file: single(positionals, command),
          overrides: overridesFrom(values.set),
          build: buildOptions(values, io),
          ...searchFromFlags(values),
          json: Boolean(values.json),
          recompute: Boolean(values.recompute),
          ...(weights ? { weights } : {}),
        },
        io,
      );
    }
    case "graph": {
      const stage = values.stage ?? "optimized";
      if (!["source", "lowered", "optimized"].includes(stage)) throw new UsageError(`graph: --stage takes source, lowered or optimized, got '${printable(stage)}'`);
      const { runGraph, graphFormat } = await import("./graph.js");
      const format = graphFormat(values.format, values.out);
      return runGraph(
        {
          file: single(positionals, command),
          overrides: overridesFrom(values.set),
          stage: stage as "source",
          format,
          diff: Boolean(values.diff),
          ...(attentionOption(values.attention) ? { attention: values.attention } : {}),
          ...(values.out ? { out: values.out } : {}),
        },
        io,
      );
    }
    case "init": {
      if (positionals.length > 1) throw new UsageError("init: give at most one folder name");
      const { runInit } = await import("./init.js");
      return runInit(positionals[0], io);
    }
    case "fmt": {
      if (positionals.length === 0) throw new UsageError("fmt: give at least one .tfm file");
      const { runFmt } = await import("./fmt.js");
      return runFmt({ files: positionals, check: Boolean(values.check) }, io);
    }
    case "lsp": {
      if (!values.stdio) throw new UsageError("lsp: the language server speaks over standard input and output; run 'tfmc lsp --stdio'");
      const { startServer } = await import("../lsp/server.js");
      // The server runs until the client closes the connection, then exits cleanly.
      await startServer();
      return 0;
    }
    case "explain": {
      const { runExplain } = await import("./explain.js");
      const attention = attentionOption(values.attention);
      return runExplain({ file: single(positionals, command), overrides: overridesFrom(values.set), ...(values.at ? { at: values.at } : {}), ...(attention ? { attention } : {}) }, io);
    }
  }
  throw new UsageError(`unknown command '${printable(command)}'`);
}

/**
 * Runs the CLI; never lets an exception escape as a stack trace. Everything printed goes through
 * guardedOutput, and one error prints at most MAX_MESSAGE_LINES lines.
 */
export async function main(argv: readonly string[], raw: Output = processOutput()): Promise<number> {
  const io = guardedOutput(raw);
  try {
    return await dispatch(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`tfmc: ${printableLines(e.message)}\n${commandUsage(argv[0]) ?? USAGE}`);
      return 2;
    }
    if (e instanceof UserError) {
      io.err(`tfmc: error: ${printableLines(e.message)}`);
      return 1;
    }
    if (e instanceof PassVerificationError && /^no pass is named/.test(e.message)) {
      io.err(`tfmc: ${printable(e.message, 1000)}`);
      return 2;
    }
    const kind = e instanceof InternalGraphError || e instanceof PassVerificationError ? "internal error TFM3001" : "internal error";
    io.err(`tfmc: ${kind}: ${printableLines((e as Error)?.message ?? String(e))}\nPlease report this with the input that caused it.`);
    return 3;
  }
}
