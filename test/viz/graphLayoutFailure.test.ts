import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { ROOT } from "../helpers.js";

// Graphviz in WebAssembly aborts when it runs out of its memory (a chain of a thousand operators
// that all read one input is enough); the renderer here fails the same way, at once.
vi.mock("../../src/viz/render.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../src/viz/render.js")>()),
  renderSvg: async () => {
    throw new Error("Program terminated with exit(1)");
  },
}));

describe("tfmc graph when Graphviz fails", () => {
  it("exits 1 with a message that names the way out, not an internal error", async () => {
    const dir = join(ROOT, "test", ".generated", "graph-layout");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "m.tfm");
    writeFileSync(file, "model m {\n  input x: f32[B, 4]\n  output y = x + x + x\n}\n");
    const lines: string[] = [];
    const code = await main(["graph", file, "-o", join(dir, "m.svg")], { out: (l) => lines.push(l), err: (l) => lines.push(l), color: false });
    expect(lines.join("\n")).not.toMatch(/internal error/);
    expect(code).toBe(1);
    expect(lines.join("\n")).toMatch(/^tfmc: error: graph: Graphviz could not lay out this graph of \d+ nodes \(Program terminated with exit\(1\)\); --format dot or mermaid writes it without a layout$/);
  });
});
