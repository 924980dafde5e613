// Which compression a stream uses, from its first bytes alone. Conservative on purpose: a false positive
// sends plain bytes to a decoder (which then fails), so weak signatures (zlib, .lzma) are checked hard.

export type CompressionKind = 'gzip' | 'zlib' | 'bzip2' | 'xz' | 'lzma' | 'lz4';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const LZ4_MAGIC = [0x04, 0x22, 0x4d, 0x18];

function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  if (head.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (head[i] !== magic[i]) return false;
  return true;
}

/** The zlib headers compressors write: deflate, 32 KiB window, no preset dictionary, any level. */
function isZlibHeader(head: Uint8Array): boolean {
  if (head.length < 2 || head[0] !== 0x78) return false;
  const flg = head[1];
  if (((0x78 << 8) | flg) % 31 !== 0) return false;
  return (flg & 0x20) === 0; // FDICT: a preset dictionary we could not supply
}

/** 2^n or 2^n + 2^(n-1): the dictionary sizes xz-utils, liblzma and the LZMA SDK write. */
function isLzmaDictSize(d: number): boolean {
  if (d < 1 << 12) return false;
  for (let n = 12; n < 32; n++) {
    const p = 2 ** n;
    if (d === p || d === p + p / 2) return true;
  }
  return false;
}

/**
 * LZMA "alone" (.lzma) has no magic: 13 header bytes of properties (lc=3 lp=0 pb=2 is 0x5d, what every
 * common encoder writes), dictionary size and uncompressed size, then a range coder whose first byte is
 * always zero.
 */
function isLzmaAlone(head: Uint8Array): boolean {
  if (head.length < 14 || head[0] !== 0x5d) return false;
  const dv = new DataView(head.buffer, head.byteOffset, 14);
  if (!isLzmaDictSize(dv.getUint32(1, true))) return false;
  const lo = dv.getUint32(5, true);
  const hi = dv.getUint32(9, true);
  const unknownSize = lo === 0xffffffff && hi === 0xffffffff;
  if (!unknownSize && hi >= 1 << 8) return false; // a declared size of 1 TiB or more is not a real file
  return head[13] === 0x00;
}

export function sniffCompression(head: Uint8Array): CompressionKind | null {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && head[3] >= 0x31 && head[3] <= 0x39) {
    return 'bzip2';
  }
  if (startsWith(head, XZ_MAGIC)) return 'xz';
  if (startsWith(head, LZ4_MAGIC)) return 'lz4';
  if (isZlibHeader(head)) return 'zlib';
  if (isLzmaAlone(head)) return 'lzma';
  return null;
}
