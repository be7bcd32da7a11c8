export * from "./tensor.js";
export * from "./safetensors.js";
export * from "./errors.js";
export * from "./inputs.js";
export * from "./kernels.js";
export * from "./math.js";
export * from "./random.js";
export * from "./weights.js";
