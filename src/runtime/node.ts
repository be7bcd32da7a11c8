/**
 * Reading checkpoints from disk in Node (`tfmc/runtime/node`). Kept out of the runtime's index so
 * that generated modules stay free of `node:fs` and run in browsers.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { CheckpointError } from "./errors.js";
import { readSafetensors, type SafeTensor } from "./safetensors.js";
import { readShardedSafetensors } from "./sharded.js";

export const SHARD_INDEX = "model.safetensors.index.json";
export const SINGLE_FILE = "model.safetensors";

/** The file's bytes; a failure is an Error saying why, without a stack worth showing. */
function bytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : code === "EACCES" ? "permission denied" : "cannot be read");
  }
}

const isFolder = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

const exists = (path: string): boolean => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/**
 * A checkpoint's tensors by name (F16 and BF16 widened to float32), ready for `createModel`:
 * a `.safetensors` file; a sharded checkpoint's `model.safetensors.index.json`, whose shards are
 * read from beside it; or a folder holding either (the index first). Throws a CheckpointError.
 */
export function readCheckpoint(path: string): Map<string, SafeTensor> {
  if (isFolder(path)) {
    for (const name of [SHARD_INDEX, SINGLE_FILE]) if (exists(join(path, name))) return readCheckpoint(join(path, name));
    throw new CheckpointError(path, [`the folder holds neither ${SHARD_INDEX} nor ${SINGLE_FILE}`]);
  }
  let file: Uint8Array;
  try {
    file = bytes(path);
  } catch (e) {
    throw new CheckpointError(path, [(e as Error).message]);
  }
  if (path.endsWith(".json")) return readShardedSafetensors(file, (shard) => bytes(join(dirname(path), shard)), path);
  try {
    return readSafetensors(file).tensors;
  } catch (e) {
    throw new CheckpointError(path, [(e as Error).message]);
  }
}
