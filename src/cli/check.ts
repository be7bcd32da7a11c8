import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { diagnosticToJson, formatDiagnostic, formatSummary } from "../diagnostics/format.js";
import { checkSource, parameterCount } from "../semantics/check.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import { isConst, formatDefault, formatType, type Dim, type TensorType } from "../semantics/types.js";
import { printable, readSource, UserError, type Output } from "./io.js";

export interface CheckOptions {
  readonly files: readonly string[];
  readonly overrides: readonly ConfigOverride[];
  readonly json: boolean;
  /** `--attention KIND`: every attention checked with this kernel, as run and compile would build it. */
  readonly attention?: string;
}

/** A shape for JSON: a number per fixed dimension, the symbol's name per symbolic one. */
const jsonShape = (shape: readonly (Dim | number)[]): (number | string)[] => shape.map((d) => (typeof d === "number" ? d : isConst(d) ? d.value : d.sym));
const jsonTensor = (name: string, t: TensorType) => ({ name, dtype: t.dtype, shape: jsonShape(t.shape), type: formatType(t) });

export function printDiagnostics(io: Output, path: string, text: string, diags: readonly Diagnostic[]): void {
  for (const d of diags) io.err(formatDiagnostic(d, printable(path), text, { color: io.color }) + "\n");
}

/** `tfmc check`: every diagnostic of each file, then a summary of outputs and parameters. */
export function runCheck(opts: CheckOptions, io: Output): number {
  let failed = false;
  const report: unknown[] = [];
  for (const path of opts.files) {
    let text: string;
    try {
      text = readSource(path);
    } catch (e) {
      // One unreadable file does not hide what the others have to say.
      if (!(e instanceof UserError)) throw e;
      failed = true;
      if (opts.json) report.push({ file: path, ok: false, error: e.message });
      else io.err(`tfmc: error: ${e.message}`);
      continue;
    }
    const { model, diagnostics } = checkSource(text, opts.overrides, opts.attention ? { attentionKernel: opts.attention } : {});
    const diags = diagnostics.sorted();
    const errors = diagnostics.errorCount;
    failed ||= errors > 0;
    if (opts.json) {
      report.push({
        file: path,
        ok: errors === 0,
        diagnostics: diags.map((d) => diagnosticToJson(d, path)),
        ...(model
          ? {
              model: model.name,
              symbols: model.symbols.map((x) => ({ name: x.name, ...(x.max !== undefined ? { max: x.max } : {}) })),
              inputs: model.inputs.map((i) => ({ ...jsonTensor(i.name, i.type), optional: i.optional, ...(i.default !== undefined ? { default: i.default } : {}) })),
              outputs: model.outputs.map((o) => jsonTensor(o.name, o.type)),
              parameters: parameterCount(model),
              parameterTensors: model.params.map((p) => ({ name: p.name, dtype: p.dtype, shape: [...p.shape] })),
            }
          : {}),
      });
      continue;
    }
    printDiagnostics(io, path, text, diags);
    if (errors > 0 || diags.length > 0) io.err(`${printable(path)}: ${formatSummary(errors, diags.length - errors)}`);
    if (model) {
      io.out(`${printable(path)}: model ${model.name} is well formed`);
      if (model.symbols.length > 0) io.out(`  symbols: ${model.symbols.map((x) => (x.max !== undefined ? `${x.name} <= ${x.max}` : x.name)).join(", ")}`);
      for (const i of model.inputs) io.out(`  input  ${i.name}${i.optional ? "?" : ""}: ${formatType(i.type)}${i.default !== undefined ? ` = ${formatDefault(i.type, i.default)}` : ""}`);
      for (const o of model.outputs) io.out(`  output ${o.name}: ${formatType(o.type)}`);
      io.out(`  parameters: ${parameterCount(model).toLocaleString("en-US")} in ${model.params.length} tensors`);
    }
  }
  if (opts.json) io.out(JSON.stringify(opts.files.length === 1 ? report[0] : report, null, 2));
  return failed ? 1 : 0;
}
