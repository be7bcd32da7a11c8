import type { IrGraph } from "../ir/graph.js";
import type { IncrementalPlan } from "../ir/incremental.js";
import type { NodeLabel } from "../ir/node.js";
import { isConst, type Dim } from "../semantics/types.js";
import { PARAM_TS_TYPES, type Hoist, type KernelSource } from "./kernelTypes.js";
import { FEED_TYPES, INPUT_TYPES, key, num, str as quote } from "./literals.js";
import { arenaLayout, planSlots, viewOf } from "./memoryPlan.js";
import { sessionAttentionKernel } from "./sessionKernels.js";

// Prints `startSession`, the incremental form of `forward` (see src/ir/incremental.ts for which
// nodes run when). A session owns three kinds of memory, all made when it starts: the values of
// the static nodes that step nodes read (an encoder's memory, cross-attention keys), the attention
// state (key/value caches, running sums) and an arena for the step nodes planned per number of new
// tokens. `append` checks its tokens without allocating and runs the step nodes over them.

/** What the session printer needs of the module printer. */
export interface SessionHost {
  readonly g: IrGraph;
  readonly typed: boolean;
  readonly runtimeImports: Set<string>;
  dim(d: Dim): string;
  size(dims: readonly Dim[]): string;
  varOf(id: string): string;
  kernel(n: NodeLabel, k: KernelSource, inputCount?: number): string;
  call(id: string, target: string, hoist?: Hoist, threaded?: boolean, rowOffset?: string): string;
}


const mentions = (shape: readonly Dim[], sym: string) => shape.some((d) => !isConst(d) && d.sym === sym);

/** The array type and fill value of an input with a default, by dtype. */
const FILLED: Record<string, (v: number) => [string, string]> = {
  f32: (v) => ["Float32Array", num(v)],
  i32: (v) => ["Int32Array", String(v)],
  i64: (v) => ["BigInt64Array", `${v}n`],
  bool: (v) => ["Uint8Array", v ? "1" : "0"],
};

/** Inputs given when a session starts: those without the step length. */
export function sessionInputs(g: IrGraph, plan: IncrementalPlan) {
  return g.inputs.filter((i) => i.name !== plan.stepInput && !mentions(i.type.shape, plan.length));
}

/** The outputs `append` returns: those that depend on the new tokens. */
export function stepOutputs(g: IrGraph, plan: IncrementalPlan) {
  return g.outputs.filter((o) => plan.stepNodes.has(o.node));
}

/** The `startSession` function, declared inside `createModel`. */
export function printSession(h: SessionHost, plan: IncrementalPlan): string[] {
  const g = h.g;
  const t = (typed: string, plain = "") => (h.typed ? typed : plain);
  const order = g.order();
  const stepIndex = g.inputs.findIndex((i) => i.name === plan.stepInput);
  const stepInput = g.inputs[stepIndex];
  const fixed = sessionInputs(g, plan);
  const T = plan.length;
  const tVar = h.dim({ sym: T });
  const batchDim = stepInput.type.shape[0];
  const limit = g.meta.symbols.find((s) => s.name === T)?.max;
  const lines: string[] = [];

  lines.push(`const sessions = new WeakMap${t("<Session, SessionState>")}();`);
  lines.push(`function startSession(options${t(": SessionOptions")} = {})${t(": Session")} {`);
  lines.push(`const cap = sessionCapacity(options.maxLength, ${limit ?? "undefined"}, ${quote(T)});`);
  const feeds = t(" as unknown as Readonly<Record<string, Tensor | undefined>>");
  // Inputs with a default left out take the session's batch where no input binds it.
  const batchFill = !isConst(batchDim) && fixed.some((i) => i.default !== undefined && mentions(i.type.shape, batchDim.sym));
  const known = batchFill ? `, { ${quote(batchDim.sym)}: sessionBatch(undefined, options.batch) }` : "";
  lines.push(`const { dims, data } = checkInputs([${fixed.map((i) => `spec.inputs[${g.inputs.indexOf(i)}]`).join(", ")}], spec.symbols, (options.inputs ?? {})${feeds}${known});`);
  g.meta.symbols.forEach((sym, i) => {
    if (sym.name === T) lines.push(`let s${i} = 0;`);
    else if (!isConst(batchDim) && batchDim.sym === sym.name) lines.push(`const s${i} = sessionBatch(dims[${quote(sym.name)}], options.batch);`);
    else lines.push(`const s${i} = dims[${quote(sym.name)}] ?? 0;`);
  });
  const batch = isConst(batchDim) ? "batch" : h.dim(batchDim);
  if (isConst(batchDim)) lines.push(`const batch = sessionBatch(${batchDim.value}, options.batch);`);
  // Inputs with a default and the step length: their value for the new tokens, made when that number changes.
  const filledSteps: string[] = [];
  g.inputs.forEach((inp, i) => {
    const type = INPUT_TYPES[inp.type.dtype] + (inp.optional ? " | null" : "");
    const k = fixed.indexOf(inp);
    if (k >= 0) lines.push(`let x${i} = data[${k}]${t(` as ${type}`)};`);
    else if (i === stepIndex) lines.push(`let x${i}${t(`: ${type}`)} = new Int32Array(0);`);
    else if (inp.default !== undefined) {
      const [array, value] = FILLED[inp.type.dtype](inp.default);
      lines.push(`let x${i}${t(`: ${type}`)} = new ${array}(0);`);
      filledSteps.push(`x${i} = new ${array}(${h.size(inp.type.shape)}).fill(${value});`);
    } else lines.push(`const x${i} = null;`);
  });

  // Static nodes: once, into an arena of their own; those the steps read live as long as the session.
  const statics = order.filter((id) => plan.staticNodes.has(id));
  const read = statics.filter((id) => g.consumers(id).some((c) => plan.stepNodes.has(c)));
  const staticPlan = planSlots(g, statics, (id) => h.size(g.node(id).shape), read);
  const fixedLayout = arenaLayout(staticPlan.slots, "y");
  lines.push(...fixedLayout.sizes, `const fixedArena = new Float32Array(${fixedLayout.total});`);
  for (const id of statics) lines.push(`const ${h.varOf(id)} = ${viewOf("fixedArena", fixedLayout.offsets[staticPlan.slotOf.get(id)!], h.size(g.node(id).shape))};`);
  for (const id of statics) lines.push(h.call(id, h.varOf(id)));

  // Attention state.
  const buffers: { name: string; rows: number; init?: string; scratch: boolean }[] = [];
  const stepCalls: string[] = [];
  const hoisted: { name: string; expr: string; type: string }[] = [];
  const hoist: Hoist = (expr, type) => {
    const name = `e${hoisted.length}`;
    hoisted.push({ name, expr, type });
    return name;
  };
  const steps = order.filter((id) => plan.stepNodes.has(id));
  for (const id of steps) {
    const kind = plan.attention.get(id);
    if (kind === undefined || kind === "static") {
      stepCalls.push(h.call(id, h.varOf(id), hoist, false, plan.positional.has(id) ? "past" : undefined));
      continue;
    }
    const n = g.node(id);
    const ins = n.inputs.map((i) => g.node(i));
    const k = sessionAttentionKernel(kind, n, ins);
    for (const u of k.source.uses ?? []) h.runtimeImports.add(u);
    const name = h.kernel(n, k.source, 3);
    // Per (batch, key/value head): grouped-query attention caches only its key/value heads.
    const heads = (ins[1].shape[1] as { value: number }).value;
    const args = k.state.map((b) => {
      const v = `c${buffers.length}`;
      const size = b.scratch ? b.size : `${batch} * ${heads} * ${b.size}`;
      lines.push(`const ${v} = new ${PARAM_TS_TYPES[b.type]}(${size});${b.init ? ` ${v}.fill(${b.init});` : ""}`);
      buffers.push({ name: v, rows: b.rows ?? 0, scratch: b.scratch ?? false, ...(b.init ? { init: b.init } : {}) });
      return v;
    });
    const qkv = n.inputs.slice(0, 3).map((i) => h.varOf(i));
    stepCalls.push(`${name}(${[h.varOf(id), ...qkv, ...args, batch, tVar, "past", "cap"].join(", ")});`);
  }
  const state = buffers.filter((b) => !b.scratch);
  lines.push(
    `let past = 0;`,
    `const own${t(": SessionState")} = { batch: ${batch}, capacity: cap, get length() { return past; }, buffers: [fixedArena${state.map((b) => ", " + b.name).join("")}], rows: [0${state.map((b) => ", " + b.rows).join("")}] };`,
  );

  // Step nodes: an arena planned for each number of new tokens, kept until that number changes.
  const stepPlan = planSlots(g, steps, (id) => h.size(g.node(id).shape));
  const outs = stepOutputs(g, plan).map((o) => `${key(o.name)}: { data: ${h.varOf(o.node)}, shape: [${o.type.shape.map((d) => h.dim(d)).join(", ")}] }`);
  lines.push(`let planned = 0;`);
  for (const id of steps) lines.push(`let ${h.varOf(id)}${t("!: Float32Array")};`);
  for (const x of hoisted) lines.push(`let ${x.name}${t(`!: ${x.type}`)};`);
  lines.push(`let outputs${t("!: StepOutputs")};`);
  lines.push(`function append(tokens${t(": Tensor<Int32Array | BigInt64Array>")})${t(": StepOutputs")} {`);
  lines.push(`${tVar} = checkStep(tokens, ${quote(plan.stepInput)}, ${batch}, past, cap);`, `x${stepIndex} = tokens.data;`);
  lines.push(`if (${tVar} !== planned) {`, `planned = ${tVar};`);
  const stepLayout = arenaLayout(stepPlan.slots, "z");
  lines.push(...stepLayout.sizes, `const arena = new Float32Array(${stepLayout.total});`);
  for (const id of steps) lines.push(`${h.varOf(id)} = ${viewOf("arena", stepLayout.offsets[stepPlan.slotOf.get(id)!], h.size(g.node(id).shape))};`);
  for (const x of hoisted) lines.push(`${x.name} = ${x.expr};`);
  lines.push(...filledSteps, `outputs = { ${outs.join(", ")} };`, `}`);
  lines.push(...stepCalls, `past += ${tVar};`, `return outputs;`, `}`);

  const fixedVars = fixed.map((i) => `x${g.inputs.indexOf(i)}`);
  const recurrent = buffers.filter((b) => !b.scratch && b.rows === 0);
  lines.push(
    `const session${t(": Session")} = {`,
    `batch: ${batch},`,
    `maxLength: cap,`,
    `get length() { return past; },`,
    `append,`,
    `reset() { past = 0;${recurrent.map((b) => ` ${b.name}.fill(${b.init ?? 0});`).join("")} },`,
    `copyFrom(other${t(": Session")}) { const o = sessions.get(other); copySessionState(own, o); past = other.length;${fixedVars.length > 0 ? ` [${fixedVars.join(", ")}] = inputsOf.get(other)${t("!")}();` : ""} },`,
    `};`,
    `sessions.set(session, own);`,
    ...(fixedVars.length > 0 ? [`inputsOf.set(session, () => [${fixedVars.join(", ")}]${t(" as const")});`] : []),
    `return session;`,
    `}`,
  );
  if (fixedVars.length > 0) {
    const types = fixed.map((i) => INPUT_TYPES[i.type.dtype] + (i.optional ? " | null" : ""));
    lines.unshift(`const inputsOf = new WeakMap${t(`<Session, () => readonly [${types.join(", ")}]>`)}();`);
  }
  return lines;
}

/** The session's types, for the module and its declarations. */
export function sessionInterfaces(g: IrGraph, plan: IncrementalPlan): string {
  const fixed = sessionInputs(g, plan);
  const limit = g.meta.symbols.find((s) => s.name === plan.length)?.max;
  const inputs = fixed.map((i) => `readonly ${quote(i.name)}${i.optional ? "?" : ""}: Tensor<${FEED_TYPES[i.type.dtype]}>${i.optional ? " | null" : ""};`);
  const outputs = stepOutputs(g, plan).map((o) => `readonly ${quote(o.name)}: Tensor<Float32Array>;`);
  return [
    `/** The inputs fixed for a whole decoding session. */`,
    `export interface SessionInputs {\n${inputs.join("\n")}\n}`,
    "",
    `export interface SessionOptions {`,
    `  /** Positions the session holds, prompt included${limit !== undefined ? `: at most ${limit}, the default` : ""}. */`,
    `  readonly maxLength?: number;`,
    `  /** Sequences decoded side by side (default 1, or the batch of \`inputs\`). */`,
    `  readonly batch?: number;`,
    `  readonly inputs?: SessionInputs;`,
    `}`,
    "",
    `/** The outputs for the positions of one \`append\`; overwritten by the next call with as many tokens. */`,
    `export interface StepOutputs {\n${outputs.join("\n")}\n}`,
    "",
    `/** Incremental decoding: keys and values cached (or linear attention's running sums), nothing allocated per token. */`,
    `export interface Session {`,
    `  readonly batch: number;`,
    `  readonly maxLength: number;`,
    `  /** Tokens appended so far. */`,
    `  readonly length: number;`,
    `  /** Appends tokens [batch, n] (n >= 1) after the ones so far; the outputs cover the n new positions. */`,
    `  append(tokens: Tensor<Int32Array | BigInt64Array>): StepOutputs;`,
    `  /** Forgets the tokens; the session's inputs stay. */`,
    `  reset(): void;`,
    `  /** Becomes a copy of another session of this model with the same batch and maxLength. */`,
    `  copyFrom(other: Session): void;`,
    `}`,
  ].join("\n");
}
