import { readFileSync } from "node:fs";

/** Thrown for command-line misuse: printed without a stack, exit code 2. */
export class UsageError extends Error {}

/** Thrown for a problem with a file or the environment: printed without a stack, exit code 1. */
export class UserError extends Error {}

export function readSource(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : "cannot be read";
    throw new UserError(`${path}: ${why}`);
  }
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** Text to standard output as it is, no line break added (streamed generation); optional. */
  write?(text: string): void;
  readonly color: boolean;
}

/** A closed pipe (`tfmc explain ... | head`) ends the output quietly instead of with a stack trace. */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

export const processOutput = (): Output => {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  return {
    out: (l) => process.stdout.write(l + "\n"),
    write: (text) => process.stdout.write(text),
    err: (l) => process.stderr.write(l + "\n"),
    color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
  };
};
