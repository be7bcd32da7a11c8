import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { emitModel } from "../codegen/emit.js";
import { writeFilesAtomically } from "./files.js";
import { printable, UsageError, UserError, type Output } from "./io.js";
import { buildGraph } from "./pipeline.js";
import { runtimeChoice, runtimeCopy } from "./runtimeCopy.js";

// `tfmc init [folder]`: a package with a starter model, the model compiled (its runtime copied
// beside it) and a script that runs it; the script needs neither tfmc nor the registry.

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

const SCRIPT = (name: string) => `// Runs the model compiled into generated/ on seeded random weights: node run.mjs
// After editing model.tfm, compile it again: tfmc compile model.tfm -o generated --emit js
// The module imports its runtime from generated/tfmc-runtime/, so nothing needs installing.
// With trained weights, pass safetensors bytes to createModel instead (names as in spec.parameters).
import { createModel, spec } from "./generated/${name}.js";
import { randomWeights } from "./generated/tfmc-runtime/index.js";

const model = createModel(randomWeights(spec.parameters, 0));
const T = 16;
const tokens = Int32Array.from({ length: T }, (_, i) => (i * 37) % spec.config.vocab);
const { logits } = model.forward({ tokens: { data: tokens, shape: [1, T] } });

const last = logits.data.subarray((T - 1) * spec.config.vocab, T * spec.config.vocab);
let next = 0;
for (let i = 1; i < last.length; i++) if (last[i] > last[next]) next = i;
console.log(\`logits: f32[\${logits.shape.join(", ")}]; most likely next token: \${next}\`);
`;

const COMPILE = "tfmc compile model.tfm -o generated --emit js";

/** npm's rules for a package name: lower case, URL-safe, not starting with a dot or underscore. */
function packageName(raw: string): string {
  const name = raw.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "").slice(0, 214);
  return name === "" || name === "node_modules" || name === "favicon.ico" ? "tfmc-model" : name;
}

const PACKAGE = (raw: string) =>
  JSON.stringify({ name: packageName(raw), private: true, type: "module", scripts: { compile: COMPILE, start: "node run.mjs" } }, null, 2) + "\n";

/** A folder as a POSIX shell reads it: quoted unless it is plainly safe. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Writes `<dir>/package.json`, `model.tfm`, `run.mjs` and the model compiled into `generated/` with
 * its runtime copy beside it, so `node run.mjs` works with nothing installed; refuses to overwrite
 * anything.
 */
export async function runInit(dirArg: string | undefined, io: Output): Promise<number> {
  const dir = resolve(dirArg ?? ".");
  const raw = basename(dir);
  const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(raw) ? raw : raw.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(?=\d)/, "m_") || "model";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`init: cannot make a model name from '${printable(raw)}'`);
  const sources = [
    { name: "package.json", text: PACKAGE(raw) },
    { name: "model.tfm", text: MODEL(name) },
    { name: "run.mjs", text: SCRIPT(name) },
  ];
  const shown = dirArg ?? ".";
  const existing = [...sources.map((f) => f.name), "generated"].filter((f) => existsSync(join(dir, f)));
  if (existing.length > 0) throw new UserError(`init: ${existing.map((f) => printable(join(shown, f))).join(", ").replace(/, ([^,]*)$/, " and $1")} already exist${existing.length === 1 ? "s" : ""}; nothing written`);
  const { graph, diagnostics } = buildGraph(MODEL(name), []);
  if (!graph) throw new Error(`the starter model does not compile: ${diagnostics.items.map((d) => d.message).join("; ")}`);
  const runtime = runtimeChoice("copy");
  const compiled = [...(await emitModel(graph, { emit: "js", runtime: runtime.specifier })), ...runtimeCopy()].map((f) => ({ name: `generated/${f.name}`, text: f.text }));
  writeFilesAtomically(dir, [...sources, ...compiled]);
  for (const f of sources) io.out(`wrote ${printable(join(shown, f.name))}`);
  io.out(`wrote ${printable(join(shown, "generated"))}/ (the model compiled by \`${COMPILE}\`, and the runtime it imports)`);
  const cd = dir === process.cwd() ? "" : `cd ${shellWord(shown)} && `;
  io.out(`next: ${cd}node run.mjs`);
  return 0;
}
