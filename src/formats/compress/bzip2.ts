// bzip2 through seek-bzip (pure JS). It decodes one block (≤ 900 kB of BWT data) at a time and hands each
// output byte to our sink, which stops a bomb by throwing once a budget is spent.
import Bunzip from 'seek-bzip';
import { FormatError, LimitError } from '../errors.ts';
import { allZero, type BoundedOutput } from './output.ts';

const FLUSH = 64 << 10;

class Truncated extends Error {}

/** Input for seek-bzip that throws at the end instead of reading zeros forever, and counts what it read. */
function inputStream(input: Uint8Array, start: number) {
  return Object.assign(new Bunzip.Stream(), {
    pos: start,
    readByte(this: { pos: number }): number {
      if (this.pos >= input.length) throw new Truncated();
      return input[this.pos++];
    },
  });
}

function outputStream(out: BoundedOutput) {
  const pending = new Uint8Array(FLUSH);
  let n = 0;
  return Object.assign(new Bunzip.Stream(), {
    writeByte(b: number): void {
      pending[n++] = b;
      if (n === FLUSH) {
        n = 0;
        out.push(pending);
      }
    },
    flush(): void {
      out.push(pending.subarray(0, n));
      n = 0;
    },
  });
}

/** Decodes concatenated bzip2 streams (pbzip2 and Python's bz2 write/read them); zero padding may follow. */
export function bunzip2(input: Uint8Array, out: BoundedOutput): void {
  let offset = 0;
  const sink = outputStream(out);
  do {
    const src = inputStream(input, offset);
    try {
      Bunzip.decode(src, sink);
    } catch (err) {
      if (err instanceof LimitError) throw err;
      if (err instanceof Truncated) throw new FormatError('CORRUPT_STREAM', 'bzip2: unexpected end of input', input.length);
      const msg = err instanceof Error ? err.message : String(err);
      throw new FormatError('CORRUPT_STREAM', `bzip2: ${msg}`, src.pos);
    }
    sink.flush();
    if (src.pos <= offset) throw new FormatError('CORRUPT_STREAM', 'bzip2: decoder made no progress', offset);
    offset = src.pos;
  } while (offset < input.length && !allZero(input.subarray(offset)));
}
