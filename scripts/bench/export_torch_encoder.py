#!/usr/bin/python3
"""PyTorch's own ONNX export of the benchmark's encoder, for the bench's `torch→onnx` rows.

Run with Debian's PyTorch 1.13 and python3-onnx:

    /usr/bin/python3 scripts/bench/export_torch_encoder.py

For L = 1 (W1, W2) and L = 6 (W4) it builds

    nn.TransformerEncoder(nn.TransformerEncoderLayer(512, 8, 2048, dropout=0, batch_first=True),
                          num_layers=L, enable_nested_tensor=False)

(parameters `layers.N.*`, as bench/models/encoder.tfm names them) and exports it with
torch.onnx.export: opset 17, input `src` [B, S, 512], output `out`, B and S dynamic, and
do_constant_folding=False so every initializer is a state_dict entry under its own name
(onnxruntime folds the weight transposes when it loads the graph).

Path: the export runs in eval mode (TrainingMode.EVAL, the default), as people export a model
for inference. PyTorch's fused fast path (aten::_transformer_encoder_layer_fwd,
aten::_native_multi_head_attention) is only taken without autograd, and torch.onnx.export traces
with autograd on and parameters that require grad, so it exports the plain math path; the script
checks that every node is a standard ONNX op and none comes from the fused path. The parameters
are perturbed from their initial values before the export, because in eval mode torch.onnx merges
initializers with equal values (the LayerNorms' ones and zeros would share one name).

The initializers' data is then stripped (name, dims and dtype kept) so the committed files,
bench/models/torch-onnx/encoder-L{1,6}.onnx, are small; the bench and test/bench fill them by name
from the seeded weights every engine uses. Before stripping, the script checks with
onnxruntime-node (the repository's, from Node) that the graph gives PyTorch's output on the same
weights within 1e-5.
"""

import json
import os
import subprocess
import tempfile

import onnx
import torch
from torch import nn

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "bench", "models", "torch-onnx")
D, HEADS, FF = 512, 8, 2048
# Ops the fused fast path or an ATen fallback would leave in the graph.
FUSED = ("ATen", "transformer", "multi_head", "attention")

# Runs a full (unstripped) model on onnxruntime-node and prints the output as JSON.
ORT_RUN = """
const ort = require(process.argv[1] + '/node_modules/onnxruntime-node');
const fs = require('fs');
const [model, input, dims] = process.argv.slice(2);
(async () => {
  const s = await ort.InferenceSession.create(model);
  const x = new Float32Array(fs.readFileSync(input).buffer.slice(0));
  const r = await s.run({ src: new ort.Tensor('float32', x, JSON.parse(dims)) });
  process.stdout.write(JSON.stringify(Array.from(r.out.data)));
})();
"""


def encoder(layers):
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, batch_first=True)
    module = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return module.eval()


def check_on_onnxruntime(path, module, layers):
    torch.manual_seed(1)
    x = torch.randn(2, 9, D)
    with torch.no_grad():
        want = module(x)
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "src.f32")
        x.numpy().tofile(raw)
        out = subprocess.run(["node", "-e", ORT_RUN, ROOT, path, raw, json.dumps(list(x.shape))],
                             check=True, capture_output=True, text=True).stdout
    got = torch.tensor(json.loads(out)).reshape(want.shape)
    err = float((got - want).abs().max())
    print(f"L={layers}: onnxruntime-node on the export against PyTorch, max |diff| {err:.2e}")
    if not err <= 1e-5:
        raise SystemExit(f"L={layers}: the exported graph differs from PyTorch by {err}")


def export(layers):
    module = encoder(layers)
    path = os.path.join(OUT, f"encoder-L{layers}.onnx")
    torch.onnx.export(
        module, (torch.randn(1, 16, D),), path,
        input_names=["src"], output_names=["out"],
        dynamic_axes={"src": {0: "B", 1: "S"}, "out": {0: "B", 1: "S"}},
        opset_version=17, do_constant_folding=False,
        training=torch.onnx.TrainingMode.EVAL,
    )
    model = onnx.load(path)
    g = model.graph
    types = sorted({n.op_type for n in g.node})
    if any(f.lower() in t.lower() for t in types for f in FUSED) or any(n.domain not in ("", "ai.onnx") for n in g.node):
        raise SystemExit(f"L={layers}: the export did not take the plain math path: {types}")
    names = set(module.state_dict().keys())
    inits = [i.name for i in g.initializer]
    if set(inits) != names or len(inits) != len(names):
        raise SystemExit(f"L={layers}: initializers {sorted(set(inits) ^ names)} are not the state_dict's")
    onnx.checker.check_model(model)
    check_on_onnxruntime(path, module, layers)
    for init in g.initializer:
        # Keep name, dims and dtype; the data is filled by name when the graph is loaded.
        init.ClearField("raw_data")
        del init.float_data[:]
    onnx.save(model, path)
    counts = {}
    for n in g.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    print(f"L={layers}: {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes), {len(g.node)} nodes: {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for layers in (1, 6):
        export(layers)
