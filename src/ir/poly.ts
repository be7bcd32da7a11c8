import { isConst, type Dim } from "../semantics/types.js";

/**
 * A polynomial in the symbolic dimensions with integer coefficients, e.g. 2·B·T² + 768·B·T.
 * Keys are monomials: symbol names sorted and joined by '*' ('' for the constant term).
 */
export class Poly {
  constructor(readonly terms: ReadonlyMap<string, number> = new Map()) {}

  static const(c: number): Poly {
    return new Poly(c === 0 ? new Map() : new Map([["", c]]));
  }

  static dims(dims: readonly Dim[]): Poly {
    const c = dims.filter(isConst).reduce((a, d) => a * d.value, 1);
    const syms = dims.filter((d) => !isConst(d)).map((d) => (d as { sym: string }).sym).sort();
    return new Poly(new Map([[syms.join("*"), c]]));
  }

  add(o: Poly): Poly {
    const t = new Map(this.terms);
    for (const [k, v] of o.terms) t.set(k, (t.get(k) ?? 0) + v);
    return new Poly(t);
  }

  scale(c: number): Poly {
    return new Poly(new Map([...this.terms].map(([k, v]) => [k, v * c])));
  }

  mul(o: Poly): Poly {
    let out = new Poly();
    for (const [ka, va] of this.terms)
      for (const [kb, vb] of o.terms) {
        const key = [...ka.split("*"), ...kb.split("*")].filter(Boolean).sort().join("*");
        out = out.add(new Poly(new Map([[key, va * vb]])));
      }
    return out;
  }

  at(env: ReadonlyMap<string, number>): number {
    let s = 0;
    for (const [k, v] of this.terms) s += v * k.split("*").filter(Boolean).reduce((a, sym) => a * (env.get(sym) ?? 1), 1);
    return s;
  }

  toString(): string {
    const entries = [...this.terms].filter(([, v]) => v !== 0);
    if (entries.length === 0) return "0";
    entries.sort(([a], [b]) => b.split("*").length - a.split("*").length || a.localeCompare(b));
    return entries
      .map(([k, v]) => {
        const mono = monomial(k);
        if (!mono) return v.toLocaleString("en-US");
        return v === 1 ? mono : `${v.toLocaleString("en-US")}·${mono}`;
      })
      .join(" + ");
  }
}

function monomial(key: string): string {
  const counts = new Map<string, number>();
  for (const s of key.split("*").filter(Boolean)) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => (n === 1 ? s : `${s}${n === 2 ? "²" : n === 3 ? "³" : `^${n}`}`)).join("·");
}
