// Low-level HDF5 reading: bounds-checked reads at file addresses, the superblock (versions 0-3), object
// headers (v1 and v2 "OHDR", with continuation chunks) and global heap collections ("GCOL", where
// variable-length strings live). Every address and length is checked against the bytes that exist before
// anything is read or allocated; every loop has a bound; continuation chains are checked for cycles.
import { FormatError, LimitError } from '../errors.ts';
import type { ByteSource } from '../source.ts';

export const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** "Undefined address": all bits set. */
export const UNDEF = -1;

export interface Hdf5Limits {
  /** Object header messages read in total (across continuation chunks). */
  maxMessages: number;
  /** Object header chunks (the first one plus continuations). */
  maxChunks: number;
  /** Bytes of attribute values decoded in total. */
  maxValueBytes: number;
  /** Attributes read from one object. */
  maxAttributes: number;
  /** Steps of any structure walk (heap objects, B-tree records, blocks). */
  maxSteps: number;
  /** Bytes read in total: a B-tree whose nodes share children cannot make us re-read a large file forever. */
  maxReadBytes: number;
  deadline: number;
}

export const DEFAULT_HDF5_LIMITS: Hdf5Limits = {
  maxMessages: 200_000,
  maxChunks: 10_000,
  maxValueBytes: 256 << 20,
  maxAttributes: 100_000,
  maxSteps: 2_000_000,
  maxReadBytes: 1 << 30,
  deadline: Infinity,
};

/** An object header message: its type, flags and body (a copy or view of the file's bytes). */
export interface HeaderMessage {
  type: number;
  flags: number;
  data: Uint8Array;
  /** Absolute file offset of the message body. */
  offset: number;
}

/** Little-endian unsigned integer of 1-8 bytes; all-ones for `n` bytes reads as UNDEF when `addr`. */
export function uint(b: Uint8Array, at: number, n: number, addr = false): number {
  if (at < 0 || at + n > b.length) throw new FormatError('HDF5_TRUNCATED', `field of ${n} bytes at ${at} runs past a ${b.length}-byte structure`);
  let allOnes = true;
  let v = 0;
  for (let i = n - 1; i >= 0; i--) {
    const x = b[at + i];
    if (x !== 0xff) allOnes = false;
    v = v * 256 + x; // exact below 2^53; beyond that a huge value, which every bounds check rejects
  }
  return addr && allOnes ? UNDEF : v;
}

export function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

export class Hdf5File {
  readonly size: number;
  steps = 0;
  valueBytes = 0;
  readBytes = 0;
  private gcol = new Map<number, Map<number, { at: number; size: number }>>();

  constructor(
    readonly src: ByteSource,
    /** Absolute offset of the superblock; HDF5 addresses are relative to it. */
    readonly base: number,
    readonly sizeOfOffsets: number,
    readonly sizeOfLengths: number,
    readonly limits: Hdf5Limits,
  ) {
    this.size = src.size;
  }

  /** Counts one unit of work; throws when the walk budget or the time is spent. */
  step(n = 1): void {
    this.steps += n;
    if (this.steps > this.limits.maxSteps) throw new LimitError('hdf5-steps', `more than ${this.limits.maxSteps} HDF5 structure steps`);
    if ((this.steps & 0xfff) === 0 && Date.now() > this.limits.deadline) throw new LimitError('time', 'HDF5 scan exceeded the time budget');
  }

  /** Absolute offset of a relative address, checked to leave `len` bytes in the file. */
  abs(addr: number, len: number, what: string): number {
    if (addr === UNDEF) throw new FormatError('HDF5_ADDRESS', `${what} has the undefined address`);
    const at = this.base + addr;
    if (!Number.isSafeInteger(at) || len < 0 || !Number.isSafeInteger(len) || at + len > this.size) {
      throw new FormatError('HDF5_ADDRESS', `${what} at address ${addr} (+${len} bytes) lies outside the ${this.size}-byte file`, at <= this.size ? at : null);
    }
    return at;
  }

  /** Exactly `len` bytes at relative address `addr`. */
  read(addr: number, len: number, what: string): Uint8Array {
    const at = this.abs(addr, len, what);
    this.readBytes += len;
    if (this.readBytes > this.limits.maxReadBytes) throw new LimitError('hdf5-read-bytes', `more than ${this.limits.maxReadBytes} bytes of HDF5 metadata read`, at);
    const b = this.src.read(at, len);
    if (b.length !== len) throw new FormatError('HDF5_TRUNCATED', `${what}: file ends inside ${len} bytes at ${at}`, at);
    return b;
  }

  offset(b: Uint8Array, at: number): number {
    return uint(b, at, this.sizeOfOffsets, true);
  }

  length(b: Uint8Array, at: number): number {
    return uint(b, at, this.sizeOfLengths);
  }

  chargeValue(n: number): void {
    this.valueBytes += n;
    if (this.valueBytes > this.limits.maxValueBytes) throw new LimitError('hdf5-values', `more than ${this.limits.maxValueBytes} bytes of attribute values`);
  }

  /** Bytes of object `index` in the global heap collection at `addr` (variable-length data). */
  globalHeapObject(addr: number, index: number, len: number): Uint8Array {
    let objects = this.gcol.get(addr);
    if (!objects) {
      objects = this.readCollection(addr);
      this.gcol.set(addr, objects);
    }
    const o = objects.get(index);
    if (!o) throw new FormatError('HDF5_GLOBAL_HEAP', `global heap collection at ${addr} has no object ${index}`);
    if (len > o.size) throw new FormatError('HDF5_GLOBAL_HEAP', `variable-length value of ${len} bytes is larger than its ${o.size}-byte heap object`);
    this.chargeValue(len);
    return this.read(o.at, len, 'global heap object');
  }

  private readCollection(addr: number): Map<number, { at: number; size: number }> {
    const L = this.sizeOfLengths;
    const head = this.read(addr, 8 + L, 'global heap collection');
    if (ascii(head, 0, 4) !== 'GCOL') throw new FormatError('HDF5_GLOBAL_HEAP', `no GCOL signature at address ${addr}`, this.base + addr);
    if (head[4] !== 1) throw new FormatError('HDF5_GLOBAL_HEAP', `global heap collection version ${head[4]} is not supported`);
    const size = this.length(head, 8);
    this.abs(addr, size, 'global heap collection');
    const objects = new Map<number, { at: number; size: number }>();
    const hdr = 8 + L; // index(2) refcount(2) reserved(4) size(L)
    let p = 8 + L;
    while (p + hdr <= size) {
      this.step();
      const h = this.read(addr + p, hdr, 'global heap object header');
      const index = uint(h, 0, 2);
      const osize = this.length(h, 8);
      if (index === 0) break; // free space: the rest of the collection
      if (osize > size - p - hdr) throw new FormatError('HDF5_GLOBAL_HEAP', `heap object ${index} of ${osize} bytes runs past its ${size}-byte collection`, this.base + addr + p);
      objects.set(index, { at: addr + p + hdr, size: osize });
      p += hdr + Math.ceil(osize / 8) * 8;
    }
    return objects;
  }
}

export interface Superblock {
  version: number;
  /** Absolute offset of the signature (512, 1024, … when the file has a user block). */
  offset: number;
  sizeOfOffsets: number;
  sizeOfLengths: number;
  /** Root group object header (relative address). */
  rootObjectHeader: number;
}

/** Offsets where HDF5 looks for its signature: 0, then 512 and every power of two after it. */
export function* signatureOffsets(size: number): Generator<number> {
  yield 0;
  for (let o = 512; o + 8 <= size; o *= 2) yield o;
}

export function hasSignatureAt(b: Uint8Array, at: number): boolean {
  if (at + 8 > b.length) return false;
  for (let i = 0; i < 8; i++) if (b[at + i] !== SIGNATURE[i]) return false;
  return true;
}

export function findSignature(src: ByteSource): number | null {
  for (const o of signatureOffsets(src.size)) if (hasSignatureAt(src.read(o, 8), 0)) return o;
  return null;
}

export function readSuperblock(src: ByteSource, at: number): Superblock {
  const b = src.read(at, 256);
  if (!hasSignatureAt(b, 0)) throw new FormatError('HDF5_SIGNATURE', 'no HDF5 signature', at);
  if (b.length < 12) throw new FormatError('HDF5_TRUNCATED', 'file ends inside the superblock', at);
  const version = b[8];
  let O: number, L: number, p: number;
  if (version === 0 || version === 1) {
    O = b[13];
    L = b[14];
    p = version === 0 ? 24 : 28;
  } else if (version === 2 || version === 3) {
    O = b[9];
    L = b[10];
    p = 12;
  } else {
    throw new FormatError('HDF5_SUPERBLOCK', `superblock version ${version} is not supported`, at + 8);
  }
  if (![2, 4, 8].includes(O) || ![2, 4, 8].includes(L)) throw new FormatError('HDF5_SUPERBLOCK', `unsupported address/length sizes ${O}/${L}`, at + 9);
  let root: number;
  if (version <= 1) {
    // base, free-space info, end of file, driver info; then the root group symbol table entry
    // (link name offset, object header address, …).
    const need = p + 4 * O + 2 * O;
    if (b.length < need) throw new FormatError('HDF5_TRUNCATED', 'file ends inside the superblock', at);
    root = uint(b, p + 5 * O, O, true);
  } else {
    // base, superblock extension, end of file, root group object header, checksum.
    if (b.length < p + 4 * O + 4) throw new FormatError('HDF5_TRUNCATED', 'file ends inside the superblock', at);
    root = uint(b, p + 3 * O, O, true);
  }
  if (root === UNDEF) throw new FormatError('HDF5_SUPERBLOCK', 'root group has the undefined address', at);
  return { version, offset: at, sizeOfOffsets: O, sizeOfLengths: L, rootObjectHeader: root };
}

const CONTINUATION = 0x10;
/** Object header chunks hold messages of at most 64 KiB each; real ones are far below this. */
const MAX_CHUNK = 64 << 20;

/** Every message of the object header at `addr`, following continuation chunks (cycles are errors). */
export function readObjectHeader(f: Hdf5File, addr: number): HeaderMessage[] {
  const first = f.read(addr, 16, 'object header');
  const messages: HeaderMessage[] = [];
  const seen = new Set<number>();
  const chunks: Array<{ addr: number; len: number }> = [];
  let v2: { creationOrder: boolean } | null = null;
  if (ascii(first, 0, 4) === 'OHDR') {
    if (first[4] !== 2) throw new FormatError('HDF5_OBJECT_HEADER', `object header version ${first[4]} is not supported`, f.base + addr);
    const flags = first[5];
    let p = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
    const sizeBytes = 1 << (flags & 3);
    const h = f.read(addr, p + sizeBytes, 'object header');
    const len = uint(h, p, sizeBytes);
    p += sizeBytes;
    v2 = { creationOrder: (flags & 0x04) !== 0 };
    chunks.push({ addr: addr + p, len });
  } else if (first[0] === 1) {
    chunks.push({ addr: addr + 16, len: uint(first, 8, 4) });
  } else {
    throw new FormatError('HDF5_OBJECT_HEADER', `no object header at address ${addr} (version byte ${first[0]})`, f.base + addr);
  }
  seen.add(addr);
  for (let c = 0; c < chunks.length; c++) {
    if (c >= f.limits.maxChunks) throw new LimitError('hdf5-chunks', `more than ${f.limits.maxChunks} object header chunks`);
    const { addr: ca, len } = chunks[c];
    if (len > MAX_CHUNK) throw new LimitError('hdf5-chunk-bytes', `object header chunk of ${len} bytes (limit ${MAX_CHUNK})`, f.base + ca);
    const body = f.read(ca, len, 'object header chunk');
    let p = 0;
    let end = len;
    if (v2 && c > 0) {
      // A continuation block carries its own signature and checksum; chunk 0's checksum follows it.
      if (len < 8 || ascii(body, 0, 4) !== 'OCHK') throw new FormatError('HDF5_OBJECT_HEADER', `continuation chunk at ${ca} lacks the OCHK signature`, f.base + ca);
      p = 4;
      end = len - 4;
    }
    const mh = v2 ? (v2.creationOrder ? 6 : 4) : 8;
    while (p + mh <= end) {
      f.step();
      const type = v2 ? body[p] : uint(body, p, 2);
      const size = v2 ? uint(body, p + 1, 2) : uint(body, p + 2, 2);
      const flags = v2 ? body[p + 3] : body[p + 4];
      const at = p + mh;
      if (at + size > end) throw new FormatError('HDF5_OBJECT_HEADER', `message of type ${type} (${size} bytes) runs past its header chunk`, f.base + ca + p);
      const data = body.subarray(at, at + size);
      if (messages.length >= f.limits.maxMessages) throw new LimitError('hdf5-messages', `more than ${f.limits.maxMessages} object header messages`);
      messages.push({ type, flags, data, offset: f.base + ca + at });
      if (type === CONTINUATION) {
        const next = f.offset(data, 0);
        const nlen = f.length(data, f.sizeOfOffsets);
        if (seen.has(next)) throw new FormatError('HDF5_OBJECT_HEADER', `object header continuation at address ${next} is visited twice (a cycle)`, f.base + ca + at);
        seen.add(next);
        f.abs(next, nlen, 'object header continuation');
        chunks.push({ addr: next, len: nlen });
      }
      p = at + size;
      // v1 messages are aligned to 8 bytes within the chunk.
      if (!v2) p = Math.ceil(p / 8) * 8;
    }
  }
  return messages;
}
