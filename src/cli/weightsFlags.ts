import { CheckpointError } from "../runtime/errors.js";
import { readCheckpoint } from "../runtime/node.js";
import type { SafeTensor } from "../runtime/safetensors.js";
import type { WeightsOptions } from "../runtime/weightNames.js";
import { printable, UsageError, UserError } from "./io.js";
import { listLines } from "../runtime/printable.js";

/** `--weights` and the flags that say how its names become the model's (run and generate). */
export interface WeightsFlags {
  readonly path: string;
  readonly options: WeightsOptions;
}

/** From the parsed flags; the name flags without `--weights` are a usage error. */
export function weightsFlags(
  values: { weights?: string; "weights-prefix-strip"?: string; "weights-prefix-add"?: string; "weights-ignore"?: string[] },
  command: string,
): WeightsFlags | undefined {
  const strip = values["weights-prefix-strip"];
  const add = values["weights-prefix-add"];
  const ignore = values["weights-ignore"] ?? [];
  if (values.weights === undefined) {
    const given = [strip !== undefined && "--weights-prefix-strip", add !== undefined && "--weights-prefix-add", ignore.length > 0 && "--weights-ignore"].find(Boolean);
    if (given) throw new UsageError(`${command}: ${given} goes with --weights`);
    return undefined;
  }
  for (const [flag, v] of [["--weights-prefix-strip", strip], ["--weights-prefix-add", add], ...ignore.map((g) => ["--weights-ignore", g])] as const) {
    if (v !== undefined && v === "") throw new UsageError(`${command}: ${flag} takes a non-empty ${flag === "--weights-ignore" ? "pattern" : "prefix"}`);
  }
  const prefix = { ...(strip !== undefined ? { strip } : {}), ...(add !== undefined ? { add } : {}) };
  return {
    path: values.weights,
    options: { ...(strip !== undefined || add !== undefined ? { prefix } : {}), ...(ignore.length > 0 ? { ignore } : {}) },
  };
}

/** The checkpoint's tensors: a .safetensors file, a sharded checkpoint's index.json, or a folder holding either. */
export function readWeights(path: string): Map<string, SafeTensor> {
  try {
    return readCheckpoint(path);
  } catch (e) {
    if (e instanceof CheckpointError) {
      const list = e.problems.length === 1 ? printable(e.problems[0], 1000) : `${e.problems.length} problems:${listLines(e.problems, "  - ")}`;
      throw new UserError(`weights ${printable(e.checkpoint)}: ${list}`);
    }
    throw e;
  }
}
