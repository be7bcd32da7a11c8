// The script each worker thread runs: it imports the generated module (for its kernel table) and
// runs kernel calls on shared memory as the pool asks. Works with Node's worker_threads and with
// module Web Workers.

import type { EncodedArg, WorkerRequest } from "./threads.js";
import { WasmMemory } from "./wasmMemory.js";

type Kernel = (...args: unknown[]) => void;

interface Port {
  postMessage(m: unknown): void;
  on?(event: "message", f: (m: unknown) => void): void;
  addEventListener?(event: "message", f: (e: { data: unknown }) => void): void;
}

const ARRAYS: Record<string, new (b: ArrayBufferLike, o: number, n: number) => unknown> = {
  Float32Array,
  Int32Array,
  Uint8Array,
  BigInt64Array,
  Float64Array,
};

async function serve(port: Port): Promise<void> {
  let kernels: Record<string, Kernel> = {};
  let next: Int32Array<ArrayBufferLike> = new Int32Array(1);
  const buffers: ArrayBufferLike[] = [];
  const decode = (a: EncodedArg): unknown => {
    if (a !== null && typeof a === "object" && "view" in a) return new ARRAYS[a.view](buffers[a.buffer], a.offset, a.length);
    return a;
  };
  let attachWasm: ((exports: Readonly<Record<string, (...args: number[]) => void>>) => void) | undefined;
  const handle = async (m: WorkerRequest) => {
    if (m.type === "init") {
      next = new Int32Array(m.counter);
      const mod = (await import(m.moduleUrl)) as { kernels: Record<string, Kernel>; attachWasm?: typeof attachWasm };
      kernels = mod.kernels;
      attachWasm = mod.attachWasm;
      port.postMessage({ type: "ready" });
    } else if (m.type === "wasm") {
      attachWasm?.(WasmMemory.attach(m.binary as Uint8Array<ArrayBuffer>, m.memory));
      port.postMessage({ type: "attached" });
    } else if (m.type === "buffer") {
      buffers[m.id] = m.buffer;
    } else if (m.type === "run") {
      try {
        // Take chunks until none is left; the other threads are doing the same.
        const kernel = kernels[m.kernel];
        for (let i = Atomics.add(next, 0, 1); i < m.chunks.length; i = Atomics.add(next, 0, 1)) kernel(...m.chunks[i].map(decode));
        port.postMessage({ type: "done", task: m.task });
      } catch (e) {
        port.postMessage({ type: "done", task: m.task, error: String((e as Error)?.message ?? e) });
      }
    }
  };
  if (port.on) port.on("message", (m) => void handle(m as WorkerRequest));
  else port.addEventListener!("message", (e) => void handle(e.data as WorkerRequest));
}

const isNode = typeof process !== "undefined" && Boolean(process.versions?.node);
if (isNode) {
  const { parentPort } = await import("node:worker_threads");
  if (parentPort) await serve(parentPort as unknown as Port);
} else {
  await serve(globalThis as unknown as Port);
}
