/** Decodes a string literal's escapes; reports the first invalid one by its offset in the literal. */
export function decodeString(image: string): { value: string; badEscape?: { offset: number; text: string } } {
  const body = image.startsWith('"') ? image.slice(1, image.endsWith('"') && image.length > 1 ? -1 : undefined) : image;
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = body[i + 1];
    const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", "0": "\0" };
    if (next !== undefined && simple[next] !== undefined) {
      out += simple[next];
      i++;
    } else if (next === "u" && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(body.slice(i + 2, i + 6), 16));
      i += 5;
    } else {
      return { value: out, badEscape: { offset: i + 1, text: "\\" + (next ?? "") } };
    }
  }
  return { value: out };
}
