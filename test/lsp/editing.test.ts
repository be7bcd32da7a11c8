import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { Client } from "./client.js";

// The language server while a file is being edited, spoken to over stdio as an editor does: it
// must keep answering hover and completion on the lines that are fine while others are broken.

const URI = pathToFileURL(join(ROOT, "scratch", "gpt.tfm")).href;
const GPT = readFileSync(join(ROOT, "examples", "gpt.tfm"), "utf8");
const LINE8 = GPT.split("\n")[7];
const ATTENTION = { line: 7, character: LINE8.indexOf("attention(") + 3 };
const INSIDE_CALL = { line: 7, character: LINE8.indexOf("heads, causal") };

describe("tfmc lsp --stdio on a file being typed", () => {
  let proc: ChildProcessWithoutNullStreams;
  let client: Client;
  let version = 1;

  beforeAll(async () => {
    proc = spawn(process.execPath, [join(ROOT, "bin", "tfmc.js"), "lsp", "--stdio"], { cwd: ROOT });
    client = new Client(proc);
    const init = await client.request("initialize", { processId: null, rootUri: null, capabilities: {} });
    expect(init.result.capabilities.completionProvider.triggerCharacters).toContain("(");
    expect(init.result.capabilities.signatureHelpProvider.triggerCharacters).toEqual(["(", ","]);
    client.notify("initialized", {});
    client.notify("textDocument/didOpen", { textDocument: { uri: URI, languageId: "tfm", version, text: GPT } });
    expect((await client.next("textDocument/publishDiagnostics", (p) => p.uri === URI)).diagnostics).toEqual([]);
  });

  afterAll(async () => {
    await client.request("shutdown", null);
    const exited = new Promise((r) => proc.on("exit", r));
    client.notify("exit", null);
    await exited;
  });

  /** Replaces the document and returns the diagnostics the server publishes for it. */
  async function edit(text: string): Promise<any[]> {
    client.notify("textDocument/didChange", { textDocument: { uri: URI, version: ++version }, contentChanges: [{ text }] });
    return (await client.next("textDocument/publishDiagnostics", (p) => p.uri === URI)).diagnostics;
  }
  const hover = async (position: { line: number; character: number }) => (await client.request("textDocument/hover", { textDocument: { uri: URI }, position })).result;
  const complete = async (position: { line: number; character: number }) => (await client.request("textDocument/completion", { textDocument: { uri: URI }, position })).result as any[];

  async function expectLine8Answers(): Promise<void> {
    expect((await hover(ATTENTION)).contents.value).toContain("f32[B, T, 768]");
    const items = await complete(INSIDE_CALL);
    const causal = items.find((i) => i.label === "causal =");
    expect(causal).toMatchObject({ detail: "bool (optional), by name only", documentation: { value: expect.stringContaining("attends keys") } });
    expect(items.map((i) => i.label)).toContain("x");
  }

  it("answers hover and completion on line 8 while the file ends with an unfinished statement", async () => {
    const unfinished = GPT.replace(/\}\n$/, "  y = linear(h, ");
    const diagnostics = await edit(unfinished);
    expect(diagnostics.map((d) => d.message)).toEqual(["unexpected end of file: expected an expression"]);
    await expectLine8Answers();
    // And at the unfinished end itself: linear's arguments, the second one active.
    const end = { line: 15, character: "  y = linear(h, ".length };
    expect((await complete(end)).map((i) => i.label)).toEqual(expect.arrayContaining(["out =", "tied =", "h"]));
    const sig = (await client.request("textDocument/signatureHelp", { textDocument: { uri: URI }, position: end })).result;
    expect(sig.signatures[0].label).toBe("linear(x: tensor, out?: int, *, bias?: bool, tied?: label, layout?: linear | conv1d)");
    expect(sig.activeParameter).toBe(1);

    const bare = await edit(GPT.replace(/\}\n$/, "  output"));
    expect(bare).toHaveLength(1);
    await expectLine8Answers();
  });

  it("answers hover and completion on line 8 while a later line lacks its closing parenthesis", async () => {
    for (const broken of [GPT.replace("act = gelu_tanh)", "act = gelu_tanh"), GPT.replace("learned_positions(T, ctx, d)", "learned_positions(T, ctx, d")]) {
      const diagnostics = await edit(broken);
      expect(diagnostics).toHaveLength(1);
      expect(diagnostics[0].message).toMatch(/^expected '\)' but found/);
      await expectLine8Answers();
      // Go to definition still works: `heads` on line 8 is the config value on line 3.
      const def = (await client.request("textDocument/definition", { textDocument: { uri: URI }, position: { line: 7, character: LINE8.indexOf("heads,") + 1 } })).result;
      expect(def.range.start).toEqual({ line: 2, character: GPT.split("\n")[2].indexOf("heads") });
      // Formatting refuses a file with syntax errors without failing the request.
      expect((await client.request("textDocument/formatting", { textDocument: { uri: URI }, options: { tabSize: 2, insertSpaces: true } })).result).toEqual([]);
    }
  });

  it("keeps answering as the file is typed line by line, each line in three steps", async () => {
    const lines = GPT.split("\n");
    let typed = "";
    let answered = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      for (const cut of [Math.floor(line.length / 2), line.length]) {
        const text = typed + line.slice(0, cut);
        await edit(text);
        const h = await hover({ line: 7, character: ATTENTION.character });
        if (i > 7) {
          expect(h?.contents.value, `hover on line 8 with ${i + 1} lines typed`).toContain("f32[B, T, 768]");
          answered++;
        }
        const items = await complete({ line: i, character: cut });
        expect(Array.isArray(items)).toBe(true);
      }
      typed += `${line}\n`;
    }
    expect(answered).toBe(2 * (lines.length - 8));
    expect(await edit(GPT)).toEqual([]);
  });
});
