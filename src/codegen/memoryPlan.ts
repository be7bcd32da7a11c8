import type { IrGraph } from "../ir/graph.js";

/**
 * Static memory planning: buffers whose lifetimes do not overlap share a slot of the arena. A
 * node's output never shares a slot with its own inputs (kernels do not work in place); outputs
 * (or the nodes in `keep`) live to the end. Sizes may be symbolic, so a slot's size is the maximum of its buffers' sizes,
 * taken when the shapes are known; slots are reused preferring buffers of the same size.
 */
export function planSlots(
  g: IrGraph,
  nodes: readonly string[],
  sizeOf: (id: string) => string,
  keep: Iterable<string> = g.outputs.map((o) => o.node),
): { slots: string[][]; slotOf: Map<string, number> } {
  const position = new Map(nodes.map((id, i) => [id, i]));
  const lastUse = new Map<string, number>();
  nodes.forEach((id, i) => {
    for (const inp of g.node(id).inputs) if (position.has(inp)) lastUse.set(inp, i);
  });
  for (const id of keep) if (position.has(id)) lastUse.set(id, Infinity);
  const slots: string[][] = [];
  const slotOf = new Map<string, number>();
  const free: number[] = [];
  const dying = new Map<number, string[]>();
  nodes.forEach((id, i) => {
    const size = sizeOf(id);
    let pick = free.findIndex((k) => slots[k].includes(size));
    if (pick < 0 && free.length > 0) pick = 0;
    let slot: number;
    if (pick >= 0) {
      slot = free.splice(pick, 1)[0];
      if (!slots[slot].includes(size)) slots[slot].push(size);
    } else {
      slot = slots.length;
      slots.push([size]);
    }
    slotOf.set(id, slot);
    const end = lastUse.get(id) ?? i;
    if (end !== Infinity) dying.set(end, [...(dying.get(end) ?? []), id]);
    for (const dead of dying.get(i) ?? []) free.push(slotOf.get(dead)!);
  });
  return { slots, slotOf };
}

/**
 * How a module lays out an arena of `entries` (each the size expressions of one slot): the
 * statements that name each slot's size (`const z0 = …;`), the total, and each slot's offset.
 */
export function arenaLayout(entries: readonly (readonly string[])[], prefix: string): { sizes: string[]; total: string; offsets: string[]; sizeOf: (k: number) => string } {
  const sizeOf = (k: number) => `${prefix}${k}`;
  const sizes = entries.map((s, k) => `const ${sizeOf(k)} = ${s.length === 1 ? s[0] : `Math.max(${s.join(", ")})`};`);
  let offset = "0";
  const offsets = entries.map((_, k) => {
    const here = offset;
    offset = offset === "0" ? sizeOf(k) : `${offset} + ${sizeOf(k)}`;
    return here;
  });
  return { sizes, total: entries.length > 0 ? entries.map((_, k) => sizeOf(k)).join(" + ") : "0", offsets, sizeOf };
}

/** A view of `size` elements of `arena` from `offset`. */
export function viewOf(arena: string, offset: string, size: string): string {
  return `${arena}.subarray(${offset}, ${offset === "0" ? "" : offset + " + "}${size})`;
}
