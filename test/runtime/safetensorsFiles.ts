/** Builds safetensors files byte by byte, so tests state exactly what is on disk. */

export const ascii = (s: string): number[] => [...new TextEncoder().encode(s)];

/** 8-byte little-endian length, header text, data. `declared` overrides the length prefix. */
export function file(header: string, data: ArrayLike<number> = [], declared?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(Array.from(data), 8 + h.length);
  return out;
}

/** The header text of one entry, written as the reference writer writes it. */
export const entry = (name: string, dtype: string, shape: number[], begin: number, end: number): string =>
  `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${shape.join(",")}],"data_offsets":[${begin},${end}]}`;

/** Little-endian float32 bytes, as the format stores them whatever the platform. */
export function f32Bytes(...xs: number[]): number[] {
  const v = new DataView(new ArrayBuffer(4 * xs.length));
  xs.forEach((x, i) => v.setFloat32(4 * i, x, true));
  return [...new Uint8Array(v.buffer)];
}

export const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
