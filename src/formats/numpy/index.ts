// NumPy .npy: magic "\x93NUMPY", a version, a header length, then a Python dict literal describing the
// array (descr, fortran_order, shape), then the data. For object arrays the data is a pickle stream,
// which numpy.load unpickles; this parser only finds where it starts. The header is read with a small,
// bounded literal parser that accepts a subset of what ast.literal_eval does and never evaluates anything.
import { FormatError, LimitError } from '../errors.ts';
import type { ByteSource } from '../source.ts';

export interface NpyHeader {
  version: [number, number];
  /** The HEADER_LEN field: bytes of the dict literal and its padding. */
  headerLength: number;
  /** Where the array data (or, for object arrays, the pickle stream) starts. */
  dataOffset: number;
  /** The descr value as plain data: strings, numbers (bigint beyond 2^53), arrays for tuples and lists. */
  descr: unknown;
  fortranOrder: boolean;
  /** Non-negative safe integers, except for object arrays, where numpy tolerates any int. */
  shape: number[];
  /** True if any (nested) field has the object type: the data section is then a pickle stream. */
  hasObjects: boolean;
  /** Bytes per element, or null when the descr is not one this parser can size. */
  itemsize: number | null;
  /**
   * product(shape) * itemsize, or null when itemsize is unknown. For object arrays (whose data is a pickle,
   * read without regard to the shape) also null when the shape is negative or the product beyond 2^53.
   */
  dataBytes: number | null;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Header bytes this parser will read; numpy itself refuses more than 10 000 unless told otherwise. */
export const NPY_MAX_HEADER_BYTES = 1 << 20;
/** Nesting of tuples, lists and dicts in the header literal. */
const MAX_DEPTH = 64;
/** CPython refuses to convert longer decimal integer literals (sys.int_info.default_max_str_digits). */
const MAX_INT_DIGITS = 4300;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function looksLikeNpy(head: Uint8Array): boolean {
  if (head.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (head[i] !== MAGIC[i]) return false;
  return true;
}

export function parseNpyHeader(src: ByteSource): NpyHeader {
  const pre = src.read(0, 12);
  if (!looksLikeNpy(pre)) throw new FormatError('NPY_MAGIC', 'not a NumPy .npy file: missing the \\x93NUMPY magic', 0);
  if (pre.length < 8) throw new FormatError('NPY_TRUNCATED', `file ends after ${pre.length} bytes, inside the version field`, pre.length);
  const major = pre[6];
  const minor = pre[7];
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw new FormatError('NPY_VERSION', `unsupported .npy format version ${major}.${minor} (numpy reads 1.0, 2.0 and 3.0)`, 6);
  }
  const lenBytes = major === 1 ? 2 : 4;
  const prefix = 8 + lenBytes;
  if (pre.length < prefix) throw new FormatError('NPY_TRUNCATED', `file ends after ${pre.length} bytes, inside the header length field`, pre.length);
  const headerLength = major === 1 ? pre[8] | (pre[9] << 8) : (pre[8] | (pre[9] << 8) | (pre[10] << 16) | (pre[11] << 24)) >>> 0;
  if (prefix + headerLength > src.size) {
    throw new FormatError('NPY_TRUNCATED', `declared header length ${headerLength} runs past the end of the ${src.size}-byte file`, 8);
  }
  if (headerLength > NPY_MAX_HEADER_BYTES) {
    throw new LimitError('npy-header-bytes', `declared .npy header length ${headerLength} exceeds the limit of ${NPY_MAX_HEADER_BYTES} bytes`, 8);
  }
  const raw = src.read(prefix, headerLength);
  if (raw.length !== headerLength) throw new FormatError('NPY_TRUNCATED', `could read only ${raw.length} of ${headerLength} header bytes`, prefix);

  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
    } catch {
      throw new FormatError('NPY_HEADER', 'version 3.0 header is not valid UTF-8', prefix);
    }
  } else {
    text = latin1(raw);
  }

  const dict = new LiteralParser(text, prefix).parseAll();
  if (dict.t !== 'dict') throw new FormatError('NPY_HEADER', `header is a ${dict.t}, not a dict`, prefix);
  const fields = new Map<string, PyValue>();
  for (const [k, v] of dict.entries) {
    if (k.t !== 'str') throw new FormatError('NPY_HEADER', `header has a ${k.t} key; expected only 'descr', 'fortran_order' and 'shape'`, prefix);
    fields.set(k.v, v); // Python keeps the last of duplicate keys
  }
  const keys = [...fields.keys()].sort();
  if (keys.join('\u0000') !== 'descr\u0000fortran_order\u0000shape') {
    throw new FormatError('NPY_HEADER', `header keys are [${keys.map((k) => JSON.stringify(k)).join(', ')}]; expected exactly descr, fortran_order, shape`, prefix);
  }
  const descr = fields.get('descr')!;
  const fortran = fields.get('fortran_order')!;
  const shapeValue = fields.get('shape')!;

  if (fortran.t !== 'bool') throw new FormatError('NPY_HEADER', `fortran_order is a ${fortran.t}, not True or False`, prefix);
  if (shapeValue.t !== 'tuple') throw new FormatError('NPY_SHAPE', `shape is a ${shapeValue.t}, not a tuple`, prefix);
  // numpy accepts any int (bool included) here; it only fails later, when it allocates the array.
  const dims = shapeValue.items.map((d) => {
    if (d.t === 'bool') return d.v ? 1n : 0n;
    if (d.t !== 'int') throw new FormatError('NPY_SHAPE', `shape has a ${d.t} dimension; dimensions are integers`, prefix);
    return d.v;
  });
  const dtype = analyzeDescr(descr, prefix);

  // An object array is unpickled without looking at its shape, so a shape no allocator would take must
  // not stop the caller from finding the pickle; for any other array it is malformed.
  if (!dtype.hasObjects) {
    const bad = dims.find((d) => d < 0n || d > MAX_SAFE);
    if (bad !== undefined) throw new FormatError('NPY_SHAPE', `shape dimension ${bad} is negative or beyond 2^53-1`, prefix);
  }
  let itemsize: number | null = null;
  let dataBytes: number | null = null;
  if (dtype.itemsize !== null && dtype.itemsize <= MAX_SAFE) itemsize = Number(dtype.itemsize);
  if (dtype.itemsize !== null && !dims.some((d) => d < 0n)) {
    const bytes = product(dims) * dtype.itemsize;
    if (bytes <= MAX_SAFE) dataBytes = Number(bytes);
    else if (!dtype.hasObjects) {
      throw new FormatError('NPY_TOO_LARGE', `shape ${describeShape(dims)} of ${dtype.itemsize}-byte items declares ${bytes >= SATURATE ? 'over 2^80' : bytes} bytes, beyond 2^53-1`, prefix);
    }
  }

  return {
    version: [major, minor],
    headerLength,
    dataOffset: prefix + headerLength,
    descr: toPlain(descr),
    fortranOrder: fortran.v,
    shape: dims.map(Number),
    hasObjects: dtype.hasObjects,
    itemsize,
    dataBytes,
  };
}

function describeShape(dims: readonly bigint[]): string {
  const shown = dims.slice(0, 8).join(', ');
  return dims.length > 8 ? `(${shown}, … ${dims.length - 8} more)` : `(${shown}${dims.length === 1 ? ',' : ''})`;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

// ---------------------------------------------------------------------------------------------------
// dtype descriptions: a typestr ('<f4', '|O', '|S10', '<U5', '|V8', '<M8[ns]'), a list of fields
// (name, descr[, shape]) for structured dtypes, or a (descr, shape) tuple for sub-arrays.

interface DtypeFacts {
  itemsize: bigint | null;
  hasObjects: boolean;
}

const FIXED_SIZES: Record<string, readonly number[]> = {
  b: [1], // 'b1' is bool
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8, 12, 16],
  c: [8, 16, 24, 32],
  M: [8],
  m: [8],
  O: [8],
};
/** One-character type codes numpy accepts without a size (on a 64-bit little-endian Linux build). */
const CHAR_CODES: Record<string, number> = {
  '?': 1, b: 1, B: 1, h: 2, H: 2, i: 4, I: 4, l: 8, L: 8, q: 8, Q: 8, p: 8, P: 8,
  e: 2, f: 4, d: 8, g: 16, F: 8, D: 16, G: 32, O: 8, M: 8, m: 8, S: 0, a: 0, U: 0, V: 0, c: 1,
};
const TYPESTR = /^([<>|=]?)([?a-zA-Z])(\d*)(\[\d*[A-Za-z]+\])?$/;
/** Any string numpy might read as an object dtype: 'O', 'O8', 'object', '(2,)O', 'i4,O'. */
const MAYBE_OBJECT = /O|object/;

function analyzeDescr(v: PyValue, at: number): DtypeFacts {
  switch (v.t) {
    case 'str':
    case 'bytes':
      return typestrFacts(v.v);
    case 'tuple': {
      // numpy builds dtype((descr[0], descr[1])) and ignores anything after.
      if (v.items.length < 2) throw new FormatError('NPY_DESCR', `descr tuple has ${v.items.length} items; expected (type, shape)`, at);
      const base = analyzeDescr(v.items[0], at);
      if (hasNegativeDim(v.items[1])) throw new FormatError('NPY_DESCR', 'a sub-array shape has a negative dimension', at);
      const count = subarrayCount(v.items[1]);
      if (count === null) {
        // (base, other) is numpy's "view as" form; size it by the base, look for objects in both.
        return { itemsize: null, hasObjects: base.hasObjects || mentionsObject(v.items[1]) };
      }
      return { itemsize: base.itemsize === null ? null : min(base.itemsize * count, SATURATE), hasObjects: base.hasObjects };
    }
    case 'list': {
      let itemsize: bigint | null = 0n;
      let hasObjects = false;
      for (const item of v.items) {
        // numpy unpacks each field with len()/tuple assignment, so a 2- or 3-character string is a field
        // too: 'aO' is a field named 'a' of type 'O'.
        const field: PyValue =
          (item.t === 'str' || item.t === 'bytes') && (item.v.length === 2 || item.v.length === 3)
            ? { t: 'tuple', items: [...item.v].map((ch) => ({ t: item.t, v: ch }) as PyValue) }
            : item;
        if ((field.t !== 'tuple' && field.t !== 'list') || (field.items.length !== 2 && field.items.length !== 3)) {
          throw new FormatError('NPY_DESCR', 'a structured descr field must be (name, type) or (name, type, shape)', at);
        }
        const name = field.items[0];
        if (name.t !== 'str' && name.t !== 'bytes' && name.t !== 'tuple') {
          throw new FormatError('NPY_DESCR', `a structured descr field name is a ${name.t}`, at);
        }
        const f = analyzeDescr(field.items[1], at);
        let count: bigint | null = 1n;
        if (field.items.length === 3) {
          const shape = field.items[2];
          if (hasNegativeDim(shape)) throw new FormatError('NPY_DESCR', 'a structured descr field shape has a negative dimension', at);
          count = subarrayCount(shape);
          if (count === null) hasObjects ||= mentionsObject(shape); // numpy's (type, other) form
        }
        hasObjects ||= f.hasObjects;
        itemsize = itemsize === null || f.itemsize === null || count === null ? null : min(itemsize + f.itemsize * count, SATURATE);
      }
      return { itemsize, hasObjects };
    }
    default:
      throw new FormatError('NPY_DESCR', `descr is a ${v.t}; expected a type string, a list of fields or a (type, shape) tuple`, at);
  }
}

function typestrFacts(s: string): DtypeFacts {
  const m = TYPESTR.exec(s);
  if (m === null) return { itemsize: null, hasObjects: MAYBE_OBJECT.test(s) };
  const [, , kind, digits, unit] = m;
  const hasObjects = kind === 'O';
  if (unit !== undefined && kind !== 'M' && kind !== 'm') return { itemsize: null, hasObjects };
  if (digits === '') {
    const size = CHAR_CODES[kind];
    return { itemsize: size === undefined ? null : BigInt(size), hasObjects };
  }
  if (digits.length > 15) return { itemsize: null, hasObjects };
  const n = Number(digits);
  if (kind === 'S' || kind === 'a' || kind === 'V') return { itemsize: BigInt(n), hasObjects };
  if (kind === 'U') return { itemsize: BigInt(n) * 4n, hasObjects };
  const allowed = FIXED_SIZES[kind];
  return { itemsize: allowed !== undefined && allowed.includes(n) ? BigInt(n) : null, hasObjects };
}

/** Element count of a sub-array shape (an int or a tuple of ints), or null if it is not one. */
function subarrayCount(v: PyValue): bigint | null {
  if (v.t === 'int') return v.v >= 0n ? min(v.v, SATURATE) : null;
  if (v.t !== 'tuple') return null;
  const dims: bigint[] = [];
  for (const d of v.items) {
    if (d.t !== 'int' || d.v < 0n) return null;
    dims.push(d.v);
  }
  return product(dims);
}

function hasNegativeDim(v: PyValue): boolean {
  if (v.t === 'int') return v.v < 0n;
  return v.t === 'tuple' && v.items.some((d) => d.t === 'int' && d.v < 0n);
}

/** Sizes past this are all "too large"; saturating keeps hostile products from growing huge BigInts. */
const SATURATE = 1n << 80n;

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** Product of non-negative dims, saturated at SATURATE (but exactly 0 if any dim is 0). */
function product(dims: readonly bigint[]): bigint {
  if (dims.includes(0n)) return 0n;
  let n = 1n;
  for (const d of dims) n = min(n * min(d, SATURATE), SATURATE);
  return n;
}

function mentionsObject(v: PyValue): boolean {
  switch (v.t) {
    case 'str':
    case 'bytes':
      return MAYBE_OBJECT.test(v.v);
    case 'tuple':
    case 'list':
      return v.items.some(mentionsObject);
    case 'dict':
      return v.entries.some(([k, x]) => mentionsObject(k) || mentionsObject(x));
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// The Python literal subset found in .npy headers: str/bytes (any quote, u/b/r prefixes, implicit
// concatenation), int (with one sign, underscores, 0x/0o/0b), True/False/None, tuples, lists, dicts;
// comments and line continuations are skipped. Anything else is a FormatError, never evaluated.

type PyValue =
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'tuple'; items: PyValue[] }
  | { t: 'list'; items: PyValue[] }
  | { t: 'dict'; entries: [PyValue, PyValue][] };

function toPlain(v: PyValue): unknown {
  switch (v.t) {
    case 'str':
    case 'bytes':
      return v.v;
    case 'int':
      return v.v >= -MAX_SAFE && v.v <= MAX_SAFE ? Number(v.v) : v.v;
    case 'bool':
      return v.v;
    case 'none':
      return null;
    case 'tuple':
    case 'list':
      return v.items.map(toPlain);
    case 'dict': {
      const o: Record<string, unknown> = Object.create(null);
      for (const [k, x] of v.entries) o[String(toPlain(k))] = toPlain(x);
      return o;
    }
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

class LiteralParser {
  private i = 0;

  /** `base` is the file offset of the text, for error offsets (exact for latin-1 headers). */
  constructor(
    private readonly s: string,
    private readonly base: number,
  ) {}

  parseAll(): PyValue {
    const v = this.value(1);
    this.ws();
    if (this.i < this.s.length) throw this.fail('unexpected text after the header dict');
    return v;
  }

  private value(depth: number): PyValue {
    if (depth > MAX_DEPTH) throw this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) throw this.fail('header ends where a value was expected');
    if (c === '(') return this.parenthesized(depth);
    if (c === '[') {
      this.i++;
      return { t: 'list', items: this.sequence(']', depth) };
    }
    if (c === '{') return this.dict(depth);
    if (c === "'" || c === '"' || (/[rRuUbBfF]/.test(c) && this.stringPrefixLength() >= 0)) return this.strings();
    if (c === '-' || c === '+' || (c >= '0' && c <= '9')) return this.int();
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i, this.i + 64));
      const word = m![0];
      const start = this.i;
      this.i += word.length;
      if (word === 'True') return { t: 'bool', v: true };
      if (word === 'False') return { t: 'bool', v: false };
      if (word === 'None') return { t: 'none' };
      throw this.fail(`name ${JSON.stringify(word)} is not a literal`, start);
    }
    throw this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  private parenthesized(depth: number): PyValue {
    this.i++;
    this.ws();
    if (this.s[this.i] === ')') {
      this.i++;
      return { t: 'tuple', items: [] };
    }
    const first = this.value(depth + 1);
    this.ws();
    if (this.s[this.i] === ')') {
      this.i++;
      return first; // (x) is x, not a tuple
    }
    if (this.s[this.i] !== ',') throw this.fail('expected "," or ")"');
    this.i++;
    return { t: 'tuple', items: [first, ...this.sequence(')', depth)] };
  }

  /** Items up to the closer, with an optional trailing comma; the opener is already consumed. */
  private sequence(close: string, depth: number): PyValue[] {
    const items: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return items;
      }
      items.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw this.fail(`expected "," or "${close}"`);
    }
  }

  private dict(depth: number): PyValue {
    this.i++;
    const entries: [PyValue, PyValue][] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return { t: 'dict', entries };
      }
      const key = this.value(depth + 1);
      if (key.t === 'list' || key.t === 'dict') throw this.fail(`a ${key.t} cannot be a dict key`);
      this.ws();
      if (this.s[this.i] !== ':') throw this.fail(entries.length === 0 ? 'expected ":" (sets are not supported)' : 'expected ":"');
      this.i++;
      entries.push([key, this.value(depth + 1)]);
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw this.fail('expected "," or "}"');
    }
  }

  private int(): PyValue {
    const start = this.i;
    let negative = false;
    if (this.s[this.i] === '-' || this.s[this.i] === '+') {
      negative = this.s[this.i] === '-';
      this.i++;
      this.ws();
    }
    const m = /^(0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|0(?:_?0)*|[1-9](?:_?[0-9])*)/.exec(
      this.s.slice(this.i, this.i + MAX_INT_DIGITS * 2 + 2),
    );
    if (m === null) throw this.fail('expected an integer', start);
    const token = m[0];
    this.i += token.length;
    const next = this.s[this.i];
    if (next !== undefined && /[0-9A-Za-z_.]/.test(next)) {
      throw this.fail(/[.eEjJ]/.test(next) ? 'floating-point and complex numbers are not supported' : 'malformed number', start);
    }
    const digits = token.replace(/_/g, '');
    if (digits.length > MAX_INT_DIGITS) throw this.fail(`integer literal longer than ${MAX_INT_DIGITS} digits`, start);
    const lower = digits.toLowerCase();
    const v = /^0[xob]/.test(lower) ? BigInt(lower) : BigInt(digits.replace(/^0+(?=.)/, ''));
    return { t: 'int', v: negative ? -v : v };
  }

  /** Length of a valid string prefix (r, u, b, br, rb in any case) before a quote, or -1. */
  private stringPrefixLength(): number {
    const m = /^([rRuUbBfF]{1,2})['"]/.exec(this.s.slice(this.i, this.i + 3));
    if (m === null) return -1;
    return /^(r|u|b|br|rb)$/i.test(m[1]) ? m[1].length : -2;
  }

  /** One or more adjacent string literals, concatenated as Python does. */
  private strings(): PyValue {
    const start = this.i;
    let out: PyValue | null = null;
    for (;;) {
      this.ws();
      const c = this.s[this.i];
      if (c === undefined) break;
      const isStart = c === "'" || c === '"' || (/[rRuUbBfF]/.test(c) && this.stringPrefixLength() !== -1);
      if (!isStart) break;
      const one = this.string();
      if (out === null) out = one;
      else if (out.t !== one.t) throw this.fail('cannot mix bytes and str literals', start);
      else out = { t: out.t, v: (out as { v: string }).v + one.v } as PyValue;
    }
    return out!;
  }

  private string(): { t: 'str' | 'bytes'; v: string } {
    const start = this.i;
    const prefixLength = Math.max(0, this.stringPrefixLength());
    if (this.stringPrefixLength() === -2) throw this.fail('f-strings and other string prefixes are not literals');
    const prefix = this.s.slice(this.i, this.i + prefixLength).toLowerCase();
    this.i += prefixLength;
    const raw = prefix.includes('r');
    const bytes = prefix.includes('b');
    const q = this.s[this.i];
    const triple = this.s.startsWith(q.repeat(3), this.i);
    const closer = triple ? q.repeat(3) : q;
    this.i += closer.length;
    let v = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) throw this.fail('unterminated string', start);
      if (this.s.startsWith(closer, this.i)) {
        this.i += closer.length;
        break;
      }
      if (c === '\n' && !triple) throw this.fail('newline in a single-quoted string', start);
      if (bytes && c.charCodeAt(0) > 0x7f) throw this.fail('non-ASCII character in a bytes literal');
      if (c !== '\\') {
        v += c;
        this.i++;
        continue;
      }
      const e = this.s[this.i + 1];
      if (e === undefined) throw this.fail('unterminated string', start);
      if (raw) {
        v += c + e; // a raw string keeps the backslash; it only stops the quote from closing
        this.i += 2;
        continue;
      }
      this.i += 2;
      if (e === '\n') continue;
      if (e === '\r') {
        if (this.s[this.i] === '\n') this.i++;
        continue;
      }
      if (e in SIMPLE_ESCAPES) {
        v += SIMPLE_ESCAPES[e];
        continue;
      }
      if (e >= '0' && e <= '7') {
        const m = /^[0-7]{1,3}/.exec(this.s.slice(this.i - 1, this.i + 2))![0];
        this.i += m.length - 1;
        v += String.fromCodePoint(parseInt(m, 8));
        continue;
      }
      const hexLength = e === 'x' ? 2 : !bytes && e === 'u' ? 4 : !bytes && e === 'U' ? 8 : 0;
      if (hexLength > 0) {
        const hex = this.s.slice(this.i, this.i + hexLength);
        if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) throw this.fail(`truncated \\${e} escape`);
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) throw this.fail(`\\${e} escape beyond U+10FFFF`);
        v += String.fromCodePoint(cp);
        this.i += hexLength;
        continue;
      }
      if (!bytes && e === 'N') throw this.fail('\\N{...} escapes are not supported');
      v += c + e; // unknown escapes keep their backslash
    }
    return { t: bytes ? 'bytes' : 'str', v };
  }

  /** Skips whitespace, comments and line continuations. */
  private ws(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') this.i++;
      else if (c === '#') {
        const nl = s.indexOf('\n', this.i);
        this.i = nl < 0 ? s.length : nl + 1;
      } else if (c === '\\' && (s[this.i + 1] === '\n' || s[this.i + 1] === '\r')) this.i += 2;
      else return;
    }
  }

  private fail(message: string, at = this.i): FormatError {
    return new FormatError('NPY_HEADER', `malformed .npy header at byte ${this.base + at}: ${message}`, this.base + at);
  }
}
