import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { ROOT } from "../helpers.js";

describe("__metadata__ is safetensors' own name", () => {
  it("tfmc run on a model with an output named __metadata__ fails at check time, located, not internally", async () => {
    const dir = join(ROOT, "test", ".generated", "reserved-names");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "meta.tfm");
    writeFileSync(file, "model m {\n  input x: f32[B, 4]\n  output __metadata__ = linear(x, 4)\n}\n");
    const lines: string[] = [];
    const code = await main(["run", file, "--out", join(dir, "out.safetensors")], { out: (l) => lines.push(l), err: (l) => lines.push(l), color: false });
    const text = lines.join("\n");
    expect(text).not.toMatch(/internal error/);
    expect(code).toBe(1);
    expect(text).toMatch(/meta\.tfm:3:10: error TFM2052: '__metadata__' cannot name an output/);
  });
});
