// A small WebAssembly binary writer: the sections and instructions tfmc's kernels use, after the
// WebAssembly core specification (binary format) and its fixed-width SIMD proposal (f32x4).

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const utf8 = (s: string) => {
  const b = new TextEncoder().encode(s);
  return [...uleb(b.length), ...b];
};
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** The instructions of one function body, written in order. Locals are numbered after the parameters. */
export class Code {
  readonly bytes: number[] = [];
  private readonly extra: ValType[] = [];

  constructor(readonly params: readonly ValType[]) {}

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.extra.push(t);
    return this.params.length + this.extra.length - 1;
  }

  private op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  private simd(code: number, ...rest: number[]): this {
    return this.op(0xfd, ...uleb(code), ...rest);
  }

  /** Runs `f` (which writes instructions) in the middle of a chain. */
  apply(f: () => unknown) {
    f();
    return this;
  }
  get(i: number) { return this.op(0x20, ...uleb(i)); }
  set(i: number) { return this.op(0x21, ...uleb(i)); }
  tee(i: number) { return this.op(0x22, ...uleb(i)); }
  i32(v: number) { return this.op(0x41, ...sleb(v)); }
  add() { return this.op(0x6a); }
  sub() { return this.op(0x6b); }
  mul() { return this.op(0x6c); }
  shl() { return this.op(0x74); }
  ltS() { return this.op(0x48); }
  geS() { return this.op(0x4e); }
  gtS() { return this.op(0x4a); }
  eqz() { return this.op(0x45); }
  and() { return this.op(0x71); }
  f32Load(offset = 0) { return this.op(0x2a, 2, ...uleb(offset)); }
  f32Store(offset = 0) { return this.op(0x38, 2, ...uleb(offset)); }
  f32Add() { return this.op(0x92); }
  f32Sub() { return this.op(0x93); }
  f32Mul() { return this.op(0x94); }
  f32Div() { return this.op(0x95); }
  f32Sqrt() { return this.op(0x91); }
  f32ConvertI32S() { return this.op(0xb2); }
  f32Eq() { return this.op(0x5b); }
  f32Gt() { return this.op(0x5e); }
  f32Lt() { return this.op(0x5d); }
  f32Const(v: number) {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.op(0x43, ...b);
  }
  v128Load(offset = 0) { return this.simd(0x00, 4, ...uleb(offset)); }
  v128Store(offset = 0) { return this.simd(0x0b, 4, ...uleb(offset)); }
  /** v128.load32_splat: one f32 from memory into all four lanes. */
  loadSplat(offset = 0) { return this.simd(0x09, 2, ...uleb(offset)); }
  v128Zero() { return this.v128Const(new Int32Array(4)); }
  splat() { return this.simd(0x13); }
  lane(i: number) { return this.simd(0x1f, i); }
  f32x4Add() { return this.simd(0xe4); }
  f32x4Sub() { return this.simd(0xe5); }
  f32x4Max() { return this.simd(0xe9); }
  f32x4Min() { return this.simd(0xe8); }
  f32x4Div() { return this.simd(0xe7); }
  f32x4Abs() { return this.simd(0xe0); }
  f32x4Neg() { return this.simd(0xe1); }
  /** f32x4.lt / f32x4.ge: all-ones lanes where the comparison holds. */
  f32x4Lt() { return this.simd(0x43); }
  f32x4Ge() { return this.simd(0x46); }
  /** A v128.const of four equal f32 lanes. */
  f32x4Const(v: number) { return this.v128Const(new Float32Array([v, v, v, v])); }
  f32x4Nearest() { return this.simd(0x6a); }
  i32x4Splat() { return this.simd(0x11); }
  i32x4Add() { return this.simd(0xae); }
  i32x4Shl() { return this.simd(0xab); }
  i32x4LtS() { return this.simd(0x39); }
  i32x4TruncSatF32x4S() { return this.simd(0xf8); }
  /** v128.bitselect: lanes of the first operand where the mask is set, else of the second. */
  bitselect() { return this.simd(0x52); }
  /** v128.const with four i32 lanes. */
  i32x4Const(lanes: readonly [number, number, number, number]) { return this.v128Const(new Int32Array(lanes)); }
  /** v128.const: the 16 bytes of four lanes. */
  private v128Const(lanes: Float32Array | Int32Array) { return this.simd(0x0c, ...new Uint8Array(lanes.buffer)); }
  f32Max() { return this.op(0x97); }
  /** select: the first operand when the condition is non-zero, else the second. */
  select() { return this.op(0x1b); }
  /** if ... end, on the condition on the stack. */
  ifThen(body: () => void) {
    this.op(0x04, 0x40);
    body();
    return this.op(0x0b);
  }
  f32x4Mul() { return this.simd(0xe6); }
  /** `block` ... `end`; `br 0` inside leaves it. */
  block(body: () => void) {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }
  /** `loop` ... `end`; `br 0` inside continues it. */
  loop(body: () => void) {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }
  br(depth: number) { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number) { return this.op(0x0d, ...uleb(depth)); }

  /** The function body: locals grouped by type, the instructions, `end`. */
  body(): number[] {
    const groups: number[][] = [];
    for (const t of this.extra) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const content = [...vec(groups.map(([n, t]) => [...uleb(n), t])), ...this.bytes, 0x0b];
    return [...uleb(content.length), ...content];
  }
}

export interface WasmFunction {
  readonly name: string;
  readonly code: Code;
}

/** A module importing its memory as env.memory (shared when `shared`) and exporting each function. */
export function moduleBytes(functions: readonly WasmFunction[], opts: { shared?: boolean; maxPages?: number } = {}): Uint8Array<ArrayBuffer> {
  const types: string[] = [];
  const typeOf = functions.map((f) => {
    const key = f.code.params.join(",");
    let i = types.indexOf(key);
    if (i < 0) i = types.push(key) - 1;
    return i;
  });
  const typeSection = vec(types.map((k) => [0x60, ...vec(k === "" ? [] : k.split(",").map((t) => [Number(t)])), 0]));
  const max = opts.maxPages ?? 65536;
  const limits = opts.shared ? [0x03, ...uleb(1), ...uleb(max)] : [0x00, ...uleb(1)];
  const importSection = vec([[...utf8("env"), ...utf8("memory"), 0x02, ...limits]]);
  const functionSection = vec(typeOf.map((t) => uleb(t)));
  const exportSection = vec(functions.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)]));
  const codeSection = vec(functions.map((f) => f.code.body()));
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, typeSection),
    ...section(2, importSection),
    ...section(3, functionSection),
    ...section(7, exportSection),
    ...section(10, codeSection),
  ]);
}
