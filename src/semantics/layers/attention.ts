import { Diagnostics } from "../../diagnostics/messages.js";
import { broadcastsTo } from "../shapes.js";
import { dimEquals, formatShape, isConst, type Dim } from "../types.js";
import { ERROR, describeValue, type TensorValue } from "../values.js";
import type { ElaborationState, EvaluatedArgs, LayerDef } from "../elaborator.js";
import { projectionNames } from "./names.js";
import { rotaryAttrs } from "./rotary.js";

export const ATTENTION_KERNELS = ["softmax", "linear", "performer", "linformer", "local"] as const;
export const QKV_LAYOUTS = ["packed", "separate", "split", "conv1d"] as const;

/** The projections' names relative to the attention's label, for the layouts that take `names`. */
const DEFAULT_NAMES: Readonly<Record<string, readonly string[]>> = {
  split: ["q_proj", "k_proj", "v_proj", "out_proj"],
  conv1d: ["c_attn", "c_proj"],
};

/**
 * Mask keywords. Each states its polarity, so a boolean tensor never reaches attention without
 * saying whether `true` means "attend" or "blocked".
 */
const MASKS = {
  block: { dtype: "bool", keys: false, meaning: "true = blocked" },
  keep: { dtype: "bool", keys: false, meaning: "true = attend" },
  bias: { dtype: "f32", keys: false, meaning: "added to the scores" },
  block_keys: { dtype: "bool", keys: true, meaning: "true = padding, ignored" },
  keep_keys: { dtype: "bool", keys: true, meaning: "true = attend" },
  bias_keys: { dtype: "f32", keys: true, meaning: "added to the scores" },
} as const;
type MaskName = keyof typeof MASKS;
const MASK_NAMES = Object.keys(MASKS) as MaskName[];

export const attention: LayerDef = {
  doc: "Multi-head attention as nn.MultiheadAttention (batch first). Self-attention by default; `memory`, or `key` and `value`, for cross-attention.",
  args: [
    { name: "query", kind: "tensor", required: true },
    { name: "heads", kind: "int", required: true },
    { name: "key", kind: "tensor", keywordOnly: true },
    { name: "value", kind: "tensor", keywordOnly: true },
    { name: "memory", kind: "tensor", keywordOnly: true },
    { name: "causal", kind: "bool", keywordOnly: true },
    ...MASK_NAMES.map((name) => ({ name, kind: "mask" as const, keywordOnly: true })),
    { name: "kernel", kind: "choice", choices: ATTENTION_KERNELS, keywordOnly: true },
    { name: "scale", kind: "number", keywordOnly: true },
    { name: "layout", kind: "choice", choices: QKV_LAYOUTS, keywordOnly: true },
    { name: "proj_bias", kind: "bool", keywordOnly: true },
    { name: "dropout", kind: "number", keywordOnly: true },
    { name: "window", kind: "int", keywordOnly: true },
    { name: "features", kind: "int", keywordOnly: true },
    { name: "k", kind: "int", keywordOnly: true },
    { name: "rotary", kind: "rotary", keywordOnly: true },
    { name: "kv_heads", kind: "int", keywordOnly: true },
    { name: "names", kind: "any", keywordOnly: true },
  ],
  elaborate(st, a, site) {
    const q = a.tensor("query");
    if (!q || a.anyError()) return ERROR;
    if (!st.expectDtype(q, ["f32"], a.span("query")) || !st.expectRank(q, [3], a.span("query"), "query")) return ERROR;
    const [B, L] = q.type.shape;
    const E = st.lastDimConst(q, a.span("query"), "query");
    const heads = st.asPositiveInt(a.get("heads")!, a.span("heads"), "the number of heads");
    if (E === undefined || heads === undefined) return ERROR;
    if (E % heads !== 0) return st.error(Diagnostics.Dim_0_not_divisible_by_heads_1, a.span("heads"), [E, heads]);

    // Keys and values: self-attention, `memory` for both, or `key` and `value` apart.
    if (a.has("memory") && (a.has("key") || a.has("value"))) {
      return st.error(Diagnostics.Argument_0_given_twice, a.span("memory"), ["memory (it sets both key and value)"]);
    }
    const k = a.tensor("memory") ?? a.tensor("key") ?? q;
    const v = a.tensor("memory") ?? a.tensor("value") ?? (a.has("key") ? k : q);
    const kName = a.has("memory") ? "memory" : "key";
    const vName = a.has("memory") ? "memory" : "value";
    for (const [t, name] of [[k, kName], [v, vName]] as const) {
      if (t === q) continue;
      if (!st.expectDtype(t, ["f32"], a.span(name)) || !st.expectRank(t, [3], a.span(name), name)) return ERROR;
      if (!dimEquals(t.type.shape[0], B)) {
        return st.error(Diagnostics.Shape_0_expected_1_for_2, a.span(name), [formatShape(t.type.shape), `batch ${isConst(B) ? B.value : B.sym} as the query's`, name]);
      }
    }
    const S = k.type.shape[1];
    if (!dimEquals(S, v.type.shape[1])) return st.error(Diagnostics.Key_value_length_0_1, a.span(vName), [fmt(S), fmt(v.type.shape[1])]);
    const layout = a.choice("layout", "packed");
    const kdim = st.lastDimConst(k, a.span(kName), kName);
    const vdim = st.lastDimConst(v, a.span(vName), vName);
    if (kdim === undefined || vdim === undefined) return ERROR;
    if ((layout === "packed" || layout === "conv1d") && (kdim !== E || vdim !== E)) {
      const [name, d] = kdim !== E ? [kName, kdim] : [vName, vdim];
      return st.error(Diagnostics.Inner_dims_0_and_1, a.span(name), [`${name} width ${d}`, `query width ${E} (the ${layout} layout needs equal widths; use layout = separate)`]);
    }
    // Grouped-query attention: kv_heads key/value heads, each shared by heads / kv_heads query heads.
    const kvHeads = a.has("kv_heads") ? st.asPositiveInt(a.get("kv_heads")!, a.span("kv_heads"), "the number of key/value heads") : heads;
    if (kvHeads === undefined) return ERROR;
    if (heads % kvHeads !== 0) return st.error(Diagnostics.Value_0_must_be_1, a.span("kv_heads"), ["kv_heads", `a divisor of heads = ${heads} (each key/value head serves heads / kv_heads query heads), got ${kvHeads}`]);
    const names = attentionNames(st, a, layout);
    if (!names) return ERROR;

    // Masks: dtype per keyword, shape against [B, heads, L, S] or [B, S] for key masks.
    const masks: Record<string, number> = {};
    for (const m of MASK_NAMES) {
      const mv = a.get(m);
      if (!mv) continue;
      const wanted = MASKS[m].dtype === "f32" ? "an f32 tensor" : "a bool tensor";
      if (mv.kind !== "tensor") return st.error(Diagnostics.Mask_0_must_be_1_got_2, a.span(m), [m, wanted, describeValue(mv)]);
      if (mv.type.dtype !== MASKS[m].dtype) {
        const hint = mv.type.dtype === "bool" ? "a boolean mask goes through block/keep (or block_keys/keep_keys), which state its polarity" : undefined;
        return st.error(Diagnostics.Mask_0_must_be_1_got_2, a.span(m), [m, wanted, describeValue(mv)], hint ? { hint } : {});
      }
      if (!maskShapeFits(mv, MASKS[m].keys, B, heads, L, S)) {
        const expected = MASKS[m].keys ? `[${fmt(B)}, ${fmt(S)}]` : `[${fmt(L)}, ${fmt(S)}], [${fmt(B)}, ${fmt(L)}, ${fmt(S)}] or [${fmt(B)}, ${heads}, ${fmt(L)}, ${fmt(S)}]`;
        return st.error(Diagnostics.Mask_0_shape_1_expected_2, a.span(m), [m, formatShape(mv.type.shape), expected]);
      }
      masks[m] = mv.node;
    }
    const causal = a.bool("causal", false);

    // Kernel preconditions, checked here so a misuse never reaches run time.
    const kernel = st.attentionKernel ?? a.choice("kernel", "softmax");
    // Feature-map kernels can drop keys (block_keys, keep_keys) but not reshape scores.
    const arbitrary = (["block", "keep", "bias", "bias_keys"] as const).find((m) => masks[m] !== undefined);
    if ((kernel === "linear" || kernel === "performer" || kernel === "linformer") && arbitrary) {
      return st.error(Diagnostics.Kernel_0_cannot_honour_1, a.span(arbitrary), [kernel, `the mask '${arbitrary}' (only causal, block_keys and keep_keys)`]);
    }
    if (kernel === "linformer" && causal) return st.error(Diagnostics.Kernel_0_cannot_honour_1, a.span("causal"), [kernel, "causal masking"]);
    if (kernel === "linformer") {
      const maxS = isConst(S) ? S.value : st.symbols.get(S.sym)?.max;
      if (maxS === undefined) return st.error(Diagnostics.Kernel_0_cannot_honour_1, a.span("kernel"), [kernel, `a key length '${fmt(S)}' with no maximum (add 'where ${fmt(S)} <= ...')`]);
      if (!a.has("k")) return st.error(Diagnostics.Missing_argument_0_for_1, a.span("kernel"), ["k", "linformer attention"]);
    }
    if (kernel === "local" && !a.has("window")) return st.error(Diagnostics.Missing_argument_0_for_1, a.span("kernel"), ["window", "local attention"]);
    if (kernel !== "softmax" && kvHeads !== heads) return st.error(Diagnostics.Kernel_0_cannot_honour_1, a.span("kv_heads"), [kernel, `grouped keys and values (kv_heads = ${kvHeads} of ${heads} heads; only kernel = softmax)`]);
    for (const opt of ["window", "features", "k"] as const) {
      if (a.has(opt) && st.asPositiveInt(a.get(opt)!, a.span(opt), opt) === undefined) return ERROR;
    }
    const scale = a.number("scale", 1 / Math.sqrt(E / heads));
    const rv = a.get("rotary");
    const rotary = rv?.kind === "rotary" ? rotaryAttrs(st, rv, E / heads, a.span("rotary"), a.span("rotary")) : undefined;
    if (rv?.kind === "rotary" && !rotary) return ERROR;

    const params = declareProjections(st, { layout, names, E, Ekv: kvHeads * (E / heads), kdim, vdim, bias: a.bool("proj_bias", true) }, a.span("query"));
    if (kernel === "linformer") {
      const maxS = isConst(S) ? S.value : st.symbols.get(S.sym)!.max!;
      const kp = a.number("k", 1);
      params.proj_k = st.addParam("proj_k", [kp, maxS], site.span);
      params.proj_v = st.addParam("proj_v", [kp, maxS], site.span);
    }
    const attrs = {
      heads,
      kv_heads: kvHeads,
      embed: E,
      kdim,
      vdim,
      causal,
      kernel,
      scale,
      layout,
      window: a.has("window") ? a.number("window", 0) : null,
      features: kernel === "performer" ? a.number("features", 256) : null,
      k: kernel === "linformer" ? a.number("k", 1) : null,
      cross: k !== q || v !== q,
      rotary_dim: rotary?.dim ?? null,
      rotary_theta: rotary?.theta ?? null,
      rotary_interleaved: rotary?.interleaved ?? null,
    };
    const inputs: Record<string, number> = { query: q.node, key: k.node, value: v.node, ...masks };
    return st.addNode("attention", inputs, attrs, params, { dtype: "f32", shape: [B, L, { value: E }] }, site.span);
  },
};

const fmt = (d: Dim): string => (isConst(d) ? String(d.value) : d.sym);

function maskShapeFits(m: TensorValue, keys: boolean, B: Dim, heads: number, L: Dim, S: Dim): boolean {
  const s = m.type.shape;
  if (keys) return s.length === 2 && broadcastsTo(s, [B, S]);
  if (s.length < 2 || s.length > 4) return false;
  if (s.length === 3) return broadcastsTo(s, [B, L, S]);
  return broadcastsTo(s, [B, { value: heads }, L, S]);
}

/** `names = ["q_proj", ...]`: four names for layout = split, two for conv1d; the layout's defaults otherwise. */
function attentionNames(st: ElaborationState, a: EvaluatedArgs, layout: string): readonly string[] | undefined {
  const defaults = DEFAULT_NAMES[layout];
  if (!defaults) {
    if (a.get("names") === undefined) return [];
    st.error(Diagnostics.Value_0_must_be_1, a.span("names"), ["'names'", `given with layout = split or conv1d (layout = ${layout} has PyTorch's fixed names)`]);
    return undefined;
  }
  return projectionNames(st, a, defaults, `layout = ${layout}`);
}

interface Projections {
  readonly layout: string;
  readonly names: readonly string[];
  /** Query (and output) width, and the width of keys and values: kv_heads × head width. */
  readonly E: number;
  readonly Ekv: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly bias: boolean;
}

/**
 * Parameters of the projections, named as nn.MultiheadAttention names them (packed, separate), by
 * `names` (split: `q_proj.weight`, ...), or as GPT-2's Conv1D ([in, out], `c_attn.weight`, ...).
 */
function declareProjections(st: ElaborationState, pr: Projections, span: EvaluatedArgs["callSpan"]): Record<string, string> {
  const { layout, names, E, Ekv, kdim, vdim, bias } = pr;
  const p: Record<string, string> = {};
  const packedRows = E + 2 * Ekv;
  if (layout === "packed") {
    p.in_proj_weight = st.addParam("in_proj_weight", [packedRows, E], span);
    if (bias) p.in_proj_bias = st.addParam("in_proj_bias", [packedRows], span);
  } else if (layout === "separate") {
    p.q_weight = st.addParam("q_proj_weight", [E, E], span);
    p.k_weight = st.addParam("k_proj_weight", [Ekv, kdim], span);
    p.v_weight = st.addParam("v_proj_weight", [Ekv, vdim], span);
    if (bias) p.in_proj_bias = st.addParam("in_proj_bias", [packedRows], span);
  } else if (layout === "conv1d") {
    p.conv_weight = st.addParam(`${names[0]}.weight`, [E, packedRows], span);
    if (bias) p.in_proj_bias = st.addParam(`${names[0]}.bias`, [packedRows], span);
    p.out_conv_weight = st.addParam(`${names[1]}.weight`, [E, E], span);
    if (bias) p.out_bias = st.addParam(`${names[1]}.bias`, [E], span);
    return p;
  } else {
    for (const [k, [role, width, rows]] of ([["q", E, E], ["k", kdim, Ekv], ["v", vdim, Ekv]] as const).entries()) {
      p[`${role}_weight`] = st.addParam(`${names[k]}.weight`, [rows, width], span);
      if (bias) p[`${role}_bias`] = st.addParam(`${names[k]}.bias`, [rows], span);
    }
  }
  const out = layout === "split" ? names[3] : "out_proj";
  p.out_weight = st.addParam(`${out}.weight`, [E, E], span);
  if (bias) p.out_bias = st.addParam(`${out}.bias`, [E], span);
  return p;
}
