import type * as prettier from "prettier";
import { formatModule } from "./format.js";
import type { IrGraph } from "../ir/graph.js";
import { emitDeclarations, emitModuleSource, RUNTIME_SPECIFIER, wasmFiles } from "./module.js";

export type EmitKind = "ts" | "js";

export interface EmittedFile {
  /** File name relative to the output folder. */
  readonly name: string;
  /** Text, or the bytes of a .wasm file. */
  readonly text: string | Uint8Array;
}

// Fixed options, so the output depends on tfmc's version alone and not on any prettier config
// file the user's project happens to have.
// A file path with a known extension also spares the TypeScript parser its guess whether the text
// is JSX: a regular expression run from every line start, superlinear in the module's length.
export const PRETTIER: prettier.Options = { printWidth: 100, semi: true, singleQuote: false, trailingComma: "all", endOfLine: "lf" };

/**
 * The formatted files of one model: `<name>.ts`, or `<name>.js` with `<name>.d.ts`; with `wasmFile`
 * (the wasm target), the WebAssembly kernels go to `<name>.wasm` and `<name>.shared.wasm` beside it.
 */
export async function emitModel(g: IrGraph, opts: { emit: EmitKind; runtime?: string; profile?: boolean; target?: "ts" | "wasm"; wasmFile?: boolean }): Promise<EmittedFile[]> {
  const runtime = opts.runtime ?? RUNTIME_SPECIFIER;
  const base = g.meta.name;
  const wasmFile = opts.target === "wasm" && Boolean(opts.wasmFile);
  const source = { runtime, profile: opts.profile ?? false, target: opts.target ?? "ts", wasmFile };
  const binaries = wasmFile ? wasmFiles(g) : [];
  if (opts.emit === "ts") {
    const text = await formatModule(emitModuleSource(g, { ...source, typed: true }), { ...PRETTIER, parser: "typescript", filepath: "model.ts" });
    return [{ name: `${base}.ts`, text }, ...binaries];
  }
  const js = await formatModule(emitModuleSource(g, { ...source, typed: false }), { ...PRETTIER, parser: "babel", filepath: "model.js" });
  const dts = await formatModule(emitDeclarations(g, runtime, wasmFile), { ...PRETTIER, parser: "typescript", filepath: "model.d.ts" });
  return [{ name: `${base}.js`, text: js }, { name: `${base}.d.ts`, text: dts }, ...binaries];
}
