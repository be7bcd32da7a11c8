// One line on each argument of each built-in layer, for completion and signature help (the types
// come from the layers' own signatures). A test checks that every argument has its line.

const X = "the input tensor";

export const ARG_DOCS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  embedding: {
    ids: "token ids (i32 or i64)",
    num: "rows of the table (the vocabulary size)",
    dim: "width of each row",
    padding_idx: "a row kept at zero, as nn.Embedding's padding_idx",
    tied: "the label of another embedding whose table this one shares",
  },
  linear: {
    x: X,
    out: "output features; the weight is [out, in]",
    bias: "whether to add a bias [out] (default true; false when tied)",
    tied: "the label of an embedding whose weight [num, dim] is used as this weight",
    layout: "`linear`: weight [out, in], y = x W^T + b (nn.Linear, the default); `conv1d`: weight [in, out], y = x W + b (GPT-2's Conv1D)",
  },
  layer_norm: {
    x: X,
    eps: "added to the variance inside the root (default 1e-5)",
    affine: "learned `weight` (default true)",
    bias: "learned `bias` (default true)",
  },
  rms_norm: {
    x: X,
    eps: "added inside the root (default 1e-6)",
    affine: "learned `weight` (default true)",
  },
  relu: { x: X },
  gelu: { x: X, approximate: "`none` (exact, erf) or `tanh`" },
  gelu_tanh: { x: X },
  silu: { x: X },
  tanh: { x: X },
  sigmoid: { x: X },
  dropout: { x: X, p: "drop probability (the identity at inference)" },
  softmax: { x: X, dim: "the dimension normalised (default -1, the last)" },
  transpose: {
    x: X,
    dim0: "first dimension swapped (default -2)",
    dim1: "second dimension swapped (default -1)",
  },
  ffn: {
    x: X,
    hidden: "width of the hidden layer (linear1 is [hidden, d])",
    act: "activation between the two linears (default relu; silu when gated)",
    out: "output width (default the input's last dimension)",
    bias: "biases on every projection (default true; false when gated)",
    gated: "down(act(gate(x)) * up(x)) as Llama's mlp: SwiGLU with silu, GeGLU with gelu (default false)",
    layout: "`linear`: each weight [out, in] (default); `conv1d`: [in, out], as GPT-2's c_fc and c_proj",
    names: 'the projections\' names, each with `.weight` (and `.bias`): default ["linear1", "linear2"], gated ["gate_proj", "up_proj", "down_proj"]',
  },
  add_norm: {
    x: X,
    y: "added to x before the norm",
    eps: "added to the variance inside the root (default 1e-5)",
    bias: "learned `bias` (default true)",
  },
  attention: {
    query: "queries [B, L, E]; also keys and values unless `memory` or `key`/`value` are given",
    heads: "number of heads; must divide E",
    key: "keys [B, S, kdim] for cross-attention (with `value`)",
    value: "values [B, S, vdim] for cross-attention (with `key`)",
    memory: "keys and values at once [B, S, E], as a decoder's cross-attention",
    causal: "query i attends keys <= i (top-left aligned)",
    block: "bool mask [L, S], [B, L, S] or [B, heads, L, S]: true = blocked (as attn_mask)",
    keep: "bool mask [L, S], [B, L, S] or [B, heads, L, S]: true = may attend",
    bias: "f32 mask [L, S], [B, L, S] or [B, heads, L, S]: added to the scores",
    block_keys: "bool mask [B, S]: true = padding (as key_padding_mask)",
    keep_keys: "bool mask [B, S]: true = a real token",
    bias_keys: "f32 mask [B, S]: added to the scores",
    kernel: "how attention is computed (default softmax, exact)",
    scale: "score scale (default 1/sqrt(E/heads))",
    layout: "parameter layout: packed in_proj (default), separate q/k/v weights, split q_proj/k_proj/v_proj/out_proj (see names), or conv1d as GPT-2 (c_attn [E, 3E], c_proj, weights [in, out])",
    proj_bias: "biases on the projections (default true)",
    dropout: "attention dropout (the identity at inference)",
    window: "half-width of the window, for kernel = local",
    features: "random features, for kernel = performer (default 256)",
    k: "projected length, for kernel = linformer",
    kv_heads: "key/value heads (default heads; must divide it): grouped-query attention, 1 for multi-query",
    names: "the projections' names for layout = split (four: q, k, v, output) or conv1d (two: packed, output), relative to the label",
    rotary: "rotary embeddings of queries and keys: rope(theta = 10000, dim = head width, interleaved = false)",
  },
  learned_positions: {
    length: "how many positions (a symbol such as T)",
    max: "rows of the table; the length must be bounded by it",
    dim: "width of each row",
  },
  sinusoidal_positions: {
    length: "how many positions (a symbol such as T)",
    dim: "width of each row",
    base: "the base of the frequencies (default 10000)",
  },
};

/** The built-ins that are not layers, with their parameters as written in a signature. */
export const OTHER_CALLS: Readonly<
  Record<
    string,
    {
      readonly params: readonly { name: string; doc: string }[];
      readonly doc: string;
      readonly variadic?: boolean;
    }
  >
> = {
  repeat: {
    doc: "`count` calls of `block`, threading the carried value through them; parameters under `label.0`, `label.1`, ...",
    params: [
      { name: "count: int", doc: "how many times the block runs" },
      { name: "block: block", doc: "the block to repeat" },
      {
        name: "x",
        doc: "the value carried from one call to the next (the block's first argument)",
      },
      { name: "...", doc: "further arguments, passed unchanged to every call" },
    ],
  },
  sqrt: {
    doc: "Square root, at compile time.",
    params: [{ name: "x: number", doc: "" }],
  },
  floor: {
    doc: "Rounds down, at compile time.",
    params: [{ name: "x: number", doc: "" }],
  },
  ceil: {
    doc: "Rounds up, at compile time.",
    params: [{ name: "x: number", doc: "" }],
  },
  min: {
    doc: "The smallest of two to eight numbers, at compile time.",
    params: [
      { name: "a: number", doc: "" },
      { name: "b: number", doc: "" },
      { name: "...", doc: "" },
    ],
    variadic: true,
  },
  max: {
    doc: "The largest of two to eight numbers, at compile time.",
    params: [
      { name: "a: number", doc: "" },
      { name: "b: number", doc: "" },
      { name: "...", doc: "" },
    ],
    variadic: true,
  },
};
