import { watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { runCompile, type CompileOptions } from "./compile.js";
import { printable, UserError, type Output } from "./io.js";

/** How long a burst of file events settles before recompiling (editors write in several steps). */
const SETTLE_MS = 60;

/**
 * `tfmc compile --watch`: compiles, then again on every save of the .tfm file. Diagnostics print as
 * they come; a failed compile writes nothing, so the last good output stays. Runs until stopped
 * (Ctrl-C) or until `signal` aborts.
 */
export async function runWatch(opts: CompileOptions, io: Output, signal?: AbortSignal): Promise<number> {
  const compile = async (): Promise<void> => {
    try {
      const code = await runCompile(opts, io);
      io.err(code === 0 ? `watching ${printable(opts.file)} for changes` : `kept the last good output; watching ${printable(opts.file)} for changes`);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      io.err(`tfmc: error: ${e.message}; watching ${printable(opts.file)} for changes`);
    }
  };
  await compile();
  // The folder is watched, not the file: editors often save by writing a new file and renaming
  // it over the old one, which ends a watch on the file itself.
  const file = resolve(opts.file);
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  return new Promise<number>((done) => {
    const watcher = watch(dirname(file), (_event, name) => {
      if (name !== null && name.toString() !== basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(() => (running = running.then(compile)), SETTLE_MS);
    });
    const stop = () => {
      clearTimeout(timer);
      watcher.close();
      void running.then(() => done(0));
    };
    signal?.addEventListener("abort", stop, { once: true });
    if (!signal) process.once("SIGINT", stop);
  });
}
