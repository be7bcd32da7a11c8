// Writes grammar/ from the built parser: `npm run grammar` (which builds first).
import { writeFileSync, mkdirSync } from "node:fs";
import { grammarEbnf, syntaxDiagramsHtml, textMateGrammar } from "../dist/syntax/grammarExport.js";
import { grammarInputs } from "../dist/cli/grammarInputs.js";

const dir = new URL("../grammar/", import.meta.url);
mkdirSync(dir, { recursive: true });
const { layers, functions } = grammarInputs();
writeFileSync(new URL("tfm.ebnf", dir), grammarEbnf());
writeFileSync(new URL("syntax-diagrams.html", dir), syntaxDiagramsHtml());
writeFileSync(new URL("tfm.tmLanguage.json", dir), textMateGrammar(layers, functions));
// The VS Code extension carries its own copy: an extension folder cannot reach outside itself.
writeFileSync(new URL("../editors/vscode/syntaxes/tfm.tmLanguage.json", import.meta.url), textMateGrammar(layers, functions));
console.log("wrote grammar/tfm.ebnf, grammar/syntax-diagrams.html, grammar/tfm.tmLanguage.json, editors/vscode/syntaxes/tfm.tmLanguage.json");
