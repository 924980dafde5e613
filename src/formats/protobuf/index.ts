// Protocol Buffers wire format, read from hostile bytes without a schema: tags, varints, fixed-width
// values and length-delimited ranges. A message is walked as a range [start, end) of the source; nested
// messages are sub-ranges the caller chooses to enter, so payloads nobody asks for are skipped, never read.
// Every declared length is checked against the enclosing range before anything is read or allocated;
// depth, field count and time are bounded. Groups (wire types 3/4, deprecated since proto2) fail: no
// format read here uses them, and real parsers would keep them as opaque unknown fields we cannot judge.
import { FormatError, LimitError } from '../errors.ts';
import { BufferSource, type ByteSource } from '../source.ts';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export interface ProtoLimits {
  /** Nested messages entered (protobuf's own parsers refuse more than 100). */
  maxDepth: number;
  /** Fields read across the whole input. */
  maxFields: number;
  /** Bytes of strings decoded across the whole input (memory bound). */
  maxTextBytes: number;
  /** Absolute time (Date.now()) after which the walk stops with a LimitError. */
  deadline: number;
}

export const DEFAULT_PROTO_LIMITS: ProtoLimits = { maxDepth: 100, maxFields: 50_000_000, maxTextBytes: 256 << 20, deadline: Infinity };
/** Longest single string decoded (a name, an op type, a path, a JSON metadata blob). */
export const MAX_TEXT = 16 << 20;

// Reads from files go through one window: a depth-first walk moves forward through the bytes, so a
// window refilled at the current position serves nearly every read.
const WINDOW = 64 << 10;
const TWO32 = 4294967296;
const utf8 = new TextDecoder('utf-8');

export class ProtoReader {
  readonly size: number;
  readonly limits: ProtoLimits;
  private buf: Uint8Array;
  private bufStart = 0;
  private fieldsRead = 0;
  private textBytes = 0;

  constructor(
    readonly src: ByteSource,
    limits: Partial<ProtoLimits> = {},
  ) {
    this.size = src.size;
    this.limits = { ...DEFAULT_PROTO_LIMITS, ...limits };
    // In-memory sources are read through a view of all their bytes: no copies at all.
    this.buf = src instanceof BufferSource ? src.bytes : new Uint8Array(0);
  }

  /** The byte at `pos`; the caller has checked `pos` lies inside its range. */
  byte(pos: number): number {
    const i = pos - this.bufStart;
    if (i >= 0 && i < this.buf.length) return this.buf[i];
    this.fill(pos, 1);
    return this.buf[0];
  }

  /** A view of [pos, pos + len) valid until the next read; len is bounded by the caller. */
  view(pos: number, len: number): Uint8Array {
    const i = pos - this.bufStart;
    if (i < 0 || i + len > this.buf.length) {
      this.fill(pos, len);
      return this.buf.subarray(0, len);
    }
    return this.buf.subarray(i, i + len);
  }

  /** A copy of at most `max` bytes from [pos, pos + len). */
  bytes(pos: number, len: number, max = len): Uint8Array {
    return Uint8Array.from(this.view(pos, Math.min(len, max)));
  }

  /**
   * UTF-8 text of [pos, pos + len), malformed sequences replaced (what proto2 parsers accept). Strings are
   * names, op types and paths: longer than `max` is refused rather than read, and the text decoded from
   * one input is bounded as a whole.
   */
  text(pos: number, len: number, max = MAX_TEXT): string {
    if (len === 0) return '';
    if (len > max) throw new LimitError('proto-string', `string field of ${len} bytes at ${pos} (more than ${max})`, pos);
    this.textBytes += len;
    if (this.textBytes > this.limits.maxTextBytes) throw new LimitError('proto-text', `more than ${this.limits.maxTextBytes} bytes of strings decoded`, pos);
    return utf8.decode(this.view(pos, len));
  }

  private fill(pos: number, len: number): void {
    if (pos < 0 || pos + len > this.size) throw new FormatError('proto-eof', `read past the end of the input at ${pos}`, pos);
    const want = Math.min(Math.max(len, WINDOW), this.size - pos);
    const chunk = this.src.read(pos, want);
    if (chunk.length < len) throw new FormatError('proto-eof', `input ended at ${pos + chunk.length}, expected ${len} bytes at ${pos}`, pos);
    this.buf = chunk;
    this.bufStart = pos;
  }

  /** A cursor over the fields of the message occupying [start, end) at nesting `depth` (0 = top level). */
  message(start: number, end: number, depth: number): FieldCursor {
    if (depth > this.limits.maxDepth) throw new LimitError('proto-depth', `messages nested deeper than ${this.limits.maxDepth} levels`, start);
    if (start < 0 || end > this.size || start > end) throw new FormatError('proto-range', `message range ${start}..${end} outside the input`, start);
    return new FieldCursor(this, start, end, depth);
  }

  /** Counts one field against the input's budget; checks the clock now and then. */
  count(pos: number): void {
    if (++this.fieldsRead > this.limits.maxFields) throw new LimitError('proto-fields', `more than ${this.limits.maxFields} protobuf fields`, pos);
    if ((this.fieldsRead & 0xffff) === 0 && Date.now() > this.limits.deadline) throw new LimitError('time', 'protobuf walk ran out of time', pos);
  }

  /** Reads a varint at `pos` that must end before `end`: [low 32 bits, high 32 bits, next position]. */
  varint(pos: number, end: number): [number, number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new FormatError('proto-truncated', `varint runs past the end of its message at ${pos}`, pos);
      const b = this.byte(pos++);
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) {
        if (i === 9 && b > 1) throw new FormatError('proto-varint', `varint overflows 64 bits at ${pos - 1}`, pos - 1);
        return [lo >>> 0, hi >>> 0, pos];
      }
    }
    throw new FormatError('proto-varint', `varint longer than 10 bytes at ${pos}`, pos);
  }

  /** Counts the varints in a packed range without decoding them. */
  countVarints(start: number, end: number): number {
    let n = 0;
    for (let p = start; p < end; ) {
      const chunk = this.view(p, Math.min(WINDOW, end - p));
      for (const b of chunk) if ((b & 0x80) === 0) n++;
      p += chunk.length;
    }
    if (end > start && (this.byte(end - 1) & 0x80) !== 0) throw new FormatError('proto-truncated', `packed varints end mid-value at ${end}`, end);
    return n;
  }

  fixed32(pos: number): number {
    const v = this.view(pos, 4);
    return (v[0] | (v[1] << 8) | (v[2] << 16) | (v[3] << 24)) >>> 0;
  }

  float32(pos: number): number {
    const v = this.view(pos, 4);
    return new DataView(v.buffer, v.byteOffset, 4).getFloat32(0, true);
  }

  float64(pos: number): number {
    const v = this.view(pos, 8);
    return new DataView(v.buffer, v.byteOffset, 8).getFloat64(0, true);
  }
}

/** Unsigned value of a 64-bit varint (exact up to 2^53). */
export function unsigned(lo: number, hi: number): number {
  return hi * TWO32 + lo;
}

/** Two's-complement value of a 64-bit varint (int64, and int32 written as ten bytes). */
export function signed(lo: number, hi: number): number {
  return hi >= 0x80000000 ? (hi - TWO32) * TWO32 + lo : hi * TWO32 + lo;
}

/**
 * Iterates the fields of one message. After `next()` returns true: `field`, `wire`, `tagOffset`; for
 * varints `lo`/`hi` (and `value`); for fixed values and length-delimited fields the range `start..end`.
 * Allocation-free: one cursor per message, reused across its fields.
 */
export class FieldCursor {
  pos: number;
  field = 0;
  wire = 0;
  tagOffset = 0;
  lo = 0;
  hi = 0;
  start = 0;
  end = 0;

  constructor(
    readonly r: ProtoReader,
    readonly msgStart: number,
    readonly msgEnd: number,
    readonly depth: number,
  ) {
    this.pos = msgStart;
  }

  /** Unsigned varint value (exact up to 2^53). */
  get value(): number {
    return unsigned(this.lo, this.hi);
  }

  /** Signed varint value (int32/int64 fields). */
  get signed(): number {
    return signed(this.lo, this.hi);
  }

  get length(): number {
    return this.end - this.start;
  }

  next(): boolean {
    if (this.pos >= this.msgEnd) return false;
    const r = this.r;
    this.tagOffset = this.pos;
    r.count(this.pos);
    const [tagLo, tagHi, afterTag] = r.varint(this.pos, this.msgEnd);
    if (tagHi !== 0 || afterTag - this.pos > 5) throw new FormatError('proto-tag', `tag wider than 32 bits at ${this.pos}`, this.pos);
    this.field = tagLo >>> 3;
    this.wire = tagLo & 7;
    if (this.field === 0) throw new FormatError('proto-tag', `field number 0 at ${this.pos}`, this.pos);
    let p = afterTag;
    switch (this.wire) {
      case WIRE_VARINT: {
        const [lo, hi, after] = r.varint(p, this.msgEnd);
        this.lo = lo;
        this.hi = hi;
        this.start = p;
        this.end = p = after;
        break;
      }
      case WIRE_I64:
      case WIRE_I32: {
        const n = this.wire === WIRE_I64 ? 8 : 4;
        if (p + n > this.msgEnd) throw new FormatError('proto-truncated', `fixed-width field ${this.field} runs past its message at ${p}`, p);
        this.start = p;
        this.end = p += n;
        break;
      }
      case WIRE_LEN: {
        const [lo, hi, after] = r.varint(p, this.msgEnd);
        // A declared length is compared with what is left of the enclosing message before any use.
        const room = this.msgEnd - after;
        if (hi !== 0 || lo > room) {
          throw new FormatError('proto-length', `field ${this.field} declares ${unsigned(lo, hi)} bytes at ${this.tagOffset} but its message has ${room} left`, this.tagOffset);
        }
        this.start = after;
        this.end = p = after + lo;
        break;
      }
      default:
        throw new FormatError('proto-wire', `wire type ${this.wire} (field ${this.field}) at ${this.tagOffset} is not supported`, this.tagOffset);
    }
    this.pos = p;
    return true;
  }

  /** Enters the current length-delimited field as a message. */
  sub(): FieldCursor {
    return this.r.message(this.start, this.end, this.depth + 1);
  }

  text(max?: number): string {
    return this.r.text(this.start, this.end - this.start, max);
  }
}

/** True when [start, end) parses as a sequence of well-formed fields (no nesting checked). */
export function isWellFormed(r: ProtoReader, start: number, end: number): boolean {
  try {
    const c = r.message(start, end, 0);
    while (c.next());
    return true;
  } catch (e) {
    if (e instanceof FormatError || e instanceof LimitError) return false;
    throw e;
  }
}

/** A varint at `p` of an in-memory head (for content sniffing), or null when it does not end in 10 bytes. */
export function varintAt(b: Uint8Array, p: number): { value: number; next: number } | null {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10 && p < b.length; i++, p++) {
    value += (b[p] & 0x7f) * mul;
    mul *= 128;
    if ((b[p] & 0x80) === 0) return { value, next: p + 1 };
  }
  return null;
}
