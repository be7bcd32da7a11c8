import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { Output } from "../../src/cli/io.js";
import { ROOT } from "../helpers.js";

const OUT = join(ROOT, "test", ".generated", "modules");

function quiet(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(l), color: false };
}

async function compile(file: string, dir: string, ...extra: string[]): Promise<number> {
  return main(["compile", file, "-o", dir, ...extra], quiet());
}

const tsc = (project: string) =>
  spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", project], { encoding: "utf8" });

const STRICT_TSCONFIG = JSON.stringify({
  compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", skipLibCheck: false, types: [] },
  include: ["*.ts"],
});

describe("generated modules", () => {
  beforeAll(() => rmSync(OUT, { recursive: true, force: true }));

  it("type-check under tsc --strict, and the types reject a wrong input", async () => {
    const dir = join(OUT, "strict");
    expect(await compile("examples/torch/encoder_layer.tfm", dir, "--set", "d_model=16", "--set", "nhead=2")).toBe(0);
    expect(await compile("examples/gpt.tfm", dir, "--set", "d=32", "--set", "heads=4", "--set", "layers=1", "--set", "vocab=64")).toBe(0);
    expect(await compile("examples/translator.tfm", dir, "--set", "d_model=16", "--set", "heads=2", "--set", "layers=1", "--set", "vocab=20")).toBe(0);
    expect(await compile("test/models/tiny_decoder.tfm", dir, "--set", "kernel=performer")).toBe(0);
    expect(await compile("test/models/integer_outputs.tfm", dir)).toBe(0);
    writeFileSync(join(dir, "tsconfig.json"), STRICT_TSCONFIG);
    writeFileSync(
      join(dir, "use.ts"),
      `import { createModel, spec } from "./encoder_layer.js";
import * as gpt from "./gpt.js";
import { randomWeights } from "tfmc/runtime";
const model = createModel(randomWeights(spec.parameters, 1));
const out: Float32Array = model.forward({ src: { data: new Float32Array(2 * 3 * 16), shape: [2, 3, 16] } }).out.data;
const logits = gpt.createModel(randomWeights(gpt.spec.parameters)).forward({ tokens: { data: Int32Array.from([1, 2]), shape: [1, 2] } }).logits;
const width: 16 = spec.inputs[0].shape[2];
import * as translator from "./translator.js";
import * as decoder from "./tiny_decoder.js";
const source = { data: Int32Array.from([1, 2]), shape: [1, 2] };
const session: translator.Session = translator.createModel(randomWeights(translator.spec.parameters)).startSession({ maxLength: 4, inputs: { source } });
const step: Float32Array = session.append({ data: Int32Array.from([3]), shape: [1, 1] }).logits.data;
const other = decoder.createModel(randomWeights(decoder.spec.parameters)).startSession({ batch: 2 });
other.copyFrom(other);
const used: number = other.length + other.maxLength + other.batch;
import * as ints from "./integer_outputs.js";
const counted = ints.createModel({}).forward({ ids: { data: BigInt64Array.from([4n, 2n]), shape: [1, 2] } });
const typed: [Int32Array, BigInt64Array, Uint8Array] = [counted.c.data, counted.d.data, counted.e.data];
export { out, logits, width, step, used, typed };
`,
    );
    const ok = tsc(dir);
    expect(ok.stdout + ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    writeFileSync(join(dir, "wrong.ts"), `import { createModel } from "./encoder_layer.js";\ncreateModel(new Uint8Array()).forward({ src: { data: new Int32Array(4), shape: [1, 1, 4] } });\n`);
    const bad = tsc(dir);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toContain("wrong.ts");
  });

  it("--target wasm type-checks under tsc --strict too", async () => {
    const dir = join(OUT, "strict-wasm");
    expect(await compile("examples/gpt.tfm", dir, "--target", "wasm", "--set", "d=32", "--set", "heads=4", "--set", "layers=1", "--set", "vocab=64")).toBe(0);
    expect(readFileSync(join(dir, "gpt.ts"), "utf8")).toContain("WasmMemory");
    writeFileSync(join(dir, "tsconfig.json"), STRICT_TSCONFIG);
    const ok = tsc(dir);
    expect(ok.stdout + ok.stderr).toBe("");
    expect(ok.status).toBe(0);
  });

  it("--target wasm --wasm-file type-checks under tsc --strict, and writes the kernels beside the module", async () => {
    const dir = join(OUT, "strict-wasm-file");
    expect(await compile("examples/bert.tfm", dir, "--target", "wasm", "--wasm-file", "--set", "d=32", "--set", "heads=4", "--set", "layers=1", "--set", "vocab=64", "--set", "intermediate=64")).toBe(0);
    expect(readFileSync(join(dir, "bert.ts"), "utf8")).toContain("export async function loadWasm(");
    expect(WebAssembly.validate(readFileSync(join(dir, "bert.wasm")))).toBe(true);
    expect(WebAssembly.validate(readFileSync(join(dir, "bert.shared.wasm")))).toBe(true);
    writeFileSync(join(dir, "tsconfig.json"), STRICT_TSCONFIG);
    const ok = tsc(dir);
    expect(ok.stdout + ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    // Without --target wasm there is nothing to write to a .wasm: a usage error, nothing written.
    expect(await compile("examples/bert.tfm", join(OUT, "wasm-file-without-target"), "--wasm-file")).toBe(2);
    expect(existsSync(join(OUT, "wasm-file-without-target"))).toBe(false);
  });

  it("--emit js runs in a plain Node 20 script, with declarations beside it", async () => {
    const dir = join(OUT, "js");
    expect(await compile("examples/torch/multihead_attention.tfm", dir, "--emit", "js", "--set", "embed_dim=8", "--set", "num_heads=2")).toBe(0);
    expect(readFileSync(join(dir, "multihead_attention.d.ts"), "utf8")).toContain("export declare function createModel(weights: WeightsSource, options?: WeightsOptions): Model;");
    writeFileSync(
      join(dir, "main.mjs"),
      `import { createModel, spec } from "./multihead_attention.js";
import { randomWeights } from "tfmc/runtime";
const m = createModel(randomWeights(spec.parameters, 3));
const x = { data: new Float32Array(1 * 2 * 8).fill(0.5), shape: [1, 2, 8] };
const { out } = m.forward({ query: x, key: x, value: x });
console.log(JSON.stringify({ shape: out.shape, finite: out.data.every(Number.isFinite) }));
`,
    );
    const stdout = execFileSync(process.execPath, [join(dir, "main.mjs")], { encoding: "utf8" });
    expect(JSON.parse(stdout)).toEqual({ shape: [1, 2, 8], finite: true });
  });

  it("is deterministic to the byte, and --check tells when the output is stale", async () => {
    const a = join(OUT, "det-a");
    const b = join(OUT, "det-b");
    expect(await compile("examples/translator.tfm", a, "--set", "layers=1")).toBe(0);
    expect(await compile("examples/translator.tfm", b, "--set", "layers=1")).toBe(0);
    const text = readFileSync(join(a, "translator.ts"), "utf8");
    expect(readFileSync(join(b, "translator.ts"), "utf8")).toBe(text);
    expect(text.startsWith("/**\n * @generated by tfmc. DO NOT EDIT.")).toBe(true);
    expect(text).not.toMatch(/\/work\/|[0-9]{4}-[0-9]{2}-[0-9]{2}/);
    expect(await compile("examples/translator.tfm", a, "--set", "layers=1", "--check")).toBe(0);
    expect(await compile("examples/translator.tfm", a, "--set", "layers=2", "--check")).toBe(1);
    writeFileSync(join(a, "translator.ts"), text + "// edited\n");
    expect(await compile("examples/translator.tfm", a, "--set", "layers=1", "--check")).toBe(1);
  });

  it("an error never overwrites good output", async () => {
    const dir = join(OUT, "keep");
    expect(await compile("examples/torch/encoder_layer.tfm", dir)).toBe(0);
    const before = readFileSync(join(dir, "encoder_layer.ts"), "utf8");
    expect(await compile("examples/torch/encoder_layer.tfm", dir, "--set", "nhead=7")).toBe(1);
    expect(readFileSync(join(dir, "encoder_layer.ts"), "utf8")).toBe(before);
  });

  it("hostile names reach the module only as escaped data", async () => {
    const dir = join(OUT, "hostile");
    expect(await compile("test/models/hostile_names.tfm", dir)).toBe(0);
    const text = readFileSync(join(dir, "hostile.ts"), "utf8");
    expect(text).not.toMatch(/[\u2028\u2029]/);
    expect(text).not.toContain("</script>");
    // The hostile label appears only inside string literals, never in a comment or as code.
    const lines = text.split("\n").filter((l) => l.includes("alert(1)"));
    expect(lines.length).toBeGreaterThan(0);
    const literal = '"*/ `${alert(1)}` \\u2028\\u2029 <\\/script>.';
    for (const l of lines) expect(l.replace(literal + 'weight"', "").replace(literal + 'bias"', "")).not.toContain("alert(1)");
    writeFileSync(join(dir, "tsconfig.json"), STRICT_TSCONFIG);
    const check = tsc(dir);
    expect(check.stdout + check.stderr).toBe("");
    mkdirSync(join(dir, "js"), { recursive: true });
    expect(await compile("test/models/hostile_names.tfm", join(dir, "js"), "--emit", "js")).toBe(0);
    writeFileSync(
      join(dir, "js", "main.mjs"),
      `import { createModel, spec } from "./hostile.js";
import { randomWeights } from "tfmc/runtime";
const inputs = { toString: { data: new Float32Array([1, 2, 3, 4]), shape: [1, 4] } };
const out = createModel(randomWeights(spec.parameters)).forward(inputs);
console.log(JSON.stringify({ keys: Object.keys(out), own: Object.hasOwn(out, "__proto__"), proto: Object.getPrototypeOf(out) === Object.prototype, names: spec.parameters.map((p) => p.name), config: Object.keys(spec.config) }));
`,
    );
    const result = JSON.parse(execFileSync(process.execPath, [join(dir, "js", "main.mjs")], { encoding: "utf8" }));
    expect(result.keys.sort()).toEqual(["__proto__", "valueOf"]);
    expect(result.own).toBe(true);
    expect(result.proto).toBe(true);
    expect(result.names).toContain("*/ `${alert(1)}` \u2028\u2029 </script>.weight");
    expect(result.config.sort()).toEqual(["__proto__", "constructor"]);
  });
});
