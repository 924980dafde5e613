// Bounded decompression of hostile streams. Every decoder writes through one BoundedOutput, so a bomb
// stops with a LimitError after at most one chunk past the budget, and corrupt or truncated input is a
// FormatError, never a partial "success".
import { FormatError, LimitError } from '../errors.ts';
import { BoundedOutput, type DecompressLimits } from './output.ts';
import type { CompressionKind } from './sniff.ts';
// Decoders are imported on first use: most scans never decompress, and start-up time is a feature.

export { sniffCompression, type CompressionKind } from './sniff.ts';
export { RATIO_FLOOR, type DecompressLimits } from './output.ts';

/**
 * Decompresses a whole `kind` stream (concatenated members/streams included). Throws LimitError
 * ('decompressed-bytes' | 'compression-ratio', or 'decoder-memory' for an xz dictionary over 64 MiB) as
 * soon as a budget is exceeded, and FormatError ('CORRUPT_STREAM', or 'UNSUPPORTED' for valid streams
 * using features the decoders lack) otherwise.
 */
export async function decompress(kind: CompressionKind, input: Uint8Array, limits: DecompressLimits): Promise<Uint8Array> {
  const out = new BoundedOutput(input.length, limits);
  if (input.length === 0) throw new FormatError('CORRUPT_STREAM', `${kind}: empty input`, 0);
  try {
    switch (kind) {
      case 'gzip':
      case 'zlib':
        await (await import('./zlib.ts')).inflate(kind, input, out);
        break;
      case 'bzip2':
        (await import('./bzip2.ts')).bunzip2(input, out);
        break;
      case 'xz':
        await (await import('./xz.ts')).unxz(input, out);
        break;
      case 'lzma':
        (await import('./lzma.ts')).unlzma(input, out);
        break;
      case 'lz4':
        (await import('./lz4.ts')).unlz4(input, out);
        break;
      default:
        throw new FormatError('UNSUPPORTED', `unknown compression kind ${String(kind)}`);
    }
  } catch (err) {
    if (err instanceof LimitError || err instanceof FormatError) throw err;
    // Anything else out of a decoder (a RangeError from a hostile length, a TypeError in a dependency) is
    // still a stream we could not read.
    const msg = err instanceof Error ? err.message : String(err);
    throw new FormatError('CORRUPT_STREAM', `${kind}: ${msg}`);
  }
  return out.result();
}
