import type { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";
import { isConst, type Dim, type DType } from "../semantics/types.js";
import { constantNodes, planIncremental, isIncremental, type IncrementalPlan } from "../ir/incremental.js";
import { OPS } from "../ir/ops.js";
import { PARAM_TS_TYPES, printKernel, type Hoist, type KernelCtx, type KernelSource } from "./kernelTypes.js";
import { FEED_TYPES, INPUT_TYPES, key, str } from "./literals.js";
import { arenaLayout, planSlots, viewOf } from "./memoryPlan.js";
import { printSession, sessionInterfaces } from "./session.js";
import { planWasm, type WasmPlan } from "./wasmTarget.js";
import { WasmGlue } from "./wasmGlue.js";

export { planSlots, str };

// Prints one TypeScript module for a graph. Nothing from the .tfm file reaches the output raw:
// identifiers are made here (v3, p0, s1, k2), and every user string goes through `str`.

export const RUNTIME_SPECIFIER = "tfmc/runtime";

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

  private paramIndexes?: Map<string, number>;
  private paramIndex(name: string): number {
    if (!this.paramIndexes) {
      this.paramIndexes = new Map();
      this.g.meta.params.forEach((p, i) => {
        if (!this.paramIndexes!.has(p.name)) this.paramIndexes!.set(p.name, i);
      });
    }
    return this.paramIndexes.get(name) ?? -1;
  }

  isOptionalInput(id: string): boolean {
    return this.g.inputs.some((i) => i.node === id && i.optional);
  }

  shapeExpr(id: string): string {
    const n = this.g.node(id);
    const s = `[${n.shape.map(this.dim).join(", ")}]`;
    return this.isOptionalInput(id) ? `(${this.varOf(id)} === null ? null : ${s})` : s;
  }

  /**
   * Adds a kernel (deduplicated by its source) and returns its name. The function is composed from
   * the template's declarations: `out`, then the node's first `inputCount` inputs (a model input
   * keeps its dtype's array type, a computed tensor is a Float32Array), then the declared parameters.
   */
  kernel(n: NodeLabel, k: KernelSource, inputCount = n.inputs.length): string {
    if (k.inputs.length !== inputCount) throw new Error(`internal: the kernel of '${n.op}' names ${k.inputs.length} inputs for ${inputCount}`);
    const source = printKernel(k, n.inputs.slice(0, inputCount).map((id) => this.inputType(id)), this.typed);
    let name = this.kernels.get(source);
    if (!name) {
      name = `k${this.kernels.size}`;
      this.kernels.set(source, name);
    }
    return name;
  }

  /** The array type a kernel reads node `id` as: only the model's inputs keep their own; every computed tensor lives in a Float32Array. */
  private inputType(id: string): string {
    const x = this.g.node(id);
    const t = x.op === "input" ? INPUT_TYPES[x.dtype] : "Float32Array";
    return this.isOptionalInput(id) ? `${t} | null` : t;
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
  call(id: string, target: string, hoist?: Hoist, threaded = false, rowOffset?: string): string {
    const n = this.g.node(id);
    const ctx: KernelCtx = { dim: this.dim, size: this.size, shapeOf: (i) => this.shapeExpr(n.inputs[i]), ...(rowOffset !== undefined ? { rowOffset } : {}) };
    const k = OPS[n.op].kernel(n, n.inputs.map((i) => this.g.node(i)), ctx);
    for (const u of k.uses ?? []) this.runtimeImports.add(u);
    const name = this.kernel(n, k);
    const split = k.split;
    if (k.params.length !== k.extra.length + (split?.kind === "heads" ? 2 : 0)) throw new Error(`internal: the kernel of '${n.op}' declares ${k.params.length} parameters for ${k.extra.length} arguments`);
    // Arrays (shapes, batch offsets, mask strides) are computed once per input shape.
    const extra = k.extra.map((e, i) => {
      const type = k.params[i].type;
      return hoist && type !== "number" && type !== "string" ? hoist(e, PARAM_TS_TYPES[type]) : e;
    });
    const args = [target, ...n.inputs.map((i) => this.varOf(i)), ...extra];
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
    // --target wasm: the kernels' instance, packed weights and biases placed once.
    const wasm = this.target === "wasm" && this.wasmPlan().bytes > 0 ? this.glue() : undefined;
    const extras: { name: string; size: string }[] = [];
    const wasmState = wasm?.prepare(threaded, setup, extras);

    const runtimeNodes = order.filter((id) => !constants.has(id) && g.node(id).op !== "input");
    const plan = planSlots(g, runtimeNodes, (id) => this.size(g.node(id).shape));
    const hoisted: { name: string; expr: string; type: string }[] = [];
    const hoist: Hoist = (expr, type) => {
      const name = `e${hoisted.length}`;
      hoisted.push({ name, expr, type });
      return name;
    };
    const calls = runtimeNodes.map((id, i) => {
      const call = (wasm && wasm.call(id, wasmState!, hoist, threaded)) ?? this.call(id, this.varOf(id), hoist, threaded);
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
    // The plan's slots, then the extra buffers of the wasm target (staged inputs, scratch).
    const layout = arenaLayout([...plan.slots, ...extras.map((x) => [x.size])], "z");
    body.push(...layout.sizes);
    body.push(`const arena = ${wasm ? `wasm.arena(${layout.total})` : alloc(layout.total)};`);
    for (const id of runtimeNodes) body.push(`${this.varOf(id)} = ${viewOf("arena", layout.offsets[plan.slotOf.get(id)!], this.size(g.node(id).shape))};`);
    extras.forEach((x, k) => {
      const at = plan.slots.length + k;
      body.push(`${x.name} = ${viewOf("arena", layout.offsets[at], layout.sizeOf(at))};`);
    });
    for (const h of hoisted) body.push(`${h.name} = ${h.expr};`);
    // Integer and boolean results are computed as float32 values: such an output gets an array of
    // its own dtype, filled after the kernels run.
    const typedOutputs = g.outputs.flatMap((o, k) => (OUTPUT_ARRAYS[o.type.dtype] && !g.inputs.some((i) => i.node === o.node) ? [{ k, o, name: `y${k}`, array: OUTPUT_ARRAYS[o.type.dtype]! }] : []));
    for (const y of typedOutputs) body.push(`${y.name} = new ${y.array}(${this.size(y.o.type.shape)});`);
    const outs = g.outputs.map((o, k) => `${key(o.name)}: { data: ${typedOutputs.find((y) => y.k === k)?.name ?? this.varOf(o.node)}, shape: [${o.type.shape.map(this.dim).join(", ")}] }`);
    body.push(`outputs = { ${outs.join(", ")} };`, `}`);
    for (const [id, name] of wasmState?.staged ?? []) body.push(`${name}.set(${this.varOf(id)});`);
    if (typedOutputs.length > 0) this.runtimeImports.add("storeOutput");
    body.push(...calls, ...typedOutputs.map((y) => `storeOutput(${y.name}, ${this.varOf(y.o.node)});`), `return outputs;`);

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
      ...hoisted.map((h) => `let ${h.name}${t(`!: ${h.type}`)};`),
      ...typedOutputs.map((y) => `let ${y.name}${t(`!: ${y.array}`)};`),
      `let outputs${t("!: Outputs")};`,
    ];
    const signature = threaded ? `async function forward(inputs${t(": Inputs")})${t(": Promise<Outputs>")}` : `function forward(inputs${t(": Inputs")})${t(": Outputs")}`;
    return [...setup, ...state, `${signature} {`, ...body, `}`];
  }

  private wasmPlanCache?: WasmPlan;
  /** The nodes that run as WebAssembly kernels under --target wasm, and the binary. */
  wasmPlan(): WasmPlan {
    this.wasmPlanCache ??= planWasm(this.g, this.constants());
    return this.wasmPlanCache;
  }

  private glueCache?: WasmGlue;
  /** The TypeScript side of the wasm target (only with --target wasm). */
  glue(): WasmGlue {
    this.glueCache ??= new WasmGlue(this, this.wasmPlan(), this.wasmFile);
    return this.glueCache;
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
    for (const u of ["ThreadPool", "sharedFloat32", "shareFloat32", "threadCount", "ownTensors"]) this.runtimeImports.add(u);
    const kernelSources = [...this.kernels].map(([src, name]) => src.replaceAll("$K", name));
    const wasm = this.target === "wasm" ? this.glue() : undefined;
    const worker = wasm?.workerKernels() ?? { source: [], names: [] };
    const wasmDeclarations = wasm?.binaryDeclarations() ?? [];
    const imports = [...this.runtimeImports].sort();
    return [
      HEADER,
      `import { ${imports.join(", ")} } from ${str(this.runtime)};`,
      t(`import type { ${plan ? "SessionState, " : ""}Tensor, WeightsOptions, WeightsSource } from ${str(this.runtime)};`),
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
      ` * \`options.prefix\` ({ strip, add }) renames the file's entries, \`options.ignore\` (globs or RegExps) skips some.`,
      ` * Buffers are planned once per input shape and reused: \`forward\` allocates no tensors after`,
      ` * its first call for a shape, and the tensors it returns are overwritten by the next call.`,
      ` */`,
      `export function createModel(weights${t(": WeightsSource")}, options${t("?: WeightsOptions")})${t(": Model")} {`,
      `const w = loadWeights(spec.parameters, weights, options);`,
      ...plain,
      ...session,
      `return { spec, forward${plan ? ", startSession" : ""}${this.profile ? ", profile" : ""} };`,
      `}`,
      "",
      `/**`,
      ` * The same model on several threads (worker threads in Node, module workers in browsers) sharing`,
      ` * memory: matrix products split by columns or rows, attention by heads. Same numerics as \`createModel\`.`,
      ` * \`options.threads\` counts this thread and the workers: an integer from 1 to 64, 2 by default;`,
      ` * the other options are \`createModel\`'s.`,
      ` * \`forward\` is asynchronous; calls take turns and each returns tensors of its own (copied out of`,
      ` * the shared buffers). \`close\` stops the workers; calls not yet finished then reject.`,
      ` */`,
      `export async function createThreadedModel(weights${t(": WeightsSource")}, options${t(": WeightsOptions & { threads?: number }")} = {})${t(": Promise<ThreadedModel>")} {`,
      `const threads = threadCount(options);`,
      `const w = loadWeights(spec.parameters, weights, options, ["threads"]);`,
      ...(wasm?.threadedPrelude() ?? []),
      `const pool = await ThreadPool.start(threads - 1, import.meta.url);`,
      ...threaded,
      `const forwardInTurn = (inputs${t(": Inputs")}) => pool.serial(async () => ownTensors(await forward(inputs)));`,
      `return { spec, forward: forwardInTurn, close: () => pool.close()${this.profile ? ", profile" : ""} };`,
      `}`,
      "",
    ].join("\n");
  }

  interfaces(): string {
    const g = this.g;
    const plan = this.sessionPlan();
    const inputs = g.inputs.map((i) => {
      const mayOmit = i.optional || i.default !== undefined;
      return `readonly ${str(i.name)}${mayOmit ? "?" : ""}: Tensor<${FEED_TYPES[i.type.dtype]}>${mayOmit ? " | null" : ""};`;
    });
    // A model input passed through keeps its own array; computed integers and booleans get their dtype's array.
    const outputs = g.outputs.map((o) => {
      const passed = g.inputs.find((i) => i.node === o.node);
      const type = passed ? INPUT_TYPES[passed.type.dtype] : (OUTPUT_ARRAYS[o.type.dtype] ?? "Float32Array");
      return `readonly ${str(o.name)}: Tensor<${type}>;`;
    });
    return [
      `/** The model's inputs: row-major data and a shape, checked by \`forward\`. */`,
      `export interface Inputs {\n${inputs.join("\n")}\n}`,
      "",
      `export interface Outputs {\n${outputs.join("\n")}\n}`,
      "",
      ...(plan ? [sessionInterfaces(g, plan), ""] : []),
      `export interface Model {\n  readonly spec: typeof spec;\n  /** Runs the model; throws a ShapeError naming the input and dimension when an input does not fit. */\n  forward(inputs: Inputs): Outputs;\n${plan ? SESSION_MEMBER + "\n" : ""}${PROFILE_MEMBER}\n}`,
      "",
      `export interface ThreadedModel {\n  readonly spec: typeof spec;\n  /** Runs the model once the calls before it have finished; the tensors it returns are the caller's own. */\n  forward(inputs: Inputs): Promise<Outputs>;\n  /** Stops the worker threads; calls not yet finished, and any later call, reject with a ThreadedModelError. */\n  close(): Promise<void>;\n${PROFILE_MEMBER}\n}`,
    ].join("\n");
  }
}


/** The array a computed output of each non-float dtype is returned in. */
const OUTPUT_ARRAYS: Partial<Record<DType, string>> = { i32: "Int32Array", i64: "BigInt64Array", bool: "Uint8Array" };

const HEADER = `/**\n * @generated by tfmc. DO NOT EDIT.\n * Regenerate with \`tfmc compile\` from the model's .tfm source.\n */`;

/** The module's `spec`: plain data, printed both as a value and (for .d.ts files) as a type. */
function specData(g: IrGraph): SpecValue {
  const dims = (s: readonly Dim[]) => s.map((d) => (isConst(d) ? d.value : d.sym));
  return {
    name: g.meta.name,
    config: Object.fromEntries([...g.meta.config].map(([k, v]) => [k, v.value])),
    symbols: g.meta.symbols.map((s): SpecValue => (s.max !== undefined ? { name: s.name, max: s.max } : { name: s.name })),
    inputs: g.inputs.map((i) => ({ name: i.name, dtype: i.type.dtype, shape: dims(i.type.shape), optional: i.optional, ...(i.default !== undefined ? { default: i.default } : {}) })),
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
  const glue = new ModulePrinter(g, RUNTIME_SPECIFIER, true, false, "wasm", true).glue();
  if (glue.plan.bytes === 0) return [];
  return [
    { name: glue.fileName(false), text: glue.plan.binary },
    { name: glue.fileName(true), text: glue.plan.sharedBinary },
  ];
}

/** The declarations that go with the JavaScript module. */
export function emitDeclarations(g: IrGraph, runtime = RUNTIME_SPECIFIER, wasmFile = false): string {
  const p = new ModulePrinter(g, runtime, true, false, wasmFile ? "wasm" : "ts", wasmFile);
  const glue = wasmFile ? p.glue() : undefined;
  const loads = glue !== undefined && glue.plan.bytes > 0;
  return [
    HEADER,
    `import type { Tensor, WeightsOptions, WeightsSource } from ${str(runtime)};`,
    "",
    `export declare const spec: ${printType(specData(g))};`,
    "",
    p.interfaces(),
    "",
    `/** Builds the model from safetensors bytes or tensors by name; reports every weight problem at once. */`,
    `export declare function createModel(weights: WeightsSource, options?: WeightsOptions): Model;`,
    `export declare function createThreadedModel(weights: WeightsSource, options?: WeightsOptions & { threads?: number }): Promise<ThreadedModel>;`,
    `export declare const kernels: Readonly<Record<string, (...args: never[]) => void>>;`,
    ...(loads ? [`/** Reads ${glue.fileName(false)} and ${glue.fileName(true)} from \`dir\` (by default the module's folder); await it before createModel. */`, `export declare function loadWasm(dir?: URL): Promise<void>;`] : []),
    "",
  ].join("\n");
}
