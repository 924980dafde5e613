// The LZ4 frame format (lz4 CLI, python-lz4's lz4.frame). Blocks are decoded here with a bounds check on
// every read, write and match offset: lz4js's own decoder allocates whatever size a frame declares and
// copies past a block's end on hostile lengths. lz4js supplies the XXH32 used for the frame's checksums.
import { hash as xxh32 } from 'lz4js/xxh32.js';
import { FormatError } from '../errors.ts';
import { allZero, type BoundedOutput } from './output.ts';

const FRAME_MAGIC = 0x184d2204;
const LEGACY_MAGIC = 0x184c2102;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_MAX: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };
const HISTORY = 64 << 10;
const MIN_MATCH = 4;

function corrupt(what: string, offset: number): FormatError {
  return new FormatError('CORRUPT_STREAM', `lz4: ${what}`, offset);
}

function u32(input: Uint8Array, at: number): number {
  if (at + 4 > input.length) throw corrupt('unexpected end of input', input.length);
  return (input[at] | (input[at + 1] << 8) | (input[at + 2] << 16) | (input[at + 3] << 24)) >>> 0;
}

/**
 * Decodes one compressed block `src[ip, end)` into `dst` from `op`, writing at most up to `opMax`; matches
 * may reach back to the start of `dst`, which holds the frame's kept history. Returns the new output position.
 */
function decodeBlock(src: Uint8Array, ip: number, end: number, dst: Uint8Array, op: number, opMax: number): number {
  for (;;) {
    if (ip >= end) throw corrupt('block does not end with literals', ip);
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      for (;;) {
        if (ip >= end) throw corrupt('literal length runs past the block', ip);
        const b = src[ip++];
        lit += b;
        if (b !== 255) break;
      }
    }
    if (lit > end - ip) throw corrupt('literals run past the block', ip);
    if (lit > opMax - op) throw corrupt('block decodes to more than its maximum size', ip);
    dst.set(src.subarray(ip, ip + lit), op);
    ip += lit;
    op += lit;
    if (ip === end) return op;
    if (end - ip < 2) throw corrupt('match offset runs past the block', ip);
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw corrupt(`match offset ${offset} out of range`, ip - 2);
    let len = token & 15;
    if (len === 15) {
      for (;;) {
        if (ip >= end) throw corrupt('match length runs past the block', ip);
        const b = src[ip++];
        len += b;
        if (b !== 255) break;
      }
    }
    len += MIN_MATCH;
    if (len > opMax - op) throw corrupt('block decodes to more than its maximum size', ip);
    if (offset >= len) {
      dst.copyWithin(op, op - offset, op - offset + len);
      op += len;
    } else {
      for (let s = op - offset, stop = op + len; op < stop; ) dst[op++] = dst[s++];
    }
  }
}

/** One decode buffer per call, reused by every frame in it: a run of tiny frames must not allocate each. */
class Scratch {
  private buf = new Uint8Array(0);
  get(size: number): Uint8Array {
    if (this.buf.length < size) this.buf = new Uint8Array(size);
    return this.buf;
  }
}

/** Decodes the frame at `p`; returns the offset just past it. */
function decodeFrame(input: Uint8Array, p: number, out: BoundedOutput, scratch: Scratch): number {
  const start = p;
  if (p + 7 > input.length) throw corrupt('frame header truncated', p);
  const flg = input[p + 4];
  const bd = input[p + 5];
  if (flg >>> 6 !== 1) throw corrupt(`unsupported frame version ${flg >>> 6}`, p + 4);
  if (flg & 0x02 || bd & 0x8f) throw corrupt('reserved frame descriptor bits are set', p + 4);
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  const blockMax = BLOCK_MAX[(bd >>> 4) & 7];
  if (blockMax === undefined) throw corrupt(`invalid block size code ${(bd >>> 4) & 7}`, p + 5);
  const descLen = 2 + (hasContentSize ? 8 : 0) + (hasDictId ? 4 : 0);
  if (p + 4 + descLen + 1 > input.length) throw corrupt('frame header truncated', p);
  const hc = (xxh32(0, input, p + 4, descLen) >>> 8) & 0xff;
  if (input[p + 4 + descLen] !== hc) throw corrupt('frame header checksum mismatch', p + 4 + descLen);
  if (hasDictId) throw new FormatError('UNSUPPORTED', 'lz4: frame needs an external dictionary', p + 4);
  const contentSize = hasContentSize ? u32(input, p + 6) + u32(input, p + 10) * 2 ** 32 : null;
  p += 4 + descLen + 1;

  const frameStart = out.len;
  // Linked blocks may copy from the 64 KiB before them, so they are decoded one after another into a
  // window that is compacted to its last 64 KiB only when less than a block's room is left: the cost of
  // compacting stays proportional to the output, however small the blocks.
  const window = scratch.get(independent ? blockMax : HISTORY + 2 * blockMax);
  let from = 0;
  for (;;) {
    const word = u32(input, p);
    p += 4;
    if (word === 0) break;
    const stored = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > blockMax) throw corrupt(`block of ${size} bytes exceeds the frame's ${blockMax}-byte maximum`, p - 4);
    if (size + (blockChecksum ? 4 : 0) > input.length - p) throw corrupt('unexpected end of input', input.length);
    if (blockChecksum && xxh32(0, input, p, size) !== u32(input, p + size)) throw corrupt('block checksum mismatch', p);
    let end: number;
    if (stored) {
      window.set(input.subarray(p, p + size), from);
      end = from + size;
    } else {
      end = decodeBlock(input, p, p + size, window, from, from + blockMax);
    }
    out.push(window.subarray(from, end));
    p += size + (blockChecksum ? 4 : 0);
    if (independent) continue;
    from = end;
    if (window.length - from < blockMax) {
      const keep = Math.min(HISTORY, from);
      window.copyWithin(0, from - keep, from);
      from = keep;
    }
  }
  const produced = out.len - frameStart;
  if (contentChecksum) {
    const want = u32(input, p);
    if (xxh32(0, out.buf, frameStart, produced) !== want) throw corrupt('content checksum mismatch', p);
    p += 4;
  }
  if (contentSize !== null && contentSize !== produced) {
    throw corrupt(`frame declares ${contentSize} bytes but decodes to ${produced}`, start);
  }
  return p;
}

/** Decodes concatenated LZ4 frames, skipping skippable frames; zero padding after the last is ignored. */
export function unlz4(input: Uint8Array, out: BoundedOutput): void {
  const scratch = new Scratch();
  let p = 0;
  do {
    const magic = u32(input, p);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      const size = u32(input, p + 4);
      if (size > input.length - p - 8) throw corrupt('skippable frame runs past the input', p);
      p += 8 + size;
    } else if (magic === FRAME_MAGIC) {
      p = decodeFrame(input, p, out, scratch);
    } else if (magic === LEGACY_MAGIC) {
      throw new FormatError('UNSUPPORTED', 'lz4: legacy frame format is not supported', p);
    } else {
      throw corrupt(`not an LZ4 frame (magic ${magic.toString(16)})`, p);
    }
  } while (p < input.length && !allZero(input.subarray(p)));
}
