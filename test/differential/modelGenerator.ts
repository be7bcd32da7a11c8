import fc from "fast-check";

// Random valid models for differential testing: a stack of transformer-shaped statements over one
// tensor x [B, T, d], with optional masks, cross-attention and repeated blocks.

export interface ModelSpec {
  readonly d: number;
  readonly heads: number;
  readonly hidden: number;
  readonly tokens: "none" | "learned" | "sinusoidal";
  readonly masks: { readonly pad: "none" | "block_keys" | "keep_keys"; readonly attn: "none" | "block" | "keep" | "bias" };
  readonly memory: boolean;
  readonly repeat: number;
  readonly statements: readonly Statement[];
}

type Statement =
  | { readonly kind: "preAttention" | "postAttention"; readonly causal: boolean; readonly layout: string; readonly kernel: string; readonly masks: boolean }
  | { readonly kind: "ffn"; readonly act: string; readonly norm: "add_norm" | "rms_pre" }
  | { readonly kind: "linear"; readonly bias: boolean }
  | { readonly kind: "scalar" | "reluResidual" | "softmaxGate" | "selfMatmul" }
  | { readonly kind: "cross"; readonly masks: boolean }
  | { readonly kind: "handAttention"; readonly causal: boolean }
  | { readonly kind: "primitives"; readonly variant: number };

/** Elementwise, reduction and layout primitives over x [B, T, d], each giving [B, T, d] back. */
const PRIMITIVE_STATEMENTS = [
  "x = x - mean(x, dim = -1, keepdim = true)",
  "x = x * rsqrt(mean(x ** 2, dim = -1, keepdim = true) + 0.00001)",
  "x = maximum(x, -2) + minimum(exp(x * 0.1), 3) - abs(sin(x)) * cos(x)",
  "x = where(x > 0 and not (x > 2), x, x * 0.1) + erf(x)",
  "x = concat([x[..., 1:d], x[..., 0:1]], dim = -1) + log_softmax(x, dim = -1)",
  "x = x + sum(x, dim = 1, keepdim = true) * 0.01 - max(x, dim = [1, 2], keepdim = true) * 0.1",
  "x = squeeze(unsqueeze(x, 2), 2) + expand(min(x, dim = 1, keepdim = true), [B, T, d]) * 0.5",
  "x = x + sqrt(abs(x) + 1) * log(abs(x) + 1) + tanh(x) * sigmoid(x)",
];

const ACTS = ["relu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid"];

const statement = fc.oneof(
  fc.record({
    kind: fc.constantFrom("preAttention" as const, "postAttention" as const),
    causal: fc.boolean(),
    layout: fc.constantFrom("packed", "separate", "split"),
    kernel: fc.constantFrom("softmax", "softmax", "local", "linear"),
    masks: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("ffn" as const), act: fc.constantFrom(...ACTS), norm: fc.constantFrom("add_norm" as const, "rms_pre" as const) }),
  fc.record({ kind: fc.constant("linear" as const), bias: fc.boolean() }),
  fc.record({ kind: fc.constantFrom("scalar" as const, "reluResidual" as const, "softmaxGate" as const, "selfMatmul" as const) }),
  fc.record({ kind: fc.constant("cross" as const), masks: fc.boolean() }),
  fc.record({ kind: fc.constant("handAttention" as const), causal: fc.boolean() }),
  fc.record({ kind: fc.constant("primitives" as const), variant: fc.integer({ min: 0, max: PRIMITIVE_STATEMENTS.length - 1 }) }),
);

export const modelSpec: fc.Arbitrary<ModelSpec> = fc
  .record({
    dh: fc.constantFrom([4, 1], [4, 2], [6, 2], [6, 3], [8, 2], [8, 4], [12, 3], [16, 4]),
    hidden: fc.integer({ min: 4, max: 24 }),
    tokens: fc.constantFrom("none" as const, "learned" as const, "sinusoidal" as const),
    pad: fc.constantFrom("none" as const, "block_keys" as const, "keep_keys" as const),
    attn: fc.constantFrom("none" as const, "block" as const, "keep" as const, "bias" as const),
    repeat: fc.constantFrom(0, 0, 2),
    statements: fc.array(statement, { minLength: 1, maxLength: 5 }),
  })
  .map((r) => ({
    d: r.dh[0],
    heads: r.dh[1],
    hidden: r.hidden,
    tokens: r.tokens,
    masks: { pad: r.pad, attn: r.attn },
    memory: r.statements.some((s) => s.kind === "cross"),
    repeat: r.repeat,
    statements: r.statements,
  }));

/** Masks an attention may take: feature-map kernels honour only the key masks. */
function maskArgs(spec: ModelSpec, kernel: string): string {
  const args: string[] = [];
  if (spec.masks.pad !== "none") args.push(`${spec.masks.pad} = pad`);
  if (spec.masks.attn !== "none" && kernel !== "linear") args.push(`${spec.masks.attn} = am`);
  return args.map((a) => ", " + a).join("");
}

function statementText(s: Statement, i: number, spec: ModelSpec): string {
  switch (s.kind) {
    case "preAttention":
    case "postAttention": {
      const options = `, causal = ${s.causal}, layout = ${s.layout}, kernel = ${s.kernel}${s.kernel === "local" ? ", window = 2" : ""}${s.masks ? maskArgs(spec, s.kernel) : ""}`;
      return s.kind === "preAttention"
        ? `x = x + a${i}: attention(n${i}: layer_norm(x), heads${options})`
        : `x = n${i}: layer_norm(x + a${i}: attention(x, heads${options}))`;
    }
    case "ffn":
      return s.norm === "add_norm" ? `x = n${i}: add_norm(x, f${i}: ffn(x, hidden, act = ${s.act}))` : `x = x + f${i}: ffn(r${i}: rms_norm(x), hidden, act = ${s.act})`;
    case "linear":
      return `x = l${i}: linear(x, d, bias = ${s.bias})`;
    case "scalar":
      return `x = x * 0.5 - 1`;
    case "reluResidual":
      return `x = relu(x) + x`;
    case "softmaxGate":
      return `x = softmax(x) * x`;
    case "selfMatmul":
      return `x = x + softmax(x @ transpose(x)) @ x * 0.1`;
    case "cross":
      return `x = x + c${i}: attention(x, heads, memory = memory${s.masks && spec.masks.pad !== "none" ? `, ${spec.masks.pad} = mpad` : ""})`;
    case "handAttention": {
      // Self-attention written in primitives (packed projection, split, heads by reshape and permute).
      const heads = (v: string) => `${v}${i} = permute(reshape(${v}${i}, [B, T, heads, -1]), [0, 2, 1, 3])`;
      return [
        `q${i}, k${i}, v${i} = split(hp${i}: linear(x, 3 * d), 3)`,
        heads("q"),
        heads("k"),
        heads("v"),
        `s${i} = q${i} @ transpose(k${i}) * (1 / sqrt(d / heads))`,
        ...(s.causal ? [`s${i} = where(unsqueeze(arange(T), 1) < unsqueeze(arange(T), 0), -inf, s${i})`] : []),
        `x = x + ho${i}: linear(reshape(permute(softmax(s${i}) @ v${i}, [0, 2, 1, 3]), [B, T, d]), d)`,
      ].join("\n");
    }
    case "primitives":
      return PRIMITIVE_STATEMENTS[s.variant];
  }
}

/** The .tfm source of a spec. */
export function modelSource(spec: ModelSpec): string {
  const L: string[] = [`model random {`, `  config d = ${spec.d}, heads = ${spec.heads}, hidden = ${spec.hidden}, vocab = 23, ctx = 8`];
  if (spec.tokens === "none") L.push(`  input x0: f32[B, T, d] where T <= ctx`);
  else L.push(`  input tokens: i32[B, T] where T <= ctx`);
  if (spec.masks.pad !== "none") L.push(`  input pad?: bool[B, T]`);
  if (spec.masks.attn !== "none") L.push(`  input am${spec.masks.attn === "bias" ? "" : "?"}: ${spec.masks.attn === "bias" ? "f32" : "bool"}[T, T]`);
  if (spec.memory) {
    L.push(`  input memory: f32[B, S, d]`);
    if (spec.masks.pad !== "none") L.push(`  input mpad?: bool[B, S]`);
  }
  const body = spec.statements.flatMap((s, i) => statementText(s, i, spec).split("\n"));
  const params = ["x: f32[B, T, d]", ...(spec.masks.pad !== "none" ? ["pad?: bool[B, T]"] : []), ...(spec.masks.attn !== "none" ? [`am${spec.masks.attn === "bias" ? "" : "?"}: ${spec.masks.attn === "bias" ? "f32" : "bool"}[T, T]`] : []), ...(spec.memory ? ["memory: f32[B, S, d]"] : []), ...(spec.memory && spec.masks.pad !== "none" ? ["mpad?: bool[B, S]"] : [])];
  const passArgs = params.slice(1).map((p) => p.split(/[?:]/)[0]).map((n) => `, ${n} = ${n}`).join("");
  if (spec.tokens === "none") L.push(`  x = x0`);
  else if (spec.tokens === "learned") L.push(`  x = wte: embedding(tokens, vocab, d) + wpe: learned_positions(T, ctx, d)`);
  else L.push(`  x = wte: embedding(tokens, vocab, d) * sqrt(d) + sinusoidal_positions(T, d)`);
  if (spec.repeat > 0) {
    L.push(`  block layer(${params.join(", ")}) {`, ...body.map((s) => `    ${s}`), `    return x`, `  }`);
    L.push(`  x = layers: repeat(${spec.repeat}, layer, x${passArgs})`);
  } else {
    L.push(...body.map((s) => `  ${s}`));
  }
  L.push(`  output out = x`, `}`);
  return L.join("\n") + "\n";
}
