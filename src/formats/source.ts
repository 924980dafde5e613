// Random-access byte sources. Parsers of hostile bytes read through these and never assume the whole
// input is in memory: a multi-GB file is read only where a parser looks.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `offset` (fewer only at the end). BufferSource returns views of its bytes. */
  read(offset: number, length: number): Uint8Array;
  close?(): void;
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset >= this.size || length <= 0) return new Uint8Array(0);
    return this.bytes.subarray(offset, Math.min(this.size, offset + length));
  }
}

/** A window onto another source (a stored archive member, a payload after a header). */
export class SliceSource implements ByteSource {
  readonly size: number;
  constructor(
    readonly parent: ByteSource,
    readonly start: number,
    size: number,
  ) {
    this.size = Math.max(0, Math.min(size, parent.size - start));
  }
  read(offset: number, length: number): Uint8Array {
    if (offset >= this.size || length <= 0) return new Uint8Array(0);
    return this.parent.read(this.start + offset, Math.min(length, this.size - offset));
  }
}

// Small: archive readers jump between distant headers; sequential parsers read in larger chunks themselves.
const WINDOW = 16 << 10;

/** A file read with positioned reads through a small cache window; never reads the whole file. */
export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number;
  private win = Buffer.allocUnsafe(0);
  private winStart = 0;
  private winLen = 0;
  bytesRead = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  read(offset: number, length: number): Uint8Array {
    if (offset >= this.size || length <= 0) return new Uint8Array(0);
    const end = Math.min(this.size, offset + length);
    if (offset >= this.winStart && end <= this.winStart + this.winLen) {
      // A copy, not a view: callers keep header bytes across reads that refill the window.
      return new Uint8Array(this.win.subarray(offset - this.winStart, end - this.winStart));
    }
    const want = end - offset;
    if (want > WINDOW) {
      const out = Buffer.allocUnsafe(want);
      this.fill(out, offset);
      return out;
    }
    if (this.win.length < WINDOW) this.win = Buffer.allocUnsafe(WINDOW);
    this.winStart = offset;
    this.winLen = this.fill(this.win.subarray(0, Math.min(WINDOW, this.size - offset)), offset);
    return new Uint8Array(this.win.subarray(0, Math.min(want, this.winLen)));
  }

  private fill(buf: Buffer, position: number): number {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.fd, buf, done, buf.length - done, position + done);
      if (n <= 0) break;
      done += n;
    }
    this.bytesRead += done;
    return done;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Reads a whole source into memory; only for bounded sizes (callers check budgets first). */
export function readAll(src: ByteSource): Uint8Array {
  if (src instanceof BufferSource) return src.bytes;
  const out = new Uint8Array(src.size);
  let off = 0;
  while (off < src.size) {
    const chunk = src.read(off, Math.min(1 << 22, src.size - off));
    if (chunk.length === 0) break;
    out.set(chunk, off);
    off += chunk.length;
  }
  return off === src.size ? out : out.subarray(0, off);
}

/** Iterates a source in chunks (default 4 MiB), for hashing and streaming parsers. */
export function* chunks(src: ByteSource, size = 4 << 20): Generator<Uint8Array> {
  let off = 0;
  while (off < src.size) {
    const c = src.read(off, Math.min(size, src.size - off));
    if (c.length === 0) return;
    yield c;
    off += c.length;
  }
}
