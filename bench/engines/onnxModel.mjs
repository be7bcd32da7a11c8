// Builds the ONNX model of the benchmark's encoder (or the GEMM) from the same weights tfmc uses,
// in JavaScript with onnx-proto: no Python, no exporter. Opset 17 (LayerNormalization).
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
const F32 = onnx.TensorProto.DataType.FLOAT;
const I64 = onnx.TensorProto.DataType.INT64;

function tensor(name, dims, data, type = F32) {
  const t = { name, dims, dataType: type };
  if (type === F32) t.rawData = new Uint8Array(Float32Array.from(data).buffer);
  else t.int64Data = data.map((x) => x);
  return onnx.TensorProto.create(t);
}

/** W [N, K] (nn.Linear's layout) transposed to [K, N] for MatMul. */
function transposed(w, N, K) {
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[k * N + n] = w[n * K + k];
  return out;
}

class GraphBuilder {
  nodes = [];
  inits = [];
  count = 0;
  op(type, inputs, attrs = {}, outputs = 1) {
    const outs = Array.from({ length: outputs }, () => `t${this.count++}`);
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v })
        : Number.isInteger(v)
          ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v })
          : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v }),
    );
    this.nodes.push(onnx.NodeProto.create({ opType: type, input: inputs, output: outs, attribute }));
    return outputs === 1 ? outs[0] : outs;
  }
  init(name, dims, data, type) {
    this.inits.push(tensor(name, dims, data, type));
    return name;
  }
}

function linear(g, x, w, b, N, K, name) {
  const y = g.op("MatMul", [x, g.init(`${name}.wT`, [K, N], transposed(w, N, K))]);
  return b ? g.op("Add", [y, g.init(`${name}.b`, [N], b)]) : y;
}

function encoderLayer(g, x, W, p, { d, heads, ff }) {
  const D = d / heads;
  const qkvW = W[`${p}self_attn.in_proj_weight`];
  const qkvB = W[`${p}self_attn.in_proj_bias`];
  const qkv = linear(g, x, qkvW, qkvB, 3 * d, d, `${p}qkv`);
  const [q, k, v] = g.op("Split", [qkv, g.init(`${p}split`, [3], [d, d, d], I64)], { axis: 2 }, 3);
  const heads4 = (t) => g.op("Transpose", [g.op("Reshape", [t, g.init(`${p}${t}.shape`, [4], [0, 0, heads, D], I64)])], { perm: [0, 2, 1, 3] });
  const [qh, kh, vh] = [heads4(q), heads4(k), heads4(v)];
  const kt = g.op("Transpose", [kh], { perm: [0, 1, 3, 2] });
  const scores = g.op("Mul", [g.op("MatMul", [qh, kt]), g.init(`${p}scale`, [], [1 / Math.sqrt(D)])]);
  const probs = g.op("Softmax", [scores], { axis: -1 });
  const ctx = g.op("MatMul", [probs, vh]);
  const merged = g.op("Reshape", [g.op("Transpose", [ctx], { perm: [0, 2, 1, 3] }), g.init(`${p}merge`, [3], [0, 0, d], I64)]);
  const attn = linear(g, merged, W[`${p}self_attn.out_proj.weight`], W[`${p}self_attn.out_proj.bias`], d, d, `${p}out`);
  const norm = (t, n) => g.op("LayerNormalization", [t, g.init(`${p}${n}.w`, [d], W[`${p}${n}.weight`]), g.init(`${p}${n}.b`, [d], W[`${p}${n}.bias`])], { axis: -1, epsilon: 1e-5 });
  const x1 = norm(g.op("Add", [x, attn]), "norm1");
  const h = g.op("Relu", [linear(g, x1, W[`${p}linear1.weight`], W[`${p}linear1.bias`], ff, d, `${p}l1`)]);
  const f = linear(g, h, W[`${p}linear2.weight`], W[`${p}linear2.bias`], d, ff, `${p}l2`);
  return norm(g.op("Add", [x1, f]), "norm2");
}

function model(g, input, inputDims, output) {
  // The output's shape is left for the runtime to infer.
  const vi = (name, dims) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: F32, ...(dims ? { shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } : {}) } } });
  g.nodes.push(onnx.NodeProto.create({ opType: "Identity", input: [output], output: ["out"] }));
  const graph = onnx.GraphProto.create({ name: "tfmc_bench", node: g.nodes, initializer: g.inits, input: [vi(input, inputDims)], output: [vi("out", null)] });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: "", version: 17 }], graph, producerName: "tfmc-bench" })).finish();
}

/** ONNX bytes for the encoder of bench/models/encoder.tfm with `layers` layers. */
export function encoderOnnx(W, { d, heads, ff, layers }) {
  const g = new GraphBuilder();
  let x = "src";
  for (let l = 0; l < layers; l++) x = encoderLayer(g, x, W, `layers.${l}.`, { d, heads, ff });
  return model(g, "src", [1, "S", d], x);
}

/** ONNX bytes for bench/models/gemm.tfm: c = a · weightᵀ. */
export function gemmOnnx(W, { m, k, n }) {
  const g = new GraphBuilder();
  return model(g, "a", [m, k], linear(g, "a", W["weight"], null, n, k, "gemm"));
}
