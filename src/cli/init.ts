import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { writeFilesAtomically } from "./files.js";
import { UsageError, UserError, type Output } from "./io.js";

// `tfmc init [name]`: a folder with a starter model and a script that compiles and runs it.

const MODEL = (name: string) => `// A small decoder-only language model: learned positions, pre-norm blocks, a tied output head.
// Check it with \`tfmc check model.tfm\`, draw it with \`tfmc graph model.tfm -o model.html\`,
// and see its cost with \`tfmc explain model.tfm --at T=64,256\`.
model ${name} {
  config vocab = 1000, d = 128, heads = 4, layers = 2, ctx = 256

  input tokens: i32[B, T] where T <= ctx

  block layer(x: f32[B, T, d]) {
    x = x + attn: attention(ln_1: layer_norm(x), heads, causal = true)
    x = x + mlp: ffn(ln_2: layer_norm(x), hidden = 4 * d, act = gelu)
    return x
  }

  x = wte: embedding(tokens, vocab, d) + wpe: learned_positions(T, ctx, d)
  x = h: repeat(layers, layer, x)
  output logits = linear(ln_f: layer_norm(x), vocab, tied = wte)
}
`;

const SCRIPT = (name: string) => `// Compiles model.tfm into generated/ and runs it on seeded random weights: node run.mjs
// With trained weights, pass safetensors bytes to createModel instead (names as in spec.parameters).
import { main } from "tfmc/cli";
import { randomWeights } from "tfmc/runtime";

const code = await main(["compile", "model.tfm", "-o", "generated", "--emit", "js"]);
if (code !== 0) process.exit(code);

const { createModel, spec } = await import("./generated/${name}.js");
const model = createModel(randomWeights(spec.parameters, 0));
const T = 16;
const tokens = Int32Array.from({ length: T }, (_, i) => (i * 37) % spec.config.vocab);
const { logits } = model.forward({ tokens: { data: tokens, shape: [1, T] } });

const last = logits.data.subarray((T - 1) * spec.config.vocab, T * spec.config.vocab);
let next = 0;
for (let i = 1; i < last.length; i++) if (last[i] > last[next]) next = i;
console.log(\`logits: f32[\${logits.shape.join(", ")}]; most likely next token: \${next}\`);
`;

/** Writes `<dir>/model.tfm` and `<dir>/run.mjs`; refuses to overwrite anything. */
export function runInit(dirArg: string | undefined, io: Output): number {
  const dir = resolve(dirArg ?? ".");
  const raw = basename(dir);
  const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(raw) ? raw : raw.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(?=\d)/, "m_") || "model";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`init: cannot make a model name from '${raw}'`);
  const files = [
    { name: "model.tfm", text: MODEL(name) },
    { name: "run.mjs", text: SCRIPT(name) },
  ];
  const existing = files.filter((f) => existsSync(join(dir, f.name)));
  if (existing.length > 0) throw new UserError(`init: ${existing.map((f) => join(dirArg ?? ".", f.name)).join(" and ")} already exist${existing.length === 1 ? "s" : ""}; nothing written`);
  writeFilesAtomically(dir, files);
  const shown = dirArg ?? ".";
  for (const f of files) io.out(`wrote ${join(shown, f.name)}`);
  io.out(`next: cd ${shown} && node run.mjs   (tfmc must be installed where Node can find it: npm install tfmc)`);
  return 0;
}
