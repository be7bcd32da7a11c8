// The one table of diagnostics. Codes are stable: never renumber, only add.
// Bands: 1xxx syntax, 2xxx names and shapes, 3xxx internal graph checks,
// 4xxx codegen, 5xxx runtime checks in generated code.
// Templates use {0}, {1}, ... for arguments.

export type Category = "error" | "warning";

export interface MessageInfo {
  readonly code: number;
  readonly category: Category;
  readonly message: string;
}

export const Diagnostics = {
  // 1xxx syntax
  Unexpected_character_0: { code: 1001, category: "error", message: "unexpected character {0}" },
  Unterminated_block_comment: { code: 1002, category: "error", message: "unterminated block comment: '/*' has no closing '*/'" },
  Unterminated_string: { code: 1003, category: "error", message: "unterminated string literal" },
  Expected_0_found_1: { code: 1004, category: "error", message: "expected {0} but found {1}" },
  Unexpected_0_1: { code: 1005, category: "error", message: "unexpected {0}: expected {1}" },
  Nesting_too_deep_limit_0: { code: 1006, category: "error", message: "nesting is too deep: more than {0} levels of brackets or operators" },
  Unexpected_0_after_end_of_model: { code: 1007, category: "error", message: "unexpected {0} after the end of the model" },
  Invalid_escape_0: { code: 1008, category: "error", message: "invalid escape sequence {0} in string" },
  Invalid_number_0: { code: 1009, category: "error", message: "invalid number {0}" },
  File_too_large_0: { code: 1010, category: "error", message: "file is too large ({0} bytes; the limit is 1 MiB)" },
  Integer_0_too_large: { code: 1011, category: "error", message: "integer {0} is too large to be exact: the limit is 9007199254740991 (2^53 - 1)" },
  Expression_too_long_0: { code: 1012, category: "error", message: "expression is too long: more than {0} operators in a row; give parts of it names" },

  // 2xxx names, values and shapes
  No_model_in_file: { code: 2001, category: "error", message: "the file declares no model: write 'model name { ... }'" },
  Only_one_model_per_file: { code: 2002, category: "error", message: "only one model per file: '{0}' is already declared" },
  Unknown_name_0: { code: 2003, category: "error", message: "unknown name '{0}'" },
  Unknown_layer_0: { code: 2004, category: "error", message: "unknown layer or block '{0}'" },
  Unknown_argument_0_for_1: { code: 2005, category: "error", message: "unknown argument '{0}' for '{1}'" },
  Missing_argument_0_for_1: { code: 2006, category: "error", message: "missing argument '{0}' for '{1}'" },
  Too_many_arguments_for_0_expected_1_got_2: { code: 2007, category: "error", message: "too many positional arguments for '{0}': expected at most {1}, got {2}" },
  Argument_0_given_twice: { code: 2008, category: "error", message: "argument '{0}' is given twice" },
  Duplicate_config_0: { code: 2009, category: "error", message: "config '{0}' is declared twice" },
  Unknown_config_override_0: { code: 2010, category: "error", message: "--set {0}: the model has no config named '{0}'" },
  Override_0_expects_1_got_2: { code: 2011, category: "error", message: "--set {0}: '{0}' is {1}, but the value given is {2}" },
  Expected_0_got_1: { code: 2012, category: "error", message: "expected {0}, got {1}" },
  Division_by_zero: { code: 2013, category: "error", message: "division by zero" },
  Dim_0_not_divisible_by_heads_1: { code: 2014, category: "error", message: "model dimension {0} is not divisible by the number of heads {1}" },
  Cannot_broadcast_0_and_1: { code: 2015, category: "error", message: "shapes {0} and {1} cannot be combined elementwise" },
  Inner_dims_0_and_1: { code: 2016, category: "error", message: "inner dimensions differ: {0} against {1}" },
  Mask_0_shape_1_expected_2: { code: 2017, category: "error", message: "mask '{0}' has shape {1}; this attention expects {2}" },
  Mask_0_must_be_1_got_2: { code: 2018, category: "error", message: "'{0}' takes {1}, got {2}" },
  Key_value_length_0_1: { code: 2019, category: "error", message: "keys and values differ in length: {0} keys against {1} values" },
  Unknown_dtype_0: { code: 2020, category: "error", message: "unknown dtype '{0}': expected one of f32, i32, i64, bool" },
  Name_0_already_declared: { code: 2021, category: "error", message: "'{0}' is already declared" },
  Parameter_0_declared_twice: { code: 2022, category: "error", message: "parameter '{0}' is declared twice: give one of the layers a different label" },
  Block_0_calls_itself: { code: 2023, category: "error", message: "block '{0}' calls itself: {1}" },
  Block_0_has_no_return: { code: 2024, category: "error", message: "block '{0}' has no return statement" },
  Condition_must_be_boolean_got_0: { code: 2025, category: "error", message: "a condition must be a compile-time boolean, got {0}" },
  Model_has_no_output: { code: 2026, category: "error", message: "model '{0}' declares no output" },
  Optional_0_used_as_value: { code: 2027, category: "error", message: "optional input '{0}' may be absent: it can only be passed as a mask" },
  Positions_need_bound_0_1: { code: 2028, category: "error", message: "'{0}' holds {1} positions, but the length has no such bound: add a constraint such as 'where {2} <= {1}'" },
  Invalid_constraint_0: { code: 2029, category: "error", message: "invalid constraint: {0}" },
  Return_outside_block: { code: 2030, category: "error", message: "'return' is only allowed inside a block" },
  Label_0_not_found: { code: 2031, category: "error", message: "no layer is labelled '{0}'" },
  Dtype_0_expected_1: { code: 2032, category: "error", message: "tensor of dtype {0} where {1} is expected" },
  Kernel_0_cannot_honour_1: { code: 2033, category: "error", message: "attention kernel '{0}' cannot honour {1}" },
  Invalid_choice_0_for_1_expected_2: { code: 2034, category: "error", message: "'{0}' is not a valid {1}: expected one of {2}" },
  Statement_not_allowed_here_0: { code: 2035, category: "error", message: "{0}" },
  Duplicate_block_0: { code: 2036, category: "error", message: "block '{0}' is declared twice" },
  Value_0_must_be_1: { code: 2037, category: "error", message: "{0} must be {1}" },
  Label_needs_layer_0: { code: 2038, category: "error", message: "a label names a layer or block call, not {0}" },
  Shape_0_expected_1_for_2: { code: 2039, category: "error", message: "'{2}' has shape {0}; expected {1}" },
  Dim_0_bound_to_1_and_2: { code: 2040, category: "error", message: "dimension '{0}' is bound to both {1} and {2}" },
  Rank_0_expected_1_for_2: { code: 2041, category: "error", message: "'{2}' has rank {0}; expected rank {1}" },
  Output_0_declared_twice: { code: 2042, category: "error", message: "output '{0}' is declared twice" },
  Constraint_violated_0: { code: 2043, category: "error", message: "constraint does not hold for this config: {0}" },
  Tied_0_is_1: { code: 2044, category: "error", message: "'tied' needs an embedding, but '{0}' labels {1}" },
  Unused_input_0: { code: 2045, category: "warning", message: "input '{0}' is never used" },
  Block_argument_0_expected_1: { code: 2046, category: "error", message: "block parameter '{0}' {1}" },
  Config_0_must_be_constant: { code: 2047, category: "error", message: "config '{0}' must be a compile-time constant, got {1}" },
  Blocks_nested_too_deeply_0: { code: 2048, category: "error", message: "blocks are nested more than {0} calls deep" },
  Model_too_large_0: { code: 2049, category: "error", message: "the model is too large to analyse: more than {0} operations after expanding blocks and repeats" },
  Tensor_0_too_large_1: { code: 2050, category: "error", message: "{0} would hold {1} elements: a tensor holds at most 2147483647 (2^31 - 1)" },
  Integer_result_0_too_large: { code: 2051, category: "error", message: "this integer arithmetic gives {0}, past the largest exact integer 9007199254740991 (2^53 - 1)" },
  Reserved_name_0_for_1: { code: 2052, category: "error", message: "'{0}' cannot name {1}: safetensors files keep their metadata under that name" },
  Input_default_0_1: { code: 2053, category: "error", message: "input '{0}' cannot have this default: {1}" },
} as const satisfies Record<string, MessageInfo>;

export type DiagnosticKey = keyof typeof Diagnostics;
