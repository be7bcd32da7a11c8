import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "./io.js";

/**
 * Writes each file through a temporary sibling and a rename, so a reader never sees a half-written
 * file and a failure leaves the previous output in place.
 */
export function writeFilesAtomically(dir: string, files: readonly { name: string; text: string | Uint8Array }[]): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the output folder ${dir}: ${(e as Error).message}`);
  }
  const staged: [string, string][] = [];
  try {
    for (const f of files) {
      const final = join(dir, f.name);
      const temp = join(dirname(final), `.${f.name}.${process.pid}.tmp`);
      writeFileSync(temp, f.text);
      staged.push([temp, final]);
    }
    for (const [temp, final] of staged) renameSync(temp, final);
  } catch (e) {
    for (const [temp] of staged) rmSync(temp, { force: true });
    throw new UserError(`cannot write to ${dir}: ${(e as Error).message}`);
  }
}

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${what} ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : "cannot be read"}`);
  }
}
