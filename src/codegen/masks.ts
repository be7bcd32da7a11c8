import type { NodeLabel } from "../ir/node.js";
import type { KernelCtx, KernelParam } from "./kernelTypes.js";

// Masks in kernels: each mask input is read through four strides that align it with
// [B, H, L, S] (key masks [B, S] as [B, 1, 1, S]); an absent optional mask is null.

/**
 * Code that reads each mask at (b, h, i, j) into `ok` (may attend) and `add` (added to the score).
 * With `keysOnly` the code reads at (b, j) alone: only key masks reach the feature-map kernels.
 */
export function maskTests(roles: readonly string[], keysOnly = false): string {
  return roles
    .map((r, k) => {
      const idx = keysOnly ? `b * t${k}[0] + j * t${k}[3]` : `b * t${k}[0] + h * t${k}[1] + i * t${k}[2] + j * t${k}[3]`;
      if (r.startsWith("block")) return `if (m${k} !== null && m${k}[${idx}]) ok = false;`;
      if (r.startsWith("keep")) return `if (m${k} !== null && !m${k}[${idx}]) ok = false;`;
      return `if (m${k} !== null) add += m${k}[${idx}];`;
    })
    .join("\n");
}

/** The masks of a node whose inputs from `firstMaskInput` on are masks: their input names, and their strides as parameters. */
export function maskParams(n: NodeLabel, firstMaskInput: number, ctx: KernelCtx) {
  const roles = String(n.attrs.roles ?? "").split(",").filter(Boolean);
  return {
    roles,
    inputs: roles.map((_, k) => `m${k}`),
    strides: roles.map((_, k): KernelParam => ({ name: `t${k}`, type: "shape" })),
    strideArgs: roles.map((r, k) => `maskStrides(${ctx.shapeOf(k + firstMaskInput)}, ${r.endsWith("_keys")})`),
    uses: roles.length > 0 ? ["maskStrides"] : [],
  };
}
