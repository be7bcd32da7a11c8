import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_NAMES } from "../../src/cli/usage.js";
import { unknownArgumentHint } from "../../src/diagnostics/didYouMean.js";
import { randomWeights } from "../../src/runtime/random.js";
import { writeSafetensors } from "../../src/runtime/safetensors.js";
import { ROOT, runCli as tfmc } from "../helpers.js";

// What a new user meets at the command line: formats named by file extensions, each command's
// own help, messages that say what to do next, and no warnings from the project's npm setup.


const GPT = join(ROOT, "examples", "gpt.tfm");
const SMALL_GPT = ["--set", "vocab=20", "--set", "d=8", "--set", "heads=2", "--set", "layers=1", "--set", "ctx=8"];
const tmp = () => mkdtempSync(join(tmpdir(), "tfmc-cli-"));

describe("tfmc graph -o: the extension gives the format", () => {
  it("refuses an extension that names no format, listing the formats, and writes nothing", async () => {
    const png = join(tmp(), "x.png");
    const r = await tfmc("graph", GPT, "-o", png);
    expect(r.code).toBe(2);
    expect(r.err).toContain("'.png' is no format tfmc writes");
    expect(r.err).toContain("svg (.svg), dot (.dot, .gv), mermaid (.mmd), html (.html)");
    expect(r.err).toContain("usage: tfmc graph");
    expect(existsSync(png)).toBe(false);
  });

  it("writes DOT to .dot and .gv, Mermaid to .mmd", async () => {
    const dir = tmp();
    for (const [name, head] of [["m.gv", "digraph"], ["m.dot", "digraph"], ["m.mmd", "flowchart"]]) {
      expect((await tfmc("graph", GPT, ...SMALL_GPT, "-o", join(dir, name))).code).toBe(0);
      expect(readFileSync(join(dir, name), "utf8").trimStart().startsWith(head)).toBe(true);
    }
  });

  it("takes --format for a name without a known extension, and refuses one that contradicts the extension", async () => {
    const dir = tmp();
    expect((await tfmc("graph", GPT, ...SMALL_GPT, "-o", join(dir, "m.txt"), "--format", "dot")).code).toBe(0);
    expect(readFileSync(join(dir, "m.txt"), "utf8")).toMatch(/^digraph/);
    const r = await tfmc("graph", GPT, "-o", join(dir, "m.svg"), "--format", "dot");
    expect(r.code).toBe(2);
    expect(r.err).toContain("names a svg file, but --format is dot");
    expect(existsSync(join(dir, "m.svg"))).toBe(false);
  });
});

describe("each command's own --help", () => {
  it.each(COMMAND_NAMES)("tfmc %s --help prints that command's usage and exits 0", async (command) => {
    const r = await tfmc(command, "--help");
    expect(r.code).toBe(0);
    expect(r.out.startsWith(`usage: tfmc ${command}`)).toBe(true);
    expect(r.out).not.toContain("commands:");
    expect(r.out).toContain("-h, --help");
  });

  it("lists the command's flags; `tfmc help <command>` is the same; a usage error shows the command's usage", async () => {
    const lsp = await tfmc("lsp", "--help");
    expect(lsp.out).toContain("--stdio");
    expect((await tfmc("help", "lsp")).out).toBe(lsp.out);
    const compile = (await tfmc("compile", "-h")).out;
    for (const flag of ["--out", "--emit", "--target", "--wasm-file", "--check", "--watch", "--profile", "--set", "-O0", "--attention"]) expect(compile).toContain(flag);
    const bad = await tfmc("graph", GPT, "--stage", "bogus");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("usage: tfmc graph");
    expect(bad.err).not.toContain("commands:");
    expect((await tfmc("help", "nope")).code).toBe(2);
  });
});

describe("tfmc run without its inputs", () => {
  it("says to pass --inputs and lists the inputs with dtypes and shapes", async () => {
    const r = await tfmc("run", join(ROOT, "examples", "translator.tfm"), "--out", join(tmp(), "o.safetensors"));
    expect(r.code).toBe(2);
    expect(r.err).toContain("pass them with --inputs <in.safetensors>");
    expect(r.err).toContain("  source: i32[B, S]\n  target: i32[B, T]\n  source_padding: bool[B, S] (optional)");
  });

  it("names the tensors an --inputs file lacks", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "in.safetensors"), writeSafetensors({ token: { data: new Int32Array([1]), shape: [1, 1] } }));
    const r = await tfmc("run", GPT, ...SMALL_GPT, "--inputs", join(dir, "in.safetensors"), "--out", join(dir, "o.safetensors"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("has no tensor 'tokens'");
    expect(r.err).toContain("  tokens: i32[B, T]");
  });
});

describe("tfmc generate", () => {
  it("describes a model with two token inputs over the same positions as what it is, not an encoder-decoder", async () => {
    const r = await tfmc("generate", join(ROOT, "examples", "bert.tfm"), "--prompt", "1,2", "--max-new-tokens", "1");
    expect(r.code).toBe(1);
    expect(r.err).toContain("bert is neither a decoder nor an encoder-decoder");
    expect(r.err).toContain("2 token inputs input_ids: i32[B, T], token_type_ids: i32[B, T] cover the same positions");
    expect(r.err).not.toContain("give the source ids");
  });

  it("still asks an encoder-decoder for its source", async () => {
    const r = await tfmc("generate", join(ROOT, "examples", "translator.tfm"), "--prompt", "1", "--max-new-tokens", "1");
    expect(r.code).toBe(2);
    expect(r.err).toContain("translator is an encoder-decoder (source 'source', target 'target'); give the source ids with --source");
  });

  // Generation imports the compiled runtime, so it runs through the built CLI (dist/, as npm test builds it).
  const bin = (...argv: string[]) => spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), ...argv], { cwd: ROOT, encoding: "utf8" });

  it("warns on stderr when it runs on random weights, and not with --weights", async () => {
    const random = bin("generate", GPT, ...SMALL_GPT, "--prompt", "1,2", "--max-new-tokens", "2");
    expect(random.status).toBe(0);
    expect(random.stderr).toContain("warning: no --weights: gpt generates with random weights (seed 0)");
    expect(random.stdout).not.toContain("warning");

    const params = JSON.parse((await tfmc("check", GPT, ...SMALL_GPT, "--json")).out).parameterTensors as { name: string; shape: number[] }[];
    const weights = join(tmp(), "w.safetensors");
    writeFileSync(weights, writeSafetensors(randomWeights(params, 3)));
    const given = bin("generate", GPT, ...SMALL_GPT, "--weights", weights, "--prompt", "1,2", "--max-new-tokens", "2");
    expect(given.status).toBe(0);
    expect(given.stderr).toBe("");
  });
});

describe("tfmc check --json", () => {
  it("lists inputs, outputs and parameter tensors with name, dtype and symbolic shape", async () => {
    const r = JSON.parse((await tfmc("check", GPT, "--json")).out);
    expect(r.inputs).toEqual([{ name: "tokens", dtype: "i32", shape: ["B", "T"], type: "i32[B, T]", optional: false }]);
    expect(r.outputs).toEqual([{ name: "logits", dtype: "f32", shape: ["B", "T", 50257], type: "f32[B, T, 50257]" }]);
    expect(r.parameterTensors).toHaveLength(148);
    expect(r.parameterTensors[0]).toEqual({ name: "wte.weight", dtype: "f32", shape: [50257, 768] });
    const total = (r.parameterTensors as { shape: number[] }[]).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    expect(total).toBe(r.parameters);
  });
});

describe("an unknown argument's hint lists the valid ones", () => {
  it("sorted, after the closest, and bounded", () => {
    expect(unknownArgumentHint("bais", "linear", ["x", "out", "bias", "tied"]).hint).toBe("did you mean 'bias'? 'linear' takes bias, out, tied, x");
    expect(unknownArgumentHint("q", "max", []).hint).toBe("'max' takes no named arguments");
    const many = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, "0")}`).reverse();
    const hint = unknownArgumentHint("zzz", "big", many).hint;
    expect(hint).toBe(`'big' takes ${many.slice().sort().slice(0, 24).join(", ")}, and 6 more`);
  });
});

describe("the project's npm setup", () => {
  it("npx tfmc prints no npm warning", () => {
    const r = spawnSync("npm", ["exec", "--offline", "--", "tfmc", "--version"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("tfmc 0.1.0");
    expect(r.stderr).not.toMatch(/npm warn/i);
  });

  it("still skips onnxruntime-node's CUDA download: allowScripts denies it, and CI sets the variable", () => {
    expect(existsSync(join(ROOT, ".npmrc"))).toBe(false);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.allowScripts["onnxruntime-node"]).toBe(false);
    const ci = readFileSync(join(ROOT, ".ci", "run"), "utf8");
    expect(ci.indexOf("export ONNXRUNTIME_NODE_INSTALL=skip")).toBeGreaterThan(-1);
    expect(ci.indexOf("export ONNXRUNTIME_NODE_INSTALL=skip")).toBeLessThan(ci.indexOf("npm ci"));
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("ONNXRUNTIME_NODE_INSTALL=skip npm ci");
    // The variable is what onnxruntime-node's install script reads first.
    expect(readFileSync(join(ROOT, "node_modules", "onnxruntime-node", "script", "install-utils.js"), "utf8")).toContain("process.env.ONNXRUNTIME_NODE_INSTALL");
  });
});
