import { chmodSync, chownSync, closeSync, copyFileSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { printable, UserError } from "./io.js";

/** Where a file is written: through a symbolic link to its target, keeping an existing file's mode and owner. */
interface Destination {
  readonly final: string;
  readonly existing?: { readonly mode: number; readonly uid: number; readonly gid: number };
}

function destination(path: string): Destination {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return { final: path };
  }
  let final = path;
  if (st.isSymbolicLink()) {
    try {
      final = realpathSync(path);
    } catch {
      throw new UserError(`cannot write ${printable(path)}: it is a symbolic link to a file that does not exist`);
    }
    st = statSync(final);
  }
  if (st.isDirectory()) throw new UserError(`cannot write ${printable(path)}: it is a directory`);
  return { final, existing: { mode: st.mode & 0o777, uid: st.uid, gid: st.gid } };
}

let tempCount = 0;
const tempBeside = (final: string, kind: string) => join(dirname(final), `.${basename(final)}.${process.pid}.${tempCount++}.${kind}`);

/**
 * Writes the files all or nothing. Each is written to a temporary file beside its destination
 * (through a symbolic link, beside the link's target), with the mode of the file it replaces; only
 * when every one is written are they renamed into place, the files they replace kept aside until
 * all renames succeed. On any failure the temporary files are removed and the previous files
 * restored, so a reader never sees a half-written file nor a mix of old and new ones. Names may
 * hold folders (`a/b.js`).
 */
/** A file's content: text (UTF-8), bytes, or bytes in parts written one after another, never joined. */
export type FileContent = string | Uint8Array | Iterable<Uint8Array>;

function writeContent(path: string, content: FileContent, mode?: number): void {
  if (typeof content === "string" || content instanceof Uint8Array) return writeFileSync(path, content, mode === undefined ? {} : { mode });
  const fd = openSync(path, "w", mode);
  try {
    for (const part of content) for (let at = 0; at < part.length; ) at += writeSync(fd, part, at);
  } finally {
    closeSync(fd);
  }
}

export function writeFilesAtomically(dir: string, files: readonly { name: string; text: FileContent }[]): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the output folder ${printable(dir)}: ${printable((e as Error).message)}`);
  }
  const destinations = files.map((f) => destination(join(dir, f.name)));
  const staged: { temp: string; final: string; backup?: string }[] = [];
  let renamed = 0;
  try {
    files.forEach((f, i) => {
      const { final, existing } = destinations[i];
      mkdirSync(dirname(final), { recursive: true });
      const temp = tempBeside(final, "tmp");
      // Created private, then given the replaced file's mode: never readable by more than it was.
      staged.push({ temp, final });
      writeContent(temp, f.text, existing ? 0o600 : undefined);
      if (existing) {
        chmodSync(temp, existing.mode);
        try {
          chownSync(temp, existing.uid, existing.gid);
        } catch {
          // Only the owner's own files, or root, can be given an owner; the mode is what matters.
        }
      }
    });
    staged.forEach((s, i) => {
      if (!destinations[i].existing) return;
      s.backup = tempBeside(s.final, "old");
      linkOrCopy(s.final, s.backup);
    });
    for (const s of staged) {
      renameSync(s.temp, s.final);
      renamed++;
    }
  } catch (e) {
    staged.forEach((s, i) => {
      if (i < renamed) {
        if (s.backup) renameSync(s.backup, s.final);
        else rmSync(s.final, { force: true });
      } else rmSync(s.temp, { force: true });
    });
    for (const s of staged) if (s.backup) rmSync(s.backup, { force: true });
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot write to ${printable(dir)}: ${printable((e as Error).message)}`);
  }
  for (const s of staged) if (s.backup) rmSync(s.backup, { force: true });
}

/** A second name for a file's content, to restore it from: a hard link, or a copy where links are not supported. */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
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
