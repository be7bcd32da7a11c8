import { parseArgs } from "node:util";
import { parseOverride, type ConfigOverride } from "../semantics/overrides.js";
import { runCheck } from "./check.js";
import { processOutput, UsageError, UserError, type Output } from "./io.js";

const USAGE = `usage: tfmc <command> [options]

commands:
  check <file.tfm>... [--set k=v]... [--json]   check a model; print its outputs and parameter count

options:
  --set name=value   override a config value (repeatable)
  --json             machine-readable diagnostics
  -h, --help         show this help
  -v, --version      show the version`;

function overridesFrom(values: readonly string[] | undefined): ConfigOverride[] {
  return (values ?? []).map((s) => {
    const o = parseOverride(s);
    if (typeof o === "string") throw new UsageError(o);
    return o;
  });
}

function dispatch(argv: readonly string[], io: Output): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "-v" || command === "--version") {
    io.out("tfmc 0.1.0");
    return 0;
  }
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: [...rest],
        allowPositionals: true,
        strict: true,
        options: { set: { type: "string", multiple: true }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  })();
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  switch (command) {
    case "check":
      if (positionals.length === 0) throw new UsageError("check: give at least one .tfm file");
      return runCheck({ files: positionals, overrides: overridesFrom(values.set), json: Boolean(values.json) }, io);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** Runs the CLI; never lets an exception escape as a stack trace. */
export function main(argv: readonly string[], io: Output = processOutput()): number {
  try {
    return dispatch(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`tfmc: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof UserError) {
      io.err(`tfmc: error: ${e.message}`);
      return 1;
    }
    io.err(`tfmc: internal error: ${(e as Error)?.message ?? String(e)}\nPlease report this with the input that caused it.`);
    return 3;
  }
}
