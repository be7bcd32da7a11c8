// A pool of worker threads sharing memory with the main thread. Kernels whose work splits cleanly
// (matrix products by rows, attention by heads) run on every thread at once; each thread gets a
// range and writes its own part of the output, so no locking is needed.

type Typed = Float32Array | Int32Array | Uint8Array | BigInt64Array | Float64Array;
type Kernel = (...args: never[]) => void;

/** A kernel argument as sent to a worker: a view of a shared buffer, or a plain value. */
export type EncodedArg = { view: string; buffer: number; offset: number; length: number } | number | boolean | null | readonly number[] | Int32Array;

export type WorkerRequest =
  | { type: "init"; moduleUrl: string }
  | { type: "buffer"; id: number; buffer: ArrayBufferLike }
  | { type: "run"; task: number; kernel: string; args: EncodedArg[] };

interface WorkerLike {
  postMessage(m: unknown): void;
  terminate(): unknown;
  /** Node only: whether a busy worker keeps the process alive (idle ones must not). */
  ref?(): void;
  unref?(): void;
}

const isNode = typeof process !== "undefined" && Boolean(process.versions?.node);

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
  private readonly pending = new Map<number, { left: number; resolve: () => void; reject: (e: Error) => void }>();
  private task = 0;
  private staged: Typed[] = [];

  private constructor(private readonly workers: WorkerLike[]) {}

  /** Starts `n` workers that load `moduleUrl` (a generated module) for its kernels. */
  static async start(n: number, moduleUrl: string): Promise<ThreadPool> {
    const script = new URL("./threadWorker.js", import.meta.url);
    const workers: WorkerLike[] = [];
    const ready: Promise<void>[] = [];
    const pool = new ThreadPool(workers);
    for (let i = 0; i < n; i++) {
      let w: WorkerLike;
      const onMessage = (m: { type: string; task?: number; error?: string }, done?: () => void) => {
        if (m.type === "ready") done?.();
        else if (m.type === "done") pool.finish(m.task!, m.error);
      };
      let signal!: () => void;
      ready.push(new Promise<void>((r) => (signal = r)));
      if (isNode) {
        const { Worker } = await import("node:worker_threads");
        const nw = new Worker(script);
        nw.on("message", (m) => onMessage(m, signal));
        w = nw;
      } else {
        const ww = new Worker(script, { type: "module" });
        ww.addEventListener("message", (e: MessageEvent) => onMessage(e.data, signal));
        w = ww;
      }
      w.postMessage({ type: "init", moduleUrl } satisfies WorkerRequest);
      workers.push(w);
    }
    await Promise.all(ready);
    // Idle workers must not keep Node running; a worker holds the process only while it works.
    for (const w of workers) w.unref?.();
    return pool;
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  private finish(task: number, error?: string): void {
    const p = this.pending.get(task);
    if (!p) return;
    if (error) {
      this.pending.delete(task);
      p.reject(new Error(`a worker failed: ${error}`));
      return;
    }
    if (--p.left === 0) {
      this.pending.delete(task);
      p.resolve();
    }
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

  /** Runs `parts[0]` here and the other parts on the workers; resolves when all are done. */
  private async spread(kernel: string, fn: Kernel, parts: unknown[][]): Promise<void> {
    const task = ++this.task;
    const remote = parts.slice(1);
    const done = new Promise<void>((resolve, reject) => this.pending.set(task, { left: remote.length, resolve, reject }));
    remote.forEach((args, i) => {
      this.workers[i].ref?.();
      this.workers[i].postMessage({ type: "run", task, kernel, args: args.map((a) => this.encode(a)) } satisfies WorkerRequest);
    });
    (fn as (...a: unknown[]) => void)(...parts[0]);
    if (remote.length === 0) {
      this.pending.delete(task);
      return;
    }
    try {
      await done;
    } finally {
      for (let i = 0; i < remote.length; i++) this.workers[i].unref?.();
    }
  }

  /**
   * Splits a row-wise kernel: argument `countAt` holds the number of rows; arguments with a stride
   * in `strides` are advanced by rows × stride elements for each thread's range.
   */
  rows(kernel: string, fn: Kernel, args: unknown[], countAt: number, strides: readonly number[]): Promise<void> {
    const rows = args[countAt] as number;
    const n = Math.min(this.threads, rows);
    const parts: unknown[][] = [];
    for (let p = 0; p < n; p++) {
      const r0 = Math.floor((rows * p) / n);
      const r1 = Math.floor((rows * (p + 1)) / n);
      parts.push(args.map((a, i) => (i === countAt ? r1 - r0 : strides[i] ? (a as Typed).subarray(r0 * strides[i], r1 * strides[i]) : a)));
    }
    return this.spread(kernel, fn, parts);
  }

  /** Splits a kernel whose last two arguments are a range of heads [start, end) out of `heads`. */
  heads(kernel: string, fn: Kernel, args: unknown[], heads: number): Promise<void> {
    const n = Math.min(this.threads, heads);
    const parts: unknown[][] = [];
    for (let p = 0; p < n; p++) parts.push([...args, Math.floor((heads * p) / n), Math.floor((heads * (p + 1)) / n)]);
    return this.spread(kernel, fn, parts);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
