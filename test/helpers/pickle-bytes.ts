// Hand-assembly of pickle byte streams for tests (mirrors the snippets in research/scanners.md §C.2).
// Nothing here executes a pickle; it only concatenates opcode bytes.

export type Part = Uint8Array | string | number | number[];

const enc = new TextEncoder();

/** Concatenates parts: strings are latin-1 (one byte per char, so opcode letters work), numbers are bytes. */
export function cat(...parts: Part[]): Uint8Array {
  const chunks = parts.map((p) => {
    if (p instanceof Uint8Array) return p;
    if (typeof p === 'number') return Uint8Array.of(p);
    if (Array.isArray(p)) return Uint8Array.from(p);
    return latin1(p);
  });
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => {
  const v = c.charCodeAt(0);
  if (v > 0xff) throw new Error(`latin1: code point ${v} out of range`);
  return v;
});
export const utf8 = (s: string): Uint8Array => enc.encode(s);
export const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

export function u16(n: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, n, true);
  return b;
}
export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}
export function i32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
}
export function u64(n: bigint | number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/** Opcode bytes (names as in Lib/pickle.py). */
export const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, FLOAT: 0x46, INT: 0x49, BININT: 0x4a,
  BININT1: 0x4b, LONG: 0x4c, BININT2: 0x4d, NONE: 0x4e, PERSID: 0x50, BINPERSID: 0x51, REDUCE: 0x52,
  STRING: 0x53, BINSTRING: 0x54, SHORT_BINSTRING: 0x55, UNICODE: 0x56, BINUNICODE: 0x58, APPEND: 0x61,
  BUILD: 0x62, GLOBAL: 0x63, DICT: 0x64, EMPTY_DICT: 0x7d, APPENDS: 0x65, GET: 0x67, BINGET: 0x68, INST: 0x69,
  LONG_BINGET: 0x6a, LIST: 0x6c, EMPTY_LIST: 0x5d, OBJ: 0x6f, PUT: 0x70, BINPUT: 0x71, LONG_BINPUT: 0x72,
  SETITEM: 0x73, TUPLE: 0x74, EMPTY_TUPLE: 0x29, SETITEMS: 0x75, BINFLOAT: 0x47,
  PROTO: 0x80, NEWOBJ: 0x81, EXT1: 0x82, EXT2: 0x83, EXT4: 0x84, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  NEWTRUE: 0x88, NEWFALSE: 0x89, LONG1: 0x8a, LONG4: 0x8b,
  BINBYTES: 0x42, SHORT_BINBYTES: 0x43,
  SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, BINBYTES8: 0x8e, EMPTY_SET: 0x8f, ADDITEMS: 0x90,
  FROZENSET: 0x91, NEWOBJ_EX: 0x92, STACK_GLOBAL: 0x93, MEMOIZE: 0x94, FRAME: 0x95,
  BYTEARRAY8: 0x96, NEXT_BUFFER: 0x97, READONLY_BUFFER: 0x98,
} as const;

export const proto = (v: number) => Uint8Array.of(OP.PROTO, v);
/** SHORT_BINUNICODE (protocol 4). */
export const sbu = (s: string) => { const b = utf8(s); return cat(OP.SHORT_BINUNICODE, b.length, b); };
/** BINUNICODE (protocol >= 1). */
export const bu = (s: string) => { const b = utf8(s); return cat(OP.BINUNICODE, u32(b.length), b); };
/** UNICODE (protocol 0, raw-unicode-escape; ASCII only here). */
export const uni = (s: string) => cat(OP.UNICODE, s, '\n');
/** STRING (protocol 0, quoted repr). */
export const str0 = (s: string) => cat(OP.STRING, `'${s}'`, '\n');
export const binstr = (s: string) => { const b = latin1(s); return cat(OP.BINSTRING, i32(b.length), b); };
export const sbinstr = (s: string) => { const b = latin1(s); return cat(OP.SHORT_BINSTRING, b.length, b); };
export const sbytes = (b: Uint8Array) => cat(OP.SHORT_BINBYTES, b.length, b);
export const binbytes = (b: Uint8Array) => cat(OP.BINBYTES, u32(b.length), b);
/** GLOBAL 'module\nname\n'. */
export const glob = (module: string, name: string) => cat(OP.GLOBAL, utf8(module), '\n', utf8(name), '\n');
/** STACK_GLOBAL from two SHORT_BINUNICODE operands. */
export const sglob = (module: string, name: string) => cat(sbu(module), sbu(name), OP.STACK_GLOBAL);
export const frame = (n: number | bigint) => cat(OP.FRAME, u64(n));

/** `callable(arg)` with REDUCE: `<callable> <arg> TUPLE1 REDUCE`. */
export const call1 = (callable: Uint8Array, arg: Uint8Array) => cat(callable, arg, OP.TUPLE1, OP.REDUCE);

/** A complete protocol-4 pickle of `module.name(arg)`. */
export const reduceP4 = (module: string, name: string, arg: string) => cat(proto(4), call1(sglob(module, name), sbu(arg)), OP.STOP);
/** A complete protocol-2 pickle of `module.name(arg)` (GLOBAL + BINUNICODE). */
export const reduceP2 = (module: string, name: string, arg: string) => cat(proto(2), call1(glob(module, name), bu(arg)), OP.STOP);

export const repeat = (part: Uint8Array, n: number): Uint8Array => {
  const out = new Uint8Array(part.length * n);
  for (let i = 0; i < n; i++) out.set(part, i * part.length);
  return out;
};
