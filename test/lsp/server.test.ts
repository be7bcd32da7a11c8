import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";
import { Client } from "./client.js";

// The language server as an editor sees it: `tfmc lsp --stdio` spoken to over JSON-RPC with
// Content-Length framing.

const URI = pathToFileURL(join(ROOT, "scratch", "model.tfm")).href;
const GOOD = "model m {\n  config d = 16, heads = 2\n  input x: f32[B, T, d]\n  block layer(h: f32[B, T, d]) {\n    return h + attn: attention(h, heads)\n  }\n  output y = layer(x)\n}\n";
const BAD = GOOD.replace("attention(h, heads)", "attention(h, 3)");

describe("tfmc lsp --stdio", () => {
  let proc: ChildProcessWithoutNullStreams;
  let client: Client;

  beforeAll(async () => {
    proc = spawn(process.execPath, [join(ROOT, "bin", "tfmc.js"), "lsp", "--stdio"], { cwd: ROOT });
    client = new Client(proc);
    const init = await client.request("initialize", { processId: null, rootUri: null, capabilities: {} });
    expect(init.result.capabilities).toMatchObject({ hoverProvider: true, definitionProvider: true, documentFormattingProvider: true });
    client.notify("initialized", {});
  });

  afterAll(async () => {
    await client.request("shutdown", null);
    const exited = new Promise((r) => proc.on("exit", r));
    client.notify("exit", null);
    await exited;
  });

  it("publishes diagnostics as the document changes, and clears them when it is fixed", async () => {
    client.notify("textDocument/didOpen", { textDocument: { uri: URI, languageId: "tfm", version: 1, text: BAD } });
    const bad = await client.next("textDocument/publishDiagnostics", (p) => p.uri === URI);
    expect(bad.diagnostics).toHaveLength(1);
    const d = bad.diagnostics[0];
    expect(d.code).toMatch(/^TFM2\d{3}$/);
    expect(d.source).toBe("tfmc");
    expect(d.message).toMatch(/divisible|heads/);
    expect(d.range.start.line).toBe(4);
    client.notify("textDocument/didChange", { textDocument: { uri: URI, version: 2 }, contentChanges: [{ text: GOOD }] });
    const good = await client.next("textDocument/publishDiagnostics", (p) => p.uri === URI);
    expect(good.diagnostics).toEqual([]);
  });

  it("answers hover with the inferred type and the parameter count", async () => {
    const line = GOOD.split("\n")[4];
    const hover = await client.request("textDocument/hover", { textDocument: { uri: URI }, position: { line: 4, character: line.indexOf("attention") + 3 } });
    expect(hover.result.contents.value).toContain("f32[B, T, 16]");
    expect(hover.result.contents.value).toContain(`parameters: ${(16 * 48 + 48 + 16 * 16 + 16).toLocaleString("en-US")}`);
  });

  it("goes to the definition of a block and of a config value", async () => {
    const outLine = GOOD.split("\n")[6];
    const block = await client.request("textDocument/definition", { textDocument: { uri: URI }, position: { line: 6, character: outLine.indexOf("layer") + 1 } });
    expect(block.result).toEqual({ uri: URI, range: { start: { line: 3, character: 8 }, end: { line: 3, character: 13 } } });
    const heads = await client.request("textDocument/definition", { textDocument: { uri: URI }, position: { line: 4, character: GOOD.split("\n")[4].indexOf("heads") } });
    expect(heads.result.range.start).toEqual({ line: 1, character: 17 });
  });

  it("formats the document through tfmc fmt", async () => {
    client.notify("textDocument/didChange", { textDocument: { uri: URI, version: 3 }, contentChanges: [{ text: "model m{input x:f32[N]\noutput y=x+x}" }] });
    await client.next("textDocument/publishDiagnostics", (p) => p.uri === URI);
    const edits = await client.request("textDocument/formatting", { textDocument: { uri: URI }, options: { tabSize: 2, insertSpaces: true } });
    expect(edits.result).toHaveLength(1);
    expect(edits.result[0].newText).toBe("model m {\n  input x: f32[N]\n  output y = x + x\n}\n");
  });
});

describe("tfmc lsp --stdio when the client goes away", () => {
  it("exits with code 0 when its input closes, initialized or not", async () => {
    for (const initialize of [false, true]) {
      const proc = spawn(process.execPath, [join(ROOT, "bin", "tfmc.js"), "lsp", "--stdio"], { cwd: ROOT });
      let stderr = "";
      proc.stderr.on("data", (c: Buffer) => void (stderr += c.toString()));
      const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
      if (initialize) await new Client(proc).request("initialize", { processId: null, rootUri: null, capabilities: {} });
      proc.stdin.end();
      expect(await exited).toBe(0);
      expect(stderr).toBe("");
    }
  });
});
