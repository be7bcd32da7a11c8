import { basename, dirname } from "node:path";
import { formatSummary } from "../diagnostics/format.js";
import { formatTfm } from "../format/format.js";
import { printDiagnostics } from "./check.js";
import { writeFilesAtomically } from "./files.js";
import { printable, readSource, type Output } from "./io.js";

export interface FmtOptions {
  readonly files: readonly string[];
  /** Report files that would change and exit 1; write nothing. */
  readonly check: boolean;
}

/** `tfmc fmt`: rewrites each file in the canonical layout; a file with syntax errors is left alone. */
export function runFmt(opts: FmtOptions, io: Output): number {
  let failed = false;
  for (const path of opts.files) {
    const text = readSource(path);
    const result = formatTfm(text);
    if (!result.ok) {
      const diags = result.diagnostics.sorted();
      printDiagnostics(io, path, text, diags);
      io.err(`${printable(path)}: ${formatSummary(result.diagnostics.errorCount, diags.length - result.diagnostics.errorCount)}; not formatted`);
      failed = true;
      continue;
    }
    if (result.text === text) continue;
    if (opts.check) {
      io.err(`${printable(path)}: not formatted; run tfmc fmt ${printable(path)}`);
      failed = true;
      continue;
    }
    writeFilesAtomically(dirname(path), [{ name: basename(path), text: result.text }]);
    io.out(`formatted ${printable(path)}`);
  }
  return failed ? 1 : 0;
}
