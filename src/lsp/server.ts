import lsp from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
import { formatTfm } from "../format/format.js";
import { analyze, definitionAt, hoverAt, type Analysis } from "./analysis.js";
import { completionsAt, type CompletionKind } from "./completion.js";
import { signatureAt } from "./signature.js";

// `tfmc lsp --stdio`: the language server. Diagnostics as you type (the checker's own, with their
// codes and related locations), hover with types, shapes and parameter counts, go to definition,
// completion, signature help, and whole-document formatting through `tfmc fmt`. A file with syntax
// errors is checked as far as it parses, so all of these keep working while a line is half typed.

const { CompletionItemKind, createConnection, DiagnosticSeverity, MarkupKind, ProposedFeatures, StreamMessageReader, StreamMessageWriter, TextDocuments, TextDocumentSyncKind } = lsp;

function range(doc: TextDocument, span: Span): lsp.Range {
  return { start: doc.positionAt(span.start), end: doc.positionAt(Math.max(span.end, span.start)) };
}

const KINDS: Record<CompletionKind, lsp.CompletionItemKind> = {
  keyword: CompletionItemKind.Keyword,
  layer: CompletionItemKind.Function,
  block: CompletionItemKind.Module,
  function: CompletionItemKind.Function,
  config: CompletionItemKind.Constant,
  variable: CompletionItemKind.Variable,
  input: CompletionItemKind.Variable,
  symbol: CompletionItemKind.TypeParameter,
  label: CompletionItemKind.Reference,
  argument: CompletionItemKind.Property,
  choice: CompletionItemKind.EnumMember,
  dtype: CompletionItemKind.Class,
};

function toLsp(doc: TextDocument, d: Diagnostic): lsp.Diagnostic {
  return {
    range: range(doc, d.span),
    severity: d.category === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: `TFM${d.code}`,
    source: "tfmc",
    message: d.hint ? `${d.message}\n${d.hint}` : d.message,
    ...(d.related ? { relatedInformation: d.related.map((r) => ({ location: { uri: doc.uri, range: range(doc, r.span) }, message: r.message })) } : {}),
  };
}

/**
 * Serves the protocol on the given streams (stdin and stdout for `--stdio`); settles when the
 * client closes the input, which ends the server cleanly.
 */
export function startServer(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    input.once("end", () => resolve());
    input.once("close", () => resolve());
  });
  const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(input), new StreamMessageWriter(output));
  const documents = new TextDocuments(TextDocument);
  const analyses = new Map<string, Analysis>();
  const analysisOf = (doc: TextDocument): Analysis => {
    let a = analyses.get(doc.uri);
    if (!a || a.text !== doc.getText()) {
      a = analyze(doc.getText());
      analyses.set(doc.uri, a);
    }
    return a;
  };

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      definitionProvider: true,
      documentFormattingProvider: true,
      completionProvider: { triggerCharacters: ["(", ",", "=", ":", "["] },
      signatureHelpProvider: { triggerCharacters: ["(", ","], retriggerCharacters: [","] },
    },
    serverInfo: { name: "tfmc", version: "0.1.0" },
  }));

  documents.onDidChangeContent(({ document }) => {
    const a = analysisOf(document);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: a.diagnostics.map((d) => toLsp(document, d)) });
  });
  documents.onDidClose(({ document }) => {
    analyses.delete(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  connection.onHover(({ textDocument, position }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return null;
    const h = hoverAt(analysisOf(doc), doc.offsetAt(position));
    return h ? { contents: { kind: "markdown", value: h.text }, range: range(doc, h.span) } : null;
  });

  connection.onDefinition(({ textDocument, position }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return null;
    const span = definitionAt(analysisOf(doc), doc.offsetAt(position));
    return span ? { uri: doc.uri, range: range(doc, span) } : null;
  });

  connection.onCompletion(({ textDocument, position }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return null;
    const { items, replace } = completionsAt(analysisOf(doc), doc.offsetAt(position));
    const edit = range(doc, replace);
    return items.map((c, i) => ({
      label: c.label,
      kind: KINDS[c.kind],
      ...(c.detail ? { detail: c.detail } : {}),
      ...(c.doc ? { documentation: { kind: MarkupKind.Markdown, value: c.doc } } : {}),
      sortText: `${c.rank}${String(i).padStart(4, "0")}`,
      textEdit: { range: edit, newText: c.insertText ?? c.label },
    }));
  });

  connection.onSignatureHelp(({ textDocument, position }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return null;
    const s = signatureAt(analysisOf(doc), doc.offsetAt(position));
    if (!s) return null;
    return {
      signatures: [
        {
          label: s.label,
          ...(s.doc ? { documentation: { kind: MarkupKind.Markdown, value: s.doc } } : {}),
          parameters: s.params.map((p) => ({ label: [p.label[0], p.label[1]] as [number, number], ...(p.doc ? { documentation: p.doc } : {}) })),
        },
      ],
      activeSignature: 0,
      activeParameter: s.active,
    };
  });

  connection.onDocumentFormatting(({ textDocument }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return null;
    const r = formatTfm(doc.getText());
    if (!r.ok || r.text === doc.getText()) return [];
    return [{ range: { start: { line: 0, character: 0 }, end: doc.positionAt(doc.getText().length) }, newText: r.text }];
  });

  documents.listen(connection);
  connection.listen();
  return closed;
}
