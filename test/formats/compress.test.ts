import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createDeflate, createGzip, gzipSync, type Deflate, type Gzip } from 'node:zlib';
import { hash as xxh32 } from 'lz4js/xxh32.js';
import { decompress, sniffCompression, type CompressionKind } from '../../src/formats/compress/index.ts';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { lcg } from '../helpers/random.ts';
import { rejectsWith } from '../helpers/assert.ts';

const FIX = new URL('../fixtures/compress/', import.meta.url);
const REAL = new URL('../fixtures/real/', import.meta.url);
const HOSTILE = new URL('../fixtures/hostile/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));

const MiB = 1 << 20;
const LIMITS = { maxOutputBytes: 64 * MiB, maxRatio: 1e6 };
const BOMB_LIMITS = { maxOutputBytes: 8 * MiB, maxRatio: 1e9 };
const payload = fixture('payload.pkl');

const ROUND_TRIPS: Array<[file: string, kind: CompressionKind]> = [
  ['payload.pkl.gz', 'gzip'],
  ['payload.pkl.zlib', 'zlib'],
  ['payload.pkl.bz2', 'bzip2'],
  ['payload.pkl.xz', 'xz'],
  ['payload.pkl.lzma', 'lzma'],
  ['sized.lzma', 'lzma'],
  ['payload.pkl.lz4', 'lz4'],
  ['payload-linked.lz4', 'lz4'],
  ['multi.gz', 'gzip'],
  ['multi.zlib', 'zlib'],
  ['multi.bz2', 'bzip2'],
  ['multi.xz', 'xz'],
  ['multi.lzma', 'lzma'],
  ['multi.lz4', 'lz4'],
];

const JOBLIB_EXT: Record<string, CompressionKind> = { z: 'zlib', gz: 'gzip', bz2: 'bzip2', xz: 'xz', lzma: 'lzma', lz4: 'lz4' };

function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected), `${what}: bytes differ`);
}


/** Streams `total` zero bytes through a compressor without ever holding them: the bomb is built small. */
function zeroBomb(make: () => Gzip | Deflate, total: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const z = make();
    const parts: Buffer[] = [];
    z.on('data', (c: Buffer) => parts.push(c));
    z.on('end', () => resolve(new Uint8Array(Buffer.concat(parts))));
    z.on('error', reject);
    const zero = Buffer.alloc(MiB);
    let left = total;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, zero.length);
        left -= n;
        if (!z.write(zero.subarray(0, n))) return void z.once('drain', pump);
      }
      z.end();
    };
    pump();
  });
}

/**
 * A valid LZ4 frame of `blocks` independent 4 MiB blocks, each one literal zero, one maximal match at
 * offset 1 and five final literals: about 16 KB per 4 MiB.
 */
function lz4Bomb(blocks: number): Uint8Array {
  const blockOut = 4 * MiB;
  const matchLen = blockOut - 1 - 5;
  let rest = matchLen - 4 - 15;
  const lenBytes: number[] = [];
  while (rest >= 255) {
    lenBytes.push(255);
    rest -= 255;
  }
  lenBytes.push(rest);
  const block = Uint8Array.from([0x1f, 0x00, 0x01, 0x00, ...lenBytes, 0x50, 0, 0, 0, 0, 0]);
  const header = Uint8Array.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0]);
  header[6] = (xxh32(0, header, 4, 2) >>> 8) & 0xff;
  const out = new Uint8Array(header.length + blocks * (4 + block.length) + 4);
  out.set(header, 0);
  let p = header.length;
  for (let i = 0; i < blocks; i++) {
    new DataView(out.buffer).setUint32(p, block.length, true);
    out.set(block, p + 4);
    p += 4 + block.length;
  }
  return out; // the trailing four zero bytes are the end mark
}

/** Deterministic PRNG (LCG, Numerical Recipes constants). */

function mutate(input: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rnd() * n);
  let b = input.slice();
  const edits = 1 + pick(4);
  for (let e = 0; e < edits; e++) {
    const op = pick(5);
    if (op === 0 && b.length) b[pick(b.length)] ^= 1 << pick(8);
    else if (op === 1 && b.length) b[pick(b.length)] = pick(256);
    else if (op === 2) b = b.slice(0, pick(b.length + 1));
    else if (op === 3) {
      const at = pick(b.length + 1);
      const ins = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
      b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
    } else if (b.length > 8) {
      // Overwrite a run with 0xff: the shape of a hostile length or size field.
      const at = pick(b.length - 4);
      b.fill(0xff, at, at + 1 + pick(4));
    }
  }
  return b;
}

describe('sniffCompression', () => {
  for (const [file, kind] of ROUND_TRIPS) {
    it(`${file} is ${kind}`, () => assert.equal(sniffCompression(fixture(file)), kind));
  }

  it('recognises the real joblib compressors', () => {
    for (const base of ['logreg', 'pipeline', 'tree']) {
      for (const [ext, kind] of Object.entries(JOBLIB_EXT)) {
        const bytes = readFileSync(new URL(`${base}.joblib.${ext}`, REAL));
        assert.equal(sniffCompression(bytes), kind, `${base}.joblib.${ext}`);
      }
    }
  });

  it('only needs the first bytes', () => {
    for (const [file, kind] of ROUND_TRIPS) assert.equal(sniffCompression(fixture(file).subarray(0, 16)), kind, file);
  });

  it('returns null for plain text, pickles, zip, numpy and other non-compressed bytes', () => {
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['one gzip byte', Uint8Array.of(0x1f)],
      ['text', new TextEncoder().encode('hello, this is a README for a model\n')],
      ['json', new TextEncoder().encode('{"architectures": ["BertModel"]}')],
      ['pickle protocol 4 fixture', payload],
      ['pickle protocol 2', Uint8Array.of(0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e)],
      ['pickle protocol 4', Uint8Array.of(0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x2e)],
      ['pickle protocol 5', Uint8Array.of(0x80, 0x05, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x2e)],
      ['pickle protocol 0', new TextEncoder().encode('(dp0\nS\'a\'\np1\nI1\ns.')],
      ['zip', Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0)],
      ['npy', Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0)],
      ['7z', Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4)],
      ['BZh without level', new TextEncoder().encode('BZh0 not bzip2')],
      ['0x78 with a bad check', Uint8Array.of(0x78, 0x00, 1, 2)],
      ['0x5d then junk', Uint8Array.of(0x5d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)],
      ['lzma-like header with a nonzero range coder byte', Uint8Array.of(0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1)],
    ];
    for (const [what, bytes] of cases) assert.equal(sniffCompression(bytes), null, what);
  });
});

describe('decompress round trips', () => {
  for (const [file, kind] of ROUND_TRIPS) {
    it(`${file} decodes to the payload`, async () => {
      sameBytes(await decompress(kind, fixture(file), LIMITS), payload, file);
    });
  }

  it('decodes the real joblib files to the uncompressed joblib bytes', async () => {
    for (const base of ['logreg', 'pipeline', 'tree']) {
      const plain = new Uint8Array(readFileSync(new URL(`${base}.joblib`, REAL)));
      for (const [ext, kind] of Object.entries(JOBLIB_EXT)) {
        const bytes = new Uint8Array(readFileSync(new URL(`${base}.joblib.${ext}`, REAL)));
        sameBytes(await decompress(kind, bytes, LIMITS), plain, `${base}.joblib.${ext}`);
      }
    }
  });

  it('ignores zero padding after the last stream', async () => {
    for (const [file, kind] of ROUND_TRIPS) {
      const padded = new Uint8Array([...fixture(file), ...new Uint8Array(16)]);
      sameBytes(await decompress(kind, padded, LIMITS), payload, `${file} + zeros`);
    }
  });

  it('lets many xz decodes run at once (the decoder serialises them)', async () => {
    const xz = fixture('payload.pkl.xz');
    const outs = await Promise.all(Array.from({ length: 6 }, () => decompress('xz', xz, LIMITS)));
    for (const o of outs) sameBytes(o, payload, 'parallel xz');
  });

  it('decodes empty content', async () => {
    assert.equal((await decompress('gzip', new Uint8Array(gzipSync(Buffer.alloc(0))), LIMITS)).length, 0);
  });
});

describe('decompress bombs', () => {
  const bombs: Array<[string, CompressionKind, () => Promise<Uint8Array> | Uint8Array]> = [
    ['gzip, 200 MB of zeros built in the test', 'gzip', () => zeroBomb(() => createGzip({ level: 9 }), 200e6)],
    ['zlib, 200 MB of zeros built in the test', 'zlib', () => zeroBomb(() => createDeflate({ level: 9 }), 200e6)],
    ['gzip, the 1 GiB hostile fixture', 'gzip', () => new Uint8Array(readFileSync(new URL('gzip_bomb_1gib.gz', HOSTILE)))],
    ['bzip2, 200 MB of zeros', 'bzip2', () => fixture('zeros-200m.bz2')],
    ['xz, 200 MB of zeros', 'xz', () => fixture('zeros-200m.xz')],
    ['lzma, 200 MB of zeros', 'lzma', () => fixture('zeros-200m.lzma')],
    ['lz4, 200 MiB of zeros', 'lz4', () => lz4Bomb(50)],
  ];

  for (const [what, kind, make] of bombs) {
    it(`${what}: LimitError at 8 MiB, fast, with bounded memory`, async (t) => {
      const bomb = await make();
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      const err = await rejectsWith(decompress(kind, bomb, BOMB_LIMITS), LimitError);
      const ms = performance.now() - t0;
      const grew = process.memoryUsage().rss - rss0;
      t.diagnostic(`${kind} bomb (${bomb.length} bytes): ${err.limit} after ${ms.toFixed(1)} ms, rss +${(grew / MiB).toFixed(1)} MiB`);
      assert.equal(err.limit, 'decompressed-bytes');
      assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
      assert.ok(grew < 100 * MiB, `rss grew by ${(grew / MiB).toFixed(0)} MiB`);
    });
  }

  it('stops on the ratio once past 1 MiB', async () => {
    const bomb = await zeroBomb(() => createGzip({ level: 9 }), 50e6);
    const err = await rejectsWith(decompress('gzip', bomb, { maxOutputBytes: 1 << 30, maxRatio: 20 }), LimitError);
    assert.equal(err.limit, 'compression-ratio');
  });

  it('does not flag a small output for its ratio', async () => {
    const zeros = new Uint8Array(MiB); // compresses ~1000:1 but is only 1 MiB
    const out = await decompress('gzip', new Uint8Array(gzipSync(zeros)), { maxOutputBytes: 8 * MiB, maxRatio: 10 });
    assert.equal(out.length, MiB);
  });

  it('stops exactly at maxOutputBytes', async () => {
    const gz = fixture('payload.pkl.gz');
    sameBytes(await decompress('gzip', gz, { maxOutputBytes: payload.length, maxRatio: 1e6 }), payload, 'exact budget');
    await rejectsWith(decompress('gzip', gz, { maxOutputBytes: payload.length - 1, maxRatio: 1e6 }), LimitError);
    for (const [file, kind] of ROUND_TRIPS) {
      await rejectsWith(decompress(kind, fixture(file), { maxOutputBytes: 1000, maxRatio: 1e6 }), LimitError, (e) =>
        assert.equal(e.limit, 'decompressed-bytes', file),
      );
    }
  });

  it('keeps working after a bomb was stopped (xz frees its decoder)', async () => {
    await rejectsWith(decompress('xz', fixture('zeros-200m.xz'), BOMB_LIMITS), LimitError);
    await rejectsWith(decompress('xz', fixture('zeros-200m.xz'), BOMB_LIMITS), LimitError);
    sameBytes(await decompress('xz', fixture('payload.pkl.xz'), LIMITS), payload, 'xz after bombs');
  });
});

describe('decompress corrupt input', () => {
  it('rejects truncated streams', async () => {
    for (const [file, kind] of ROUND_TRIPS) {
      const whole = fixture(file);
      for (const cut of [1, 2, 5, Math.floor(whole.length / 2), whole.length - 10]) {
        if (cut >= whole.length) continue;
        await rejectsWith(decompress(kind, whole.subarray(0, whole.length - cut), LIMITS), FormatError, (e) =>
          assert.equal(e.code, 'CORRUPT_STREAM', `${file} minus ${cut}`),
        );
      }
    }
  });

  it('rejects garbage, empty input and the wrong kind', async () => {
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff);
    for (const kind of ['gzip', 'zlib', 'bzip2', 'xz', 'lzma', 'lz4'] as const) {
      await rejectsWith(decompress(kind, garbage, LIMITS), FormatError);
      await rejectsWith(decompress(kind, new Uint8Array(0), LIMITS), FormatError);
      await rejectsWith(decompress(kind, payload, LIMITS), FormatError);
    }
    await rejectsWith(decompress('xz', fixture('payload.pkl.gz'), LIMITS), FormatError);
  });

  it('rejects non-zero bytes after the last stream', async () => {
    const junk = new TextEncoder().encode('trailing junk!');
    for (const [file, kind] of ROUND_TRIPS) {
      await rejectsWith(decompress(kind, new Uint8Array([...fixture(file), ...junk]), LIMITS), FormatError, undefined);
    }
  });

  it('reports xz features the decoder lacks instead of guessing', async () => {
    await rejectsWith(decompress('xz', fixture('sha256-check.xz'), LIMITS), FormatError, (e) => assert.equal(e.code, 'UNSUPPORTED'));
    await rejectsWith(decompress('xz', fixture('dict-128m.xz'), LIMITS), LimitError, (e) => assert.equal(e.limit, 'decoder-memory'));
  });

  it('checks LZ4 checksums', async () => {
    const lz4 = fixture('payload-linked.lz4'); // block checksums and a content checksum
    const flipped = lz4.slice();
    flipped[40] ^= 0x01;
    await rejectsWith(decompress('lz4', flipped, LIMITS), FormatError);
    const tail = lz4.slice();
    tail[tail.length - 1] ^= 0x01; // content checksum
    await rejectsWith(decompress('lz4', tail, LIMITS), FormatError, (e) => assert.match(e.message, /checksum/));
  });

  it('rejects a .lzma match reaching before the start of the output', async () => {
    // Props 0x5d, 4 KiB dictionary, unknown size; then a range coder stream of 0x00 then 0xff bytes,
    // which decodes as an immediate match with no output to copy from.
    const bad = Uint8Array.from([0x5d, 0, 0x10, 0, 0, ...new Array(8).fill(0xff), 0, ...new Array(32).fill(0xff)]);
    await rejectsWith(decompress('lzma', bad, LIMITS), FormatError);
  });
});

describe('decompress fuzz', () => {
  // The committed fixtures, the real joblib files (python-lz4 and .lzma carry no checksum, so mutations
  // reach deep into the decoders) and the bombs (mutated bombs exercise the budget paths).
  const real = (name: string) => new Uint8Array(readFileSync(new URL(name, REAL)));
  const seeds: Array<[CompressionKind, Uint8Array[]]> = [
    ['gzip', [fixture('payload.pkl.gz'), fixture('multi.gz'), real('pipeline.joblib.gz')]],
    ['zlib', [fixture('payload.pkl.zlib'), fixture('multi.zlib'), real('pipeline.joblib.z')]],
    ['bzip2', [fixture('payload.pkl.bz2'), fixture('multi.bz2'), fixture('zeros-200m.bz2')]],
    ['xz', [fixture('payload.pkl.xz'), fixture('multi.xz'), fixture('zeros-200m.xz')]],
    ['lzma', [fixture('payload.pkl.lzma'), fixture('sized.lzma'), real('pipeline.joblib.lzma'), fixture('zeros-200m.lzma')]],
    ['lz4', [fixture('payload.pkl.lz4'), fixture('payload-linked.lz4'), real('pipeline.joblib.lz4'), lz4Bomb(2)]],
  ];
  for (const [kind, inputs] of seeds) {
    it(`${kind}: 200 seeded mutations only ever give bytes, FormatError or LimitError`, async (t) => {
      const rnd = lcg(0x5eed ^ kind.length * 7919 ^ kind.charCodeAt(0));
      const tally = { ok: 0, format: 0, limit: 0 };
      for (let i = 0; i < 200; i++) {
        const input = mutate(inputs[i % inputs.length], rnd);
        try {
          const out = await decompress(kind, input, { maxOutputBytes: 2 * MiB, maxRatio: 1e6 });
          assert.ok(out.length <= 2 * MiB);
          tally.ok++;
        } catch (err) {
          if (err instanceof FormatError) tally.format++;
          else if (err instanceof LimitError) tally.limit++;
          else assert.fail(`mutation ${i} of ${kind} threw ${err instanceof Error ? `${err.name}: ${err.stack}` : String(err)}`);
        }
      }
      t.diagnostic(`${kind}: ${JSON.stringify(tally)}`);
    });
  }
});
