import type { NodeLabel } from "../ir/node.js";
import type { KernelCtx } from "./kernels.js";

// Masks in kernels: each mask input is read through four strides that align it with
// [B, H, L, S] (key masks [B, S] as [B, 1, 1, S]); an absent optional mask is null.

/** Code that reads each mask at (b, h, i, j) into `ok` (may attend) and `add` (added to the score). */
export function maskTests(roles: readonly string[]): string {
  return roles
    .map((r, k) => {
      const idx = `b * t${k}[0] + h * t${k}[1] + i * t${k}[2] + j * t${k}[3]`;
      if (r.startsWith("block")) return `if (m${k} !== null && m${k}[${idx}]) ok = false;`;
      if (r.startsWith("keep")) return `if (m${k} !== null && !m${k}[${idx}]) ok = false;`;
      return `if (m${k} !== null) add += m${k}[${idx}];`;
    })
    .join("\n");
}

export function maskParams(n: NodeLabel, firstMaskInput: number, ctx: KernelCtx) {
  const roles = String(n.attrs.roles ?? "").split(",").filter(Boolean);
  return {
    roles,
    names: roles.map((_, k) => `, m${k}`).join(""),
    strideNames: roles.map((_, k) => `, t${k}`).join(""),
    strideArgs: roles.map((r, k) => `maskStrides(${ctx.shapeOf(k + firstMaskInput)}, ${r.endsWith("_keys")})`),
    uses: roles.length > 0 ? ["maskStrides"] : [],
  };
}

