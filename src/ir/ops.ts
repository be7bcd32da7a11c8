import { ATTENTION } from "./ops/attention.js";
import { ELEMENTWISE } from "./ops/elementwise.js";
import { LAYOUT } from "./ops/layout.js";
import { NN } from "./ops/nn.js";
import type { Op, PrimitiveOp } from "./ops/names.js";
import type { FusionKind, OpDef } from "./ops/opDef.js";
import { REDUCE } from "./ops/reduce.js";
import { ROTARY } from "./ops/rotary.js";

export type { FusionKind, Op, OpDef, PrimitiveOp };
export { MASK_ROLES, type MaskRole } from "./masks.js";

/** The tensor primitives: every field of each is written in its family file (ops/elementwise, layout, reduce, rotary). */
export const PRIMITIVES: Record<PrimitiveOp, OpDef> = { ...ELEMENTWISE, ...LAYOUT, ...REDUCE, ...ROTARY };

/**
 * The one op table: everything the compiler knows about each op (see ops/opDef.ts). Shape
 * checks, the interpreter, kernels, cost, sessions, fusion, diagrams and the wasm planner read
 * these entries; none of them switches on op names.
 */
export const OPS: Record<Op, OpDef> = { ...NN, ...ATTENTION, ...PRIMITIVES };

/** The primitive entry of an op, if it is one. */
export const primitive = (op: string): OpDef | undefined => (Object.hasOwn(PRIMITIVES, op) ? PRIMITIVES[op as PrimitiveOp] : undefined);
