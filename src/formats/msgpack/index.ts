// MessagePack (Flax checkpoints: flax.serialization.to_bytes). A bounded decoder into a light tree:
// strings are kept as previews, bin and ext payloads as (offset, length) and never copied, so a
// multi-GB checkpoint is walked by reading only its type tags and keys. Every declared length and count
// is checked against the bytes that remain before it is used; depth and node count are bounded.
import { FormatError, LimitError } from '../errors.ts';
import type { ByteSource } from '../source.ts';

export type MsgNode =
  | { t: 'nil'; offset: number }
  | { t: 'bool'; v: boolean; offset: number }
  | { t: 'int'; v: number; offset: number }
  | { t: 'float'; v: number; offset: number }
  /** `v` holds at most `maxString` bytes of the string, decoded; `len` is the full byte length. */
  | { t: 'str'; v: string; len: number; offset: number }
  | { t: 'bin'; len: number; offset: number; data: number }
  | { t: 'arr'; items: MsgNode[]; offset: number }
  | { t: 'map'; entries: Array<[MsgNode, MsgNode]>; offset: number }
  | { t: 'ext'; type: number; len: number; offset: number; data: number };

export interface MsgpackLimits {
  maxDepth: number;
  maxNodes: number;
  /** Bytes of each string that are decoded (keys and dtype names are short). */
  maxString: number;
  deadline: number;
}

export const DEFAULT_MSGPACK_LIMITS: MsgpackLimits = { maxDepth: 128, maxNodes: 5_000_000, maxString: 4096, deadline: Infinity };

/** True for the first byte of a map (fixmap, map16, map32): a Flax state dict starts with one. */
export function startsWithMsgpackMap(head: Uint8Array): boolean {
  return head.length > 0 && ((head[0] >= 0x80 && head[0] <= 0x8f) || head[0] === 0xde || head[0] === 0xdf);
}

const WINDOW = 64 << 10;
const utf8 = new TextDecoder('utf-8');

class Reader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  nodes = 0;
  constructor(
    readonly src: ByteSource,
    public pos: number,
    readonly end: number,
    readonly limits: MsgpackLimits,
  ) {}

  bytes(n: number): Uint8Array {
    if (n > this.end - this.pos) throw new FormatError('MSGPACK_TRUNCATED', `value of ${n} bytes at ${this.pos} runs past the end (${this.end})`, this.pos);
    const rel = this.pos - this.bufStart;
    if (rel < 0 || rel + n > this.buf.length) {
      this.bufStart = this.pos;
      this.buf = this.src.read(this.pos, Math.min(Math.max(n, WINDOW), this.end - this.pos));
      if (this.buf.length < n) throw new FormatError('MSGPACK_TRUNCATED', `file ends inside a value at ${this.pos}`, this.pos);
    }
    const at = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }

  uint(n: number): number {
    const b = this.bytes(n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[i];
    return v;
  }

  /** Skips a payload without reading it; returns where it starts. */
  skip(n: number): number {
    if (n > this.end - this.pos) throw new FormatError('MSGPACK_TRUNCATED', `payload of ${n} bytes at ${this.pos} runs past the end (${this.end})`, this.pos);
    const at = this.pos;
    this.pos += n;
    return at;
  }
}

export function decodeMsgpack(src: ByteSource, start = 0, end = src.size, limits: Partial<MsgpackLimits> = {}): { root: MsgNode; end: number } {
  const r = new Reader(src, start, Math.min(end, src.size), { ...DEFAULT_MSGPACK_LIMITS, ...limits });
  const root = value(r, 0);
  return { root, end: r.pos };
}

function value(r: Reader, depth: number): MsgNode {
  if (depth > r.limits.maxDepth) throw new FormatError('MSGPACK_DEPTH', `values nested deeper than ${r.limits.maxDepth}`, r.pos);
  if (++r.nodes > r.limits.maxNodes) throw new LimitError('msgpack-nodes', `more than ${r.limits.maxNodes} msgpack values`, r.pos);
  if ((r.nodes & 0xffff) === 0 && Date.now() > r.limits.deadline) throw new LimitError('time', 'msgpack scan exceeded the time budget', r.pos);
  const offset = r.pos;
  const b = r.uint(1);
  if (b <= 0x7f) return { t: 'int', v: b, offset };
  if (b >= 0xe0) return { t: 'int', v: b - 0x100, offset };
  if (b >= 0x80 && b <= 0x8f) return map(r, b & 0x0f, depth, offset);
  if (b >= 0x90 && b <= 0x9f) return arr(r, b & 0x0f, depth, offset);
  if (b >= 0xa0 && b <= 0xbf) return str(r, b & 0x1f, offset);
  switch (b) {
    case 0xc0: return { t: 'nil', offset };
    case 0xc2: return { t: 'bool', v: false, offset };
    case 0xc3: return { t: 'bool', v: true, offset };
    case 0xc4: case 0xc5: case 0xc6: {
      const len = r.uint(1 << (b - 0xc4));
      return { t: 'bin', len, offset, data: r.skip(len) };
    }
    case 0xc7: case 0xc8: case 0xc9: {
      const len = r.uint(1 << (b - 0xc7));
      const type = signed8(r.uint(1));
      return { t: 'ext', type, len, offset, data: r.skip(len) };
    }
    case 0xca: return { t: 'float', v: new DataView(r.bytes(4).slice().buffer).getFloat32(0), offset };
    case 0xcb: return { t: 'float', v: new DataView(r.bytes(8).slice().buffer).getFloat64(0), offset };
    case 0xcc: case 0xcd: case 0xce: case 0xcf: return { t: 'int', v: r.uint(1 << (b - 0xcc)), offset };
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
      const n = 1 << (b - 0xd0);
      const u = r.uint(n);
      return { t: 'int', v: u >= 2 ** (8 * n - 1) ? u - 2 ** (8 * n) : u, offset };
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
      const len = 1 << (b - 0xd4);
      const type = signed8(r.uint(1));
      return { t: 'ext', type, len, offset, data: r.skip(len) };
    }
    case 0xd9: case 0xda: case 0xdb: return str(r, r.uint(1 << (b - 0xd9)), offset);
    case 0xdc: case 0xdd: return arr(r, r.uint(b === 0xdc ? 2 : 4), depth, offset);
    case 0xde: case 0xdf: return map(r, r.uint(b === 0xde ? 2 : 4), depth, offset);
    default: throw new FormatError('MSGPACK_TYPE', `byte 0x${b.toString(16)} is not a msgpack type`, offset);
  }
}

const signed8 = (u: number) => (u >= 0x80 ? u - 0x100 : u);

function str(r: Reader, len: number, offset: number): MsgNode {
  if (len > r.end - r.pos) throw new FormatError('MSGPACK_TRUNCATED', `string of ${len} bytes at ${offset} runs past the end (${r.end})`, offset);
  const shown = Math.min(len, r.limits.maxString);
  const v = utf8.decode(r.bytes(shown));
  r.skip(len - shown);
  return { t: 'str', v, len, offset };
}

function arr(r: Reader, n: number, depth: number, offset: number): MsgNode {
  // Every element takes at least one byte: a count beyond the remaining bytes is a lie.
  if (n > r.end - r.pos) throw new FormatError('MSGPACK_COUNT', `array of ${n} elements at ${offset} cannot fit in the ${r.end - r.pos} bytes left`, offset);
  const items: MsgNode[] = [];
  for (let i = 0; i < n; i++) items.push(value(r, depth + 1));
  return { t: 'arr', items, offset };
}

function map(r: Reader, n: number, depth: number, offset: number): MsgNode {
  if (2 * n > r.end - r.pos) throw new FormatError('MSGPACK_COUNT', `map of ${n} entries at ${offset} cannot fit in the ${r.end - r.pos} bytes left`, offset);
  const entries: Array<[MsgNode, MsgNode]> = [];
  for (let i = 0; i < n; i++) {
    const k = value(r, depth + 1);
    entries.push([k, value(r, depth + 1)]);
  }
  return { t: 'map', entries, offset };
}
