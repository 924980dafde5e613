// The one place where decompressed bytes are stored. Every decoder writes through it, so the output and
// ratio budgets are enforced in one way for all formats: a bomb is stopped after at most one chunk more
// than the budget, never after it has been materialised.
import { LimitError } from '../errors.ts';

export interface DecompressLimits {
  /** Hard cap on decompressed bytes. */
  maxOutputBytes: number;
  /** Cap on decompressed/compressed size; only applied once the output is past RATIO_FLOOR. */
  maxRatio: number;
}

/** Output up to this size is never flagged for its ratio: tiny inputs compress absurdly well. */
export const RATIO_FLOOR = 1 << 20;

// Typed arrays cannot be larger than this in practice; a budget above it is a budget of this.
const MAX_BUFFER = 2 ** 32 - 1;

export class BoundedOutput {
  buf: Uint8Array;
  len = 0;
  private readonly byteCap: number;
  private readonly ratioCap: number;

  constructor(
    private readonly inputLength: number,
    private readonly limits: DecompressLimits,
  ) {
    if (!(limits.maxOutputBytes >= 0) || !(limits.maxRatio > 0)) {
      throw new RangeError(`invalid decompression limits ${JSON.stringify(limits)}`);
    }
    this.byteCap = Math.min(limits.maxOutputBytes, MAX_BUFFER);
    this.ratioCap = Math.max(RATIO_FLOOR, inputLength * limits.maxRatio);
    // Start near the likely size and grow by doubling: a large budget is a ceiling, not an allocation.
    const start = Math.min(this.cap, Math.max(1 << 16, Math.min(inputLength * 4, 16 << 20)));
    this.buf = new Uint8Array(start);
  }

  /** The most bytes this output may hold. */
  get cap(): number {
    return Math.min(this.byteCap, this.ratioCap);
  }

  /** Makes room for `n` more bytes, or throws LimitError if they would exceed a budget. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    if (need > this.byteCap) {
      throw new LimitError(
        'decompressed-bytes',
        `decompressed output exceeds ${this.byteCap} bytes`,
      );
    }
    if (need > this.ratioCap) {
      throw new LimitError(
        'compression-ratio',
        `decompressed output exceeds ${this.limits.maxRatio}x the ${this.inputLength}-byte input`,
      );
    }
    const size = Math.min(this.cap, Math.max(need, this.buf.length * 2));
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.reserve(chunk.length);
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
  }

  /** The bytes written; copied into an exact-size array when the spare capacity is large. */
  result(): Uint8Array {
    if (this.buf.length - this.len > Math.max(1 << 16, this.len >> 2)) return this.buf.slice(0, this.len);
    return this.buf.subarray(0, this.len);
  }
}

/** True when every byte of `bytes` is zero (stream padding after the last member). */
export function allZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
