// gzip and zlib through node:zlib's streaming inflater, so a bomb is cut off chunk by chunk.
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import { FormatError } from '../errors.ts';
import { allZero, type BoundedOutput } from './output.ts';

const CHUNK = 64 << 10;

/**
 * Decodes one zlib stream (or, for gzip, a run of members; node's gunzip follows them itself) from the
 * start of `input` and returns how many input bytes it consumed.
 */
function inflateOne(kind: 'gzip' | 'zlib', input: Uint8Array, out: BoundedOutput): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream: Gunzip | Inflate = kind === 'gzip' ? createGunzip({ chunkSize: CHUNK }) : createInflate({ chunkSize: CHUNK });
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      stream.destroy();
      reject(err);
    };
    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        out.push(chunk);
      } catch (err) {
        fail(err);
      }
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      fail(new FormatError('CORRUPT_STREAM', `${kind}: ${err.message}${err.code ? ` (${err.code})` : ''}`));
    });
    stream.on('end', () => {
      if (!failed) resolve(stream.bytesWritten);
    });
    stream.end(input);
  });
}

/**
 * gzip: node follows concatenated members and rejects non-gzip bytes after one, stopping only at zero
 * padding. zlib: joblib's reader starts a new stream after each one ends, so we do too.
 */
export async function inflate(kind: 'gzip' | 'zlib', input: Uint8Array, out: BoundedOutput): Promise<void> {
  let offset = 0;
  do {
    const rest = input.subarray(offset);
    const consumed = await inflateOne(kind, rest, out);
    if (consumed <= 0 || consumed > rest.length) {
      throw new FormatError('CORRUPT_STREAM', `${kind}: decoder made no progress at offset ${offset}`, offset);
    }
    offset += consumed;
  } while (offset < input.length && !allZero(input.subarray(offset)));
}

