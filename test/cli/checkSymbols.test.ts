import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { ROOT } from "../helpers.js";

async function check(...argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await main(["check", ...argv], { out: (l) => void out.push(l), err: () => {}, color: false });
  return { code, out: out.join("\n") };
}

describe("check shows the model's symbols and their bounds", () => {
  const llama = join(ROOT, "examples", "hf", "llama.tfm");

  it("in the text report", async () => {
    const r = await check(llama);
    expect(r.code).toBe(0);
    expect(r.out).toContain("is well formed\n  symbols: B, T <= 2048\n  input  input_ids: i32[B, T]");
  });

  it("in the JSON report", async () => {
    const r = await check(llama, "--json");
    expect(JSON.parse(r.out).symbols).toEqual([{ name: "B" }, { name: "T", max: 2048 }]);
  });
});
