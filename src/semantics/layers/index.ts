import type { LayerDef } from "../elaborator.js";
import { attention } from "./attention.js";
import * as basic from "./basic.js";
import { ffn } from "./ffn.js";
import { PRIMITIVE_FUNCTIONS } from "./primitives.js";

/** Every built-in layer by the name it is called with in a .tfm file. */
export const LAYERS: Readonly<Record<string, LayerDef>> = {
  embedding: basic.embedding,
  linear: basic.linear,
  layer_norm: basic.layer_norm,
  rms_norm: basic.rms_norm,
  relu: basic.relu,
  gelu: basic.gelu,
  gelu_tanh: basic.gelu_tanh,
  silu: basic.silu,
  tanh: basic.tanh,
  sigmoid: basic.sigmoid,
  dropout: basic.dropout,
  softmax: basic.softmax,
  transpose: basic.transpose,
  ffn,
  add_norm: basic.add_norm,
  attention,
  learned_positions: basic.learned_positions,
  sinusoidal_positions: basic.sinusoidal_positions,
  ...PRIMITIVE_FUNCTIONS,
};

/** Compile-time functions on numbers. */
export const CONST_FUNCTIONS: Readonly<Record<string, { arity: [number, number]; fn: (...xs: number[]) => number }>> = {
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  min: { arity: [2, 8], fn: Math.min },
  max: { arity: [2, 8], fn: Math.max },
  floor: { arity: [1, 1], fn: Math.floor },
  ceil: { arity: [1, 1], fn: Math.ceil },
};

/** The built-in layer called `name`, if any: own entries only, so `toString` or `__proto__` name nothing. */
export const layerNamed = (name: string): LayerDef | undefined => (Object.hasOwn(LAYERS, name) ? LAYERS[name] : undefined);

/** The compile-time function called `name`, if any (own entries only). */
export const constFunctionNamed = (name: string): (typeof CONST_FUNCTIONS)[string] | undefined =>
  Object.hasOwn(CONST_FUNCTIONS, name) ? CONST_FUNCTIONS[name] : undefined;

export { ACTIVATIONS } from "./basic.js";
