import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { RUNTIME_SPECIFIER } from "../codegen/module.js";
import type { EmittedFile } from "../codegen/emit.js";
import { UsageError, UserError } from "./io.js";

// By default a compiled module imports its runtime from a copy written beside it, so the module
// runs wherever its folder goes: in Node with no node_modules, in a browser page without an import
// map, and in module workers (which import maps never reach). The copy is tfmc's built runtime,
// file for file: the worker script is found relative to the copy's threads.js, no bundler is
// needed, the .d.ts files serve TypeScript, and models compiled into one folder share it.

/** The folder of the copy, inside the output folder. */
export const RUNTIME_DIR = "tfmc-runtime";

/** What `--runtime` chose: the specifier the module imports and whether the copy goes beside it. */
export interface RuntimeChoice {
  readonly specifier: string;
  readonly copy: boolean;
}

/** `--runtime copy` (the default), `--runtime package` (`tfmc/runtime`), or any other specifier as written. */
export function runtimeChoice(value: string | undefined): RuntimeChoice {
  if (value === undefined || value === "copy") return { specifier: `./${RUNTIME_DIR}/index.js`, copy: true };
  if (value === "package") return { specifier: RUNTIME_SPECIFIER, copy: false };
  if (value.trim() === "") throw new UsageError("--runtime takes copy, package or a module specifier");
  return { specifier: value, copy: false };
}

/** tfmc's built runtime: <package>/dist/runtime, found from this file in src/cli or dist/cli alike. */
function builtRuntime(): string {
  return fileURLToPath(new URL("../../dist/runtime/", import.meta.url));
}

/** Relative imports of a built runtime file: `from "./x.js"`, `import("./x.js")` and `new URL("./x.js", ...)`. */
function localImports(text: string): string[] {
  const found = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bnew URL\(\s*)"\.\/([A-Za-z0-9_]+\.js)"/g)].map((m) => m[1]);
  return [...new Set(found)];
}

/**
 * The files of the runtime copy, named under RUNTIME_DIR: every .js reachable from index.js (the
 * worker script included, which threads.js names by URL), each with its .d.ts, and a package.json
 * that marks them as ES modules wherever they land. Sorted by name, so the copy is the same bytes
 * on every compile.
 */
export function runtimeCopy(): EmittedFile[] {
  const dir = builtRuntime();
  if (!existsSync(join(dir, "index.js"))) throw new UserError(`tfmc's runtime is not built (no ${join(dir, "index.js")}); run npm run build in the tfmc folder`);
  const seen = new Set<string>();
  const files: EmittedFile[] = [];
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const read = (file: string) => {
      try {
        return readFileSync(join(dir, file), "utf8");
      } catch {
        throw new UserError(`tfmc's built runtime is incomplete: ${join(dir, file)} cannot be read; run npm run build in the tfmc folder`);
      }
    };
    const js = read(name);
    files.push({ name: `${RUNTIME_DIR}/${name}`, text: js });
    const dts = name.replace(/\.js$/, ".d.ts");
    files.push({ name: `${RUNTIME_DIR}/${dts}`, text: read(dts) });
    for (const next of localImports(js)) visit(next);
  };
  visit("index.js");
  files.push({ name: `${RUNTIME_DIR}/package.json`, text: '{ "type": "module" }\n' });
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
