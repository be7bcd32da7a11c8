import { CONST_FUNCTIONS, LAYERS } from "../semantics/layers/index.js";

/** The names editors highlight as built-ins: layers (and repeat) and compile-time functions. */
export function grammarInputs(): { layers: string[]; functions: string[] } {
  return { layers: [...Object.keys(LAYERS), "repeat"], functions: Object.keys(CONST_FUNCTIONS) };
}
