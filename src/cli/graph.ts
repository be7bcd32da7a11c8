import { basename, dirname, extname } from "node:path";
import type { ConfigOverride } from "../semantics/overrides.js";
import { toDot, toDotDiff } from "../viz/dot.js";
import { toMermaid } from "../viz/mermaid.js";
import { renderSvg as renderGraphviz, toHtml } from "../viz/render.js";
import { vizFromIr, vizFromSource, type Stage, type VizGraph } from "../viz/vizGraph.js";
import { buildReported } from "./buildReported.js";
import { writeFilesAtomically } from "./files.js";
import { printable, UsageError, UserError, type Output } from "./io.js";

export type GraphFormat = "svg" | "dot" | "mermaid" | "html";

/** The formats, and the file extensions that name each. */
const EXTENSIONS: Readonly<Record<GraphFormat, readonly string[]>> = { svg: [".svg"], dot: [".dot", ".gv"], mermaid: [".mmd"], html: [".html"] };
const FORMATS = Object.keys(EXTENSIONS) as GraphFormat[];
const listed = FORMATS.map((f) => `${f} (${EXTENSIONS[f].join(", ")})`).join(", ");

/**
 * The format to draw in: `--format` if given, else the one `-o`'s extension names, else DOT on
 * standard output. An extension that names no format (`x.png`) is refused unless `--format` is
 * given; one that names another format than `--format` is refused too.
 */
export function graphFormat(format: string | undefined, out: string | undefined): GraphFormat {
  if (format !== undefined && !FORMATS.includes(format as GraphFormat)) throw new UsageError(`graph: --format takes ${FORMATS.join(", ")}, got '${printable(format)}'`);
  const ext = out === undefined ? undefined : extname(out).toLowerCase();
  const named = ext === undefined ? undefined : FORMATS.find((f) => EXTENSIONS[f].includes(ext));
  if (format !== undefined) {
    if (named !== undefined && named !== format) throw new UsageError(`graph: -o ${printable(out!)} names a ${named} file, but --format is ${format}`);
    return format as GraphFormat;
  }
  if (out === undefined) return "dot";
  if (named === undefined) {
    const what = ext ? `'${printable(ext)}' is no format tfmc writes` : "a name without an extension gives no format";
    throw new UsageError(`graph: -o ${printable(out)}: ${what}; it writes ${listed}: end the name with one of these, or give --format`);
  }
  return named;
}

export interface GraphOptions {
  readonly file: string;
  readonly overrides: readonly ConfigOverride[];
  readonly stage: Stage;
  readonly format: GraphFormat;
  readonly diff: boolean;
  readonly out?: string;
  /** `--attention KIND`: every attention drawn with this kernel, as run and compile would build it. */
  readonly attention?: string;
}

/** `tfmc graph`: the model drawn as written, as lowered or as optimised (or the first and last side by side). */
export async function runGraph(opts: GraphOptions, io: Output): Promise<number> {
  const reported = buildReported(opts.file, opts.overrides, { level: 2, ...(opts.attention ? { attentionKernel: opts.attention } : {}) }, io);
  if (!reported) return 1;
  const { text, built } = reported;
  const stageGraph = (s: Stage): VizGraph => (s === "source" ? vizFromSource(built.model!, text) : vizFromIr(s === "lowered" ? built.lowered! : built.graph!, text));
  const graphs = opts.diff ? [stageGraph("source"), stageGraph("optimized")] : [stageGraph(opts.stage)];
  if (opts.diff && opts.format === "mermaid") throw new UsageError("graph: --diff draws with Graphviz; use --format dot, svg or html");
  const dot = opts.diff ? toDotDiff(graphs[0], graphs[1]) : toDot(graphs[0]);
  const nodes = graphs.reduce((n, g) => n + g.nodes.length, 0);
  // Graphviz (WebAssembly) can run out of its memory on a large or tangled graph: say so, not "internal error".
  const renderSvg = async (d: string): Promise<string> => {
    try {
      return await renderGraphviz(d);
    } catch (e) {
      throw new UserError(`graph: Graphviz could not lay out this graph of ${nodes} nodes (${printable((e as Error)?.message ?? String(e))}); --format dot or mermaid writes it without a layout`);
    }
  };
  let output: string;
  switch (opts.format) {
    case "dot":
      output = dot;
      break;
    case "mermaid":
      output = toMermaid(graphs[0]);
      break;
    case "svg":
      output = await renderSvg(dot);
      break;
    case "html":
      output = toHtml(await renderSvg(dot), graphs, opts.diff ? ["a_", "b_"] : [""]);
      break;
  }
  if (opts.out === undefined) {
    if (opts.format === "svg" || opts.format === "html") throw new UsageError(`graph: --format ${opts.format} needs -o <file>`);
    io.out(output.replace(/\n$/, ""));
    return 0;
  }
  writeFilesAtomically(dirname(opts.out), [{ name: basename(opts.out), text: output }]);
  io.out(`wrote ${printable(opts.out)}`);
  return 0;
}
