import type { IrGraph } from "../ir/graph.js";
import type { NodeLabel } from "../ir/node.js";
import { OPS } from "../ir/ops.js";
import { shapesEqual } from "../semantics/shapes.js";
import { dimEquals } from "../semantics/types.js";
import { groupsOf } from "../ir/shapeRules.js";
import { rebuild, useCounts, type Pass, type PassContext } from "./pass.js";

// Fusions read each op's fusion kind and its consumers; a producer is folded into its consumer only
// when nothing else reads it, so no value is computed twice.

const isOutFusable = (n: NodeLabel) => OPS[n.op].kind === "outFusable";

function note(ctx: PassContext, pass: string, n: NodeLabel, kind: "changed" | "skipped", message: string): void {
  ctx.notes.push({ pass, kind, scope: n.scope, message });
}

/** Why: a bias add and an activation each cost a pass over the GEMM's output; in the epilogue they are free. */
export const fuseDenseEpilogue: Pass = {
  name: "fuse-dense-epilogue",
  requires: [],
  level: 2,
  why: "folds the bias add and the activation after a matrix product into the product's epilogue",
  run(g, ctx) {
    // Two rounds: first the bias, then the activation after the biased product.
    return [fuseBias, fuseActivation].reduce((graph, step) => step(graph, ctx, this.name), g);
  },
};

function fuseBias(g: IrGraph, ctx: PassContext, pass: string): IrGraph {
  const uses = useCounts(g);
  return rebuild(g, (_id, n, b) => {
    if (n.op !== "add") return undefined;
    for (const [di, bi] of [[0, 1], [1, 0]] as const) {
      const d = g.node(n.inputs[di]);
      const bias = g.node(n.inputs[bi]);
      if (!isOutFusable(d) || d.op !== "dense" || d.inputs.length !== 2 || d.attrs.act !== undefined) continue;
      if (bias.shape.length !== 1 || !dimEquals(bias.shape[0], d.shape[d.shape.length - 1]) || !shapesEqual(n.shape, d.shape)) continue;
      if (uses.get(n.inputs[di]) !== 1) {
        note(ctx, pass, n, "skipped", "bias not fused: the product without bias is read elsewhere");
        continue;
      }
      note(ctx, pass, n, "changed", "bias add fused into the matrix product");
      return b.add({ ...d, inputs: [...d.inputs.map(b.input), b.input(n.inputs[bi])], span: n.span });
    }
    return undefined;
  });
}

function fuseActivation(g: IrGraph, ctx: PassContext, pass: string): IrGraph {
  const uses = useCounts(g);
  return rebuild(g, (_id, n, b) => {
    if (OPS[n.op].kind !== "elementwise" || !OPS[n.op].epilogue) return undefined;
    const d = g.node(n.inputs[0]);
    if (!isOutFusable(d) || d.op !== "dense" || d.attrs.act !== undefined) return undefined;
    if (uses.get(n.inputs[0]) !== 1) {
      note(ctx, pass, n, "skipped", `${n.op} not fused: the product before it is read elsewhere`);
      return undefined;
    }
    note(ctx, pass, n, "changed", `${n.op} fused into the matrix product's epilogue`);
    return b.add({ ...d, inputs: d.inputs.map(b.input), attrs: { ...d.attrs, act: n.op } });
  });
}

/** Why: post-norm layers add the residual and normalise; one pass over the row does both. */
export const fuseResidualLayerNorm: Pass = {
  name: "fuse-residual-layer-norm",
  requires: ["fuse-dense-epilogue"],
  level: 2,
  why: "computes layer_norm(a + b) or rms_norm(a + b) in one pass when the sum is not needed elsewhere",
  run(g, ctx) {
    const uses = useCounts(g);
    return rebuild(g, (_id, n, b) => {
      if (n.op !== "layer_norm" && n.op !== "rms_norm") return undefined;
      const sum = g.node(n.inputs[0]);
      if (sum.op !== "add") return undefined;
      const [a, c] = sum.inputs.map((i) => g.node(i));
      if (!shapesEqual(a.shape, c.shape)) return undefined;
      if (uses.get(n.inputs[0]) !== 1) {
        note(ctx, this.name, n, "skipped", "residual add not fused into the norm: the sum is read elsewhere (pre-norm residual stream)");
        return undefined;
      }
      note(ctx, this.name, n, "changed", `residual add fused into the ${n.op === "rms_norm" ? "RMS" : "layer"} norm`);
      return b.add({ ...n, op: n.op === "rms_norm" ? "add_rms_norm" : "add_layer_norm", inputs: [...sum.inputs, ...n.inputs.slice(1)].map(b.input) });
    });
  },
};

/** Why: scaling, masking and softmax each read and write the whole [L, S] score matrix; once is enough. */
export const fuseMaskedSoftmax: Pass = {
  name: "fuse-masked-softmax",
  requires: [],
  level: 2,
  why: "folds the score scale and the masks into the softmax",
  run(g, ctx) {
    const uses = useCounts(g);
    const single = (id: string) => uses.get(id) === 1;
    return rebuild(g, (_id, n, b) => {
      if (n.op !== "softmax" || n.shape.length !== 4 || n.attrs.axis !== 3) return undefined;
      let src = g.node(n.inputs[0]);
      let srcId = n.inputs[0];
      let masks: string[] = [];
      let roles = "";
      let causal = false;
      if (src.op === "mask_scores" && single(srcId)) {
        masks = src.inputs.slice(1);
        roles = String(src.attrs.roles ?? "");
        causal = Boolean(src.attrs.causal);
        srcId = src.inputs[0];
        src = g.node(srcId);
      }
      let scale = 1;
      if (src.op === "scalar" && src.attrs.op === "*" && !src.attrs.reverse && single(srcId)) {
        scale = src.attrs.value as number;
        srcId = src.inputs[0];
      }
      if (srcId === n.inputs[0]) return undefined;
      note(ctx, this.name, n, "changed", "scale and masks fused into the softmax");
      return b.add({ ...n, op: "masked_softmax", inputs: [srcId, ...masks].map(b.input), attrs: { scale, roles, causal } });
    });
  },
};

/**
 * Why: materialising the [B, H, L, S] probabilities costs memory quadratic in the length; an online
 * softmax over key blocks needs only a row of accumulators.
 */
export const fuseAttention: Pass = {
  name: "fuse-attention",
  requires: ["fuse-masked-softmax"],
  level: 2,
  why: "replaces scores, softmax and weighting by one attention kernel with an online softmax",
  run(g, ctx) {
    const uses = useCounts(g);
    return rebuild(g, (_id, n, b) => {
      if (n.op !== "matmul" || n.shape.length !== 4) return undefined;
      const probs = g.node(n.inputs[0]);
      if (probs.op !== "masked_softmax" || uses.get(n.inputs[0]) !== 1) return undefined;
      const scores = g.node(probs.inputs[0]);
      if (scores.op !== "matmul" || uses.get(probs.inputs[0]) !== 1) return undefined;
      const kt = g.node(scores.inputs[1]);
      if (kt.op !== "transpose" || kt.attrs.dim0 !== 2 || kt.attrs.dim1 !== 3) return undefined;
      // Keys and values repeated for grouped-query heads are read by group instead: never repeated.
      const unrepeated = (id: string) => (g.node(id).op === "repeat_kv" && uses.get(id) === 1 ? g.node(id).inputs[0] : id);
      const [q, k, v] = [scores.inputs[0], unrepeated(kt.inputs[0]), unrepeated(n.inputs[1])];
      // The kernel reads keys and values per (batch, head group) of the queries: no broadcasting there.
      const qs = g.node(q).shape;
      const same = (id: string) => g.node(id).shape.length === 4 && dimEquals(g.node(id).shape[0], qs[0]) && groupsOf(qs[1], g.node(id).shape[1]) !== undefined;
      if (qs.length !== 4 || !same(k) || !same(v) || !dimEquals(g.node(k).shape[1], g.node(v).shape[1])) {
        note(ctx, this.name, n, "skipped", "attention not fused: keys or values broadcast over batch or heads");
        return undefined;
      }
      const grouped = !dimEquals(qs[1], g.node(k).shape[1]);
      note(ctx, this.name, n, "changed", `attention fused: online softmax over key blocks, no [L, S] scores stored${grouped ? "; grouped keys and values read by group, never repeated" : ""}`);
      return b.add({
        ...n,
        op: "attention",
        inputs: [q, k, v, ...probs.inputs.slice(1)].map(b.input),
        attrs: { scale: probs.attrs.scale, roles: probs.attrs.roles, causal: probs.attrs.causal },
      });
    });
  },
};

/**
 * Why: the query, key and value projections of self-attention read the same input with row
 * slices of one packed weight (PyTorch's in_proj_weight); one product with the whole weight reads
 * the input once, and the heads are then taken from the wide result at their offsets.
 */
export const fuseQkvProjection: Pass = {
  name: "fuse-qkv-projection",
  requires: ["fuse-dense-epilogue"],
  level: 2,
  why: "computes projections that share an input and a packed weight as one matrix product",
  run(g, ctx) {
    const uses = useCounts(g);
    // Products x · slice_rows(W, start)ᵀ (+ slice_last(b, start)) whose only reader is split_heads.
    const groups = new Map<string, { dense: string; start: number; rows: number; heads: string }[]>();
    const consumers = new Map<string, string[]>();
    for (const id of g.order()) {
      for (const i of g.node(id).inputs) {
        const list = consumers.get(i);
        if (list) list.push(id);
        else consumers.set(i, [id]);
      }
    }
    for (const id of g.order()) {
      const d = g.node(id);
      if (d.op !== "dense" || d.attrs.act !== undefined || uses.get(id) !== 1) continue;
      const w = g.node(d.inputs[1]);
      if (w.op !== "slice_rows") continue;
      const start = w.attrs.start as number;
      const b = d.inputs[2] !== undefined ? g.node(d.inputs[2]) : undefined;
      if (b && (b.op !== "slice_last" || b.attrs.start !== start)) continue;
      const reader = consumers.get(id)?.[0];
      if (!reader || g.node(reader).op !== "split_heads" || g.node(reader).attrs.offset !== undefined) continue;
      const key = JSON.stringify([d.inputs[0], w.inputs[0], b?.inputs[0] ?? null]);
      groups.set(key, [...(groups.get(key) ?? []), { dense: id, start, rows: (w.shape[0] as { value: number }).value, heads: reader }]);
    }
    const merged = new Map<string, { group: string; offset: number; from: number; rows: number }>();
    for (const [key, members] of groups) {
      if (members.length < 2) continue;
      // The product covers the rows from the first member's to the last member's end.
      const from = Math.min(...members.map((m) => m.start));
      const to = Math.max(...members.map((m) => m.start + m.rows));
      for (const m of members) merged.set(m.heads, { group: key, offset: m.start - from, from, rows: to - from });
      note(ctx, this.name, g.node(members[0].dense), "changed", `${members.length} projections of one input computed as one matrix product`);
    }
    if (merged.size === 0) return g;
    const built = new Map<string, string>();
    return rebuild(g, (id, n, b) => {
      const m = merged.get(id);
      if (!m) return undefined;
      let wide = built.get(m.group);
      if (!wide) {
        const [x, W, bias] = JSON.parse(m.group) as [string, string, string | null];
        const wNode = g.node(W);
        const whole = m.from === 0 && (wNode.shape[0] as { value: number }).value === m.rows;
        const cols = wNode.shape[1];
        const weight = whole ? b.input(W) : b.add({ ...wNode, op: "slice_rows", inputs: [b.input(W)], shape: [{ value: m.rows }, cols], attrs: { start: m.from } });
        const biasId = bias === null ? [] : whole ? [b.input(bias)] : [b.add({ ...g.node(bias), op: "slice_last", inputs: [b.input(bias)], shape: [{ value: m.rows }], attrs: { start: m.from, size: m.rows } })];
        const src = g.node(n.inputs[0]);
        wide = b.add({ ...src, inputs: [b.input(x), weight, ...biasId], shape: [...src.shape.slice(0, -1), { value: m.rows }] });
        built.set(m.group, wide);
      }
      return b.add({ ...n, inputs: [wide], attrs: { ...n.attrs, offset: m.offset } });
    });
  },
};
