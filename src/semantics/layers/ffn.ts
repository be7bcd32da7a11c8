import type { LayerDef } from "../elaborator.js";
import { ERROR } from "../values.js";
import { ACTIVATIONS, LAYOUTS, floatInput, withLastDim } from "./basic.js";
import { projectionNames } from "./names.js";

// The position-wise feed-forward: two linears around an activation (nn.TransformerEncoderLayer's
// linear1/linear2, GPT-2's c_fc/c_proj), or gated, down(act(gate(x)) * up(x)) as Llama's mlp
// (SwiGLU with silu, GeGLU with gelu). Each projection is named by `names`.

const DEFAULT_NAMES = { plain: ["linear1", "linear2"], gated: ["gate_proj", "up_proj", "down_proj"] } as const;

export const ffn: LayerDef = {
  doc:
    "Position-wise feed-forward: linear1 [hidden, d], activation, linear2 [out, hidden], as in nn.TransformerEncoderLayer; " +
    "`gated = true`: down(act(gate(x)) * up(x)) with gate_proj, up_proj [hidden, d] and down_proj [out, hidden], as Llama's mlp. " +
    "`names` renames the projections, `layout = conv1d` stores each weight [in, out] (GPT-2's mlp).",
  args: [
    { name: "x", kind: "tensor", required: true },
    { name: "hidden", kind: "int", required: true },
    { name: "act", kind: "choice", choices: ACTIVATIONS },
    { name: "out", kind: "int", keywordOnly: true },
    { name: "bias", kind: "bool", keywordOnly: true },
    { name: "gated", kind: "bool", keywordOnly: true },
    { name: "layout", kind: "choice", choices: LAYOUTS, keywordOnly: true },
    { name: "names", kind: "any", keywordOnly: true },
  ],
  elaborate(st, a, site) {
    const x = floatInput(st, a);
    if (!x || a.anyError()) return ERROR;
    const d = st.lastDimConst(x, a.span("x"), "the input of ffn");
    const hidden = st.asPositiveInt(a.get("hidden")!, a.span("hidden"), "the hidden width");
    const out = a.has("out") ? st.asPositiveInt(a.get("out")!, a.span("out"), "the output width") : d;
    if (d === undefined || hidden === undefined || out === undefined) return ERROR;
    const gated = a.bool("gated", false);
    const names = projectionNames(st, a, gated ? DEFAULT_NAMES.gated : DEFAULT_NAMES.plain, gated ? "a gated ffn (gate, up, down)" : "an ffn");
    if (!names) return ERROR;
    const bias = a.bool("bias", !gated);
    const layout = a.choice("layout", "linear");
    const conv1d = layout === "conv1d";
    const params: Record<string, string> = {};
    // Each projection's weight [out, in] (or [in, out] as Conv1D), then its bias, in the order of `names`.
    const project = (name: string, key: string, inDim: number, outDim: number) => {
      params[`w${key}`] = st.addParam(`${name}.weight`, conv1d ? [inDim, outDim] : [outDim, inDim], site.span);
      if (bias) params[`b${key}`] = st.addParam(`${name}.bias`, [outDim], site.span);
    };
    if (gated) {
      project(names[0], "_gate", d, hidden);
      project(names[1], "_up", d, hidden);
      project(names[2], "2", hidden, out);
    } else {
      project(names[0], "1", d, hidden);
      project(names[1], "2", hidden, out);
    }
    const act = a.choice("act", gated ? "silu" : "relu");
    const attrs = { in: d, hidden, out, act, ...(gated ? { gated } : {}), ...(conv1d ? { layout } : {}) };
    return st.addNode("ffn", { x: x.node }, attrs, params, { dtype: "f32", shape: withLastDim(x.type.shape, out) }, site.span);
  },
};
