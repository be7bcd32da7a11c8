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

/** At most this many candidate prefixes on each side: the options tried are every pair of them. */
const CANDIDATES = 8;

/**
 * The prefixes (ending in '.') that names most often start with, up to three parts deep and never
 * through a numbered part (`h.0.` is a layer, not a prefix), most frequent first. The start of one
 * name alone (`lm_head.`) is no prefix.
 */
function prefixesOf(names: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const name of names) {
    let depth = 0;
    for (let i = name.indexOf("."); i >= 0 && depth < 3; i = name.indexOf(".", i + 1), depth++) {
      const p = name.slice(0, i + 1);
      if (/(^|\.)\d+\.$/.test(p)) break;
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
  }
  return [...counts]
    .filter(([, n]) => n >= 2)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, CANDIDATES).map(([p]) => p);
}

interface Fit {
  readonly strip: string;
  readonly add: string;
  /** Parameters the file's entries become under these options. */
  readonly found: ReadonlySet<string>;
  readonly matched: number;
  /** The file's names (as it stores them) that become no parameter. */
  readonly unexpected: readonly string[];
}

function fit(params: ReadonlySet<string>, fileNames: readonly string[], strip: string, add: string): Fit {
  const rules = { strip, add, ignore: [] };
  const found = new Set<string>();
  const unexpected: string[] = [];
  for (const f of fileNames) {
    const name = renamed(rules, f);
    if (params.has(name)) found.add(name);
    else unexpected.push(f);
  }
  return { strip, add, found, matched: found.size, unexpected };
}

const optionCount = (f: { strip: string; add: string }) => (f.strip ? 1 : 0) + (f.add ? 1 : 0);

/** The prefix options as `createModel` takes them and as command-line flags. */
function spelled(f: { strip: string; add: string }): { api: string; cli: string } {
  const api = [f.strip ? `strip: ${JSON.stringify(f.strip)}` : "", f.add ? `add: ${JSON.stringify(f.add)}` : ""].filter(Boolean).join(", ");
  const cli = [f.strip ? `${CLI.strip} ${f.strip}` : "", f.add ? `${CLI.add} ${f.add}` : ""].filter(Boolean).join(" ");
  return { api: `prefix: { ${api} }`, cli };
}

const missing = (n: number) => (n === 1 ? "1 missing parameter is" : `${n} missing parameters are`);

/**
 * Which prefix options would make the file fit, and globs to ignore the entries left over, by the
 * file's own names. Every pair of candidate prefixes (and none) is tried on the file's names, and
 * the options that make the most parameters found win (fewest options on a tie, the ones given
 * first of all): following a hint gives no hint to change them again, and an entry that some
 * options would turn into a parameter is never offered to be ignored.
 */
export function weightHints(paramNames: readonly string[], fileNames: readonly string[], given: { strip: string; add: string }): string[] {
  const params = new Set(paramNames);
  const current = fit(params, fileNames, given.strip, given.add);
  let best = current;
  const strips = ["", ...prefixesOf(fileNames)];
  const adds = ["", ...prefixesOf(paramNames)];
  for (const strip of strips) {
    for (const add of adds) {
      const f = fit(params, fileNames, strip, add);
      const better =
        f.matched > best.matched ||
        (f.matched === best.matched && best !== current && (optionCount(f) < optionCount(best) || (optionCount(f) === optionCount(best) && f.unexpected.length < best.unexpected.length)));
      if (better) best = f;
    }
  }
  const hints: string[] = [];
  const gain = best.matched - current.matched;
  if (best !== current && gain > 0) {
    const { api, cli } = spelled(best);
    const hadOptions = optionCount(given) > 0;
    const instead = hadOptions ? " in place of the prefix options given" : "";
    if (!best.strip && !best.add) {
      hints.push(`${missing(gain)} in the file under their own names: drop the prefix options (${spelled(given).cli})`);
    } else if (!best.add) {
      const why = hadOptions ? `once the file's prefix '${best.strip}' is stripped` : `without the prefix '${best.strip}'`;
      hints.push(`${gain === 1 ? "1 unexpected name is a parameter" : `${gain} unexpected names are parameters`} ${why}: strip it with ${api}${instead} (${cli})`);
    } else if (!best.strip) {
      hints.push(`${missing(gain)} in the file without the prefix '${best.add}': add it with ${api}${instead} (${cli})`);
    } else {
      hints.push(`${missing(gain)} in the file with the prefix '${best.strip}' in place of '${best.add}': use ${api}${instead} (${cli})`);
    }
  }
  // An entry that other options would make a parameter is needed: never offered to be ignored.
  const elsewhere: string[] = [];
  const groups = new Map<string, string[]>();
  for (const u of best.unexpected) {
    const other = strips.flatMap((strip) => adds.map((add) => ({ strip, add }))).find((f) => {
      const name = renamed({ ...f, ignore: [] }, u);
      return params.has(name) && !best.found.has(name);
    });
    if (other) {
      if (elsewhere.length === 0) {
        const how = optionCount(other) === 0 ? "no prefix options" : spelled(other).cli;
        hints.push(`no one set of prefix options fits all of the file's names (they apply to every name): '${u}' is the parameter '${renamed({ ...other, ignore: [] }, u)}' only with ${how}`);
      }
      elsewhere.push(u);
      continue;
    }
    const g = layerGlob(u);
    const list = groups.get(g);
    if (list) list.push(u);
    else groups.set(g, [u]);
  }
  const shownGroups = [...groups].slice(0, 5);
  for (const [glob, names] of shownGroups) {
    const which = names.length === 1 ? `'${names[0]}'` : `${names.length} entries such as '${names[0]}'`;
    hints.push(`if the file's ${which} ${names.length === 1 ? "is" : "are"} not needed (a tied duplicate, a buffer), ignore ${names.length === 1 ? "it" : "them"} with ignore: [${JSON.stringify(glob)}] (${CLI.ignore} '${glob}')`);
  }
  if (groups.size > shownGroups.length) hints.push(`(${groups.size - shownGroups.length} more kinds of unexpected entries)`);
  return hints;
}
