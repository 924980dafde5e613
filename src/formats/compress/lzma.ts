// A decoder for the LZMA "alone" format (.lzma; Python's lzma.FORMAT_ALONE, joblib's 'lzma'), written
// here rather than borrowed because none of the pure-JS packages can be stopped mid-stream or refuse a
// hostile dictionary size. It follows the LZMA SDK's reference decoder (LzmaSpec.cpp) and writes straight
// into the bounded output, which doubles as the dictionary: there is no separate window to size from the
// header, so a header claiming a 4 GiB dictionary costs nothing.
import { FormatError } from '../errors.ts';
import { allZero, type BoundedOutput } from './output.ts';

const HEADER_SIZE = 13;
const MIN_DICT = 1 << 12;

const PROB_INIT = 1 << 10;
const NUM_STATES = 12;
const POS_BITS_MAX = 4;
const LEN_TO_POS_STATES = 4;
const ALIGN_BITS = 4;
const END_POS_MODEL_INDEX = 14;
const NUM_FULL_DISTANCES = 1 << 7;
const MATCH_MIN_LEN = 2;
const END_MARKER = 0xffffffff;

// Length decoder layout in one probability array: choice, choice2, low[16][8], mid[16][8], high[256].
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = LEN_LOW + (1 << POS_BITS_MAX) * 8;
const LEN_HIGH = LEN_MID + (1 << POS_BITS_MAX) * 8;
const LEN_PROBS = LEN_HIGH + 256;

export interface LzmaAloneHeader {
  lc: number;
  lp: number;
  pb: number;
  dictSize: number;
  /** Declared uncompressed size, or null when the stream ends with an end marker instead. */
  unpackSize: number | null;
}

export function parseLzmaAloneHeader(input: Uint8Array, at = 0): LzmaAloneHeader {
  if (input.length - at < HEADER_SIZE) throw new FormatError('CORRUPT_STREAM', 'lzma: header truncated', at);
  let d = input[at];
  if (d >= 9 * 5 * 5) throw new FormatError('CORRUPT_STREAM', `lzma: invalid properties byte ${d}`, at);
  const lc = d % 9;
  d = (d / 9) | 0;
  const lp = d % 5;
  const pb = (d / 5) | 0;
  const dv = new DataView(input.buffer, input.byteOffset + at, HEADER_SIZE);
  const dictSize = dv.getUint32(1, true);
  const lo = dv.getUint32(5, true);
  const hi = dv.getUint32(9, true);
  const unknown = lo === 0xffffffff && hi === 0xffffffff;
  return { lc, lp, pb, dictSize, unpackSize: unknown ? null : hi * 2 ** 32 + lo };
}

class LzmaStream {
  // Range decoder state.
  private range = 0xffffffff;
  private code = 0;
  ip: number;

  private readonly lc: number;
  private readonly lp: number;
  private readonly pbMask: number;
  private readonly dictSize: number;
  private readonly literal: Uint16Array;
  private readonly isMatch = probs(NUM_STATES << POS_BITS_MAX);
  private readonly isRep = probs(NUM_STATES);
  private readonly isRepG0 = probs(NUM_STATES);
  private readonly isRepG1 = probs(NUM_STATES);
  private readonly isRepG2 = probs(NUM_STATES);
  private readonly isRep0Long = probs(NUM_STATES << POS_BITS_MAX);
  private readonly posSlot = probs(LEN_TO_POS_STATES << 6);
  private readonly posSpecial = probs(1 + NUM_FULL_DISTANCES - END_POS_MODEL_INDEX);
  private readonly align = probs(1 << ALIGN_BITS);
  private readonly lenProbs = probs(LEN_PROBS);
  private readonly repLenProbs = probs(LEN_PROBS);

  /** Where this stream's output starts in `out`: matches may not reach before it. */
  private readonly base: number;

  constructor(
    private readonly input: Uint8Array,
    start: number,
    private readonly out: BoundedOutput,
    private readonly header: LzmaAloneHeader,
  ) {
    this.lc = header.lc;
    this.lp = header.lp;
    this.pbMask = (1 << header.pb) - 1;
    this.dictSize = Math.max(header.dictSize, MIN_DICT);
    this.literal = probs(0x300 << (header.lc + header.lp));
    this.base = out.len;
    this.ip = start + HEADER_SIZE;
    if (this.nextByte() !== 0) throw this.corrupt('range coder does not start with a zero byte');
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.nextByte()) >>> 0;
    if (this.code === this.range) throw this.corrupt('invalid range coder state');
  }

  private corrupt(what: string): FormatError {
    return new FormatError('CORRUPT_STREAM', `lzma: ${what}`, this.ip);
  }

  private nextByte(): number {
    if (this.ip >= this.input.length) throw new FormatError('CORRUPT_STREAM', 'lzma: unexpected end of input', this.ip);
    return this.input[this.ip++];
  }

  private bit(p: Uint16Array, i: number): number {
    const v = p[i];
    const bound = (this.range >>> 11) * v;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      p[i] = v + ((2048 - v) >>> 5);
      b = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      p[i] = v - (v >>> 5);
      b = 1;
    }
    if (this.range < 0x1000000) {
      this.range = (this.range * 256) >>> 0;
      this.code = ((this.code << 8) | this.nextByte()) >>> 0;
    }
    return b;
  }

  private directBits(n: number): number {
    let res = 0;
    for (; n > 0; n--) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      res = res * 2 + b;
      if (this.range < 0x1000000) {
        this.range = (this.range * 256) >>> 0;
        this.code = ((this.code << 8) | this.nextByte()) >>> 0;
      }
    }
    return res;
  }

  private bitTree(p: Uint16Array, offset: number, numBits: number): number {
    let m = 1;
    for (let i = 0; i < numBits; i++) m = (m << 1) + this.bit(p, offset + m);
    return m - (1 << numBits);
  }

  private bitTreeReverse(p: Uint16Array, offset: number, numBits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < numBits; i++) {
      const b = this.bit(p, offset + m);
      m = (m << 1) + b;
      sym |= b << i;
    }
    return sym;
  }

  private len(p: Uint16Array, posState: number): number {
    if (this.bit(p, LEN_CHOICE) === 0) return this.bitTree(p, LEN_LOW + posState * 8, 3);
    if (this.bit(p, LEN_CHOICE2) === 0) return 8 + this.bitTree(p, LEN_MID + posState * 8, 3);
    return 16 + this.bitTree(p, LEN_HIGH, 8);
  }

  private distance(len: number): number {
    const lenState = Math.min(len, LEN_TO_POS_STATES - 1);
    const slot = this.bitTree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const numDirect = (slot >>> 1) - 1;
    let dist = (2 | (slot & 1)) * 2 ** numDirect;
    if (slot < END_POS_MODEL_INDEX) return dist + this.bitTreeReverse(this.posSpecial, dist - slot, numDirect);
    dist += this.directBits(numDirect - ALIGN_BITS) * (1 << ALIGN_BITS);
    return dist + this.bitTreeReverse(this.align, 0, ALIGN_BITS);
  }

  private putByte(b: number): void {
    const out = this.out;
    out.reserve(1);
    out.buf[out.len++] = b;
  }

  /** The byte `dist` bytes back (1 = the last one written). */
  private byteAt(dist: number): number {
    return this.out.buf[this.out.len - dist];
  }

  private copyMatch(dist: number, len: number): void {
    const out = this.out;
    out.reserve(len);
    const buf = out.buf;
    let o = out.len;
    for (let s = o - dist, end = o + len; o < end; ) buf[o++] = buf[s++];
    out.len = o;
  }

  private literalByte(state: number, rep0: number): void {
    const total = this.out.len - this.base;
    const prev = total > 0 ? this.byteAt(1) : 0;
    const litState = ((total & ((1 << this.lp) - 1)) << this.lc) + (prev >>> (8 - this.lc));
    const p = this.literal;
    const off = litState * 0x300;
    let sym = 1;
    if (state >= 7) {
      let matchByte = this.byteAt(rep0 + 1);
      do {
        const matchBit = (matchByte >>> 7) & 1;
        matchByte <<= 1;
        const b = this.bit(p, off + ((1 + matchBit) << 8) + sym);
        sym = (sym << 1) | b;
        if (matchBit !== b) break;
      } while (sym < 0x100);
    }
    while (sym < 0x100) sym = (sym << 1) | this.bit(p, off + sym);
    this.putByte(sym - 0x100);
  }

  /** Decodes the whole stream; returns the input offset just past it. */
  run(): number {
    const { unpackSize } = this.header;
    const sized = unpackSize !== null;
    let left = unpackSize ?? 0;
    let state = 0;
    let rep0 = 0;
    let rep1 = 0;
    let rep2 = 0;
    let rep3 = 0;
    for (;;) {
      // A sized stream may stop at its size, or carry an end marker after it (liblzma accepts both).
      if (sized && left === 0 && this.code === 0) return this.ip;
      const total = this.out.len - this.base;
      const posState = total & this.pbMask;
      if (this.bit(this.isMatch, (state << POS_BITS_MAX) + posState) === 0) {
        if (sized && left === 0) throw this.corrupt('data continues past the declared size');
        this.literalByte(state, rep0);
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        left--;
        continue;
      }
      let len: number;
      if (this.bit(this.isRep, state) !== 0) {
        if (sized && left === 0) throw this.corrupt('data continues past the declared size');
        if (total === 0) throw this.corrupt('repeated match before any output');
        if (this.bit(this.isRepG0, state) === 0) {
          if (this.bit(this.isRep0Long, (state << POS_BITS_MAX) + posState) === 0) {
            state = state < 7 ? 9 : 11;
            this.putByte(this.byteAt(rep0 + 1));
            left--;
            continue;
          }
        } else {
          let dist: number;
          if (this.bit(this.isRepG1, state) === 0) {
            dist = rep1;
          } else {
            if (this.bit(this.isRepG2, state) === 0) {
              dist = rep2;
            } else {
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        len = this.len(this.repLenProbs, posState);
        state = state < 7 ? 8 : 11;
      } else {
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        len = this.len(this.lenProbs, posState);
        state = state < 7 ? 7 : 10;
        rep0 = this.distance(len);
        if (rep0 === END_MARKER) {
          if (this.code !== 0) throw this.corrupt('end marker with a non-final range coder state');
          if (sized && left !== 0) throw this.corrupt(`stream ended ${left} bytes before its declared size`);
          return this.ip;
        }
        if (sized && left === 0) throw this.corrupt('data continues past the declared size');
        if (rep0 >= this.dictSize || rep0 >= total) throw this.corrupt(`match distance ${rep0 + 1} out of range`);
      }
      len += MATCH_MIN_LEN;
      if (sized && left < len) throw this.corrupt('match runs past the declared size');
      this.copyMatch(rep0 + 1, len);
      left -= len;
    }
  }
}

function probs(n: number): Uint16Array {
  return new Uint16Array(n).fill(PROB_INIT);
}

/**
 * Decodes .lzma data. Like Python's LZMAFile, a second stream may follow the first; zero padding after the
 * last one is ignored and anything else is corrupt.
 */
export function unlzma(input: Uint8Array, out: BoundedOutput): void {
  let offset = 0;
  do {
    const header = parseLzmaAloneHeader(input, offset);
    const end = new LzmaStream(input, offset, out, header).run();
    offset = end;
  } while (offset < input.length && !allZero(input.subarray(offset)));
}
