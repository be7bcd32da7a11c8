import * as prettier from "prettier";
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
const PRETTIER: prettier.Options = { printWidth: 100, semi: true, singleQuote: false, trailingComma: "all", endOfLine: "lf" };

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
    const text = await prettier.format(emitModuleSource(g, { ...source, typed: true }), { ...PRETTIER, parser: "typescript" });
    return [{ name: `${base}.ts`, text }, ...binaries];
  }
  const js = await prettier.format(emitModuleSource(g, { ...source, typed: false }), { ...PRETTIER, parser: "babel" });
  const dts = await prettier.format(emitDeclarations(g, runtime, wasmFile), { ...PRETTIER, parser: "typescript" });
  return [{ name: `${base}.js`, text: js }, { name: `${base}.d.ts`, text: dts }, ...binaries];
}
