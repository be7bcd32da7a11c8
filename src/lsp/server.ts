import lsp from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { Diagnostic, Span } from "../diagnostics/diagnostic.js";
import { formatTfm } from "../format/format.js";
import { analyze, definitionAt, hoverAt, type Analysis } from "./analysis.js";

// `tfmc lsp --stdio`: the language server. Diagnostics as you type (the checker's own, with their
// codes and related locations), hover with types, shapes and parameter counts, go to definition,
// and whole-document formatting through `tfmc fmt`.

const { createConnection, DiagnosticSeverity, ProposedFeatures, StreamMessageReader, StreamMessageWriter, TextDocuments, TextDocumentSyncKind } = lsp;

function range(doc: TextDocument, span: Span): lsp.Range {
  return { start: doc.positionAt(span.start), end: doc.positionAt(Math.max(span.end, span.start)) };
}

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

/** Serves the protocol on the given streams (stdin and stdout for `--stdio`). */
export function startServer(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): void {
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

  connection.onDocumentFormatting(({ textDocument }) => {
    const doc = documents.get(textDocument.uri);
    if (!doc) return null;
    const r = formatTfm(doc.getText());
    if (!r.ok || r.text === doc.getText()) return [];
    return [{ range: { start: { line: 0, character: 0 }, end: doc.positionAt(doc.getText().length) }, newText: r.text }];
  });

  documents.listen(connection);
  connection.listen();
}
