import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emitModel } from "../src/codegen/emit.js";
import { printGraph } from "../src/ir/print.js";
import { PIPELINE } from "../src/passes/pipeline.js";
import type { PassNote } from "../src/passes/pass.js";
import { graphOf } from "./compileHelpers.js";
import { ROOT } from "./helpers.js";

// Committed baselines reviewed as diffs: the IR of each example as lowered and after every pass
// of the -O2 pipeline (small configs, so a change reads in a few lines), and the generated module
// of one small model. TFMC_ACCEPT_BASELINES=1 (npm run baselines) rewrites them.

const ACCEPT = process.env.TFMC_ACCEPT_BASELINES === "1";
const DIR = join(ROOT, "test", "baselines");

const EXAMPLES: [string, string[]][] = [
  ["examples/gpt.tfm", ["d=32", "heads=4", "layers=2", "ctx=16", "vocab=50"]],
  ["examples/bert.tfm", ["d=32", "heads=4", "layers=1", "intermediate=64", "vocab=60", "max_positions=16"]],
  ["examples/translator.tfm", ["d_model=32", "heads=4", "layers=1", "d_ff=48", "vocab=40"]],
  ["examples/torch/multihead_attention.tfm", ["embed_dim=16", "num_heads=4"]],
  ["examples/torch/encoder_layer.tfm", ["d_model=16", "nhead=4", "dim_feedforward=32"]],
  ["examples/torch/decoder_layer.tfm", ["d_model=16", "nhead=4", "dim_feedforward=32"]],
  ["test/models/mha_primitives.tfm", ["embed_dim=16", "num_heads=4"]],
  ["test/models/causal_primitives.tfm", []],
];

/** The IR as lowered, then after each pass that changed it (the pass named, with what it noted). */
function passByPass(path: string, sets: string[]): string {
  let g = graphOf(path, ...sets);
  const parts = [`== lowered\n${printGraph(g)}`];
  for (const pass of PIPELINE) {
    const notes: PassNote[] = [];
    const before = printGraph(g);
    g = pass.run(g, { notes });
    const after = printGraph(g);
    const said = [...new Set(notes.map((n) => `  - ${n.kind === "skipped" ? "not done: " : ""}${n.message}`))].join("\n");
    parts.push(after === before ? `== ${pass.name}: no change` : `== ${pass.name}\n${said ? `${said}\n` : ""}${after}`);
  }
  return parts.join("\n") + "\n";
}

function compare(file: string, got: string): void {
  if (ACCEPT) {
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, got);
  }
  expect(existsSync(file), `no baseline ${file}: run npm run baselines and review it`).toBe(true);
  expect(got).toBe(readFileSync(file, "utf8"));
}

describe("IR baselines", () => {
  it.each(EXAMPLES)("%s, pass by pass", (path, sets) => {
    const name = path.replace(/^.*\//, "").replace(/\.tfm$/, "");
    compare(join(DIR, "ir", `${name}.txt`), passByPass(path, sets));
  });

  it("the generated module of a small model", async () => {
    const [file] = await emitModel(graphOf("test/models/tiny_gpt.tfm", "-O2"), { emit: "ts" });
    compare(join(DIR, "module", "tiny_gpt.ts.txt"), file.text);
  });
});
