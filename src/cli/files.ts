import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { printable, UserError } from "./io.js";

/**
 * Writes each file through a temporary sibling and a rename, so a reader never sees a half-written
 * file and a failure leaves the previous output in place. Names may hold folders (`a/b.js`).
 */
export function writeFilesAtomically(dir: string, files: readonly { name: string; text: string | Uint8Array }[]): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the output folder ${printable(dir)}: ${printable((e as Error).message)}`);
  }
  const staged: [string, string][] = [];
  try {
    for (const f of files) {
      const final = join(dir, f.name);
      mkdirSync(dirname(final), { recursive: true });
      const temp = join(dirname(final), `.${basename(final)}.${process.pid}.tmp`);
      writeFileSync(temp, f.text);
      staged.push([temp, final]);
    }
    for (const [temp, final] of staged) renameSync(temp, final);
  } catch (e) {
    for (const [temp] of staged) rmSync(temp, { force: true });
    throw new UserError(`cannot write to ${printable(dir)}: ${printable((e as Error).message)}`);
  }
}

/** Whether the file at `path` holds exactly `content` (text as UTF-8). */
export function sameContent(path: string, content: string | Uint8Array): boolean {
  try {
    const have = readFileSync(path);
    return typeof content === "string" ? have.toString("utf8") === content : Buffer.compare(have, content) === 0;
  } catch {
    return false;
  }
}

export function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${what} ${printable(path)}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : "cannot be read"}`);
  }
}
