import { Diagnostics } from "../../diagnostics/messages.js";
import type { ElaborationState, EvaluatedArgs } from "../elaborator.js";
import { describeValue } from "../values.js";

// `names = [...]` of ffn and attention: the projections' parameter names relative to the layer's
// label, each checked where it is written.

/**
 * Why `name` cannot be (part of) a parameter name, or undefined: PyTorch refuses an empty module
 * name, so no state_dict name has an empty part between dots (spaces and other characters it allows).
 */
export function nameProblem(name: string): string | undefined {
  if (name === "") return "an empty string";
  if (name.split(".").some((p) => p === "")) return `'${name}', which has an empty part between dots`;
  return undefined;
}

/**
 * `names = [...]`: a list of as many names as `defaults`, each a well-formed name in quotes and
 * distinct; the defaults when it is not given; undefined after a reported problem. `what` says
 * what the list is for ("layout = split", "a gated ffn (gate, up, down)").
 */
export function projectionNames(st: ElaborationState, a: EvaluatedArgs, defaults: readonly string[], what: string): readonly string[] | undefined {
  const v = a.get("names");
  if (v === undefined) return defaults;
  if (v.kind !== "list" || v.items.length !== defaults.length) {
    const example = `[${defaults.map((n) => JSON.stringify(n)).join(", ")}]`;
    st.error(Diagnostics.Expected_0_got_1, a.span("names"), [`a list of ${defaults.length} names for ${what}, such as ${example}`, describeValue(v)]);
    return undefined;
  }
  // An item that failed to evaluate (an unknown name) was reported where it is.
  if (v.items.some((x) => x.kind === "error")) return undefined;
  const expr = a.exprs.get("names");
  const itemSpan = (i: number) => (expr?.kind === "list" ? expr.items[i].span : a.span("names"));
  const names: string[] = [];
  for (const [i, x] of v.items.entries()) {
    const problem = x.kind === "string" ? nameProblem(x.value) : describeValue(x);
    if (x.kind !== "string" || problem) {
      st.error(Diagnostics.Expected_0_got_1, itemSpan(i), ["a name in quotes whose dot-separated parts are non-empty (such as \"self.query\")", problem!]);
      return undefined;
    }
    if (names.includes(x.value)) {
      st.error(Diagnostics.Value_0_must_be_1, itemSpan(i), ["'names'", `distinct names, got '${x.value}' twice`]);
      return undefined;
    }
    names.push(x.value);
  }
  return names;
}
