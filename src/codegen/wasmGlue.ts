import type { Hoist } from "./kernelTypes.js";
import { num, str } from "./literals.js";
import type { SessionHost } from "./session.js";
import type { WasmAttention, WasmDense, WasmNorm, WasmPlan } from "./wasmTarget.js";

// The TypeScript side of `--target wasm` in a generated module: the binary (embedded, or read by
// loadWasm from files beside the module), packed weights placed in the WebAssembly memory, graph
// inputs staged there, the calls that take the place of TypeScript kernels, and the wrappers that
// let worker threads run the same kernels on their share of the work.

/** What the glue needs of the module printer: what the session printer needs, and the shape of an input. */
export interface GlueHost extends Pick<SessionHost, "g" | "typed" | "runtimeImports" | "varOf" | "size" | "dim"> {
  shapeExpr(id: string): string;
}

/** Names, in one createModel or createThreadedModel body, of placed constants (`id` or `id:packed`) and staged inputs. */
export interface GlueState {
  readonly placed: ReadonlyMap<string, string>;
  readonly staged: ReadonlyMap<string, string>;
}

const maskKind = (role: string) => (role.startsWith("block") ? "MASK_BLOCK" : role.startsWith("keep") ? "MASK_KEEP" : "MASK_ADD");

export class WasmGlue {
  constructor(
    private readonly host: GlueHost,
    readonly plan: WasmPlan,
    private readonly wasmFile: boolean,
  ) {}

  private t = (typed: string): string => (this.host.typed ? typed : "");

  /** `<model>.wasm`, or `<model>.shared.wasm` (for threads), beside the module with --wasm-file. */
  fileName(shared: boolean): string {
    return `${this.host.g.meta.name}${shared ? ".shared" : ""}.wasm`;
  }

  /**
   * Setup lines of a model body: the kernels' instance (threaded: on a shared memory the workers
   * attach to, with this thread's wrappers), packed weights and biases placed once; extra arena
   * buffers (staged inputs, attention scratch) go to `extras`.
   */
  prepare(threaded: boolean, setup: string[], extras: { name: string; size: string }[]): GlueState {
    const { g, runtimeImports } = this.host;
    const plan = this.plan;
    const placed = new Map<string, string>();
    const staged = new Map<string, string>();
    if (plan.bytes === 0) return { placed, staged };
    const place = (id: string, packed?: { N: number; K: number }) => {
      const key = `${id}${packed ? ":packed" : ""}`;
      if (placed.has(key)) return;
      const name = `q${placed.size}`;
      placed.set(key, name);
      setup.push(`const ${name} = wasm.place(${packed ? `packPanels(${this.host.varOf(id)}, ${packed.N}, ${packed.K})` : this.host.varOf(id)});`);
    };
    // Graph inputs a kernel reads are copied into the WebAssembly memory.
    const stage = (x: string) => {
      if (g.node(x).op === "input" && !staged.has(x)) staged.set(x, `st${staged.size}`);
    };
    if (plan.attention.size > 0) {
      // Threads run heads at once: each head gets its own scratch.
      const sizes = [...new Set([...plan.attention].map(([id, a]) => `${threaded ? `${a.H} * ` : ""}wasmAttentionScratch(${this.host.dim(g.node(g.node(id).inputs[1]).shape[2])}, ${a.D}, ${a.Dv})`))];
      extras.push({ name: "scr", size: sizes.length === 1 ? sizes[0] : `Math.max(${sizes.join(", ")})` });
      runtimeImports.add("wasmAttention").add("wasmAttentionScratch");
    }
    if (threaded) {
      setup.push(`const wasmBinary = ${this.binaryExpr(true)};`, `const wasm = new WasmMemory(wasmBinary, { shared: true });`, `await pool.attachWasm(wasmBinary, wasm.memory);`);
      // This thread's share of the work calls the kernels of this model's instance.
      for (const [name, wrapper] of this.wrappers("wasm.fn")) setup.push(`const ${name}Here = ${wrapper};`);
    } else {
      setup.push(`const wasm = new WasmMemory(${this.binaryExpr(false)});`);
    }
    for (const u of ["WasmMemory", "packPanels", this.wasmFile ? "loadedWasm" : "decodeBase64"]) runtimeImports.add(u);
    for (const [id, d] of plan.dense) {
      place(d.weight, d);
      if (d.bias) place(d.bias);
      stage(g.node(id).inputs[0]);
    }
    for (const [id, nm] of plan.norms) {
      if (nm.weight) place(nm.weight);
      if (nm.bias) place(nm.bias);
      for (const x of g.node(id).inputs.slice(0, nm.add ? 2 : 1)) stage(x);
    }
    for (const [id, name] of staged) extras.push({ name, size: this.host.size(g.node(id).shape) });
    return { placed, staged };
  }

  /** The call that runs node `id` in WebAssembly, or undefined when it keeps its TypeScript kernel. */
  call(id: string, state: GlueState, hoist: Hoist, threaded: boolean): string | undefined {
    const d = this.plan.dense.get(id);
    if (d) return this.denseCall(id, d, state, threaded);
    const a = this.plan.attention.get(id);
    if (a) return this.attentionCall(id, a, hoist, threaded);
    const nm = this.plan.norms.get(id);
    if (nm) return this.normCall(id, nm, state, threaded);
    return undefined;
  }

  /** The binary the kernels are instantiated from: embedded (base64), or read by loadWasm from the file beside the module. */
  private binaryExpr(shared: boolean): string {
    if (this.wasmFile) return `loadedWasm(wasmFiles, ${str(this.fileName(false))}).${shared ? "shared" : "plain"}`;
    return `decodeBase64(${shared ? "WASM_BINARY_SHARED" : "WASM_BINARY"})`;
  }

  /** createThreadedModel's first lines: with --wasm-file, loading the binaries when loadWasm has not. */
  threadedPrelude(): string[] {
    return this.wasmFile && this.plan.bytes > 0 ? [`if (wasmFiles === null) await loadWasm();`] : [];
  }

  /** The module's part that holds the binaries, or loadWasm and what it read. */
  binaryDeclarations(): string[] {
    if (this.plan.bytes === 0) return [];
    const t = this.t;
    const base64 = (b: Uint8Array) => str(Buffer.from(b).toString("base64"));
    if (!this.wasmFile)
      return [
        "",
        `/** The WebAssembly SIMD kernels (${this.plan.bytes} bytes), base64; the second imports a shared memory, for threads. */`,
        `const WASM_BINARY = ${base64(this.plan.binary)};`,
        `const WASM_BINARY_SHARED = ${base64(this.plan.sharedBinary)};`,
      ];
    this.host.runtimeImports.add("readWasmFile");
    return [
      "",
      `/** The WebAssembly SIMD kernels (${this.plan.bytes} bytes) as loadWasm read them. */`,
      `let wasmFiles${t(": { readonly plain: Uint8Array<ArrayBuffer>; readonly shared: Uint8Array<ArrayBuffer> } | null")} = null;`,
      "",
      `/**`,
      ` * Reads the WebAssembly SIMD kernels, ${this.fileName(false)} (and ${this.fileName(true)}, for threads), from the folder`,
      ` * \`dir\` (by default this module's own): with fetch in browsers, from the file system in Node. Await it`,
      ` * before createModel; createThreadedModel calls it when it has not been.`,
      ` */`,
      `export async function loadWasm(dir${t(": URL")} = new URL(".", import.meta.url))${t(": Promise<void>")} {`,
      `const [plain, shared] = await Promise.all([readWasmFile(new URL(${str(this.fileName(false))}, dir), ${this.plan.binary.length}), readWasmFile(new URL(${str(this.fileName(true))}, dir), ${this.plan.sharedBinary.length})]);`,
      `wasmFiles = { plain, shared };`,
      `}`,
    ];
  }

  /** A dense node through its WebAssembly kernel: byte offsets of the arena views and placed weights. */
  private denseCall(id: string, d: WasmDense, state: GlueState, threaded: boolean): string {
    const h = this.host;
    const n = h.g.node(id);
    const out = h.varOf(id);
    const x = state.staged.get(n.inputs[0]) ?? h.varOf(n.inputs[0]);
    const rows = h.size(n.shape.slice(0, -1));
    const w = state.placed.get(`${d.weight}:packed`)!;
    const b = d.bias ? state.placed.get(d.bias)! : "0";
    if (threaded) {
      // Rows (or columns, when rows are few) spread over the threads; views carry their byte offsets.
      const name = `wasm_${d.fn}`;
      return `await pool.rows(${str(name)}, ${name}Here, [${out}, ${x}, ${w}, ${b}, ${rows}, 0, ${d.N}], 4, [${d.N}, ${d.K}, 0, 0], ${d.N});`;
    }
    return `wasm.fn.${d.fn}(${out}.byteOffset, ${x}.byteOffset, ${w}, ${b}, ${rows}, 0, ${d.N});`;
  }

  /** LayerNorm (of a sum, with add) of rows through its WebAssembly kernel; threads split the rows. */
  private normCall(id: string, nm: WasmNorm, state: GlueState, threaded: boolean): string {
    const h = this.host;
    const n = h.g.node(id);
    const view = (x: string) => state.staged.get(x) ?? h.varOf(x);
    const a = view(n.inputs[0]);
    const c = nm.add ? view(n.inputs[1]) : a;
    const [w, b] = [nm.weight ? state.placed.get(nm.weight)! : "0", nm.bias ? state.placed.get(nm.bias)! : "0"];
    const rows = h.size(n.shape.slice(0, -1));
    const out = h.varOf(id);
    if (threaded) return `await pool.rows(${str(`wasm_${nm.fn}`)}, wasm_${nm.fn}Here, [${out}, ${a}, ${c}, ${w}, ${b}, ${rows}, ${nm.d}, ${num(nm.eps)}], 5, [${nm.d}, ${nm.d}, ${nm.d}, 0, 0, 0, 0, 0]);`;
    return `wasm.fn.${nm.fn}(${out}.byteOffset, ${a}.byteOffset, ${c}.byteOffset, ${w}, ${b}, ${rows}, ${nm.d}, ${num(nm.eps)});`;
  }

  /** Softmax attention with its products and softmax in WebAssembly; mask kinds and strides are hoisted. */
  private attentionCall(id: string, a: WasmAttention, hoist: Hoist, threaded: boolean): string {
    const h = this.host;
    const n = h.g.node(id);
    const [q, k, v, ...masks] = n.inputs;
    const dims = [n.shape[0], n.shape[2], h.g.node(k).shape[2]].map((d) => h.dim(d));
    const args = [h.varOf(id), h.varOf(q), h.varOf(k), h.varOf(v), dims[0], a.H, dims[1], dims[2], a.D, a.Dv, a.scale, a.causal, "scr"];
    // Grouped keys and values: the key/value heads follow (as the last argument, or after the scratch for threads).
    const grouped = a.Hk !== a.H;
    const wrapper = (masks: number) => `wasm_attention${grouped ? "_grouped" : ""}${masks > 0 ? `_masks${masks}` : ""}`;
    const threadArgs = grouped ? [...args, a.Hk] : args;
    if (masks.length === 0) {
      if (threaded) return `await pool.heads(${str(wrapper(0))}, ${wrapper(0)}Here, [${threadArgs.join(", ")}], ${a.H});`;
      return `wasmAttention(wasm, ${args.join(", ")}, 0, ${a.H}${grouped ? `, undefined, undefined, undefined, ${a.Hk}` : ""});`;
    }
    h.runtimeImports.add("maskStrides");
    for (const r of a.roles) h.runtimeImports.add(maskKind(r));
    const kinds = hoist(`[${a.roles.map(maskKind).join(", ")}]`, "readonly number[]");
    const strides = hoist(`[${a.roles.map((r, m) => `maskStrides(${h.shapeExpr(masks[m])}, ${r.endsWith("_keys")})`).join(", ")}]`, "readonly (readonly number[])[]");
    const data = masks.map((m) => h.varOf(m));
    const name = wrapper(masks.length);
    if (threaded) return `await pool.heads(${str(name)}, ${name}Here, [${[...threadArgs, kinds, strides, ...data].join(", ")}], ${a.H});`;
    return `wasmAttention(wasm, ${args.join(", ")}, 0, ${a.H}, ${kinds}, [${data.join(", ")}], ${strides}${grouped ? `, ${a.Hk}` : ""});`;
  }

  /** The wrappers threads call, by name: each calls a kernel of `fns` on views (their byte offsets). */
  private wrappers(fns: string): [string, string][] {
    const t = this.t;
    const [f, n] = [t(": Float32Array"), t(": number")];
    const out: [string, string][] = [];
    for (const fn of new Set([...this.plan.dense.values()].map((d) => d.fn)))
      out.push([`wasm_${fn}`, `(o${f}, x${f}, w${n}, b${n}, r${n}, c0${n}, c1${n})${t(": void")} => { ${fns}.${fn}(o.byteOffset, x.byteOffset, w, b, r, c0, c1); }`]);
    for (const fn of new Set([...this.plan.norms.values()].map((x) => x.fn)))
      out.push([`wasm_${fn}`, `(o${f}, a${f}, c${f}, w${n}, b${n}, r${n}, d${n}, eps${n})${t(": void")} => { ${fns}.${fn}(o.byteOffset, a.byteOffset, c.byteOffset, w, b, r, d, eps); }`]);
    // Attention over a range of heads; with masks, their kinds, strides and data come before the range.
    // Grouped-query attention's take the key/value heads after the scratch.
    const variants = [...new Set([...this.plan.attention.values()].map((a) => `${a.Hk !== a.H ? 1 : 0}:${a.roles.length}`))].map((v) => v.split(":").map(Number));
    for (const [grouped, masks] of variants.sort((x, y) => x[0] - y[0] || x[1] - y[1])) {
      const ms = Array.from({ length: masks }, (_, m) => `m${m}`);
      const maskParams = masks > 0 ? `kinds${t(": readonly number[]")}, strides${t(": readonly (readonly number[])[]")}, ${ms.map((m) => `${m}${t(": ArrayLike<number> | null")}`).join(", ")}, ` : "";
      const maskArgs = masks > 0 ? `, kinds, [${ms.join(", ")}], strides` : grouped ? ", undefined, undefined, undefined" : "";
      out.push([
        `wasm_attention${grouped ? "_grouped" : ""}${masks > 0 ? `_masks${masks}` : ""}`,
        `(o${f}, q${f}, k${f}, v${f}, B${n}, H${n}, L${n}, S${n}, D${n}, Dv${n}, scale${n}, causal${t(": boolean")}, scr${f}, ${grouped ? `Hk${n}, ` : ""}${maskParams}h0${n}, h1${n})${t(": void")} => wasmAttention({ fn: ${fns} }, o, q, k, v, B, H, L, S, D, Dv, scale, causal, scr, h0, h1${maskArgs}${grouped ? ", Hk" : ""})`,
      ]);
    }
    return out;
  }

  /** Worker-side kernels: the same wrappers over the instance a worker gets with `attachWasm`. */
  workerKernels(): { source: string[]; names: string[] } {
    const t = this.t;
    const wrappers = this.wrappers("workerWasm");
    if (wrappers.length === 0) return { source: [], names: [] };
    return {
      source: [
        `/** In a worker thread: the WebAssembly kernels on the model's shared memory, set by attachWasm. */`,
        `let workerWasm${t(": Readonly<Record<string, (...args: number[]) => void>>")} = {};`,
        `export function attachWasm(exports${t(": Readonly<Record<string, (...args: number[]) => void>>")})${t(": void")} {`,
        `workerWasm = exports;`,
        `}`,
        ...wrappers.map(([name, w]) => `const ${name} = ${w};`),
      ],
      names: wrappers.map(([name]) => name),
    };
  }
}
