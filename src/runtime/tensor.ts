/** Element types of tensors crossing the generated module's boundary. */
export type DType = "f32" | "i32" | "i64" | "bool";

export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** A tensor as the generated module takes and returns it: row-major data and a shape. */
export interface Tensor<D extends TensorData = TensorData> {
  readonly data: D;
  readonly shape: readonly number[];
}

export const dtypeOfData = (d: TensorData): DType =>
  d instanceof Float32Array ? "f32" : d instanceof Int32Array ? "i32" : d instanceof BigInt64Array ? "i64" : "bool";

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
