// The VS Code client for tfmc's language server: it starts `tfmc lsp --stdio` and hands .tfm
// documents to it. Everything the editor shows (diagnostics, hover, definitions, formatting)
// comes from the server.
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

/** The configured command, else the workspace's own tfmc, else tfmc on the PATH. */
function serverCommand() {
  const configured = vscode.workspace.getConfiguration("tfmc").get("serverCommand") || [];
  if (configured.length > 0) return { command: configured[0], args: configured.slice(1) };
  for (const folder of vscode.workspace.workspaceFolders || []) {
    const local = join(folder.uri.fsPath, "node_modules", ".bin", "tfmc");
    if (existsSync(local)) return { command: local, args: ["lsp", "--stdio"] };
    const repo = join(folder.uri.fsPath, "bin", "tfmc.js");
    if (existsSync(repo)) return { command: "node", args: [repo, "lsp", "--stdio"] };
  }
  return { command: "tfmc", args: ["lsp", "--stdio"] };
}

function activate(context) {
  const { command, args } = serverCommand();
  const run = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("tfmc", "tfmc", { run, debug: run }, { documentSelector: [{ scheme: "file", language: "tfm" }, { scheme: "untitled", language: "tfm" }] });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
