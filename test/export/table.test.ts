import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import { describe, expect, it } from "vitest";
import { ExportError } from "../../src/export/context.js";
import { exportOnnx } from "../../src/export/exportGraph.js";
import { ONNX } from "../../src/export/table.js";
import { OPS, type Op } from "../../src/ir/ops.js";
import { randomWeightStream } from "../../src/export/weights.js";
import { graphOf } from "./harness.js";

// The table of ONNX forms: one entry per op of the IR (the type says so; this checks the values),
// and an entry { none } stops the export with an error naming the node, its scope and its line.

describe("the ONNX table", () => {
  it("has an entry for every op of the IR, and nothing else", () => {
    expect(Object.keys(ONNX).sort()).toEqual(Object.keys(OPS).sort());
  });

  it("refuses a node whose op has no ONNX form, naming it and its line", () => {
    const g = graphOf("examples/gpt.tfm", ["d=32", "heads=2", "layers=1", "ctx=8", "vocab=50"]);
    const table = ONNX as Record<Op, unknown>;
    const saved = table.layer_norm;
    table.layer_norm = { none: "for this test" };
    try {
      const run = () => exportOnnx(g, { opset: 17, without: [], weights: randomWeightStream(g.meta.params, 0), file: "examples/gpt.tfm", producerVersion: "test" });
      expect(run).toThrow(ExportError);
      expect(run).toThrow(/^'layer_norm' in h\.0\.ln_1 has no ONNX form: for this test$/);
      try {
        run();
      } catch (e) {
        expect((e as ExportError).span?.line).toBe(8);
      }
    } finally {
      table.layer_norm = saved;
    }
  });

  it("writes a residual sum before a norm as Sum, which onnxruntime's SkipLayerNormalization fusion leaves apart", () => {
    // On the bench's machines the fused kernel is slower than Add and LayerNormalization apart
    // (docs/export.md, "Products"); PyTorch's export escapes the fusion too.
    const g = graphOf("bench/models/encoder.tfm", ["d_model=32", "nhead=2", "dim_feedforward=48", "layers=2"]);
    const m = fromBinary(ModelProtoSchema, exportOnnx(g, { opset: 17, without: [], weights: randomWeightStream(g.meta.params, 0), file: "encoder.tfm", producerVersion: "test" }));
    const nodes = m.graph!.node;
    const norms = nodes.filter((n) => n.opType === "LayerNormalization");
    expect(norms.length).toBe(4);
    for (const norm of norms) expect(nodes.find((n) => n.output.includes(norm.input[0]))?.opType).toBe("Sum");
  });
});
