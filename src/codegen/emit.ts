import * as prettier from "prettier";
import type { IrGraph } from "../ir/graph.js";
import { emitDeclarations, emitModuleSource, RUNTIME_SPECIFIER } from "./module.js";

export type EmitKind = "ts" | "js";

export interface EmittedFile {
  /** File name relative to the output folder. */
  readonly name: string;
  readonly text: string;
}

// Fixed options, so the output depends on tfmc's version alone and not on any prettier config
// file the user's project happens to have.
const PRETTIER: prettier.Options = { printWidth: 100, semi: true, singleQuote: false, trailingComma: "all", endOfLine: "lf" };

/** The formatted files of one model: `<name>.ts`, or `<name>.js` with `<name>.d.ts`. */
export async function emitModel(g: IrGraph, opts: { emit: EmitKind; runtime?: string; profile?: boolean; target?: "ts" | "wasm" }): Promise<EmittedFile[]> {
  const runtime = opts.runtime ?? RUNTIME_SPECIFIER;
  const base = g.meta.name;
  if (opts.emit === "ts") {
    const text = await prettier.format(emitModuleSource(g, { runtime, typed: true, profile: opts.profile ?? false, target: opts.target ?? "ts" }), { ...PRETTIER, parser: "typescript" });
    return [{ name: `${base}.ts`, text }];
  }
  const js = await prettier.format(emitModuleSource(g, { runtime, typed: false, profile: opts.profile ?? false, target: opts.target ?? "ts" }), { ...PRETTIER, parser: "babel" });
  const dts = await prettier.format(emitDeclarations(g, runtime), { ...PRETTIER, parser: "typescript" });
  return [
    { name: `${base}.js`, text: js },
    { name: `${base}.d.ts`, text: dts },
  ];
}
