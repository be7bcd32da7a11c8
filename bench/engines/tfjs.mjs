// The benchmark's encoder and GEMM in TensorFlow.js ops, on the `cpu` or `wasm` backend.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname } from "node:path";

export async function useBackend(name) {
  if (name === "wasm") {
    const dist = dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm"));
    setWasmPaths(dist + "/");
  }
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} is not available`);
  await tf.ready();
}

function layerNorm(x, w, b) {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), w), b);
}

/** Weights uploaded once; returns forward(x: Float32Array) => Float32Array. */
export function encoderModel(W, { d, heads, ff, layers }, S) {
  const T = (name, shape) => tf.tensor(W[name], shape);
  const D = d / heads;
  const L = Array.from({ length: layers }, (_, l) => {
    const p = `layers.${l}.`;
    return {
      qkv: T(`${p}self_attn.in_proj_weight`, [3 * d, d]),
      qkvB: T(`${p}self_attn.in_proj_bias`, [3 * d]),
      out: T(`${p}self_attn.out_proj.weight`, [d, d]),
      outB: T(`${p}self_attn.out_proj.bias`, [d]),
      l1: T(`${p}linear1.weight`, [ff, d]),
      l1B: T(`${p}linear1.bias`, [ff]),
      l2: T(`${p}linear2.weight`, [d, ff]),
      l2B: T(`${p}linear2.bias`, [d]),
      n1: [T(`${p}norm1.weight`, [d]), T(`${p}norm1.bias`, [d])],
      n2: [T(`${p}norm2.weight`, [d]), T(`${p}norm2.bias`, [d])],
    };
  });
  return (src) =>
    tf.tidy(() => {
      let x = tf.tensor(src, [S, d]);
      for (const w of L) {
        const qkv = tf.add(tf.matMul(x, w.qkv, false, true), w.qkvB);
        const [q, k, v] = tf.split(qkv, 3, 1).map((t) => tf.transpose(tf.reshape(t, [S, heads, D]), [1, 0, 2]));
        const probs = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)));
        const ctx = tf.reshape(tf.transpose(tf.matMul(probs, v), [1, 0, 2]), [S, d]);
        x = layerNorm(tf.add(x, tf.add(tf.matMul(ctx, w.out, false, true), w.outB)), ...w.n1);
        const h = tf.relu(tf.add(tf.matMul(x, w.l1, false, true), w.l1B));
        x = layerNorm(tf.add(x, tf.add(tf.matMul(h, w.l2, false, true), w.l2B)), ...w.n2);
      }
      return x.dataSync();
    });
}

export function gemmModel(W, { m, k, n }) {
  const w = tf.tensor(W["weight"], [n, k]);
  return (a) => tf.tidy(() => tf.matMul(tf.tensor(a, [m, k]), w, false, true).dataSync());
}
