// xz through xz-decompress (xz-embedded compiled to WASM, run as a web stream). It decodes concatenated
// streams and stream padding itself, and yields 64 KiB chunks, so a bomb is cut off after one chunk.
import xzDecompress from 'xz-decompress';
import { FormatError, LimitError } from '../errors.ts';
import type { BoundedOutput } from './output.ts';

// xz-embedded's error codes (enum xz_ret), as the package reports them in its error message.
const XZ_MEMLIMIT_ERROR = 4;
const XZ_OPTIONS_ERROR = 6;

// The decoder never stalls on well-formed or truncated input (it reports XZ_BUF_ERROR), but a stream that
// stops producing anything must not spin forever.
const MAX_EMPTY_READS = 64;
const INPUT_CHUNK = 64 << 10;

export async function unxz(input: Uint8Array, out: BoundedOutput): Promise<void> {
  if (input.length === 0) throw new FormatError('CORRUPT_STREAM', 'xz: empty input', 0);
  const source = chunked(input);
  const reader = new xzDecompress.XzReadableStream(source).getReader();
  let finished = false;
  try {
    let empty = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) {
        if (++empty > MAX_EMPTY_READS) throw new FormatError('CORRUPT_STREAM', 'xz: decoder made no progress');
        continue;
      }
      empty = 0;
      out.push(value);
    }
    finished = true;
  } catch (err) {
    throw mapXzError(err);
  } finally {
    // Cancelling frees the WASM context and the package's global context lock; without it the next
    // xz decode would wait forever.
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

/** The input as a web stream of views (no copy; the decoder copies each chunk into WASM memory). */
function chunked(input: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= input.length) return controller.close();
      const end = Math.min(input.length, offset + INPUT_CHUNK);
      controller.enqueue(input.subarray(offset, end));
      offset = end;
    },
  });
}

function mapXzError(err: unknown): Error {
  if (err instanceof LimitError || err instanceof FormatError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const code = /error code (\d+)/.exec(msg);
  const n = code ? Number(code[1]) : -1;
  if (n === XZ_MEMLIMIT_ERROR) {
    return new LimitError('decoder-memory', 'xz: the stream needs a dictionary larger than the 64 MiB the decoder allows');
  }
  if (n === XZ_OPTIONS_ERROR) {
    return new FormatError(
      'UNSUPPORTED',
      'xz: unsupported options (only the LZMA2 filter with a CRC32, CRC64 or no integrity check can be decoded)',
    );
  }
  return new FormatError('CORRUPT_STREAM', `xz: ${n >= 0 ? `decoder error ${n}` : msg}`);
}
