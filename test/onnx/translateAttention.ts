import type { Attr, DType } from "../../src/ir/node.js";
import type { Op } from "../../src/ir/ops.js";
import { broadcast, Skip } from "./irBuilder.js";
import type { ValueInfo } from "./loadOnnxCase.js";
import { Cx } from "./onnxValues.js";
import type { Ctx } from "./translateOps.js";

// ONNX Attention (opset 23/24) in IR primitives, following ONNX's reference:
//   Y = softmax(softcap(Q·Kᵀ·scale) + bias) · V
// 3-D inputs are [B, L, H*D] and split into heads. past_key/past_value are joined before the
// new keys (concat), giving present_key/present_value. The bias is the attention mask (a bool mask
// keeps where true; a float mask adds; one shorter than the keys is padded with -inf), plus for
// is_causal the triangle j <= i + offset (offset = the past length, or nonpad_kv_seqlen[b] - L),
// plus for nonpad_kv_seqlen -inf on keys j >= nonpad_kv_seqlen[b]. Without past or nonpad the
// mask goes to `mask_scores` as it is (with its causal flag); otherwise the bias is built from
// arange, lt, where and add. A row with every key masked gives zeros, as ONNX's function body does.

type Arg = ValueInfo & { index: number };

const ATTRS = ["is_causal", "kv_num_heads", "q_num_heads", "qk_matmul_output_mode", "scale", "softcap", "softmax_precision"];

export function attention(ctx: Ctx): void {
  const extra = [...ctx.node.attrs.keys()].filter((k) => !ATTRS.includes(k));
  if (extra.length > 0) throw new Skip(`attribute ${extra.join(", ")} not handled`);
  const num = (name: string) => ctx.node.attrs.get(name) as number | undefined;
  const arg = (slot: number) => ctx.arg(slot);
  const [q, k, v, mask, pastK, pastV, nonpad] = [0, 1, 2, 3, 4, 5, 6].map(arg);
  if (!q || !k || !v) throw new Error("Attention needs Q, K and V");
  const other = [q, k, v, mask, pastK, pastV].filter((x) => x && x.dtype !== "FLOAT" && x.dtype !== "BOOL");
  if (other.length > 0) throw new Skip(`${other[0]!.dtype} inputs: ${other.map((x) => x!.name).join(", ")} (tfmc computes in float32; the test decodes no ${other[0]!.dtype} data)`);
  if (!pastK !== !pastV) throw new Skip("past_key without past_value");
  const precision = num("softmax_precision");
  if (precision !== undefined && precision !== 1) throw new Skip(`softmax_precision ${precision}`);
  const rank = q.shape.length;
  if (rank !== 3 && rank !== 4) throw new Skip(`rank-${rank} Q`);

  const cx = new Cx(ctx.b);
  const op = (o: Op, ins: string[], attrs: Record<string, Attr> = {}, given: { shape?: readonly number[]; dtype?: DType } = {}) => cx.op(o, ins, attrs, given).id;
  const shape = (id: string) => ctx.b.shapeOf(id);
  const feed = (x: Arg) => ctx.b.input(x.name, x.index, x.dtype === "BOOL" ? "bool" : x.dtype === "INT64" ? "i64" : "f32", x.shape);
  const heads = (x: ValueInfo, attr: string) => (rank === 4 ? x.shape[1] : num(attr) ?? NaN);
  const [Hq, Hkv] = [heads(q, "q_num_heads"), heads(k, "kv_num_heads")];
  if (heads(v, "kv_num_heads") !== Hkv) throw new Skip("K and V head counts differ");
  const B = q.shape[0];
  // [B, H, len, D], from 3-D [B, len, H*D] by split_heads.
  const heads4 = (x: Arg, h: number) => {
    const id = feed(x);
    if (rank === 4) return id;
    const d = x.shape[2] / h;
    if (!Number.isInteger(d)) throw new Skip(`${x.name} [${x.shape.join(", ")}] does not split into ${h} heads`);
    return op("split_heads", [id], { heads: h }, { shape: [B, h, x.shape[1], d] });
  };
  const qh = heads4(q, Hq);
  let kh = heads4(k, Hkv);
  let vh = heads4(v, Hkv);
  if (pastK && pastV) {
    kh = op("concat", [feed(pastK), kh], { axis: 2 });
    vh = op("concat", [feed(pastV), vh], { axis: 2 });
  }
  const [, , L, Dq] = shape(qh);
  const [, , S, Dk] = shape(kh);
  const Dv = shape(vh)[3];
  if (Dk !== Dq) throw new Skip("Q and K head sizes differ");
  const P = pastK ? pastK.shape[2] : 0;

  // Grouped-query attention: each KV head serves Hq/Hkv consecutive query heads. Q [B, Hq, L, D] is
  // the same data as [B*Hkv, reps, L, D] and K, V as [B*Hkv, 1, S, D]; matmul broadcasts the batch.
  const reps = Hq / Hkv;
  if (!Number.isInteger(reps)) throw new Skip(`q_num_heads ${Hq} not a multiple of kv_num_heads ${Hkv}`);
  const [Bx, Hx] = reps === 1 ? [B, Hq] : [B * Hkv, reps];
  const group = (id: string, h: number) => (reps === 1 ? id : op("reshape", [id], {}, { shape: [B * Hkv, h, ...shape(id).slice(2)] }));
  /** A [.., L, S] tensor broadcast over [B, Hq, L, S], in the grouped layout. */
  const grouped = (id: string) => {
    const s = shape(id);
    const four = s.length === 4 ? id : op("reshape", [id], {}, { shape: [...new Array<number>(4 - s.length).fill(1), ...s] });
    if (reps === 1 || (shape(four)[0] === 1 && shape(four)[1] === 1)) return four;
    return op("reshape", [op("expand", [four], {}, { shape: [B, Hq, L, S] })], {}, { shape: [Bx, Hx, L, S] });
  };

  const scale = num("scale") ?? 1 / Math.sqrt(Dq);
  const softcap = num("softcap") ?? 0;
  const scoresShape = [Bx, Hx, L, S];
  const kt = op("transpose", [group(kh, 1)], { dim0: 2, dim1: 3 });
  const qk = op("scalar", [op("matmul", [group(qh, reps), kt])], { op: "*", value: scale, reverse: false });
  let scores = qk;
  if (softcap > 0) {
    // softcap · tanh(scores / softcap), before the mask so that -inf stays -inf.
    const over = op("scalar", [scores], { op: "/", value: softcap, reverse: false });
    scores = op("scalar", [op("tanh", [over])], { op: "*", value: softcap, reverse: false });
  }
  const capped = scores;
  const causal = (num("is_causal") ?? 0) !== 0;
  if (mask && mask.shape[mask.shape.length - 1] > S) throw new Skip(`attn_mask [${mask.shape.join(", ")}] longer than the ${S} keys`);
  const full = mask && broadcast(mask.shape.slice(0, -1), [B, Hq, L]);
  if (mask && (!full || full.join() !== [B, Hq, L].join() || mask.shape.length > 4)) throw new Skip(`attn_mask [${mask.shape.join(", ")}] does not broadcast to [B, H, L, S]`);
  const padded = mask && mask.shape[mask.shape.length - 1] < S;
  if (mask || causal || nonpad) {
    if (!pastK && !nonpad && !padded) {
      // A bool mask says where to attend (role keep); a float mask is added (role bias).
      const roles = mask ? (mask.dtype === "BOOL" ? "keep" : "bias") : "";
      scores = op("mask_scores", [scores, ...(mask ? [grouped(feed(mask))] : [])], { roles, causal }, { shape: scoresShape });
    } else {
      scores = op("mask_scores", [scores, grouped(bias(cx, { feed, mask, causal, nonpad, B, L, S, P }))], { roles: "bias", causal: false }, { shape: scoresShape });
    }
  }
  const probs = op("softmax", [scores], { axis: 3 });
  const y = op("matmul", [probs, group(vh, 1)]);
  const y4 = reps === 1 ? y : op("reshape", [y], {}, { shape: [B, Hq, L, Dv] });
  ctx.out(0, rank === 3 ? op("merge_heads", [y4], {}, { shape: [B, L, Hq * Dv] }) : y4);
  if (pastK) {
    ctx.out(1, kh);
    ctx.out(2, vh);
  }
  const mode = num("qk_matmul_output_mode") ?? 0;
  const ungroup = (id: string) => (reps === 1 ? id : op("reshape", [id], {}, { shape: [B, Hq, L, S] }));
  ctx.node.outputs.forEach((name, slot) => {
    if (!name || slot < 3) return;
    if (slot > 3) throw new Skip(`output ${name}`);
    // As ONNX's reference: modes 0 and 1 give the (softcapped) scaled Q·Kᵀ, 2 adds the mask, 3 is the softmax.
    const modes = [capped, capped, scores, probs];
    if (!modes[mode]) throw new Skip(`qk_matmul_output_mode ${mode}`);
    ctx.out(3, ungroup(modes[mode]));
  });
}

interface BiasParts {
  readonly feed: (x: Arg) => string;
  readonly mask?: Arg;
  readonly causal: boolean;
  readonly nonpad?: Arg;
  readonly B: number;
  readonly L: number;
  readonly S: number;
  /** The past length: the causal offset when there is no nonpad_kv_seqlen. */
  readonly P: number;
}

/** The additive bias [.., L, S] (0 or -inf, plus a float mask) from the mask, causality and padding. */
function bias(cx: Cx, p: BiasParts): string {
  const op = (o: Op, ins: string[], attrs: Record<string, Attr> = {}, given: { shape?: readonly number[]; dtype?: DType } = {}) => cx.op(o, ins, attrs, given).id;
  const scalar = (value: number, dtype: DType = "f32") => op("constant", [], { value }, { shape: [], dtype });
  const zeroOr = (cond: string, keep: boolean) => op("where", keep ? [cond, scalar(0), scalar(-Infinity)] : [cond, scalar(-Infinity), scalar(0)]);
  const parts: string[] = [];
  if (p.mask) {
    let m = p.feed(p.mask);
    if (p.mask.dtype === "BOOL") m = zeroOr(m, true);
    const s = cx.b.shapeOf(m);
    const short = p.S - s[s.length - 1];
    // A mask shorter than the keys leaves the keys past it masked.
    if (short > 0) m = op("concat", [m, op("constant", [], { value: -Infinity }, { shape: [...s.slice(0, -1), short] })], { axis: s.length - 1 });
    parts.push(m);
  }
  const cols = op("arange", [], { start: 0, step: 1 }, { shape: [p.S], dtype: "i64" });
  const perBatch = p.nonpad && op("reshape", [p.feed(p.nonpad)], {}, { shape: [p.B, 1, 1, 1] });
  if (p.causal) {
    // Key j is hidden from query i when i + offset < j.
    const rows = op("reshape", [op("arange", [], { start: p.nonpad ? 0 : p.P, step: 1 }, { shape: [p.L], dtype: "i64" })], {}, { shape: [p.L, 1] });
    const shifted = perBatch ? op("add", [rows, op("sub", [perBatch, scalar(p.L, "i64")], {}, { dtype: "i64" })], {}, { dtype: "i64" }) : rows;
    parts.push(zeroOr(op("lt", [shifted, cols]), false));
  }
  if (perBatch) parts.push(zeroOr(op("lt", [cols, perBatch]), true));
  return parts.reduce((acc, x) => op("add", [acc, x]));
}
