import { closeSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ExportError } from "../export/context.js";
import { exportOnnxParts, OPSETS } from "../export/exportGraph.js";
import { loadedWeights, randomWeightStream, type WeightStream } from "../export/weights.js";
import { TfmcRuntimeError } from "../runtime/errors.js";
import { loadWeights } from "../runtime/weights.js";
import type { ConfigOverride } from "../semantics/overrides.js";
import type { DType } from "../semantics/types.js";
import { buildReported } from "./buildReported.js";
import { writeFilesAtomically } from "./files.js";
import { printable, printableLines, UserError, type Output } from "./io.js";
import type { BuildOptions } from "./pipeline.js";
import { readWeights, type WeightsFlags } from "./weightsFlags.js";

export interface ExportCliOptions {
  readonly file: string;
  readonly out: string;
  readonly overrides: readonly ConfigOverride[];
  readonly weights?: WeightsFlags;
  readonly seed: number;
  readonly opset: number;
  readonly without: readonly string[];
  readonly externalData: boolean;
  readonly withPast: boolean;
  /** Keep int32 inputs int32 (by default they are int64 graph inputs, as PyTorch's ids are). */
  readonly keepDtypes: boolean;
  readonly inputDtypes: Readonly<Record<string, DType>>;
  readonly build?: BuildOptions;
}

/** `--input-dtype NAME=DTYPE` values, by input name; or a sentence saying what is wrong. */
export function parseInputDtypes(values: readonly string[] | undefined): Record<string, DType> | string {
  const out: Record<string, DType> = {};
  for (const v of values ?? []) {
    const m = /^([^=]+)=(f32|i32|i64|bool)$/.exec(v);
    if (!m) return `export: --input-dtype takes NAME=DTYPE with DTYPE f32, i32, i64 or bool, got '${printable(v)}'`;
    out[m[1]] = m[2] as DType;
  }
  return out;
}

/** The opset flag's value: an integer the export can write. */
export function parseOpset(value: string | undefined): number | string {
  if (value === undefined) return OPSETS.default;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < OPSETS.min || n > OPSETS.max) return `export: --opset takes an integer from ${OPSETS.min} to ${OPSETS.max}, got '${printable(value)}'`;
  return n;
}

/**
 * `tfmc export`: the model after lowering and clean-up as ONNX. The model file (and the external
 * data file) are written beside their destinations and renamed into place only when complete.
 */
export async function runExport(opts: ExportCliOptions, io: Output): Promise<number> {
  // Lowering and clean-up only: the fused kernels are tfmc's; onnxruntime fuses for itself.
  const reported = buildReported(opts.file, opts.overrides, { ...opts.build, level: 1 }, io);
  if (!reported) return 1;
  const { built } = reported;
  const g = built.graph;
  let weights: WeightStream;
  if (opts.weights) {
    try {
      weights = loadedWeights(g.meta.params, loadWeights(g.meta.params, readWeights(opts.weights.path), opts.weights.options));
    } catch (e) {
      if (e instanceof TfmcRuntimeError) {
        io.err(`tfmc: error ${e.code}: ${printableLines(e.message)}`);
        return 1;
      }
      throw e;
    }
  } else weights = randomWeightStream(g.meta.params, opts.seed);

  const dataName = `${basename(opts.out)}.data`;
  const dataTemp = join(dirname(opts.out), `.${dataName}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    let model: Iterable<Uint8Array>;
    try {
      if (opts.externalData) fd = openSync(dataTemp, "w");
      const sink = fd === undefined ? undefined : { write: (b: Uint8Array) => void writeSync(fd!, b) };
      model = exportOnnxParts(g, {
        opset: opts.opset,
        without: opts.without,
        weights,
        file: opts.file,
        producerVersion: "0.1.0",
        withPast: opts.withPast,
        int64Ids: !opts.keepDtypes,
        inputDtypes: opts.inputDtypes,
        ...(sink ? { external: { location: dataName, sink } } : {}),
      }).parts;
    } catch (e) {
      if (e instanceof ExportError) throw new UserError(`${e.span ? `${printable(opts.file)}:${e.span.line}:${e.span.col}: ` : ""}${e.message}`);
      if ((e as NodeJS.ErrnoException).code !== undefined) throw new UserError(`cannot write ${printable(dataTemp)}: ${printable((e as Error).message)}`);
      throw e;
    }
    if (fd !== undefined) {
      closeSync(fd);
      fd = undefined;
      renameSync(dataTemp, join(dirname(opts.out), dataName));
    }
    writeFilesAtomically(dirname(opts.out), [{ name: basename(opts.out), text: model }]);
    io.out(`wrote ${printable(opts.out)}${opts.externalData ? ` and ${printable(dataName)} beside it` : ""} (opset ${opts.opset}${opts.withPast ? ", with past keys and values" : ""})`);
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
    rmSync(dataTemp, { force: true });
  }
}
