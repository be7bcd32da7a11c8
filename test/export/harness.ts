import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import * as ortNode from "onnxruntime-node";
import { buildGraph } from "../../src/cli/pipeline.js";
import type { IrGraph } from "../../src/ir/graph.js";
import { readSafetensors, toBigInt64, toFloat32, toInt32, writeSafetensors } from "../../src/runtime/safetensors.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { overrides, ROOT } from "../helpers.js";

// Runs the CLI in-process (export and run, as a user calls them) and the exported model on
// onnxruntime, so tests compare the two on the same inputs.

export const OUT = join(ROOT, "test", ".generated", "export");
export const FIXTURES = join(ROOT, "test", "fixtures", "torch");

export { runCli as tfmc, type CliResult } from "../helpers.js";

export const setFlags = (sets: readonly string[]): string[] => sets.flatMap((s) => ["--set", s]);

export function graphOf(tfm: string, sets: readonly string[]): IrGraph {
  const built = buildGraph(readFileSync(isAbsolute(tfm) ? tfm : join(ROOT, tfm), "utf8"), overrides(...sets), { level: 1 });
  if (!built.graph) throw new Error(`${tfm} does not build`);
  return built.graph;
}

export function writeTensors(path: string, tensors: Record<string, Tensor>): string {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path, writeSafetensors(tensors));
  return path;
}

export const readTensors = (path: string): Map<string, Tensor> => readSafetensors(readFileSync(path)).tensors;

/** `tfmc run` (the built CLI, as a user runs it) on these inputs: its outputs. */
export function tfmcRun(tfm: string, sets: readonly string[], inputs: string, weights: readonly string[], name: string): Map<string, Tensor> {
  const out = join(OUT, `${name}.tfmc.safetensors`);
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "tfmc.js"), "run", tfm, "--inputs", inputs, "--out", out, ...weights, ...setFlags(sets)], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tfmc run failed: ${r.stderr.slice(0, 2000)}`);
  return readTensors(out);
}

/** Each feed in the dtype the model declares for it (a fixture may hold int64 ids for an i32 input). */
export function asDeclared(g: IrGraph, feeds: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    const dtype = g.inputs.find((i) => i.name === name)?.type.dtype;
    // A bool input also takes integers, read as x != 0 (a tokenizer's int64 attention_mask).
    const bool = (x: Tensor): Tensor => (x.data instanceof Uint8Array ? x : { data: Uint8Array.from(Array.from(x.data as ArrayLike<number | bigint>, (v) => (Number(v) !== 0 ? 1 : 0))), shape: x.shape });
    out[name] = dtype === "i32" ? toInt32(t) : dtype === "i64" ? toBigInt64(t) : dtype === "f32" ? toFloat32(t) : dtype === "bool" ? bool(t) : t;
  }
  return out;
}

type Ort = typeof ortNode;
const ORT_TYPE = { f32: "float32", i32: "int32", i64: "int64", bool: "bool" } as const;

function ortTensor(ort: Ort, t: Tensor): ortNode.Tensor {
  const d = t.data;
  const type = d instanceof Float32Array ? ORT_TYPE.f32 : d instanceof Int32Array ? ORT_TYPE.i32 : d instanceof BigInt64Array ? ORT_TYPE.i64 : ORT_TYPE.bool;
  return new ort.Tensor(type, d as Float32Array, [...t.shape]);
}

let web: Ort | undefined;

/** onnxruntime-web on its wasm backend, one thread (in Node, as in a browser without isolation). */
export async function ortWeb(): Promise<Ort> {
  if (!web) {
    web = (await import("onnxruntime-web")) as unknown as Ort;
    const env = web.env as unknown as { wasm: { numThreads: number }; logLevel: string };
    env.wasm.numThreads = 1;
    env.logLevel = "error";
  }
  return web;
}

/** The element type of each graph input (ONNX's numbering: 1 float, 6 int32, 7 int64, 9 bool). */
export function inputTypes(model: Uint8Array): Map<string, number> {
  const g = fromBinary(ModelProtoSchema, model).graph!;
  return new Map(g.input.map((i) => [i.name, i.type?.value.case === "tensorType" ? i.type.value.value.elemType : 0]));
}

/** A feed in the type the graph input has (ids as int64 or int32, masks as bool), as a caller converts it. */
function asInput(t: Tensor, type: number | undefined): Tensor {
  const numbers = () => Array.from(t.data as ArrayLike<number | bigint>, Number);
  if (type === 7 && !(t.data instanceof BigInt64Array)) return { data: BigInt64Array.from(numbers(), BigInt), shape: t.shape };
  if (type === 6 && !(t.data instanceof Int32Array)) return { data: Int32Array.from(numbers()), shape: t.shape };
  if (type === 9 && !(t.data instanceof Uint8Array)) return { data: Uint8Array.from(numbers(), (v) => (v !== 0 ? 1 : 0)), shape: t.shape };
  return t;
}

/**
 * The exported model run on an onnxruntime (node, or web's wasm backend) with these feeds, each
 * converted to its graph input's type unless `exact` (then fed as it is).
 */
export async function ortRun(model: string | Uint8Array, feeds: Record<string, Tensor>, ort: Ort = ortNode, exact = false): Promise<Record<string, Tensor>> {
  const options = ort === ortNode ? {} : { executionProviders: ["wasm"] };
  const bytes = typeof model === "string" ? new Uint8Array(readFileSync(model)) : model;
  const types = inputTypes(bytes);
  // onnxruntime-web reads a model from bytes (a path would be fetched); node reads the path (external data beside it).
  const session = typeof model === "string" && ort === ortNode ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(bytes, options);
  const inputs = Object.fromEntries(session.inputNames.map((n) => [n, ortTensor(ort, exact ? feeds[n] : asInput(feeds[n], types.get(n)))]));
  const results = await session.run(inputs);
  await session.release();
  return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { data: v.data as Float32Array, shape: v.dims.map(Number) }]));
}
