import type { Span } from "../syntax/ast.js";

/**
 * A name, callee or label exactly as written (`h."0".attn`, `encoder.layers`), without the spaces or
 * comments the source may have around its dots. The AST joins the segments, which loses whether one
 * was a quoted string; printing the source text keeps the same parse.
 */
export function sourcePath(text: string, span: Span): string {
  let out = "";
  let i = span.start;
  while (i < span.end) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < span.end && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (text.startsWith("//", i)) {
      const nl = text.indexOf("\n", i);
      i = nl === -1 ? span.end : nl;
    } else if (text.startsWith("/*", i)) {
      const close = text.indexOf("*/", i + 2);
      i = close === -1 ? span.end : close + 2;
    } else {
      if (!/\s/.test(ch)) out += ch;
      i++;
    }
  }
  return out;
}
