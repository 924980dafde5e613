// A pickle "VM" that executes nothing: it simulates the stack, marks and memo of CPython's unpickler
// over every opcode of protocols 0-5 and records what a real load would import and call. Values are
// tracked only as far as analysis needs (strings for STACK_GLOBAL, small containers for evidence and
// joblib array headers); everything else is an opaque token, so memory is bounded by stack and memo.
import type { ByteSource } from '../source.ts';
import { FormatError, LimitError } from '../errors.ts';
import { PickleReader } from './reader.ts';

// ---- values -------------------------------------------------------------------------------------

export class PGlobal {
  constructor(readonly site: PickleImport) {}
}
export class PCall {
  state: PValue = undefined;
  constructor(
    readonly callee: PValue,
    readonly args: PValue,
    readonly op: string,
    readonly offset: number,
  ) {}
}
export class PSeq {
  /** Logical size if every shared reference were expanded (billion-laughs detection). */
  w = 1;
  /** A shared token standing for many memoized containers: never mutated. */
  frozen = false;
  constructor(
    readonly kind: 'tuple' | 'list' | 'set' | 'frozenset',
    public items: PValue[] | null,
    public n: number,
  ) {}
}
export class PDict {
  w = 1;
  frozen = false;
  keys: PValue[] | null = [];
  vals: PValue[] = [];
  n = 0;
}
export class PBytes {
  constructor(
    readonly offset: number,
    readonly length: number,
    readonly kind: 'bytes' | 'bytearray' | 'str',
  ) {}
}
export class POpaque {
  constructor(readonly kind: string) {}
}
export type PValue = undefined | null | boolean | number | string | PGlobal | PCall | PSeq | PDict | PBytes | POpaque;

const FLOAT = new POpaque('float');
const BIGINT = new POpaque('int');
const PERSID = new POpaque('persistent-id');
const BUFFER = new POpaque('buffer');
const UNKNOWN = new POpaque('unknown');

// ---- results ------------------------------------------------------------------------------------

export type ImportOpcode = 'GLOBAL' | 'STACK_GLOBAL' | 'INST' | 'EXT1' | 'EXT2' | 'EXT4';

export interface PickleImport {
  module: string;
  name: string;
  opcode: ImportOpcode;
  /** Offset of the first opcode that imported it (absolute in the source). */
  offset: number;
  count: number;
  /** How often the imported object is called (REDUCE, OBJ, NEWOBJ, NEWOBJ_EX, INST). */
  calls: number;
  /** A short rendering of the first call's arguments. */
  args: string | null;
  /** Distinct renderings of call arguments (at most 16), for policies that depend on them. */
  argsSeen: string[];
  /** STACK_GLOBAL whose operands were not strings: the import cannot be named statically. */
  unresolved: boolean;
  /** EXT1/2/4 code (copyreg extension registry), else null. */
  extCode: number | null;
  protocol: number;
}

export interface PickleCallOfCall {
  offset: number;
  opcode: string;
  callee: string;
  /** The import whose call result is being called, with that call's arguments, when known. */
  inner: { module: string; name: string; args: string } | null;
}

export interface NestedCandidate {
  offset: number;
  length: number;
  /** Bytes to scan when they are not a slice of the source (str constants are re-encoded as latin-1). */
  bytes: Uint8Array | null;
}

export interface PickleScanResult {
  pickles: number;
  protocol: number;
  opcodes: number;
  endOffset: number;
  imports: PickleImport[];
  callsOfCalls: PickleCallOfCall[];
  nested: NestedCandidate[];
  frameViolations: Array<{ offset: number; detail: string }>;
  persistentIds: number;
  joblibArrays: number;
  /** Bytes after the last complete pickle that do not form another one. */
  trailing: { offset: number; length: number } | null;
  /** String constants collected when `collectStrings` is set (bounded: 4096 strings, 1 MiB). */
  strings: Array<{ offset: number; text: string }>;
  error: FormatError | LimitError | null;
}

export interface PickleLimits {
  maxOpcodes: number;
  maxMemo: number;
  maxStack: number;
  maxMarks: number;
  maxImports: number;
  maxNestedStreams: number;
  /** Absolute Date.now() deadline. */
  deadline: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = {
  maxOpcodes: 2_000_000_000,
  maxMemo: 50_000_000,
  maxStack: 20_000_000,
  // CPython's pickler recurses once per nesting level (default recursion limit 1000): no real pickle
  // nests anywhere near this deep.
  maxMarks: 10_000,
  maxImports: 20_000,
  maxNestedStreams: 16,
  deadline: Number.POSITIVE_INFINITY,
};

export interface PickleScanOptions {
  /** How many pickles to read: 'all' until the end of data, or an exact count (legacy PyTorch). */
  pickles?: 'all' | number;
  start?: number;
  end?: number;
  limits?: Partial<PickleLimits>;
  /** Follow joblib's raw array blocks after NumpyArrayWrapper (default true). */
  joblib?: boolean;
  /** Collect string constants of at least this many characters (for secret detection); off by default. */
  collectStrings?: number;
}

const MAX_KEPT_STRING = 4096;
const MAX_NESTED_TEXT = 64 << 20;
const EXPANSION_FLOOR = 1 << 24;
const MEMO_DETAIL = 100_000;
const STR_TOKEN = new POpaque('str');
const frozenSeq = (kind: PSeq['kind']): PSeq => Object.assign(new PSeq(kind, null, 0), { frozen: true });
const SEQ_TOKENS: Record<PSeq['kind'], PSeq> = { tuple: frozenSeq('tuple'), list: frozenSeq('list'), set: frozenSeq('set'), frozenset: frozenSeq('frozenset') };
const DICT_TOKEN: PDict = Object.assign(new PDict(), { keys: null, frozen: true });
/** Node's Buffer has latin1Slice (the fast path behind toString('latin1')); its typings omit it. */
type FastBuffer = Buffer & { latin1Slice(start: number, end: number): string };
const EXPANSION_RATIO = 256;
const MAX_KEPT_ITEMS = 64;
const NESTED_MIN = 8;

// ---- machine -----------------------------------------------------------------------------------

export function scanPickle(src: ByteSource, options: PickleScanOptions = {}): PickleScanResult {
  const first = runStream(src, options, false);
  if (first.frameViolations.length === 0) return first;
  // A straddled FRAME means `pickle.load(file)` and `pickle.loads(bytes)` read different opcodes:
  // walk again as the file loader does and keep what either interpretation imports.
  const second = runStream(src, options, true);
  const seen = new Set(first.imports.map((i) => `${i.module}\n${i.name}`));
  for (const imp of second.imports) if (!seen.has(`${imp.module}\n${imp.name}`)) first.imports.push(imp);
  const calls = new Set(first.callsOfCalls.map((c) => `${c.offset}\n${c.callee}`));
  for (const c of second.callsOfCalls) if (!calls.has(`${c.offset}\n${c.callee}`)) first.callsOfCalls.push(c);
  const nested = new Set(first.nested.map((n) => n.offset));
  for (const n of second.nested) if (!nested.has(n.offset)) first.nested.push(n);
  return first;
}

function runStream(src: ByteSource, options: PickleScanOptions, fileSemantics: boolean): PickleScanResult {
  const limits = { ...DEFAULT_PICKLE_LIMITS, ...options.limits };
  const end = Math.min(options.end ?? src.size, src.size);
  const reader = new PickleReader(src, end, options.start ?? 0);
  reader.fileSemantics = fileSemantics;
  const m = new Machine(reader, limits, options.joblib ?? true, options.collectStrings ?? 0);
  const want = options.pickles ?? 'all';
  const result: PickleScanResult = {
    pickles: 0,
    protocol: 0,
    opcodes: 0,
    endOffset: reader.pos,
    imports: [],
    callsOfCalls: m.callsOfCalls,
    nested: m.nested,
    frameViolations: reader.frameViolations,
    persistentIds: 0,
    joblibArrays: 0,
    trailing: null,
    strings: m.strings,
    error: null,
  };
  try {
    while (reader.remaining() > 0 && (want === 'all' || result.pickles < want)) {
      const startAt = reader.pos;
      const opsBefore = m.opcodes;
      const importsBefore = m.importsFound;
      try {
        m.runOne();
      } catch (e) {
        // After at least one complete pickle, bytes that fail at their very first opcode are just
        // trailing data (pickle.load stops at STOP); anything that got further is a broken pickle.
        if (want === 'all' && result.pickles > 0 && e instanceof FormatError && m.opcodes - opsBefore <= 1 && m.importsFound === importsBefore) {
          result.trailing = { offset: startAt, length: end - startAt };
          reader.seek(end);
          break;
        }
        throw e;
      }
      result.pickles++;
    }
    if (want !== 'all' && result.pickles < want) {
      throw new FormatError('PICKLE_TRUNCATED', `expected ${want} pickles, found ${result.pickles}`, reader.pos);
    }
  } catch (e) {
    if (e instanceof FormatError || e instanceof LimitError) result.error = e;
    else if (e instanceof RangeError) result.error = new LimitError('memory', `parser resource exhausted: ${e.message}`, reader.pos);
    else throw e;
  }
  result.opcodes = m.opcodes;
  result.protocol = m.maxProto;
  result.imports = [...m.imports.values()];
  result.endOffset = reader.pos;
  result.persistentIds = m.persistentIds;
  result.joblibArrays = m.joblibArrays;
  return result;
}

class Machine {
  imports = new Map<string, PickleImport>();
  importsFound = 0;
  callsOfCalls: PickleCallOfCall[] = [];
  nested: NestedCandidate[] = [];
  opcodes = 0;
  maxProto = 0;
  persistentIds = 0;
  joblibArrays = 0;
  private nestedStreams = 0;

  // Per-pickle state (saved and restored around joblib's in-stream object-array pickles).
  private stack: PValue[] = [];
  private marks: number[] = [];
  private memo: PValue[] = [];
  private memoMap: Map<number, PValue> | null = null;
  private memoCount = 0;
  private proto = 0;

  strings: Array<{ offset: number; text: string }> = [];
  private stringBytes = 0;

  constructor(
    readonly r: PickleReader,
    readonly limits: PickleLimits,
    readonly joblib: boolean,
    private readonly collectMin: number,
  ) {}

  private collect(s: string, at: number): void {
    if (this.strings.length >= 4096 || this.stringBytes > 1 << 20) return;
    this.stringBytes += s.length;
    this.strings.push({ offset: at, text: s });
  }

  private fail(code: string, msg: string, offset: number): never {
    throw new FormatError(code, msg, offset);
  }

  private pop(at: number): PValue {
    const s = this.stack;
    const floor = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    if (s.length <= floor) this.fail('PICKLE_STACK_UNDERFLOW', 'opcode pops from an empty stack', at);
    return s.pop();
  }

  private top(at: number): PValue {
    const s = this.stack;
    const floor = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    if (s.length <= floor) this.fail('PICKLE_STACK_UNDERFLOW', 'opcode reads an empty stack', at);
    return s[s.length - 1];
  }

  private popMark(at: number): PValue[] {
    if (this.marks.length === 0) this.fail('PICKLE_NO_MARK', 'opcode needs a MARK but none is open', at);
    const k = this.marks.pop()!;
    const items = this.stack.slice(k);
    this.stack.length = k;
    return items;
  }

  private push(v: PValue, at: number): void {
    if (this.stack.length >= this.limits.maxStack) throw new LimitError('pickle-stack', `stack deeper than ${this.limits.maxStack}`, at);
    this.stack.push(v);
  }

  private memoPut(idx: number, at: number): void {
    let v = this.top(at);
    // Past MEMO_DETAIL entries the memo keeps only what analysis needs: import-like strings, calls and
    // container sizes. Everything else becomes a small token, so a pickle of millions of records is
    // walked in memory proportional to its memo count, not to its content.
    if (this.memoCount >= MEMO_DETAIL) v = compact(v);
    if (idx < 0) this.fail('PICKLE_BAD_MEMO', 'negative memo index', at);
    if (idx < this.memo.length || (idx === this.memo.length && idx < 1 << 26)) {
      if (idx === this.memo.length) this.memoCount++;
      this.memo[idx] = v;
    } else {
      this.memoMap ??= new Map();
      if (!this.memoMap.has(idx)) this.memoCount++;
      this.memoMap.set(idx, v);
    }
    if (this.memoCount > this.limits.maxMemo) throw new LimitError('pickle-memo', `more than ${this.limits.maxMemo} memo entries`, at);
  }

  private memoGet(idx: number, at: number): PValue {
    let v: PValue;
    if (idx >= 0 && idx < this.memo.length) v = this.memo[idx];
    else v = this.memoMap?.get(idx);
    // A missing key is an error for the real loader; we keep going with an unknown value so that
    // whatever follows is still seen (an unresolved STACK_GLOBAL then fails closed).
    if (v === undefined) return UNKNOWN;
    return v;
  }

  private addImport(module: string, name: string, opcode: ImportOpcode, at: number, extra?: { unresolved?: boolean; extCode?: number }): PGlobal {
    const key = `${module}\n${name}`;
    let site = this.imports.get(key);
    if (!site) {
      if (this.imports.size >= this.limits.maxImports) throw new LimitError('pickle-imports', `more than ${this.limits.maxImports} distinct imports`, at);
      site = {
        module, name, opcode, offset: at, count: 0, calls: 0, args: null, argsSeen: [],
        unresolved: extra?.unresolved ?? false, extCode: extra?.extCode ?? null, protocol: this.proto,
      };
      this.imports.set(key, site);
    }
    site.count++;
    this.importsFound++;
    return new PGlobal(site);
  }

  private call(callee: PValue, args: PValue, op: string, at: number): PCall {
    if (callee instanceof PGlobal) {
      const site = callee.site;
      site.calls++;
      const shown = render(args, 3);
      if (site.args === null) site.args = shown;
      if (site.argsSeen.length < 16 && !site.argsSeen.includes(shown)) site.argsSeen.push(shown);
    } else if (callee instanceof PCall) {
      const inner = callee.callee instanceof PGlobal ? { module: callee.callee.site.module, name: callee.callee.site.name, args: render(callee.args, 2) } : null;
      if (this.callsOfCalls.length < 1000) this.callsOfCalls.push({ offset: at, opcode: op, callee: render(callee, 3), inner });
    } else if (callee === UNKNOWN) {
      if (this.callsOfCalls.length < 1000) this.callsOfCalls.push({ offset: at, opcode: op, callee: 'an object the scanner could not resolve', inner: null });
    }
    return new PCall(callee, args, op, at);
  }

  private str(a: number, b: number, enc: 'utf8' | 'latin1', at: number): string | PBytes {
    const len = b - a;
    if (len > MAX_KEPT_STRING) {
      // Too long to keep, but a str can still carry a latin-1 pickle (`_codecs.encode(s, 'latin1')`).
      if (len <= MAX_NESTED_TEXT && (this.r.buf[a] === 0xc2 || this.r.buf[a] === 0x80 || this.r.buf[a] === 0x63 || this.r.buf[a] === 0x28)) {
        this.maybeNestedStr(this.r.buf.toString(enc, a, b), at);
      }
      return new PBytes(this.r.bufStart + a, len, 'str');
    }
    const buf = this.r.buf;
    if (enc === 'utf8') {
      let ascii = true;
      for (let i = a; i < b; i++) {
        if (buf[i] > 127) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        const t = (buf as FastBuffer).latin1Slice(a, b);
        if (this.collectMin && len >= this.collectMin) this.collect(t, at);
        return t;
      }
      const s = buf.toString('utf8', a, b);
      if (this.collectMin && len >= this.collectMin) this.collect(s, at);
      if (s.includes('\ufffd') && !Buffer.from(s, 'utf8').equals(buf.subarray(a, b))) {
        this.fail('PICKLE_BAD_UTF8', 'string is not valid UTF-8', at);
      }
      if (len >= NESTED_MIN && s.charCodeAt(0) === 0x80) this.maybeNestedStr(s, at);
      return s;
    }
    return (buf as FastBuffer).latin1Slice(a, b);
  }

  /** Bytes constants that are themselves pickles (fed to pickle.loads, torch.load…) are scanned too. */
  private maybeNested(offset: number, length: number, at: number, isStr: boolean): void {
    if (length < NESTED_MIN || this.nested.length >= 64 || isStr) return;
    const r = this.r;
    const rel = offset - r.bufStart;
    let b0: number, b1: number, last: number;
    if (rel >= 0 && rel + length <= r.buf.length) {
      b0 = r.buf[rel];
      b1 = r.buf[rel + 1];
      last = r.buf[rel + length - 1];
    } else {
      const head = r.src.read(offset, 2);
      const tail = r.src.read(offset + length - 1, 1);
      b0 = head[0];
      b1 = head[1];
      last = tail[0];
    }
    // pickle.loads ignores bytes after STOP, so the end is not checked; the caller drops candidates
    // that turn out not to be pickles.
    if (looksLikePickleStart(b0, b1)) this.nested.push({ offset, length, bytes: null });
    void last;
    void at;
  }

  private maybeNestedStr(s: string, at: number): void {
    // `_codecs.encode(s, 'latin1')` turns a str of code points < 256 into the bytes of a pickle.
    if (this.nested.length >= 64) return;
    if (!looksLikePickleStart(s.charCodeAt(0), s.charCodeAt(1))) return;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return;
    this.nested.push({ offset: at, length: s.length, bytes: Buffer.from(s, 'latin1') });
  }

  /**
   * Shared references let a few bytes denote an exponentially large object (DUP/GET + TUPLE2 chains).
   * CPython shares them too, but any consumer that walks the result explodes; frameworks never write
   * such graphs, so a logical size far beyond the opcode count is reported as an expansion attack.
   */
  private grew<T extends PSeq | PDict | PValue>(v: T, at: number): T {
    const w = (v as PSeq).w;
    if (w > EXPANSION_FLOOR && w > EXPANSION_RATIO * this.opcodes) {
      throw new LimitError('pickle-expansion', `shared references expand to about ${w.toExponential(1)} values from ${this.opcodes} opcodes (billion-laughs shape)`, at);
    }
    return v;
  }

  private resetState(): void {
    this.stack = [];
    this.marks = [];
    this.memo = [];
    this.memoMap = null;
    this.memoCount = 0;
    this.proto = 0;
    this.r.frameEnd = -1;
  }

  /** Reads one pickle up to and including STOP. */
  runOne(): void {
    this.resetState();
    const r = this.r;
    const lim = this.limits;
    for (;;) {
      if (r.p >= r.buf.length && !r.ensure(1)) {
        this.fail('PICKLE_TRUNCATED', 'stream ends before STOP', r.pos);
      }
      const at = r.bufStart + r.p;
      if (r.frameEnd >= 0 && at >= r.frameEnd) r.frameEnd = -1;
      const op = r.buf[r.p++];
      if ((++this.opcodes & 0xffff) === 0) {
        if (Date.now() > lim.deadline) throw new LimitError('time', 'pickle scan exceeded its time budget', at);
        if (this.opcodes > lim.maxOpcodes) throw new LimitError('pickle-opcodes', `more than ${lim.maxOpcodes} opcodes`, at);
      }
      switch (op) {
        // -- structure
        case 0x80: { // PROTO
          const i = r.fixed(1, at);
          const v = r.buf[i];
          if (v > 5) this.fail('PICKLE_BAD_PROTO', `unsupported pickle protocol ${v}`, at);
          this.proto = v;
          if (v > this.maxProto) this.maxProto = v;
          break;
        }
        case 0x95: { // FRAME
          const i = r.fixed(8, at);
          const len = readU64(r.buf, i);
          if (len > r.end - r.pos) this.fail('PICKLE_TRUNCATED', `FRAME of ${len} bytes runs past the end of the stream`, at);
          if (r.frameEnd >= 0 && r.pos < r.frameEnd) {
            r.frameViolations.push({ offset: at, detail: `FRAME opened before the previous frame ended at ${r.frameEnd}` });
          }
          r.frameEnd = r.pos + len;
          if (!r.fileSemantics) r.ensure(Math.min(len, 64 << 20));
          break;
        }
        case 0x2e: // STOP '.'
          if (this.stack.length === 0) this.fail('PICKLE_STACK_UNDERFLOW', 'STOP with an empty stack', at);
          return;
        case 0x28: // MARK '('
          if (this.marks.length >= lim.maxMarks) throw new LimitError('pickle-marks', `more than ${lim.maxMarks} open MARKs`, at);
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP '0'
          if (this.marks.length && this.stack.length === this.marks[this.marks.length - 1]) this.marks.pop();
          else this.pop(at);
          break;
        case 0x31: // POP_MARK '1'
          this.popMark(at);
          break;
        case 0x32: // DUP '2'
          this.push(this.top(at), at);
          break;

        // -- constants
        case 0x4e: this.push(null, at); break; // NONE
        case 0x88: this.push(true, at); break; // NEWTRUE
        case 0x89: this.push(false, at); break; // NEWFALSE
        case 0x4b: { const i = r.fixed(1, at); this.push(r.buf[i], at); break; } // BININT1
        case 0x4d: { const i = r.fixed(2, at); this.push(r.buf.readUInt16LE(i), at); break; } // BININT2
        case 0x4a: { const i = r.fixed(4, at); this.push(r.buf.readInt32LE(i), at); break; } // BININT
        case 0x47: r.fixed(8, at); this.push(FLOAT, at); break; // BINFLOAT
        case 0x8a: { // LONG1
          const i = r.fixed(1, at);
          const n = r.buf[i];
          const j = r.fixed(n, at);
          this.push(n <= 6 ? smallLong(r.buf, j, n) : BIGINT, at);
          break;
        }
        case 0x8b: { // LONG4
          const i = r.fixed(4, at);
          const n = r.buf.readInt32LE(i);
          if (n < 0) this.fail('PICKLE_BAD_LENGTH', 'LONG4 with a negative length', at);
          r.skip(n, at);
          this.push(BIGINT, at);
          break;
        }
        case 0x49: { // INT 'I'
          const [a, b] = r.line(at);
          const t = r.buf.toString('latin1', a, b);
          if (t === '00') this.push(false, at);
          else if (t === '01') this.push(true, at);
          else this.push(parseIntText(t, at), at);
          break;
        }
        case 0x4c: { // LONG 'L'
          const [a, b] = r.line(at);
          this.push(parseIntText(r.buf.toString('latin1', a, b).replace(/L$/, ''), at), at);
          break;
        }
        case 0x46: r.line(at); this.push(FLOAT, at); break; // FLOAT 'F'

        // -- strings and bytes
        case 0x53: { // STRING 'S' (quoted, protocol 0)
          const [a, b] = r.line(at);
          const q = r.buf[a];
          if (b - a < 2 || (q !== 0x27 && q !== 0x22) || r.buf[b - 1] !== q) this.fail('PICKLE_BAD_STRING', 'STRING argument is not quoted', at);
          this.push(unescapePy(r.buf.toString('latin1', a + 1, b - 1)), at);
          break;
        }
        case 0x56: { // UNICODE 'V' (raw-unicode-escape)
          const [a, b] = r.line(at);
          const s = unescapeRawUnicode(r.buf.toString('latin1', a, b));
          if (s.length >= NESTED_MIN && s.charCodeAt(0) === 0x80) this.maybeNestedStr(s, at);
          this.push(s.length > MAX_KEPT_STRING ? new PBytes(a + r.bufStart, b - a, 'str') : s, at);
          break;
        }
        case 0x54: // BINSTRING 'T'
        case 0x58: // BINUNICODE 'X'
        case 0x42: { // BINBYTES 'B'
          const i = r.fixed(4, at);
          const n = op === 0x42 ? r.buf.readUInt32LE(i) : r.buf.readInt32LE(i);
          if (n < 0) this.fail('PICKLE_BAD_LENGTH', 'negative length', at);
          this.payload(op, n, at);
          break;
        }
        case 0x8c: { // SHORT_BINUNICODE: the most frequent opcode of real pickles, kept on a short path
          const n = r.buf[r.fixed(1, at)];
          const i = r.fixed(n, at);
          this.push(this.str(i, i + n, 'utf8', at), at);
          break;
        }
        case 0x55: // SHORT_BINSTRING 'U'
        case 0x43: { // SHORT_BINBYTES 'C'
          const i = r.fixed(1, at);
          this.payload(op, r.buf[i], at);
          break;
        }
        case 0x8d: // BINUNICODE8
        case 0x8e: // BINBYTES8
        case 0x96: { // BYTEARRAY8
          const i = r.fixed(8, at);
          this.payload(op, readU64(r.buf, i), at);
          break;
        }
        case 0x97: this.push(BUFFER, at); break; // NEXT_BUFFER
        case 0x98: this.top(at); break; // READONLY_BUFFER

        // -- containers
        case 0x29: this.push(new PSeq('tuple', [], 0), at); break; // EMPTY_TUPLE
        case 0x5d: this.push(new PSeq('list', [], 0), at); break; // EMPTY_LIST
        case 0x7d: this.push(new PDict(), at); break; // EMPTY_DICT
        case 0x8f: this.push(new PSeq('set', [], 0), at); break; // EMPTY_SET
        case 0x74: this.push(this.grew(seq('tuple', this.popMark(at)), at), at); break; // TUPLE
        case 0x85: { const a = this.pop(at); this.push(this.grew(seq('tuple', [a]), at), at); break; } // TUPLE1
        case 0x86: { const b = this.pop(at); const a = this.pop(at); this.push(this.grew(seq('tuple', [a, b]), at), at); break; } // TUPLE2
        case 0x87: { // TUPLE3
          const c = this.pop(at); const b = this.pop(at); const a = this.pop(at);
          this.push(this.grew(seq('tuple', [a, b, c]), at), at);
          break;
        }
        case 0x6c: this.push(this.grew(seq('list', this.popMark(at)), at), at); break; // LIST 'l'
        case 0x91: this.push(this.grew(seq('frozenset', this.popMark(at)), at), at); break; // FROZENSET
        case 0x64: { // DICT 'd'
          const items = this.popMark(at);
          const d = new PDict();
          for (let k = 0; k + 1 < items.length; k += 2) dictSet(d, items[k], items[k + 1]);
          this.push(this.grew(d, at), at);
          break;
        }
        case 0x61: { // APPEND 'a'
          const v = this.pop(at);
          const t = this.top(at);
          appendTo(t, [v]);
          this.grew(t, at);
          break;
        }
        case 0x65: // APPENDS 'e'
        case 0x90: { // ADDITEMS
          const items = this.popMark(at);
          const t = this.top(at);
          appendTo(t, items);
          this.grew(t, at);
          break;
        }
        case 0x73: { // SETITEM 's'
          const v = this.pop(at); const k = this.pop(at);
          const d = this.top(at);
          if (d instanceof PDict) this.grew((dictSet(d, k, v), d), at);
          break;
        }
        case 0x75: { // SETITEMS 'u'
          const items = this.popMark(at);
          const d = this.top(at);
          if (d instanceof PDict) {
            for (let k = 0; k + 1 < items.length; k += 2) dictSet(d, items[k], items[k + 1]);
            this.grew(d, at);
          }
          break;
        }

        // -- memo
        case 0x70: { // PUT 'p'
          const [a, b] = r.line(at);
          this.memoPut(parseIndex(r.buf.toString('latin1', a, b), at), at);
          break;
        }
        case 0x71: { const i = r.fixed(1, at); this.memoPut(r.buf[i], at); break; } // BINPUT
        case 0x72: { const i = r.fixed(4, at); this.memoPut(r.buf.readUInt32LE(i), at); break; } // LONG_BINPUT
        case 0x94: this.memoPut(this.memoCount, at); break; // MEMOIZE
        case 0x67: { // GET 'g'
          const [a, b] = r.line(at);
          this.push(this.memoGet(parseIndex(r.buf.toString('latin1', a, b), at), at), at);
          break;
        }
        case 0x68: { const i = r.fixed(1, at); this.push(this.memoGet(r.buf[i], at), at); break; } // BINGET
        case 0x6a: { const i = r.fixed(4, at); this.push(this.memoGet(r.buf.readUInt32LE(i), at), at); break; } // LONG_BINGET

        // -- imports
        case 0x63: { // GLOBAL 'c'
          const module = this.textLine(at);
          const name = this.textLine(at);
          this.push(this.addImport(module, name, 'GLOBAL', at), at);
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop(at);
          const module = this.pop(at);
          if (typeof module === 'string' && typeof name === 'string') this.push(this.addImport(module, name, 'STACK_GLOBAL', at), at);
          else {
            this.push(this.addImport(describe(module), describe(name), 'STACK_GLOBAL', at, { unresolved: true }), at);
          }
          break;
        }
        case 0x82: case 0x83: case 0x84: { // EXT1 EXT2 EXT4
          const n = op === 0x82 ? 1 : op === 0x83 ? 2 : 4;
          const i = r.fixed(n, at);
          const code = n === 1 ? r.buf[i] : n === 2 ? r.buf.readUInt16LE(i) : r.buf.readInt32LE(i);
          const opName = n === 1 ? 'EXT1' : n === 2 ? 'EXT2' : 'EXT4';
          this.push(this.addImport('<copyreg extension>', `code ${code}`, opName, at, { extCode: code }), at);
          break;
        }
        case 0x69: { // INST 'i'
          const module = this.textLine(at);
          const name = this.textLine(at);
          const args = seq('tuple', this.popMark(at));
          const g = this.addImport(module, name, 'INST', at);
          this.push(this.call(g, args, 'INST', at), at);
          break;
        }

        // -- calls
        case 0x52: { // REDUCE 'R'
          const args = this.pop(at);
          const fn = this.pop(at);
          this.push(this.call(fn, args, 'REDUCE', at), at);
          break;
        }
        case 0x6f: { // OBJ 'o'
          const items = this.popMark(at);
          if (items.length === 0) this.fail('PICKLE_STACK_UNDERFLOW', 'OBJ without a class', at);
          this.push(this.call(items[0], seq('tuple', items.slice(1)), 'OBJ', at), at);
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.pop(at);
          const cls = this.pop(at);
          this.push(this.call(cls, args, 'NEWOBJ', at), at);
          break;
        }
        case 0x92: { // NEWOBJ_EX
          const kwargs = this.pop(at);
          const args = this.pop(at);
          const cls = this.pop(at);
          this.push(this.call(cls, new PSeq('tuple', [args, kwargs], 2), 'NEWOBJ_EX', at), at);
          break;
        }
        case 0x62: { // BUILD 'b'
          const state = this.pop(at);
          const obj = this.top(at);
          if (obj instanceof PCall) {
            obj.state = state;
            if (this.joblib && isJoblibWrapper(obj)) this.skipJoblibArray(obj, at);
          }
          break;
        }
        case 0x50: { // PERSID 'P'
          r.line(at);
          this.persistentIds++;
          this.push(PERSID, at);
          break;
        }
        case 0x51: // BINPERSID 'Q'
          this.pop(at);
          this.persistentIds++;
          this.push(PERSID, at);
          break;
        default:
          this.fail('PICKLE_BAD_OPCODE', `invalid opcode 0x${op.toString(16).padStart(2, '0')}`, at);
      }
    }
  }

  private textLine(at: number): string {
    const [a, b] = this.r.line(at);
    const v = this.str(a, b, 'utf8', at);
    if (typeof v !== 'string') throw new LimitError('pickle-name', 'import name longer than the scanner keeps', at);
    return v;
  }

  private payload(op: number, n: number, at: number): void {
    const r = this.r;
    if (n > r.end - r.pos) this.fail('PICKLE_TRUNCATED', `payload of ${n} bytes runs past the end of the stream`, at);
    const isText = op === 0x58 || op === 0x8c || op === 0x8d || op === 0x54 || op === 0x55;
    if (n <= MAX_KEPT_STRING && isText) {
      const i = r.fixed(n, at);
      const enc = op === 0x54 || op === 0x55 ? 'latin1' : 'utf8';
      this.push(this.str(i, i + n, enc, at), at);
      return;
    }
    const offset = r.pos;
    if (isText && n <= MAX_NESTED_TEXT && r.ensure(1) && (r.buf[r.p] === 0xc2 || r.buf[r.p] === 0x63 || r.buf[r.p] === 0x28)) {
      // A long str that may spell a latin-1 pickle: read it (bounded) so str() can check it.
      const i = r.fixed(n, at);
      this.push(this.str(i, i + n, op === 0x54 || op === 0x55 ? 'latin1' : 'utf8', at), at);
      return;
    }
    if (!isText) this.maybeNested(offset, n, at, false);
    r.skip(n, at);
    this.push(new PBytes(offset, n, isText ? 'str' : op === 0x96 ? 'bytearray' : 'bytes'), at);
  }

  /**
   * joblib writes each numpy array's raw bytes straight into the pickle stream after the BUILD of its
   * NumpyArrayWrapper (object arrays as a nested pickle). Follow it exactly as joblib's reader does.
   */
  private skipJoblibArray(wrapper: PCall, at: number): void {
    const st = wrapper.state;
    if (!(st instanceof PDict)) this.fail('JOBLIB_ARRAY', 'NumpyArrayWrapper without a state dict', at);
    const shape = dictGet(st, 'shape');
    const dtype = dictGet(st, 'dtype');
    const hasAlign = dictGet(st, 'numpy_array_alignment_bytes');
    const dims = shape instanceof PSeq && shape.items ? shape.items : null;
    if (!dims || dims.some((d) => typeof d !== 'number' || d < 0)) this.fail('JOBLIB_ARRAY', 'array shape cannot be read', at);
    let count = 1;
    for (const d of dims as number[]) count *= d;
    const item = dtypeItemSize(dtype);
    this.joblibArrays++;
    if (item === 'object') {
      if (++this.nestedStreams > this.limits.maxNestedStreams) throw new LimitError('pickle-nesting', 'too many nested object-array pickles', at);
      const saved = { stack: this.stack, marks: this.marks, memo: this.memo, memoMap: this.memoMap, memoCount: this.memoCount, proto: this.proto };
      this.runOne();
      Object.assign(this, saved);
      this.nestedStreams--;
      return;
    }
    if (item === null) this.fail('JOBLIB_ARRAY', 'array dtype cannot be read, so the raw bytes that follow cannot be skipped', at);
    const r = this.r;
    if (hasAlign !== undefined && hasAlign !== null) {
      const i = r.fixed(1, at);
      const pad = r.buf[i];
      if (pad > 0) r.skip(pad, at);
    }
    const bytes = count * item;
    if (!Number.isSafeInteger(bytes)) this.fail('JOBLIB_ARRAY', 'array size overflows', at);
    r.skip(bytes, at);
    r.frameEnd = -1;
  }
}

// ---- helpers ------------------------------------------------------------------------------------

export function looksLikePickleStart(b0: number, b1: number): boolean {
  if (b0 === 0x80) return b1 <= 5;
  // protocol 0/1 pickles of anything worth importing start with GLOBAL, MARK or INST
  return b0 === 0x63 || b0 === 0x28;
}

function readU64(buf: Buffer, i: number): number {
  const lo = buf.readUInt32LE(i);
  const hi = buf.readUInt32LE(i + 4);
  // Lengths beyond 2^53 are impossible anyway; map them to Infinity so bound checks reject them.
  return hi >= 0x200000 ? Number.POSITIVE_INFINITY : hi * 0x100000000 + lo;
}

function smallLong(buf: Buffer, i: number, n: number): number {
  if (n === 0) return 0;
  let v = 0;
  for (let k = n - 1; k >= 0; k--) v = v * 256 + buf[i + k];
  if (buf[i + n - 1] & 0x80) v -= 2 ** (8 * n);
  return v;
}

function parseIntText(t: string, at: number): number | POpaque {
  if (!/^\s*[+-]?\d+\s*$/.test(t)) throw new FormatError('PICKLE_BAD_INT', 'malformed integer', at);
  const v = Number(t);
  return Number.isSafeInteger(v) ? v : BIGINT;
}

function parseIndex(t: string, at: number): number {
  if (!/^\d{1,15}$/.test(t)) throw new FormatError('PICKLE_BAD_MEMO', 'malformed memo index', at);
  return Number(t);
}

function compact(v: PValue): PValue {
  if (typeof v === 'string') return v.length <= 128 && isNameLike(v) ? v : STR_TOKEN;
  // Small containers share one frozen token per kind (no allocation per memo entry); large ones keep
  // their logical size so expansion through the memo is still measured.
  if ((v instanceof PSeq || v instanceof PDict) && v.w < 1024) return v instanceof PDict ? DICT_TOKEN : SEQ_TOKENS[v.kind];
  if (v instanceof PSeq) {
    const c = new PSeq(v.kind, null, v.n);
    c.w = v.w;
    return c;
  }
  if (v instanceof PDict) {
    const c = new PDict();
    c.keys = null;
    c.n = v.n;
    c.w = v.w;
    return c;
  }
  return v;
}

/** Could this string be (part of) a module or attribute path? Anything else cannot be imported. */
function isNameLike(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c > 127)) return false;
  }
  return true;
}

function wt(v: PValue): number {
  return v instanceof PSeq || v instanceof PDict ? v.w : 1;
}

function seq(kind: PSeq['kind'], items: PValue[]): PSeq {
  const s = new PSeq(kind, items.length <= MAX_KEPT_ITEMS ? items : null, items.length);
  for (const it of items) s.w += wt(it);
  return s;
}

function appendTo(target: PValue, items: PValue[]): void {
  if (!(target instanceof PSeq) || target.frozen) return;
  target.n += items.length;
  for (const it of items) target.w += wt(it);
  if (target.items) {
    if (target.n > MAX_KEPT_ITEMS) target.items = null;
    else target.items.push(...items);
  }
}

function dictSet(d: PDict, k: PValue, v: PValue): void {
  if (d.frozen) return;
  d.n++;
  d.w += wt(k) + wt(v);
  if (!d.keys) return;
  if (d.n > MAX_KEPT_ITEMS) {
    d.keys = null;
    d.vals = [];
    return;
  }
  d.keys.push(k);
  d.vals.push(v);
}

export function dictGet(d: PDict, key: string): PValue {
  if (!d.keys) return undefined;
  for (let i = d.keys.length - 1; i >= 0; i--) if (d.keys[i] === key) return d.vals[i];
  return undefined;
}

function isJoblibWrapper(obj: PCall): boolean {
  const c = obj.callee;
  return c instanceof PGlobal && c.site.name === 'NumpyArrayWrapper' && /(^|\.)numpy_pickle$/.test(c.site.module);
}

/** Item size in bytes of a pickled numpy.dtype, 'object' for object dtypes, null when unknown. */
function dtypeItemSize(dtype: PValue): number | 'object' | null {
  if (!(dtype instanceof PCall) || !(dtype.args instanceof PSeq) || !dtype.args.items) return null;
  const spec = dtype.args.items[0];
  if (typeof spec !== 'string') return null;
  const m = /^([a-zA-Z])(\d*)/.exec(spec);
  if (!m) return null;
  const kind = m[1];
  const n = m[2] ? Number(m[2]) : 0;
  const state = dtype.state instanceof PSeq && dtype.state.items ? dtype.state.items : null;
  if (kind === 'O') return 'object';
  // Structured and sub-array dtypes carry fields in their state; object fields inside make joblib pickle them.
  if (state && state[4] instanceof PDict && hasObjectField(state[4])) return 'object';
  const elsize = state && typeof state[5] === 'number' ? state[5] : -1;
  if (elsize >= 0) return elsize;
  if ('biufc'.includes(kind)) return n || null;
  if (kind === 'S' || kind === 'a' || kind === 'V') return n || null;
  if (kind === 'U') return n * 4 || null;
  if (kind === 'M' || kind === 'm') return 8;
  if (kind === '?') return 1;
  return null;
}

function hasObjectField(fields: PDict): boolean {
  for (const v of fields.vals) {
    if (v instanceof PSeq && v.items && v.items[0] instanceof PCall && dtypeItemSize(v.items[0]) === 'object') return true;
  }
  return false;
}

function describe(v: PValue): string {
  if (typeof v === 'string') return v;
  if (v === UNKNOWN) return '<unknown>';
  return `<${render(v, 1)}>`;
}

/** A short, bounded, printable rendering of a value for evidence. */
export function render(v: PValue, depth: number): string {
  const out = renderInner(v, depth);
  return out.length > 200 ? out.slice(0, 197) + '...' : out;
}

function renderInner(v: PValue, depth: number): string {
  if (v === undefined) return '?';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 120 ? v.slice(0, 117) + '...' : v);
  if (v instanceof PGlobal) return `${v.site.module}.${v.site.name}`;
  if (depth <= 0) return '…';
  if (v instanceof PCall) return `${renderInner(v.callee, depth - 1)}(${v.args instanceof PSeq && v.args.items ? v.args.items.map((x) => renderInner(x, depth - 1)).join(', ') : renderInner(v.args, depth - 1)})`;
  if (v instanceof PSeq) {
    if (!v.items) return `<${v.kind} of ${v.n}>`;
    const inner = v.items.slice(0, 8).map((x) => renderInner(x, depth - 1)).join(', ') + (v.items.length > 8 ? ', …' : '');
    return v.kind === 'tuple' ? `(${inner}${v.items.length === 1 ? ',' : ''})` : v.kind === 'list' ? `[${inner}]` : `${v.kind}({${inner}})`;
  }
  if (v instanceof PDict) return v.keys ? `{${v.keys.slice(0, 6).map((k, i) => `${renderInner(k, depth - 1)}: ${renderInner(v.vals[i], depth - 1)}`).join(', ')}}` : `<dict of ${v.n}>`;
  if (v instanceof PBytes) return `<${v.kind} of ${v.length} bytes>`;
  return `<${(v as POpaque).kind}>`;
}

function unescapePy(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[e] ?? '\\' + e;
  });
}

function unescapeRawUnicode(s: string): string {
  if (!s.includes('\\u') && !s.includes('\\U')) return s;
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string, b: string) => {
    const cp = parseInt(a ?? b, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  });
}
