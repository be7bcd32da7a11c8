import type { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";
import { isConst, type Dim } from "../semantics/types.js";
import { constantNodes, planIncremental, isIncremental, type IncrementalPlan } from "../ir/incremental.js";
import { KERNELS, type KernelCtx } from "./kernels.js";
import { hoistedType, INPUT_TYPES, key, num, str } from "./literals.js";
import { arenaLayout, planSlots, viewOf } from "./memoryPlan.js";
import { printSession, sessionInterfaces } from "./session.js";
import { planWasm, type WasmAttention, type WasmDense, type WasmNorm, type WasmPlan } from "./wasmTarget.js";

export { planSlots, str };

// Prints one TypeScript module for a graph. Nothing from the .tfm file reaches the output raw:
// identifiers are made here (v3, p0, s1, k2), and every user string goes through `str`.

export const RUNTIME_SPECIFIER = "tfmc/runtime";


/** Types of kernel parameters other than inputs, by the names the kernel templates give them. */
function extraParamType(name: string): string {
  if (name === "aOff" || name === "bOff") return "Int32Array";
  if (name === "kc" || name === "vc") return "Float32Array";
  if (name === "sc" || name === "acc" || name === "kv" || name === "z" || name === "shift") return "Float64Array";
  if (name === "shape" || name === "as" || name === "bs" || name === "os" || /^t\d+$/.test(name)) return "readonly number[]";
  return "number";
}

/** Present on models that can decode token by token. */
const SESSION_MEMBER =
  "  /** Starts incremental decoding: a session takes tokens a few at a time and keeps what earlier ones computed. */\n  startSession(options?: SessionOptions): Session;";

/** Present on models compiled with `--profile`. */
const PROFILE_MEMBER =
  "  /** Compiled with --profile: milliseconds spent in each node's kernel, summed over every forward call. */\n  profile?(): readonly { readonly node: string; readonly op: string; readonly scope: string; readonly ms: number; readonly calls: number }[];";

class ModulePrinter {
  private readonly kernels = new Map<string, string>();
  readonly runtimeImports = new Set<string>(["checkInputs", "loadWeights"]);
  private readonly symbolVars = new Map<string, string>();

  constructor(
    readonly g: IrGraph,
    private readonly runtime: string,
    readonly typed: boolean,
    private readonly profile = false,
    private readonly target: "ts" | "wasm" = "ts",
    private readonly wasmFile = false,
  ) {
    g.meta.symbols.forEach((s, i) => this.symbolVars.set(s.name, `s${i}`));
  }

  dim = (d: Dim): string => (isConst(d) ? String(d.value) : this.symbolVars.get(d.sym)!);

  size = (dims: readonly Dim[]): string => {
    const constant = dims.filter(isConst).reduce((a, d) => a * d.value, 1);
    const syms = dims.filter((d) => !isConst(d)).map(this.dim);
    if (syms.length === 0) return String(constant);
    return [...syms, ...(constant !== 1 ? [String(constant)] : [])].join(" * ");
  };

  varOf(id: string): string {
    const n = this.g.node(id);
    if (n.op === "param") return `p${this.paramIndex(n.attrs.name as string)}`;
    if (n.op === "input") return `x${this.g.inputs.findIndex((i) => i.node === id)}`;
    return `v${id.slice(1)}`;
  }

  private paramIndex(name: string): number {
    return this.g.meta.params.findIndex((p) => p.name === name);
  }

  isOptionalInput(id: string): boolean {
    return this.g.inputs.some((i) => i.node === id && i.optional);
  }

  private shapeExpr(id: string): string {
    const n = this.g.node(id);
    const s = `[${n.shape.map(this.dim).join(", ")}]`;
    return this.isOptionalInput(id) ? `(${this.varOf(id)} === null ? null : ${s})` : s;
  }

  /** Adds a kernel (deduplicated by its typed source) and returns its name; its first `inputCount` parameters after `out` are the node's inputs. */
  kernel(n: NodeLabel, fn: string, inputCount = n.inputs.length): string {
    const inputs = n.inputs.slice(0, inputCount).map((i) => this.g.node(i));
    const typed = fn.replace(/function \$K\(([^)]*)\)/, (_, params: string) => {
      const names = params.split(",").map((p) => p.trim());
      const annotated = names.map((name, k) => {
        if (k === 0) return `${name}: Float32Array`;
        if (k <= inputs.length) {
          const id = n.inputs[k - 1];
          const t = INPUT_TYPES[inputs[k - 1].dtype];
          return `${name}: ${this.isOptionalInput(id) ? `${t} | null` : t}`;
        }
        return `${name}: ${extraParamType(name)}`;
      });
      return this.typed ? `function $K(${annotated.join(", ")}): void` : `function $K(${names.join(", ")})`;
    });
    let name = this.kernels.get(typed);
    if (!name) {
      name = `k${this.kernels.size}`;
      this.kernels.set(typed, name);
    }
    return name;
  }

  private constantsCache?: ReadonlySet<string>;
  /** Nodes computable once at createModel: parameters and what depends only on them, with fixed shapes. */
  constants(): ReadonlySet<string> {
    this.constantsCache ??= constantNodes(this.g);
    return this.constantsCache;
  }

  /**
   * One kernel call writing node `id` into `target`; hoistable argument expressions go to `hoist`.
   * Threaded, a kernel that splits (rows of a matrix product, heads of attention) is spread over
   * the pool and awaited.
   */
  call(id: string, target: string, hoist?: (expr: string) => string, threaded = false, rowOffset?: string): string {
    const n = this.g.node(id);
    const ctx: KernelCtx = { dim: this.dim, size: this.size, shapeOf: (i) => this.shapeExpr(n.inputs[i]), ...(rowOffset !== undefined ? { rowOffset } : {}) };
    const k = KERNELS[n.op](n, n.inputs.map((i) => this.g.node(i)), ctx);
    for (const u of k.uses ?? []) this.runtimeImports.add(u);
    const name = this.kernel(n, k.fn);
    const extra = k.extra.map((e) => (hoist && /[[(]/.test(e) ? hoist(e) : e));
    const args = [target, ...n.inputs.map((i) => this.varOf(i)), ...extra];
    const split = k.split;
    if (threaded && split?.kind === "rows") return `await pool.rows(${str(name)}, ${name}, [${args.join(", ")}], ${split.countAt}, [${split.strides.join(", ")}]${split.columns ? `, ${split.columns}` : ""});`;
    if (threaded && split?.kind === "heads") return `await pool.heads(${str(name)}, ${name}, [${args.join(", ")}], ${split.heads});`;
    if (split?.kind === "heads") args.push("0", String(split.heads));
    return `${name}(${args.join(", ")});`;
  }

  /** createModel's body after the weights are read: constants, the plan's state and `forward`. */
  private modelBody(threaded: boolean): string[] {
    const g = this.g;
    const t = (typed: string, plain = "") => (this.typed ? typed : plain);
    const alloc = (size: string) => (threaded ? `sharedFloat32(${size})` : `new Float32Array(${size})`);
    const constants = this.constants();
    const order = g.order();
    const setup: string[] = g.meta.params.map((p, i) => (threaded ? `const p${i} = shareFloat32(w[${str(p.name)}]);` : `const p${i} = w[${str(p.name)}];`));
    for (const id of order) {
      const n = g.node(id);
      if (!constants.has(id) || n.op === "param") continue;
      setup.push(`const ${this.varOf(id)} = ${alloc(this.size(n.shape))};`, this.call(id, this.varOf(id)));
    }
    // --target wasm: packed weights and biases go into the WebAssembly memory once.
    const wasm = this.target === "wasm" ? this.wasmPlan() : undefined;
    const placed = new Map<string, string>();
    const place = (id: string, packed?: { N: number; K: number }) => {
      const key = `${id}${packed ? ":packed" : ""}`;
      if (!placed.has(key)) {
        const name = `q${placed.size}`;
        placed.set(key, name);
        setup.push(`const ${name} = wasm.place(${packed ? `packPanels(${this.varOf(id)}, ${packed.N}, ${packed.K})` : this.varOf(id)});`);
      }
      return placed.get(key)!;
    };
    // Graph inputs a kernel reads are copied into the WebAssembly memory.
    const staged = new Map<string, string>();
    const stage = (x: string) => {
      if (g.node(x).op === "input" && !staged.has(x)) staged.set(x, `st${staged.size}`);
    };
    const extras: { name: string; size: string }[] = [];
    if (wasm && wasm.attention.size > 0) {
      // Threads run heads at once: each head gets its own scratch.
      const sizes = [...new Set([...wasm.attention].map(([id, a]) => `${threaded ? `${a.H} * ` : ""}wasmAttentionScratch(${this.dim(g.node(g.node(id).inputs[1]).shape[2])}, ${a.D}, ${a.Dv})`))];
      extras.push({ name: "scr", size: sizes.length === 1 ? sizes[0] : `Math.max(${sizes.join(", ")})` });
      this.runtimeImports.add("wasmAttention").add("wasmAttentionScratch");
    }
    if (wasm && wasm.bytes > 0) {
      if (threaded) {
        setup.push(`const wasmBinary = ${this.wasmBinaryExpr(true)};`, `const wasm = new WasmMemory(wasmBinary, { shared: true });`, `await pool.attachWasm(wasmBinary, wasm.memory);`);
        // This thread's share of the work calls the kernels of this model's instance.
        for (const name of new Set([...wasm.dense.values()].map((d) => this.workerKernelName(d)))) {
          const d = [...wasm.dense.values()].find((x) => this.workerKernelName(x) === name)!;
          setup.push(`const ${name}Here = ${this.denseWrapper(d, "wasm.fn")};`);
        }
        for (const fn of new Set([...wasm.norms.values()].map((x) => x.fn))) setup.push(`const wasm_${fn}Here = ${this.normWrapper(fn, "wasm.fn")};`);
        for (const m of this.attentionMaskCounts()) setup.push(`const wasmAttention${m > 0 ? `Masks${m}` : ""}Here = ${this.attentionWrapper("wasm.fn", m)};`);
      } else {
        setup.push(`const wasm = new WasmMemory(${this.wasmBinaryExpr(false)});`);
      }
      for (const u of ["WasmMemory", "packPanels", this.wasmFile ? "loadedWasm" : "decodeBase64"]) this.runtimeImports.add(u);
      for (const [id, d] of wasm.dense) {
        place(d.weight, d);
        if (d.bias) place(d.bias);
        stage(g.node(id).inputs[0]);
      }
      for (const [id, nm] of wasm.norms) {
        if (nm.weight) place(nm.weight);
        if (nm.bias) place(nm.bias);
        for (const x of g.node(id).inputs.slice(0, nm.add ? 2 : 1)) stage(x);
      }
    }

    const runtimeNodes = order.filter((id) => !constants.has(id) && g.node(id).op !== "input");
    const plan = planSlots(g, runtimeNodes, (id) => this.size(g.node(id).shape));
    const hoisted: { name: string; expr: string }[] = [];
    const hoist = (expr: string) => {
      const name = `e${hoisted.length}`;
      hoisted.push({ name, expr });
      return name;
    };
    const calls = runtimeNodes.map((id, i) => {
      const d = wasm?.dense.get(id);
      const a = wasm?.attention.get(id);
      const nm = wasm?.norms.get(id);
      const call = d
        ? this.wasmDenseCall(id, d, placed, staged, threaded)
        : a
          ? this.wasmAttentionCall(id, a, hoist, threaded)
          : nm
            ? this.wasmNormCall(id, nm, placed, staged, threaded)
            : this.call(id, this.varOf(id), hoist, threaded);
      return this.profile ? `{ const t = performance.now(); ${call} profileMs[${i}] += performance.now() - t; profileCalls[${i}]++; }` : call;
    });

    const body: string[] = [];
    const asFeeds = this.typed ? " as unknown as Readonly<Record<string, Tensor | undefined>>" : "";
    body.push(`const { dims, data } = checkInputs(spec.inputs, spec.symbols, inputs${asFeeds});`);
    g.meta.symbols.forEach((sym, i) => body.push(`const s${i} = dims[${str(sym.name)}] ?? 0;`));
    g.inputs.forEach((inp, i) => {
      const type = INPUT_TYPES[inp.type.dtype] + (inp.optional ? " | null" : "");
      const value = threaded ? `pool.stage(${i}, data[${i}]${t(` as ${type}`)})` : `data[${i}]`;
      body.push(`const x${i} = ${value}${t(` as ${type}`)};`);
    });
    // The arena and everything derived from the shapes are made once per distinct shape.
    const keyParts = [...g.meta.symbols.map((_, i) => `s${i}`), ...g.inputs.flatMap((inp, i) => (inp.optional ? [`(x${i} === null ? "-" : "+")`] : []))];
    body.push(`const key = ${keyParts.length > 0 ? keyParts.join(' + "," + ') : '""'};`);
    body.push(`if (key !== planKey) {`, `planKey = key;`);
    for (const [id, name] of staged) extras.push({ name, size: this.size(g.node(id).shape) });
    // The plan's slots, then the extra buffers of the wasm target (staged inputs, scratch).
    const layout = arenaLayout([...plan.slots, ...extras.map((x) => [x.size])], "z");
    body.push(...layout.sizes);
    body.push(`const arena = ${wasm && wasm.bytes > 0 ? `wasm.arena(${layout.total})` : alloc(layout.total)};`);
    for (const id of runtimeNodes) body.push(`${this.varOf(id)} = ${viewOf("arena", layout.offsets[plan.slotOf.get(id)!], this.size(g.node(id).shape))};`);
    extras.forEach((x, k) => {
      const at = plan.slots.length + k;
      body.push(`${x.name} = ${viewOf("arena", layout.offsets[at], layout.sizeOf(at))};`);
    });
    for (const h of hoisted) body.push(`${h.name} = ${h.expr};`);
    const outs = g.outputs.map((o) => `${key(o.name)}: { data: ${this.varOf(o.node)}, shape: [${o.type.shape.map(this.dim).join(", ")}] }`);
    body.push(`outputs = { ${outs.join(", ")} };`, `}`);
    for (const [id, name] of staged) body.push(`${name}.set(${this.varOf(id)});`);
    body.push(...calls, `return outputs;`);

    const profiled = runtimeNodes.map((id) => `{ node: ${str(id)}, op: ${str(g.node(id).op)}, scope: ${str(g.node(id).scope)} }`);
    const profileState = this.profile
      ? [
          `const profileNodes = [${profiled.join(", ")}];`,
          `const profileMs = new Float64Array(${runtimeNodes.length});`,
          `const profileCalls = new Float64Array(${runtimeNodes.length});`,
          `const profile = () => profileNodes.map((p, i) => ({ ...p, ms: profileMs[i], calls: profileCalls[i] }));`,
        ]
      : [];
    const state = [
      ...profileState,
      `let planKey = "\\u0000";`,
      ...runtimeNodes.map((id) => `let ${this.varOf(id)}${t("!: Float32Array")};`),
      ...extras.map((x) => `let ${x.name}${t("!: Float32Array")};`),
      ...hoisted.map((h) => `let ${h.name}${t(`!: ${hoistedType(h.expr)}`)};`),
      `let outputs${t("!: Outputs")};`,
    ];
    const signature = threaded ? `async function forward(inputs${t(": Inputs")})${t(": Promise<Outputs>")}` : `function forward(inputs${t(": Inputs")})${t(": Outputs")}`;
    return [...setup, ...state, `${signature} {`, ...body, `}`];
  }

  /** The binary the kernels are instantiated from: embedded (base64), or read by loadWasm from the file beside the module. */
  private wasmBinaryExpr(shared: boolean): string {
    if (this.wasmFile) return `loadedWasm(wasmFiles, ${str(this.wasmFileName(false))}).${shared ? "shared" : "plain"}`;
    return `decodeBase64(${shared ? "WASM_BINARY_SHARED" : "WASM_BINARY"})`;
  }

  /** `<model>.wasm`, or `<model>.shared.wasm` (for threads), beside the module with --wasm-file. */
  wasmFileName(shared: boolean): string {
    return `${this.g.meta.name}${shared ? ".shared" : ""}.wasm`;
  }

  /** The module's part that holds or loads the binaries. */
  private wasmBinaryDeclarations(): string[] {
    if (this.target !== "wasm" || this.wasmPlan().bytes === 0) return [];
    const t = (typed: string) => (this.typed ? typed : "");
    const base64 = (b: Uint8Array) => str(Buffer.from(b).toString("base64"));
    if (!this.wasmFile)
      return [
        "",
        `/** The WebAssembly SIMD kernels (${this.wasmPlan().bytes} bytes), base64; the second imports a shared memory, for threads. */`,
        `const WASM_BINARY = ${base64(this.wasmPlan().binary)};`,
        `const WASM_BINARY_SHARED = ${base64(this.wasmPlan().sharedBinary)};`,
      ];
    this.runtimeImports.add("readWasmFile");
    return [
      "",
      `/** The WebAssembly SIMD kernels (${this.wasmPlan().bytes} bytes) as loadWasm read them. */`,
      `let wasmFiles${t(": { readonly plain: Uint8Array<ArrayBuffer>; readonly shared: Uint8Array<ArrayBuffer> } | null")} = null;`,
      "",
      `/**`,
      ` * Reads the WebAssembly SIMD kernels, ${this.wasmFileName(false)} (and ${this.wasmFileName(true)}, for threads), from the folder`,
      ` * \`dir\` (by default this module's own): with fetch in browsers, from the file system in Node. Await it`,
      ` * before createModel; createThreadedModel calls it when it has not been.`,
      ` */`,
      `export async function loadWasm(dir${t(": URL")} = new URL(".", import.meta.url))${t(": Promise<void>")} {`,
      `const [plain, shared] = await Promise.all([readWasmFile(new URL(${str(this.wasmFileName(false))}, dir)), readWasmFile(new URL(${str(this.wasmFileName(true))}, dir))]);`,
      `wasmFiles = { plain, shared };`,
      `}`,
    ];
  }

  private wasmPlanCache?: WasmPlan;
  /** The nodes that run as WebAssembly kernels under --target wasm, and the binary. */
  wasmPlan(): WasmPlan {
    this.wasmPlanCache ??= planWasm(this.g, this.constants());
    return this.wasmPlanCache;
  }

  /** A dense node through its WebAssembly kernel: byte offsets of the arena views and placed weights. */
  private wasmDenseCall(id: string, d: WasmDense, placed: ReadonlyMap<string, string>, staged: ReadonlyMap<string, string>, threaded: boolean): string {
    const n = this.g.node(id);
    const out = this.varOf(id);
    const x = staged.get(n.inputs[0]) ?? this.varOf(n.inputs[0]);
    const rows = this.size(n.shape.slice(0, -1));
    const w = placed.get(`${d.weight}:packed`)!;
    const b = d.bias ? placed.get(d.bias)! : "0";
    if (threaded) {
      // Rows (or columns, when rows are few) spread over the threads; views carry their byte offsets.
      const name = this.workerKernelName(d);
      return `await pool.rows(${str(name)}, ${name}Here, [${out}, ${x}, ${w}, ${b}, ${rows}, 0, ${d.N}], 4, [${d.N}, ${d.K}, 0, 0], ${d.N});`;
    }
    return `wasm.fn.${d.fn}(${out}.byteOffset, ${x}.byteOffset, ${w}, ${b}, ${rows}, 0, ${d.N});`;
  }

  /** LayerNorm (of a sum, with add) of rows through its WebAssembly kernel; threads split the rows. */
  private wasmNormCall(id: string, nm: WasmNorm, placed: ReadonlyMap<string, string>, staged: ReadonlyMap<string, string>, threaded: boolean): string {
    const n = this.g.node(id);
    const view = (x: string) => staged.get(x) ?? this.varOf(x);
    const a = view(n.inputs[0]);
    const c = nm.add ? view(n.inputs[1]) : a;
    const [w, b] = [nm.weight ? placed.get(nm.weight)! : "0", nm.bias ? placed.get(nm.bias)! : "0"];
    const rows = this.size(n.shape.slice(0, -1));
    const out = this.varOf(id);
    if (threaded) return `await pool.rows(${str(`wasm_${nm.fn}`)}, wasm_${nm.fn}Here, [${out}, ${a}, ${c}, ${w}, ${b}, ${rows}, ${nm.d}, ${num(nm.eps)}], 5, [${nm.d}, ${nm.d}, ${nm.d}, 0, 0, 0, 0, 0]);`;
    return `wasm.fn.${nm.fn}(${out}.byteOffset, ${a}.byteOffset, ${c}.byteOffset, ${w}, ${b}, ${rows}, ${nm.d}, ${num(nm.eps)});`;
  }

  /** A function calling a LayerNorm kernel of `fns` on views: their byte offsets. */
  private normWrapper(fn: string, fns: string): string {
    const t = (typed: string) => (this.typed ? typed : "");
    const [f, n] = [t(": Float32Array"), t(": number")];
    return `(o${f}, a${f}, c${f}, w${n}, b${n}, r${n}, d${n}, eps${n})${t(": void")} => { ${fns}.${fn}(o.byteOffset, a.byteOffset, c.byteOffset, w, b, r, d, eps); }`;
  }

  /** Softmax attention with its products and softmax in WebAssembly; mask kinds and strides are hoisted. */
  private wasmAttentionCall(id: string, a: WasmAttention, hoist: (expr: string) => string, threaded: boolean): string {
    const n = this.g.node(id);
    const [q, k, v, ...masks] = n.inputs;
    const dims = [n.shape[0], n.shape[2], this.g.node(k).shape[2]].map((d) => this.dim(d));
    const args = [this.varOf(id), this.varOf(q), this.varOf(k), this.varOf(v), dims[0], a.H, dims[1], dims[2], a.D, a.Dv, a.scale, a.causal, "scr"];
    if (masks.length === 0) {
      if (threaded) return `await pool.heads("wasm_attention", wasmAttentionHere, [${args.join(", ")}], ${a.H});`;
      return `wasmAttention(wasm, ${args.join(", ")}, 0, ${a.H});`;
    }
    this.runtimeImports.add("maskStrides");
    const kinds = hoist(`[${a.roles.map((r) => (r.startsWith("block") ? "MASK_BLOCK" : r.startsWith("keep") ? "MASK_KEEP" : "MASK_ADD")).join(", ")}]`);
    for (const r of a.roles) this.runtimeImports.add(r.startsWith("block") ? "MASK_BLOCK" : r.startsWith("keep") ? "MASK_KEEP" : "MASK_ADD");
    const strides = hoist(`[${a.roles.map((r, m) => `maskStrides(${this.shapeExpr(masks[m])}, ${r.endsWith("_keys")})`).join(", ")}]`);
    const data = masks.map((m) => this.varOf(m));
    if (threaded) return `await pool.heads(${str(`wasm_attention_masks${masks.length}`)}, wasmAttentionMasks${masks.length}Here, [${[...args, kinds, strides, ...data].join(", ")}], ${a.H});`;
    return `wasmAttention(wasm, ${args.join(", ")}, 0, ${a.H}, ${kinds}, [${data.join(", ")}], ${strides});`;
  }

  /** The name of the kernel (and its worker-side wrapper) for a dense kernel and its activation. */
  private workerKernelName(d: WasmDense): string {
    return `wasm_${d.fn}`;
  }

  /** A function calling a dense kernel of `fns` on views: their byte offsets. */
  private denseWrapper(d: WasmDense, fns: string): string {
    const t = (typed: string) => (this.typed ? typed : "");
    return `(o${t(": Float32Array")}, x${t(": Float32Array")}, w${t(": number")}, b${t(": number")}, r${t(": number")}, c0${t(": number")}, c1${t(": number")})${t(": void")} => { ${fns}.${d.fn}(o.byteOffset, x.byteOffset, w, b, r, c0, c1); }`;
  }

  /** A function running wasmAttention over a range of heads with the kernels of `fns`; with `masks` mask inputs, their kinds, strides and data come before the range. */
  private attentionWrapper(fns: string, masks = 0): string {
    const t = (typed: string) => (this.typed ? typed : "");
    const f = t(": Float32Array");
    const n = t(": number");
    const ms = Array.from({ length: masks }, (_, m) => `m${m}`);
    const maskParams = masks > 0 ? `kinds${t(": readonly number[]")}, strides${t(": readonly (readonly number[])[]")}, ${ms.map((m) => `${m}${t(": ArrayLike<number> | null")}`).join(", ")}, ` : "";
    const maskArgs = masks > 0 ? `, kinds, [${ms.join(", ")}], strides` : "";
    return `(o${f}, q${f}, k${f}, v${f}, B${n}, H${n}, L${n}, S${n}, D${n}, Dv${n}, scale${n}, causal${t(": boolean")}, scr${f}, ${maskParams}h0${n}, h1${n})${t(": void")} => wasmAttention({ fn: ${fns} }, o, q, k, v, B, H, L, S, D, Dv, scale, causal, scr, h0, h1${maskArgs})`;
  }

  /** The numbers of mask inputs among the attention nodes of the wasm plan. */
  private attentionMaskCounts(): number[] {
    return [...new Set([...this.wasmPlan().attention.values()].map((a) => a.roles.length))].sort((x, y) => x - y);
  }

  /** Worker-side kernels: the same wrappers over the instance a worker gets with `attachWasm`. */
  private workerWasmKernels(): { source: string[]; names: string[] } {
    if (this.target !== "wasm") return { source: [], names: [] };
    const plan = this.wasmPlan();
    const t = (typed: string) => (this.typed ? typed : "");
    const source: string[] = [];
    const names: string[] = [];
    for (const d of plan.dense.values()) {
      const name = this.workerKernelName(d);
      if (names.includes(name)) continue;
      names.push(name);
      source.push(`const ${name} = ${this.denseWrapper(d, "workerWasm")};`);
    }
    for (const fn of new Set([...plan.norms.values()].map((x) => x.fn))) {
      names.push(`wasm_${fn}`);
      source.push(`const wasm_${fn} = ${this.normWrapper(fn, "workerWasm")};`);
    }
    for (const m of this.attentionMaskCounts()) {
      const name = m > 0 ? `wasm_attention_masks${m}` : "wasm_attention";
      names.push(name);
      source.push(`const ${name} = ${this.attentionWrapper("workerWasm", m)};`);
    }
    if (names.length === 0) return { source: [], names: [] };
    return {
      source: [
        `/** In a worker thread: the WebAssembly kernels on the model's shared memory, set by attachWasm. */`,
        `let workerWasm${t(": Readonly<Record<string, (...args: number[]) => void>>")} = {};`,
        `export function attachWasm(exports${t(": Readonly<Record<string, (...args: number[]) => void>>")})${t(": void")} {`,
        `workerWasm = exports;`,
        `}`,
        ...source,
      ],
      names,
    };
  }

  private sessionPlanCache?: { plan?: IncrementalPlan };
  /** How the model decodes token by token, when it can. */
  private sessionPlan(): IncrementalPlan | undefined {
    if (!this.sessionPlanCache) {
      const plan = planIncremental(this.g, this.constants());
      this.sessionPlanCache = isIncremental(plan) ? { plan } : {};
    }
    return this.sessionPlanCache.plan;
  }

  print(): string {
    const g = this.g;
    const t = (typed: string, plain = "") => (this.typed ? typed : plain);
    const plain = this.modelBody(false);
    const plan = this.sessionPlan();
    const session = plan ? printSession(this, plan) : [];
    if (plan) for (const u of ["sessionCapacity", "sessionBatch", "checkStep", "copySessionState"]) this.runtimeImports.add(u);
    const threaded = this.modelBody(true);
    this.runtimeImports.add("ThreadPool").add("sharedFloat32").add("shareFloat32");
    const kernelSources = [...this.kernels].map(([src, name]) => src.replaceAll("$K", name));
    const worker = this.workerWasmKernels();
    const wasmDeclarations = this.wasmBinaryDeclarations();
    const imports = [...this.runtimeImports].sort();
    return [
      HEADER,
      `import { ${imports.join(", ")} } from ${str(this.runtime)};`,
      t(`import type { ${plan ? "SessionState, " : ""}Tensor, WeightsSource } from ${str(this.runtime)};`),
      "",
      `export const spec = ${printValue(specData(g))}${t(" as const")};`,
      ...wasmDeclarations,
      "",
      t(this.interfaces()),
      "",
      ...kernelSources,
      ...worker.source,
      "",
      `/** The kernels by name, for worker threads. */`,
      `export const kernels${t(": Readonly<Record<string, (...args: never[]) => void>>")} = { ${[...this.kernels.values(), ...worker.names].join(", ")} };`,
      "",
      `/**`,
      ` * Builds the model from safetensors bytes or tensors by name; reports every weight problem at once.`,
      ` * Buffers are planned once per input shape and reused: \`forward\` allocates no tensors after`,
      ` * its first call for a shape, and the tensors it returns are overwritten by the next call.`,
      ` */`,
      `export function createModel(weights${t(": WeightsSource")})${t(": Model")} {`,
      `const w = loadWeights(spec.parameters, weights);`,
      ...plain,
      ...session,
      `return { spec, forward${plan ? ", startSession" : ""}${this.profile ? ", profile" : ""} };`,
      `}`,
      "",
      `/**`,
      ` * The same model on several threads (worker threads in Node, module workers in browsers) sharing`,
      ` * memory: matrix products split by columns or rows, attention by heads. Same numerics as \`createModel\`.`,
      ` * \`forward\` is asynchronous; call \`close\` to stop the workers.`,
      ` */`,
      `export async function createThreadedModel(weights${t(": WeightsSource")}, options${t(": { threads?: number }")} = {})${t(": Promise<ThreadedModel>")} {`,
      `const w = loadWeights(spec.parameters, weights);`,
      ...(this.wasmFile && this.wasmPlan().bytes > 0 ? [`if (wasmFiles === null) await loadWasm();`] : []),
      `const pool = await ThreadPool.start(Math.max(0, (options.threads ?? 2) - 1), import.meta.url);`,
      ...threaded,
      `return { spec, forward, close: () => pool.close()${this.profile ? ", profile" : ""} };`,
      `}`,
      "",
    ].join("\n");
  }

  interfaces(): string {
    const g = this.g;
    const plan = this.sessionPlan();
    const inputs = g.inputs.map((i) => `readonly ${str(i.name)}${i.optional ? "?" : ""}: Tensor<${INPUT_TYPES[i.type.dtype]}>${i.optional ? " | null" : ""};`);
    const outputs = g.outputs.map((o) => `readonly ${str(o.name)}: Tensor<Float32Array>;`);
    return [
      `/** The model's inputs: row-major data and a shape, checked by \`forward\`. */`,
      `export interface Inputs {\n${inputs.join("\n")}\n}`,
      "",
      `export interface Outputs {\n${outputs.join("\n")}\n}`,
      "",
      ...(plan ? [sessionInterfaces(g, plan), ""] : []),
      `export interface Model {\n  readonly spec: typeof spec;\n  /** Runs the model; throws a ShapeError naming the input and dimension when an input does not fit. */\n  forward(inputs: Inputs): Outputs;\n${plan ? SESSION_MEMBER + "\n" : ""}${PROFILE_MEMBER}\n}`,
      "",
      `export interface ThreadedModel {\n  readonly spec: typeof spec;\n  forward(inputs: Inputs): Promise<Outputs>;\n  /** Stops the worker threads. */\n  close(): Promise<void>;\n${PROFILE_MEMBER}\n}`,
    ].join("\n");
  }
}


const HEADER = `/**\n * @generated by tfmc. DO NOT EDIT.\n * Regenerate with \`tfmc compile\` from the model's .tfm source.\n */`;

/** The module's `spec`: plain data, printed both as a value and (for .d.ts files) as a type. */
function specData(g: IrGraph): SpecValue {
  const dims = (s: readonly Dim[]) => s.map((d) => (isConst(d) ? d.value : d.sym));
  return {
    name: g.meta.name,
    config: Object.fromEntries([...g.meta.config].map(([k, v]) => [k, v.value])),
    symbols: g.meta.symbols.map((s): SpecValue => (s.max !== undefined ? { name: s.name, max: s.max } : { name: s.name })),
    inputs: g.inputs.map((i) => ({ name: i.name, dtype: i.type.dtype, shape: dims(i.type.shape), optional: i.optional })),
    outputs: g.outputs.map((o) => ({ name: o.name, dtype: o.type.dtype, shape: dims(o.type.shape) })),
    parameters: g.meta.params.map((p) => ({ name: p.name, dtype: "f32", shape: [...p.shape] })),
  };
}

type SpecValue = string | number | boolean | readonly SpecValue[] | { readonly [k: string]: SpecValue };

function printValue(v: SpecValue): string {
  if (typeof v === "string") return str(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(printValue).join(", ")}]`;
  return `{ ${Object.entries(v).map(([k, x]) => `${key(k)}: ${printValue(x)}`).join(", ")} }`;
}

/** The type `as const` gives a value: readonly, with literal types. */
function printType(v: SpecValue): string {
  if (typeof v !== "object") return printValue(v);
  if (Array.isArray(v)) return `readonly [${v.map(printType).join(", ")}]`;
  return `{ ${Object.entries(v).map(([k, x]) => `readonly ${str(k)}: ${printType(x)};`).join(" ")} }`;
}

/** The module's source: TypeScript, or JavaScript for `--emit js`. */
export function emitModuleSource(g: IrGraph, opts: { runtime?: string; typed?: boolean; profile?: boolean; target?: "ts" | "wasm"; wasmFile?: boolean } = {}): string {
  return new ModulePrinter(g, opts.runtime ?? RUNTIME_SPECIFIER, opts.typed ?? true, opts.profile, opts.target, opts.wasmFile).print();
}

/** With --wasm-file: the files `<model>.wasm` and `<model>.shared.wasm` (none when no node runs in WebAssembly). */
export function wasmFiles(g: IrGraph): { name: string; text: Uint8Array }[] {
  const p = new ModulePrinter(g, RUNTIME_SPECIFIER, true, false, "wasm", true);
  const plan = p.wasmPlan();
  if (plan.bytes === 0) return [];
  return [
    { name: p.wasmFileName(false), text: plan.binary },
    { name: p.wasmFileName(true), text: plan.sharedBinary },
  ];
}

/** The declarations that go with the JavaScript module. */
export function emitDeclarations(g: IrGraph, runtime = RUNTIME_SPECIFIER, wasmFile = false): string {
  const p = new ModulePrinter(g, runtime, true, false, wasmFile ? "wasm" : "ts", wasmFile);
  const loads = wasmFile && p.wasmPlan().bytes > 0;
  return [
    HEADER,
    `import type { Tensor, WeightsSource } from ${str(runtime)};`,
    "",
    `export declare const spec: ${printType(specData(g))};`,
    "",
    p.interfaces(),
    "",
    `/** Builds the model from safetensors bytes or tensors by name; reports every weight problem at once. */`,
    `export declare function createModel(weights: WeightsSource): Model;`,
    `export declare function createThreadedModel(weights: WeightsSource, options?: { threads?: number }): Promise<ThreadedModel>;`,
    `export declare const kernels: Readonly<Record<string, (...args: never[]) => void>>;`,
    ...(loads ? [`/** Reads ${p.wasmFileName(false)} and ${p.wasmFileName(true)} from \`dir\` (by default the module's folder); await it before createModel. */`, `export declare function loadWasm(dir?: URL): Promise<void>;`] : []),
    "",
  ].join("\n");
}
