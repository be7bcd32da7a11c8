// Errors thrown by generated modules. Each carries a stable code from the 5xxx band. Arguments
// (input names, tensor names, dtype names) come from outside and are made printable.

import { listLines, MAX_PRINTED_CHARS, plural, printable } from "./printable.js";

export const RuntimeMessages = {
  Missing_input_0: { code: 5001, message: "input '{0}' is missing" },
  Input_0_dtype_1_expected_2: { code: 5002, message: "input '{0}' has dtype {1}; expected {2}" },
  Input_0_rank_1_expected_2: { code: 5003, message: "input '{0}' has rank {1}; expected rank {2} ({3})" },
  Input_0_dim_1_is_2_expected_3: { code: 5004, message: "input '{0}' dimension {1} is {2}; expected {3}" },
  Input_0_dim_1_is_2_but_3_is_4: { code: 5005, message: "input '{0}' dimension {1} is {2}, but '{3}' was bound to {4} by input '{5}'" },
  Dim_0_is_1_above_2: { code: 5006, message: "'{0}' is {1}, above its limit of {2} (input '{3}' dimension {4})" },
  Weights_problems_0: { code: 5007, message: "the weights do not fit the model ({0}):" },
  Id_0_out_of_range_1: { code: 5008, message: "token id {0} in {2} is outside the embedding table {3} of {1} rows" },
  Input_0_data_length_1_expected_2: { code: 5009, message: "input '{0}' holds {1} values, but its shape {2} needs {3}" },
  Unknown_input_0: { code: 5010, message: "unknown input '{0}'; the model takes {1}" },
  Weights_unreadable_0: { code: 5011, message: "the weights cannot be read: {0}" },
  Session_0_must_be_1_got_2: { code: 5012, message: "a session's {0} must be {1}; got {2}" },
  Session_holds_0_of_1_cannot_take_2: { code: 5013, message: "the session holds {0} of its {1} positions and cannot take {2} more" },
  Session_copy_0: { code: 5014, message: "copyFrom takes a session of the same model with the same batch and maxLength: {0}" },
  Threads_0_got_1: { code: 5015, message: "createThreadedModel: threads must be an integer from 1 to {0}; got {1}" },
  Threaded_model_closed_0: { code: 5016, message: "the threaded model was closed {0}" },
  Threaded_options_0: { code: 5017, message: "createThreadedModel takes options such as { threads: 2 }; got {0}" },
  Weights_options_0: { code: 5018, message: "the weights options are not valid: {0}" },
  Checkpoint_0_problems_1: { code: 5019, message: "the checkpoint {0} cannot be read ({1}):" },
  Slice_takes_0_of_axis_1_of_2: { code: 5020, message: "a slice takes elements {0} of axis {1}, which has {2}: the input is too short for it" },
  Take_index_0_outside_1: { code: 5021, message: "take: index {0} is outside the {1} rows of the table" },
  Search_0_takes_1_got_2: { code: 5022, message: "{0} takes (decoder, prompt, options) as in {0}(decoder, [1, 2, 3], { maxNewTokens: 20 }): {1}, got {2}" },
} as const;

type Arg = string | number | bigint;

const fill = (template: string, args: readonly Arg[]) =>
  template.replace(/\{(\d+)\}/g, (_, i: string) => {
    const a = args[Number(i)];
    // Generous: an argument may be a list of the model's own names as well as one outside name.
    return typeof a === "string" ? printable(a, 5 * MAX_PRINTED_CHARS) : String(a ?? "");
  });

export class TfmcRuntimeError extends Error {
  readonly code: string;
  constructor(info: { code: number; message: string }, args: readonly Arg[]) {
    super(fill(info.message, args));
    this.code = `TFM${info.code}`;
    this.name = new.target.name;
  }
}

/** An input of the wrong dtype, rank or size; names the input and the dimension. */
export class ShapeError extends TfmcRuntimeError {
  constructor(
    info: { code: number; message: string },
    args: readonly Arg[],
    readonly input: string,
    readonly dim?: number,
  ) {
    super(info, args);
  }
}

/**
 * Every missing, extra, mis-shaped or mis-typed weight, reported at once, with hints naming the
 * option (a prefix to strip or add, entries to ignore) that would help: all of them in `problems`
 * and `hints`, the first MAX_LISTED problems in the message, then how many more.
 */
export class WeightsError extends TfmcRuntimeError {
  constructor(
    readonly problems: readonly string[],
    readonly hints: readonly string[] = [],
  ) {
    super(RuntimeMessages.Weights_problems_0, [plural(problems.length, "problem")]);
    this.message += listLines(problems, "  - ") + listLines(hints, "  hint: ");
  }
}

/** A sharded checkpoint whose index and shards disagree, or a file that cannot be read; every problem at once. */
export class CheckpointError extends TfmcRuntimeError {
  constructor(
    readonly checkpoint: string,
    readonly problems: readonly string[],
  ) {
    super(RuntimeMessages.Checkpoint_0_problems_1, [checkpoint, plural(problems.length, "problem")]);
    this.message += listLines(problems, "  - ");
  }
}

/** A threaded model used wrongly: a bad thread count or options, or a call after (or cut short by) close(). */
export class ThreadedModelError extends TfmcRuntimeError {}

/** A decoding session used outside its bounds: its length, batch or capacity. */
export class SessionError extends TfmcRuntimeError {}

/** A token id past the table's rows; `from` names the ids ("input 'tokens'"), `table` the weight. A BigInt64Array's ids print exactly. */
export const idOutOfRange = (id: number | bigint, rows: number, from = "the ids", table = "table"): TfmcRuntimeError =>
  new TfmcRuntimeError(RuntimeMessages.Id_0_out_of_range_1, [id, rows, from, table]);
