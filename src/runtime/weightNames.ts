/**
 * How a checkpoint's entry names become the model's parameter names: the `prefix` and `ignore`
 * options of `createModel`, and the hints a WeightsError gives when an option would help.
 *
 * - `prefix.strip` is removed from every name that starts with it; then `prefix.add` is put in
 *   front of every name. A `strip` that no name starts with is reported as a problem.
 * - `ignore` leaves entries unread, matched against the names as the file stores them (before
 *   any prefix change). A string is a glob: `*` matches any run of characters within one
 *   dot-separated part (`h.*.attn.bias`), `**` any run including dots (`**.attn.bias`); every
 *   other character stands for itself. A RegExp is searched for as written (anchor it yourself).
 *   A pattern that matches no entry is reported as a problem: it is most likely a typo.
 */
import { RuntimeMessages as M, TfmcRuntimeError } from "./errors.js";

/** The options `createModel` takes for reading weights. */
export interface WeightsOptions {
  readonly prefix?: { readonly strip?: string; readonly add?: string };
  readonly ignore?: readonly (string | RegExp)[];
}

interface Pattern {
  readonly text: string;
  readonly re: RegExp;
}

export interface NameRules {
  readonly strip: string;
  readonly add: string;
  readonly ignore: readonly Pattern[];
}

const OPTION_KEYS = ["prefix", "ignore"];
const shown = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : v instanceof RegExp ? String(v) : typeof v === "object" && v !== null ? (Array.isArray(v) ? "an array" : "an object") : String(v));
const bad = (what: string): never => {
  throw new TfmcRuntimeError(M.Weights_options_0, [what]);
};

/** A glob as a RegExp anchored at both ends: `**` is `.*`, `*` is `[^.]*`. */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === "*") {
      if (glob[i + 1] === "*") {
        out += ".*";
        i++;
      } else out += "[^.]*";
    } else out += glob[i].replace(/[\\^$.|?+()[\]{}\/-]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "su");
}

/** Checks the options (unknown keys and wrong types are refused) and compiles the patterns. */
export function nameRules(options: unknown, otherKeys: readonly string[] = []): NameRules {
  if (options === undefined || options === null) return { strip: "", add: "", ignore: [] };
  if (typeof options !== "object" || Array.isArray(options)) return bad(`options must be an object such as { ignore: ["lm_head.weight"] }, not ${shown(options)}`);
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.includes(k) && !otherKeys.includes(k)) bad(`unknown option '${k}' (the options are ${[...OPTION_KEYS, ...otherKeys].join(", ")})`);
  }
  const o = options as { prefix?: unknown; ignore?: unknown };
  let strip = "";
  let add = "";
  if (o.prefix !== undefined) {
    if (typeof o.prefix !== "object" || o.prefix === null || Array.isArray(o.prefix)) bad(`prefix must be an object such as { strip: "transformer." }, not ${shown(o.prefix)}`);
    const p = o.prefix as Record<string, unknown>;
    for (const k of Object.keys(p)) if (k !== "strip" && k !== "add") bad(`unknown prefix option '${k}' (strip or add)`);
    for (const k of ["strip", "add"] as const) {
      const v = p[k];
      if (v !== undefined && (typeof v !== "string" || v === "")) bad(`prefix.${k} must be a non-empty string, not ${shown(v)}`);
    }
    strip = (p.strip as string | undefined) ?? "";
    add = (p.add as string | undefined) ?? "";
  }
  const ignore: Pattern[] = [];
  if (o.ignore !== undefined) {
    if (!Array.isArray(o.ignore)) bad(`ignore must be an array of globs or RegExps, not ${shown(o.ignore)}`);
    for (const p of o.ignore as unknown[]) {
      if (p instanceof RegExp) ignore.push({ text: String(p), re: new RegExp(p.source, p.flags.replace(/[gy]/g, "")) });
      else if (typeof p === "string" && p !== "") ignore.push({ text: p, re: globToRegExp(p) });
      else bad(`each ignore pattern must be a non-empty glob string or a RegExp, not ${shown(p)}`);
    }
  }
  return { strip, add, ignore };
}

export const renamed = (rules: NameRules, name: string): string => rules.add + (rules.strip && name.startsWith(rules.strip) ? name.slice(rules.strip.length) : name);

/** The entry's name with every part that is a number replaced by `*`: one pattern for every layer. */
const layerGlob = (name: string): string => name.split(".").map((p) => (/^\d+$/.test(p) ? "*" : p)).join(".");

const CLI = { strip: "--weights-prefix-strip", add: "--weights-prefix-add", ignore: "--weights-ignore" } as const;

/** The most frequent prefix (ending in '.') that turns one list's names into the other's, and the names it explains. */
function bestPrefix(longer: readonly string[], shorter: ReadonlySet<string>): { prefix: string; names: string[] } | undefined {
  const found = new Map<string, string[]>();
  for (const name of longer) {
    for (let i = name.indexOf("."); i >= 0; i = name.indexOf(".", i + 1)) {
      if (shorter.has(name.slice(i + 1))) {
        const p = name.slice(0, i + 1);
        const list = found.get(p);
        if (list) list.push(name);
        else found.set(p, [name]);
      }
    }
  }
  let best: { prefix: string; names: string[] } | undefined;
  for (const [prefix, names] of found) if (!best || names.length > best.names.length || (names.length === best.names.length && prefix < best.prefix)) best = { prefix, names };
  return best;
}

/**
 * Which option would make the file fit: a prefix to strip (unexpected names that are parameters
 * without it) or to add (missing parameters the file holds without it), and globs to ignore the
 * entries left over, by the file's own names.
 */
export function weightHints(missing: readonly string[], unexpected: readonly { name: string; original: string }[]): string[] {
  const hints: string[] = [];
  const explained = new Set<string>();
  const byName = bestPrefix(
    unexpected.map((u) => u.name),
    new Set(missing),
  );
  // With prefix options that did not fit ('bert' for 'bert.'), the prefix of the file's own names.
  const renamedAny = unexpected.some((u) => u.name !== u.original);
  const byFile = renamedAny ? bestPrefix(unexpected.map((u) => u.original), new Set(missing)) : undefined;
  const fromFile = byFile !== undefined && (!byName || byFile.names.length >= byName.names.length);
  const strip = fromFile ? { prefix: byFile.prefix, names: unexpected.filter((u) => byFile.names.includes(u.original)).map((u) => u.name) } : byName;
  const add = bestPrefix(missing, new Set(unexpected.map((u) => u.name)));
  if (strip && (!add || strip.names.length >= add.names.length)) {
    const how = `strip it with prefix: { strip: ${JSON.stringify(strip.prefix)} }${fromFile ? " in place of the prefix options given" : ""} (${CLI.strip} ${strip.prefix})`;
    hints.push(`${strip.names.length} unexpected names are parameters ${fromFile ? `once the file's prefix '${strip.prefix}' is stripped` : `without the prefix '${strip.prefix}'`}: ${how}`);
    for (const n of strip.names) explained.add(n);
  } else if (add) {
    hints.push(`${add.names.length} missing parameters are in the file without the prefix '${add.prefix}': add it with prefix: { add: ${JSON.stringify(add.prefix)} } (${CLI.add} ${add.prefix})`);
    for (const n of add.names) explained.add(n.slice(add.prefix.length));
  }
  const groups = new Map<string, string[]>();
  for (const u of unexpected) {
    if (explained.has(u.name)) continue;
    const g = layerGlob(u.original);
    const list = groups.get(g);
    if (list) list.push(u.original);
    else groups.set(g, [u.original]);
  }
  const shownGroups = [...groups].slice(0, 5);
  for (const [glob, names] of shownGroups) {
    const which = names.length === 1 ? `'${names[0]}'` : `${names.length} entries such as '${names[0]}'`;
    hints.push(`if the file's ${which} ${names.length === 1 ? "is" : "are"} not needed (a tied duplicate, a buffer), ignore ${names.length === 1 ? "it" : "them"} with ignore: [${JSON.stringify(glob)}] (${CLI.ignore} '${glob}')`);
  }
  if (groups.size > shownGroups.length) hints.push(`(${groups.size - shownGroups.length} more kinds of unexpected entries)`);
  return hints;
}
