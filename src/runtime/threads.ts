// A pool of worker threads sharing memory with the main thread. Kernels whose work splits cleanly
// (matrix products by rows, attention by heads) run on every thread at once. The work is cut into
// more chunks than there are threads and each thread takes the next chunk from a shared counter
// until none is left, so a thread the machine slows down (another process, a busy core) does less
// instead of holding everyone up. Each chunk writes its own part of the output: no locking.
// A model's calls take turns (`serial`): its staged inputs, its arena and the chunk counter serve
// one call at a time, and each call's outputs are copied out (`ownTensors`) before the next starts.

import { RuntimeMessages as M, ThreadedModelError } from "./errors.js";
import type { Tensor } from "./tensor.js";

type Typed = Float32Array | Int32Array | Uint8Array | BigInt64Array | Float64Array;
type Kernel = (...args: never[]) => void;

/** A kernel argument as sent to a worker: a view of a shared buffer, or a plain value. */
export type EncodedArg = { view: string; buffer: number; offset: number; length: number } | number | boolean | null | readonly number[] | Int32Array;

export type WorkerRequest =
  | { type: "init"; moduleUrl: string; counter: SharedArrayBuffer }
  | { type: "buffer"; id: number; buffer: ArrayBufferLike }
  | { type: "run"; task: number; kernel: string; chunks: EncodedArg[][] }
  | { type: "wasm"; binary: Uint8Array; memory: WebAssembly.Memory };

interface WorkerLike {
  postMessage(m: unknown): void;
  terminate(): unknown;
  /** Node only: whether a busy worker keeps the process alive (idle ones must not). */
  ref?(): void;
  unref?(): void;
}

const isNode = typeof process !== "undefined" && Boolean(process.versions?.node);

/** Browsers give shared memory only to cross-origin isolated pages. */
const NOT_ISOLATED =
  "createThreadedModel needs SharedArrayBuffer, which a browser gives only to a cross-origin isolated page: " +
  "serve the page with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp " +
  "(createModel runs on one thread without them)";

/** The most threads a threaded model runs on (this one and its workers); each worker loads its own copy of the module. */
export const MAX_THREADS = 64;

/** A value as an error message shows it: strings quoted, so that "3" is not read as 3. */
function shown(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "bigint") return `${x}n`;
  if (typeof x === "object" && x !== null) return Array.isArray(x) ? "an array" : "an object";
  return String(x);
}

/** The thread count of createThreadedModel's `options`: `threads`, 2 when absent, an integer from 1 to MAX_THREADS. */
export function threadCount(options: unknown): number {
  if (options === undefined || options === null) return 2;
  if (typeof options !== "object") throw new ThreadedModelError(M.Threaded_options_0, [shown(options)]);
  const threads = (options as { threads?: unknown }).threads;
  if (threads === undefined) return 2;
  if (typeof threads !== "number" || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new ThreadedModelError(M.Threads_0_got_1, [MAX_THREADS, shown(threads)]);
  }
  return threads;
}

/** A threaded model's outputs copied out of its shared buffers: the caller's own, whatever calls come next. */
export function ownTensors<T extends object>(outputs: T): T {
  const own: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(outputs) as [string, Tensor][]) own[name] = { data: t.data.slice(), shape: [...t.shape] };
  return own as T;
}

const closedError = (when: string) => new ThreadedModelError(M.Threaded_model_closed_0, [when]);

/** A Float32Array over shared memory (what worker threads can read and write). */
export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(4, length * 4)), 0, length);
}

/** A copy of a tensor's data in shared memory. */
export function shareFloat32(t: { readonly data: Float32Array } | Float32Array): Float32Array {
  const data = t instanceof Float32Array ? t : t.data;
  const out = sharedFloat32(data.length);
  out.set(data);
  return out;
}

export class ThreadPool {
  private readonly ids = new Map<ArrayBufferLike, number>();
  private readonly pending = new Map<number, { left: number; error?: string; resolve: () => void; reject: (e: Error) => void }>();
  private task = 0;
  private staged: Typed[] = [];
  /** The index of the next chunk to take, shared by every thread. */
  private readonly next = new Int32Array(new SharedArrayBuffer(4));
  private closing?: Promise<unknown>;
  /** Set when a worker died: the pool cannot run split work any more. */
  private failure?: Error;
  /** The last call `serial` queued (settled or not), and how many calls are queued or running. */
  private tail: Promise<unknown> = Promise.resolve();
  private calls = 0;

  private constructor(private readonly workers: WorkerLike[]) {}

  /** Starts `n` workers that load `moduleUrl` (a generated module) for its kernels. */
  static async start(n: number, moduleUrl: string): Promise<ThreadPool> {
    if (typeof SharedArrayBuffer === "undefined") throw new Error(NOT_ISOLATED);
    const script = new URL("./threadWorker.js", import.meta.url);
    const workers: WorkerLike[] = [];
    const ready: Promise<void>[] = [];
    const pool = new ThreadPool(workers);
    for (let i = 0; i < n; i++) {
      let w: WorkerLike;
      const onMessage = (m: { type: string; task?: number; error?: string }, done?: () => void) => {
        if (m.type === "ready") done?.();
        else if (m.type === "done") pool.finish(m.task!, m.error);
        else if (m.type === "attached") pool.attached?.();
      };
      let signal!: () => void;
      let refuse!: (e: Error) => void;
      ready.push(new Promise<void>((resolve, reject) => ((signal = resolve), (refuse = reject))));
      // A worker that dies (its module fails to load, it runs out of memory) fails what waits on it.
      const onError = (e: unknown) => {
        const error = new Error(`a worker thread failed: ${String((e as Error)?.message ?? e)}`);
        refuse(error);
        pool.fail(error);
      };
      if (isNode) {
        const { Worker } = await import("node:worker_threads");
        const nw = new Worker(script);
        nw.on("message", (m) => onMessage(m, signal));
        nw.on("error", onError);
        w = nw;
      } else {
        const ww = new Worker(script, { type: "module" });
        ww.addEventListener("message", (e: MessageEvent) => onMessage(e.data, signal));
        ww.addEventListener("error", (e: ErrorEvent) => onError(e.message || "it could not start"));
        w = ww;
      }
      w.postMessage({ type: "init", moduleUrl, counter: pool.next.buffer as SharedArrayBuffer } satisfies WorkerRequest);
      workers.push(w);
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    // Idle workers must not keep Node running; a worker holds the process only while it works.
    for (const w of workers) w.unref?.();
    return pool;
  }

  private attached?: () => void;
  private attachFailed?: (e: Error) => void;

  /**
   * Gives every worker the module's WebAssembly kernels on the shared `memory` (the generated
   * module's `attachWasm` keeps them for its worker-side kernels).
   */
  async attachWasm(binary: Uint8Array, memory: WebAssembly.Memory): Promise<void> {
    let left = this.workers.length;
    if (left === 0) return;
    if (this.failure) throw this.failure;
    const all = new Promise<void>((resolve, reject) => {
      this.attached = () => --left === 0 && resolve();
      this.attachFailed = reject;
    });
    for (const w of this.workers) {
      w.ref?.();
      w.postMessage({ type: "wasm", binary, memory } satisfies WorkerRequest);
    }
    await all;
    for (const w of this.workers) w.unref?.();
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** A worker finished its part of `task`; the task settles when every worker has (a failed one stops taking chunks). */
  private finish(task: number, error?: string): void {
    const p = this.pending.get(task);
    if (!p) return;
    if (error) p.error ??= error;
    if (--p.left === 0) {
      this.pending.delete(task);
      if (p.error === undefined) p.resolve();
      else p.reject(new Error(`a worker failed: ${p.error}`));
    }
  }

  /** A worker died: every task waiting on the workers fails, and so does any later one. */
  private fail(error: Error): void {
    this.failure ??= error;
    this.attachFailed?.(error);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /**
   * Runs `call` when every call queued before it has settled (at once when none is), and rejects
   * with a ThreadedModelError when the pool is closed before it starts.
   */
  serial<T>(call: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(closedError("before this call started"));
    const start = () => {
      if (this.closing) throw closedError("before this call started");
      return call();
    };
    const run = this.calls === 0 ? start() : this.tail.then(start);
    this.calls++;
    this.tail = run.then(
      () => void this.calls--,
      () => void this.calls--,
    );
    return run;
  }

  /** Makes a shared buffer known to the workers (once). */
  private idOf(buffer: ArrayBufferLike): number {
    let id = this.ids.get(buffer);
    if (id === undefined) {
      if (!(buffer instanceof SharedArrayBuffer)) throw new Error("threaded kernels need shared memory");
      id = this.ids.size;
      this.ids.set(buffer, id);
      for (const w of this.workers) w.postMessage({ type: "buffer", id, buffer } satisfies WorkerRequest);
    }
    return id;
  }

  /** Shared views travel as references; anything else (small index arrays) is copied. */
  private encode(a: unknown): EncodedArg {
    if (ArrayBuffer.isView(a) && a.buffer instanceof SharedArrayBuffer) {
      const t = a as Typed;
      return { view: t.constructor.name, buffer: this.idOf(t.buffer), offset: t.byteOffset, length: t.length };
    }
    return a as EncodedArg;
  }

  /**
   * Copies an input into shared memory (the caller's arrays are not shared), reusing the staging
   * buffer of slot `i` while it is large enough.
   */
  stage<T extends Typed>(i: number, data: T | null): T | null {
    if (data === null) return null;
    const Ctor = data.constructor as new (b: SharedArrayBuffer, o: number, n: number) => T;
    let s = this.staged[i] as T | undefined;
    if (!s || s.constructor !== data.constructor || s.buffer.byteLength < data.byteLength) {
      s = new Ctor(new SharedArrayBuffer(Math.max(8, data.byteLength)), 0, data.length);
      this.staged[i] = s;
    }
    const view = s.length === data.length ? s : (s.subarray(0, data.length) as T);
    (view as unknown as { set(x: T): void }).set(data);
    return view;
  }

  /** Runs the chunks on this thread and the workers, each taking the next chunk left; resolves when all are done. */
  private async spread(kernel: string, fn: Kernel, chunks: unknown[][]): Promise<void> {
    if (this.closing) throw closedError("while this call ran");
    if (this.failure) throw this.failure;
    const run = fn as (...a: unknown[]) => void;
    const helpers = Math.min(this.workers.length, chunks.length - 1);
    if (helpers === 0) {
      for (const c of chunks) run(...c);
      return;
    }
    const task = ++this.task;
    Atomics.store(this.next, 0, 0);
    const done = new Promise<void>((resolve, reject) => this.pending.set(task, { left: helpers, resolve, reject }));
    const encoded = chunks.map((args) => args.map((a) => this.encode(a)));
    for (let i = 0; i < helpers; i++) {
      this.workers[i].ref?.();
      this.workers[i].postMessage({ type: "run", task, kernel, chunks: encoded } satisfies WorkerRequest);
    }
    for (let i = Atomics.add(this.next, 0, 1); i < chunks.length; i = Atomics.add(this.next, 0, 1)) run(...chunks[i]);
    try {
      await done;
    } finally {
      for (let i = 0; i < helpers; i++) this.workers[i].unref?.();
    }
  }

  /** How many chunks to cut `units` of work into: a few per thread, so the threads can even out. */
  private chunkCount(units: number): number {
    return this.threads === 1 ? 1 : Math.min(units, 4 * this.threads);
  }

  /**
   * Splits a row-wise kernel: argument `countAt` holds the number of rows; arguments with a stride
   * in `strides` are advanced by rows × stride elements for each chunk. Chunks start at multiples
   * of 4 rows, the GEMM's register block. A dense kernel (`columns` given: its output width, with
   * the column range `c0, c1` after the row count) with fewer rows than columns splits by columns:
   * each thread then reads only its slice of the weights, where by rows every thread would read all.
   */
  rows(kernel: string, fn: Kernel, args: unknown[], countAt: number, strides: readonly number[], columns?: number): Promise<void> {
    const rows = args[countAt] as number;
    if (columns !== undefined && rows < columns) return this.columns(kernel, fn, args, countAt + 1, columns);
    const blocks = Math.ceil(rows / 4);
    const n = this.chunkCount(blocks);
    const chunks: unknown[][] = [];
    for (let p = 0; p < n; p++) {
      const r0 = Math.min(rows, 4 * Math.floor((blocks * p) / n));
      const r1 = Math.min(rows, 4 * Math.floor((blocks * (p + 1)) / n));
      if (r1 > r0) chunks.push(args.map((a, i) => (i === countAt ? r1 - r0 : strides[i] ? (a as Typed).subarray(r0 * strides[i], r1 * strides[i]) : a)));
    }
    return this.spread(kernel, fn, chunks);
  }

  /** Splits a dense kernel's output columns (arguments `at`, `at + 1`) into ranges that start at multiples of 4. */
  private columns(kernel: string, fn: Kernel, args: unknown[], at: number, columns: number): Promise<void> {
    const groups = Math.ceil(columns / 4);
    const n = this.chunkCount(groups);
    const chunks: unknown[][] = [];
    for (let p = 0; p < n; p++) {
      const c0 = Math.min(columns, 4 * Math.floor((groups * p) / n));
      const c1 = Math.min(columns, 4 * Math.floor((groups * (p + 1)) / n));
      if (c1 > c0) chunks.push(args.map((a, i) => (i === at ? c0 : i === at + 1 ? c1 : a)));
    }
    return this.spread(kernel, fn, chunks);
  }

  /** Splits a kernel whose last two arguments are a range of heads [start, end) out of `heads`. */
  heads(kernel: string, fn: Kernel, args: unknown[], heads: number): Promise<void> {
    const n = this.chunkCount(heads);
    const chunks: unknown[][] = [];
    for (let p = 0; p < n; p++) chunks.push([...args, Math.floor((heads * p) / n), Math.floor((heads * (p + 1)) / n)]);
    return this.spread(kernel, fn, chunks);
  }

  /** Stops the workers; calls still running or queued reject with a ThreadedModelError. Closing again does nothing more. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = Promise.all(this.workers.map((w) => w.terminate()));
      for (const p of this.pending.values()) p.reject(closedError("while this call ran"));
      this.pending.clear();
    }
    await this.closing;
  }
}
