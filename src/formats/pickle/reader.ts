// A cursor over a ByteSource tuned for the opcode walker: one window buffer, no per-opcode syscalls,
// and the two FRAME semantics CPython has (see `restartAtFrameEnd`).
import type { ByteSource } from '../source.ts';
import { BufferSource } from '../source.ts';
import { FormatError, LimitError } from '../errors.ts';

const WINDOW = 4 << 20;
const FIRST_WINDOW = 64 << 10;
const MAX_LINE = 16 << 20;

export class PickleReader {
  buf: Buffer;
  bufStart = 0;
  p = 0;
  /** End of the current FRAME (absolute), or -1 outside frames. */
  frameEnd = -1;
  /**
   * false: read as `pickle.loads(bytes)` does (frames are only a hint; opcodes may straddle them).
   * true: read as the C unpickler does from a file, where a read that crosses the frame end drops
   * the rest of the frame and restarts at the frame end.
   */
  fileSemantics = false;
  /** Straddles seen: [opcode offset, detail]. */
  frameViolations: Array<{ offset: number; detail: string }> = [];
  /** Refill size: small after a seek (joblib skips huge arrays), doubling while reads stay sequential. */
  private window = FIRST_WINDOW;

  constructor(
    readonly src: ByteSource,
    readonly end: number = src.size,
    start = 0,
  ) {
    if (src instanceof BufferSource) {
      const b = src.bytes;
      this.buf = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, end));
      this.p = start;
    } else {
      this.buf = Buffer.alloc(0);
      this.bufStart = start;
    }
  }

  get pos(): number {
    return this.bufStart + this.p;
  }

  seek(abs: number): void {
    if (abs >= this.bufStart && abs <= this.bufStart + this.buf.length) this.p = abs - this.bufStart;
    else {
      this.window = FIRST_WINDOW;
      this.bufStart = abs;
      this.buf = Buffer.alloc(0);
      this.p = 0;
    }
  }

  remaining(): number {
    return this.end - this.pos;
  }

  /** Makes n bytes available at p; false if the stream ends first. */
  ensure(n: number): boolean {
    if (this.p + n <= this.buf.length) return true;
    const abs = this.pos;
    if (abs + n > this.end) return false;
    const len = Math.min(Math.max(this.window, n), this.end - abs);
    if (this.window < WINDOW) this.window *= 2;
    const chunk = this.src.read(abs, len);
    this.buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.bufStart = abs;
    this.p = 0;
    return this.buf.length >= n;
  }

  /** Position of a fixed-size argument read of n bytes starting at the cursor (after the opcode byte). */
  fixed(n: number, opOffset: number): number {
    if (this.frameEnd >= 0) this.checkFrame(n, opOffset);
    if (!this.ensure(n)) throw new FormatError('PICKLE_TRUNCATED', `stream ends inside an opcode argument`, opOffset);
    const at = this.p;
    this.p += n;
    return at;
  }

  private checkFrame(n: number, opOffset: number): void {
    const abs = this.pos;
    if (abs < this.frameEnd && abs + n > this.frameEnd) {
      this.frameViolations.push({
        offset: opOffset,
        detail: `opcode argument at ${abs} (${n} bytes) crosses the frame end at ${this.frameEnd}`,
      });
      if (this.fileSemantics) this.seek(this.frameEnd);
      this.frameEnd = -1;
    }
  }

  /** Reads a newline-terminated argument; returns [start, endExclusive-of-newline] indices into buf. */
  line(opOffset: number): [number, number] {
    let searchFrom = this.p;
    for (;;) {
      const i = this.buf.indexOf(10, searchFrom);
      if (i >= 0) {
        if (this.frameEnd >= 0 && this.pos < this.frameEnd && this.bufStart + i >= this.frameEnd) {
          this.frameViolations.push({ offset: opOffset, detail: `text argument crosses the frame end at ${this.frameEnd}` });
          const fe = this.frameEnd;
          this.frameEnd = -1;
          if (this.fileSemantics) {
            this.seek(fe);
            return this.line(opOffset);
          }
        }
        const s = this.p;
        this.p = i + 1;
        return [s, i];
      }
      const have = this.buf.length - this.p;
      if (this.pos + have >= this.end) throw new FormatError('PICKLE_TRUNCATED', 'stream ends inside a text argument', opOffset);
      if (have >= MAX_LINE) throw new LimitError('pickle-line', `text argument longer than ${MAX_LINE} bytes`, opOffset);
      this.ensure(Math.min(have + WINDOW, this.end - this.pos));
      searchFrom = this.p + have;
    }
  }

  /** Skips a payload of n bytes (which may be far larger than memory) without reading it. */
  skip(n: number, opOffset: number): number {
    const abs = this.pos;
    if (n > this.end - abs) throw new FormatError('PICKLE_TRUNCATED', `payload of ${n} bytes runs past the end of the stream`, opOffset);
    this.seek(abs + n);
    return abs;
  }
}
