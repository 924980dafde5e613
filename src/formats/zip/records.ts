// Low-level ZIP records (APPNOTE 6.3.10). Every read is bounds-checked against what the source really
// returned, so hostile length fields end in a FormatError, never in a RangeError or a huge allocation.
import { FormatError } from '../errors.ts';
import type { ByteSource } from '../source.ts';

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_Z64_LOCATOR = 0x07064b50;
export const SIG_Z64_EOCD = 0x06064b50;
export const EOCD_SIZE = 22;
export const CENTRAL_SIZE = 46;
export const LOCAL_SIZE = 30;
const Z64_EOCD_SIZE = 56;
const Z64_LOCATOR_SIZE = 20;
const MAX32 = 0xffffffff;

export const u16 = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
export const u32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
/** Loses precision above 2^53, which is harmless: every such value is larger than any real source and is rejected. */
export const u64 = (b: Uint8Array, o: number): number => u32(b, o) + u32(b, o + 4) * 0x100000000;

/** Exactly `length` bytes at `offset`, copied (a FileSource view dies at the next read), or null if short. */
export function readExact(src: ByteSource, offset: number, length: number): Uint8Array | null {
  if (offset < 0 || length < 0 || offset + length > src.size) return null;
  const b = src.read(offset, length);
  return b.length === length ? Uint8Array.prototype.slice.call(b) : null; // a copy even for Buffer views
}

export function sigAt(src: ByteSource, offset: number, sig: number): boolean {
  const b = readExact(src, offset, 4);
  return b !== null && u32(b, 0) === sig;
}

// CP437 upper half, as Python's zipfile decodes names without the UTF-8 flag.
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
const utf8 = new TextDecoder('utf-8');

export function decodeName(bytes: Uint8Array, flags: number): string {
  if (flags & 0x800) return utf8.decode(bytes);
  let s = '';
  for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return s;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Extra-field blocks by id; a truncated block ends the walk, as in Python's zipfile. */
export function extraFields(extra: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = u16(extra, p);
    const len = u16(extra, p + 2);
    if (p + 4 + len > extra.length) break;
    if (!out.has(id)) out.set(id, extra.subarray(p + 4, p + 4 + len));
    p += 4 + len;
  }
  return out;
}

/** Applies a ZIP64 extra (0x0001): 8-byte values appear only for fields whose 32-bit value is 0xFFFFFFFF, in this order. */
export function applyZip64(extra: Map<number, Uint8Array>, fields: { usize: number; csize: number; offset?: number }): void {
  const z = extra.get(0x0001);
  if (!z) return;
  let p = 0;
  const next = (v: number): number => {
    if (v !== MAX32 || p + 8 > z.length) return v;
    p += 8;
    return u64(z, p - 8);
  };
  fields.usize = next(fields.usize);
  fields.csize = next(fields.csize);
  if (fields.offset !== undefined) fields.offset = next(fields.offset);
}

/**
 * The last EOCD signature in the final 64 KiB + 22 bytes that leaves room for a record — what both Python's
 * zipfile (rfind) and miniz (backward scan) pick. -1 when there is none.
 */
export function findEocd(src: ByteSource): number {
  if (src.size < EOCD_SIZE) return -1;
  const start = Math.max(0, src.size - (0xffff + EOCD_SIZE));
  const tail = readExact(src, start, src.size - start);
  if (!tail) return -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 5 && tail[i + 3] === 6) return start + i;
  }
  return -1;
}

export interface EndRecord {
  eocdOffset: number;
  commentLength: number;
  /** Total entries declared (ZIP64 value when present). */
  declaredEntries: number;
  cdSize: number;
  cdOffset: number;
  /** Where the directory's end record starts (the ZIP64 record if any): the directory should end here. */
  endOfDirectory: number;
  zip64: boolean;
}

export function readEndRecord(src: ByteSource, eocdOffset: number): EndRecord {
  const e = readExact(src, eocdOffset, EOCD_SIZE);
  if (!e) throw new FormatError('ZIP_EOCD', `end of central directory at ${eocdOffset} is truncated`, eocdOffset);
  const rec: EndRecord = {
    eocdOffset,
    commentLength: u16(e, 20),
    declaredEntries: u16(e, 10),
    cdSize: u32(e, 12),
    cdOffset: u32(e, 16),
    endOfDirectory: eocdOffset,
    zip64: false,
  };
  const loc = readExact(src, eocdOffset - Z64_LOCATOR_SIZE, Z64_LOCATOR_SIZE);
  if (!loc || u32(loc, 0) !== SIG_Z64_LOCATOR) return rec;
  // miniz trusts the locator's offset; Python assumes the record sits right before the locator. Try both,
  // so a ZIP64 archive with prepended data still resolves.
  for (const at of [u64(loc, 8), eocdOffset - Z64_LOCATOR_SIZE - Z64_EOCD_SIZE]) {
    const r = readExact(src, at, Z64_EOCD_SIZE);
    if (!r || u32(r, 0) !== SIG_Z64_EOCD) continue;
    return { ...rec, declaredEntries: u64(r, 32), cdSize: u64(r, 40), cdOffset: u64(r, 48), endOfDirectory: at, zip64: true };
  }
  return rec; // Locator without a record: fall back to the 32-bit fields, as Python does.
}

export interface CentralRecord {
  index: number;
  offset: number; // of the central header itself
  versionMadeBy: number;
  flags: number;
  method: number;
  crc32: number;
  csize: number;
  usize: number;
  nameBytes: Uint8Array;
  name: string;
  unicodePath: string | null; // Info-ZIP Unicode Path extra (0x7075), a second opinion on the name
  externalAttrs: number;
  localHeaderOffset: number; // as declared (not yet shifted)
  recordLength: number;
}

/** One central header at `offset`, or null if the signature is not there. */
export function readCentral(src: ByteSource, offset: number, index: number): CentralRecord | null {
  const h = readExact(src, offset, CENTRAL_SIZE);
  if (!h || u32(h, 0) !== SIG_CENTRAL) return null;
  const nameLen = u16(h, 28);
  const extraLen = u16(h, 30);
  const var_ = readExact(src, offset + CENTRAL_SIZE, nameLen + extraLen);
  if (!var_) throw new FormatError('ZIP_CD_TRUNCATED', `central directory entry #${index} at ${offset} runs past the end of the file`, offset);
  const flags = u16(h, 8);
  const nameBytes = var_.slice(0, nameLen); // var_ is already a private copy (readExact)
  const extra = extraFields(var_.subarray(nameLen));
  const f = { usize: u32(h, 24), csize: u32(h, 20), offset: u32(h, 42) };
  applyZip64(extra, f);
  const up = extra.get(0x7075);
  return {
    index,
    offset,
    versionMadeBy: u16(h, 4),
    flags,
    method: u16(h, 10),
    crc32: u32(h, 16),
    csize: f.csize,
    usize: f.usize,
    nameBytes,
    name: decodeName(nameBytes, flags),
    unicodePath: up && up.length >= 5 && up[0] === 1 ? utf8.decode(up.subarray(5)) : null,
    externalAttrs: u32(h, 38),
    localHeaderOffset: f.offset,
    recordLength: CENTRAL_SIZE + nameLen + extraLen + u16(h, 32),
  };
}

export interface LocalRecord {
  flags: number;
  method: number;
  crc32: number;
  csize: number;
  usize: number;
  nameBytes: Uint8Array;
  name: string;
  dataOffset: number;
}

/** The local header at `offset`, or null when it is missing or truncated. */
export function readLocal(src: ByteSource, offset: number): LocalRecord | null {
  const h = readExact(src, offset, LOCAL_SIZE);
  if (!h || u32(h, 0) !== SIG_LOCAL) return null;
  const nameLen = u16(h, 26);
  const extraLen = u16(h, 28);
  const var_ = readExact(src, offset + LOCAL_SIZE, nameLen + extraLen);
  if (!var_) return null;
  const flags = u16(h, 6);
  const nameBytes = var_.slice(0, nameLen); // var_ is already a private copy (readExact)
  const f = { usize: u32(h, 22), csize: u32(h, 18) };
  applyZip64(extraFields(var_.subarray(nameLen)), f);
  return {
    flags,
    method: u16(h, 8),
    crc32: u32(h, 14),
    csize: f.csize,
    usize: f.usize,
    nameBytes,
    name: decodeName(nameBytes, flags),
    dataOffset: offset + LOCAL_SIZE + nameLen + extraLen,
  };
}
