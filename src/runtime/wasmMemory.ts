// The memory of a generated module's WebAssembly kernels (`tfmc compile --target wasm`). Packed
// weights and biases are placed once, at createModel, at the bottom; above them lies the arena of
// the memory plan, made again (growing the memory when needed) each time the input shapes change.
// Growing detaches earlier views, so arena views are only ever taken after `arena`.

import { printable } from "./printable.js";

const PAGE = 65536;
/** The most a shared memory may grow to (2 GiB); shared memories must declare a maximum. */
export const MAX_PAGES = 32768;

export class WasmUnavailableError extends Error {
  constructor() {
    super("this JavaScript engine cannot run the model's WebAssembly SIMD kernels (no WebAssembly, or no SIMD); compile with --target ts");
    this.name = "WasmUnavailableError";
  }
}

/** A module compiled with --wasm-file used before its loadWasm. */
export class WasmNotLoadedError extends Error {
  constructor(file: string) {
    super(`this model's WebAssembly kernels are in ${file} beside its module: await loadWasm() before createModel`);
    this.name = "WasmNotLoadedError";
  }
}

/** A .wasm file that is not the model's kernels: truncated, corrupt, or from another compile. */
export class WasmFileError extends Error {
  /** `file` null: the kernels embedded in the module. */
  constructor(file: string | null, why: string) {
    const what = file === null ? "the WebAssembly kernels embedded in this model's module are corrupt" : `${printable(file)} is not this model's WebAssembly kernels`;
    super(`${what}: ${why}; compile the model again (tfmc compile --target wasm${file === null ? "" : " --wasm-file"})`);
    this.name = "WasmFileError";
  }
}

/** The smallest module with a SIMD instruction: whether this engine has WebAssembly SIMD. */
const SIMD_PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11);
export const wasmSimdSupported = (): boolean => typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);

/**
 * Checks that `bytes` can be the kernels read from `file`: the WebAssembly header, the size the
 * compiler wrote (when known), and, on an engine with SIMD, that the module validates. An engine
 * without SIMD is not the file's fault; createModel says so.
 */
export function checkWasmBinary(bytes: Uint8Array<ArrayBuffer>, file: string, expectedBytes?: number): void {
  const header = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  if (bytes.length < 8 || header.some((b, i) => bytes[i] !== b)) throw new WasmFileError(file, `it does not start with the WebAssembly header ("\\0asm", version 1)`);
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) throw new WasmFileError(file, `it holds ${bytes.length} bytes, not the ${expectedBytes} written by the compiler (truncated or corrupt)`);
  if (wasmSimdSupported() && !WebAssembly.validate(bytes)) throw new WasmFileError(file, "it is not a valid WebAssembly module (corrupt)");
}

/** The binaries loadWasm read, or a clear error if it has not run. */
export function loadedWasm<T>(files: T | null, file: string): T {
  if (files === null) throw new WasmNotLoadedError(file);
  return files;
}

/**
 * A .wasm file's bytes: from the file system for file: URLs (Node), else with fetch; checked by
 * checkWasmBinary against the size the compiler wrote.
 */
export async function readWasmFile(url: URL, expectedBytes?: number): Promise<Uint8Array<ArrayBuffer>> {
  let bytes: Uint8Array<ArrayBuffer>;
  if (url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    bytes = new Uint8Array(await readFile(url));
  } else {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`cannot fetch ${printable(url.href)}: HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  }
  checkWasmBinary(bytes, url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href, expectedBytes);
  return bytes;
}

/** Base64 (as the module embeds its binary) to bytes, in Node and in browsers. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

export class WasmMemory {
  readonly memory: WebAssembly.Memory;
  /** The kernels by name; pointers are byte offsets into `memory`. */
  readonly fn: Readonly<Record<string, (...args: number[]) => void>>;
  private top = 16;

  /** `shared`: the memory is shared (a binary built for it), so worker threads can run the kernels on it. */
  constructor(binary: Uint8Array<ArrayBuffer>, opts: { shared?: boolean } = {}) {
    if (!wasmSimdSupported()) throw new WasmUnavailableError();
    if (!WebAssembly.validate(binary)) throw new WasmFileError(null, "they are not a valid WebAssembly module");
    this.memory = opts.shared ? new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true }) : new WebAssembly.Memory({ initial: 1 });
    this.fn = WasmMemory.attach(binary, this.memory);
  }

  /** The kernels of `binary` on an existing memory (a worker thread's view of a shared one). */
  static attach(binary: Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): Readonly<Record<string, (...args: number[]) => void>> {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { memory } });
    return instance.exports as unknown as Record<string, (...args: number[]) => void>;
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  /** Copies `data` below the arena, 16-byte aligned; returns its byte offset. Only before the first `arena`. */
  place(data: Float32Array): number {
    const at = this.top;
    this.ensure(at + data.byteLength);
    new Float32Array(this.memory.buffer, at, data.length).set(data);
    this.top = at + Math.ceil(data.byteLength / 16) * 16;
    return at;
  }

  /** `floats` float32 values above the placed data: earlier arena views are no longer valid. */
  arena(floats: number): Float32Array {
    this.ensure(this.top + floats * 4);
    return new Float32Array(this.memory.buffer, this.top, floats);
  }
}

/** w [N, K] in the panel layout of the dense kernels: four output columns at a time, k-major. */
export function packPanels(w: Float32Array, N: number, K: number): Float32Array {
  const out = new Float32Array(N * K);
  for (let p = 0; p < N / 4; p++)
    for (let k = 0; k < K; k++) for (let c = 0; c < 4; c++) out[(p * K + k) * 4 + c] = w[(p * 4 + c) * K + k];
  return out;
}
