// Literals in generated code: nothing from a .tfm file reaches a module except through these.

/** A string literal safe anywhere in a module: U+2028/U+2029 escaped, and no `</` to end an inline script. */
export const str = (s: string): string =>
  JSON.stringify(s).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029").replace(/<\//g, "<\\/");

/** A property key for an object literal; `__proto__` is computed so it defines a property, not the prototype. */
export const key = (k: string): string => (k === "__proto__" ? `[${str(k)}]` : str(k));
