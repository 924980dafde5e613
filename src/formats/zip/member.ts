// Access to one member's bytes. Stored data stays in the parent source (multi-GB tensors are never copied);
// deflated data is inflated under a hard output cap so a zip bomb stops at the budget, not at OOM.
import { constants as bufferConstants } from 'node:buffer';
import { crc32, inflateRawSync } from 'node:zlib';
import { FormatError, LimitError } from '../errors.ts';
import { BufferSource, chunks, SliceSource, type ByteSource } from '../source.ts';
import type { ZipEntry } from './types.ts';

export function openZipEntry(src: ByteSource, entry: ZipEntry, limits: { maxBytes: number }): ByteSource {
  if (entry.dataOffset < 0) throw new FormatError('ZIP_NO_LOCAL_HEADER', `${entry.name}: no local header at ${entry.localHeaderOffset}`, entry.localHeaderOffset);
  if (entry.dataOffset + entry.compressedSize > src.size) {
    throw new FormatError('ZIP_TRUNCATED', `${entry.name}: ${entry.compressedSize} data bytes at ${entry.dataOffset} run past the end of the file (${src.size})`, entry.dataOffset);
  }
  if (entry.method === 0) return new SliceSource(src, entry.dataOffset, entry.compressedSize);
  if (entry.method !== 8) throw new FormatError('ZIP_METHOD', `${entry.name}: compression method ${entry.method} is not supported`, entry.localHeaderOffset);

  // The compressed input is held in memory too, so it must fit the same budget (plus stored-block overhead).
  const maxIn = limits.maxBytes + Math.floor(limits.maxBytes / 1024) + 1024;
  if (entry.compressedSize > maxIn) {
    throw new LimitError('ZIP_MEMBER_BYTES', `${entry.name}: ${entry.compressedSize} compressed bytes exceed the ${limits.maxBytes}-byte budget`, entry.dataOffset);
  }
  const input = src.read(entry.dataOffset, entry.compressedSize);
  try {
    const maxOutputLength = Math.max(1, Math.min(limits.maxBytes, bufferConstants.MAX_LENGTH));
    return new BufferSource(inflateRawSync(input, { maxOutputLength }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new LimitError('ZIP_MEMBER_BYTES', `${entry.name}: inflates to more than ${limits.maxBytes} bytes (declared ${entry.uncompressedSize})`, entry.dataOffset);
    }
    throw new FormatError('ZIP_INFLATE', `${entry.name}: corrupt deflate data (${(err as Error).message})`, entry.dataOffset);
  }
}

/**
 * True when the data's CRC-32 matches the central directory. Loaders ignore CRCs (PyTorch) or raise only
 * on read (Python), so a mismatch is reported as an anomaly while the data is still scanned.
 * `src` is unused: the central CRC is authoritative even with a data descriptor; kept for a stable signature.
 */
export function verifyZipEntryCrc(_src: ByteSource, entry: ZipEntry, data: ByteSource): boolean {
  let crc = 0;
  for (const c of chunks(data, 1 << 20)) crc = crc32(c, crc);
  return crc >>> 0 === entry.crc32 >>> 0;
}
