/**
 * Sharded checkpoints as Hugging Face's `save_pretrained` writes them: `model.safetensors.index.json`
 * maps every tensor name to the shard file that holds it (`{"metadata": {...}, "weight_map":
 * {"wte.weight": "model-00001-of-00002.safetensors", ...}}`). Browser-safe: the caller reads the
 * shard files (fetch, fs, ...) and hands over their bytes.
 *
 *     const files = shardFiles(indexText);             // the shards the index names
 *     const bytes = await Promise.all(files.map(f => fetch(f).then(r => r.arrayBuffer())));
 *     const weights = readShardedSafetensors(indexText, Object.fromEntries(files.map((f, i) => [f, bytes[i]])));
 *     const model = createModel(weights, options);
 *
 * The index and the shards must agree exactly: every name listed is in its shard, every tensor of
 * a shard is listed for that shard, and no name is in two shards. Shard names must be relative
 * paths inside the checkpoint's folder (no `..`, no absolute paths).
 */
import { CheckpointError } from "./errors.js";
import { readSafetensors, type SafeTensor } from "./safetensors.js";
import { parseStrictJson } from "./strictJson.js";

export type ShardBytes = Uint8Array | ArrayBuffer;
export type ShardSource = ReadonlyMap<string, ShardBytes> | Readonly<Record<string, ShardBytes>> | ((file: string) => ShardBytes);

const INDEX = "the index";

/** The index's weight_map: tensor name → shard file, checked. */
export function readShardIndex(index: string | Uint8Array | ArrayBuffer, where = INDEX): Map<string, string> {
  const fail = (why: string): never => {
    throw new CheckpointError(where, [why]);
  };
  let text: string;
  try {
    text = typeof index === "string" ? index : new TextDecoder("utf-8", { fatal: true }).decode(index);
  } catch {
    return fail("the index is not valid UTF-8");
  }
  let root: unknown;
  try {
    root = parseStrictJson(text);
  } catch (e) {
    return fail(`the index is not valid JSON: ${(e as Error).message}`);
  }
  if (!(root instanceof Map)) return fail("the index must be a JSON object with a \"weight_map\"");
  const map = root.get("weight_map");
  if (!(map instanceof Map)) return fail("the index has no \"weight_map\" object (tensor name → shard file)");
  const problems: string[] = [];
  const out = new Map<string, string>();
  for (const [name, file] of map as Map<string, unknown>) {
    if (typeof file !== "string") problems.push(`weight_map maps '${name}' to ${JSON.stringify(file) ?? String(file)}, not a file name`);
    else if (!safeShardName(file)) problems.push(`weight_map maps '${name}' to '${file}', which is not a file inside the checkpoint's folder`);
    else out.set(name, file);
  }
  if (out.size === 0 && problems.length === 0) problems.push("weight_map is empty");
  if (problems.length > 0) throw new CheckpointError(where, problems);
  return out;
}

function safeShardName(file: string): boolean {
  if (file === "" || file.startsWith("/") || file.includes("\\") || /^[A-Za-z]:/.test(file) || file.includes("\0")) return false;
  return file.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}

/** The shard files the index names, each once, sorted. */
export function shardFiles(index: string | Uint8Array | ArrayBuffer): string[] {
  return [...new Set(readShardIndex(index).values())].sort();
}

/**
 * Every tensor of every shard, as one map (F16 and BF16 widened to Float32Array, as
 * readSafetensors does); `shards` gives each file's bytes, by name or through a function.
 * Throws a CheckpointError listing every disagreement between the index and the shards.
 */
export function readShardedSafetensors(index: string | Uint8Array | ArrayBuffer, shards: ShardSource, where = INDEX): Map<string, SafeTensor> {
  const weightMap = readShardIndex(index, where);
  const problems: string[] = [];
  const tensors = new Map<string, SafeTensor>();
  const failed = new Set<string>();
  const bytesOf = (file: string): ShardBytes | undefined =>
    typeof shards === "function" ? shards(file) : shards instanceof Map ? shards.get(file) : Object.hasOwn(shards, file) ? (shards as Record<string, ShardBytes>)[file] : undefined;
  for (const file of [...new Set(weightMap.values())].sort()) {
    let read: Map<string, SafeTensor>;
    try {
      const bytes = bytesOf(file);
      if (bytes === undefined) {
        problems.push(`the shard '${file}' was not given`);
        failed.add(file);
        continue;
      }
      read = readSafetensors(bytes).tensors;
    } catch (e) {
      problems.push(`the shard '${file}': ${(e as Error).message}`);
      failed.add(file);
      continue;
    }
    for (const [name, t] of read) {
      const listed = weightMap.get(name);
      if (listed === undefined) problems.push(`the shard '${file}' holds '${name}', which the index does not list`);
      else if (listed !== file) problems.push(`the shard '${file}' holds '${name}', which the index puts in '${listed}'`);
      else tensors.set(name, t);
    }
  }
  for (const [name, file] of weightMap) {
    if (!tensors.has(name) && !failed.has(file)) problems.push(`the index puts '${name}' in '${file}', which does not hold it`);
  }
  if (problems.length > 0) throw new CheckpointError(where, problems);
  return tensors;
}
