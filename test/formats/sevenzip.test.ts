import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { extract7z, list7z, looksLike7z } from '../../src/formats/sevenzip/index.ts';
import { lcg } from '../helpers/random.ts';
import { rejectsWith } from '../helpers/assert.ts';

const FIX = new URL('../fixtures/compress/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));
const MiB = 1 << 20;
const LIMITS = { maxEntries: 100, maxTotalBytes: 64 * MiB };
const payload = fixture('payload.pkl');
const text = (b: Uint8Array) => new TextDecoder().decode(b);


const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}


describe('looksLike7z', () => {
  it('matches the signature only', () => {
    assert.equal(looksLike7z(fixture('store.7z')), true);
    assert.equal(looksLike7z(fixture('lzma2.7z').subarray(0, 6)), true);
    assert.equal(looksLike7z(fixture('store.7z').subarray(0, 5)), false);
    assert.equal(looksLike7z(fixture('payload.pkl.xz')), false);
    assert.equal(looksLike7z(payload), false);
    assert.equal(looksLike7z(new Uint8Array(0)), false);
  });
});

describe('extract7z', () => {
  it('extracts a stored archive in memory: a pickle and a text file', async () => {
    const members = await extract7z(fixture('store.7z'), LIMITS);
    assert.deepEqual(
      members.map((m) => [m.name, m.size]),
      [
        ['model.pkl', payload.length],
        ['readme.txt', 21],
      ],
    );
    assert.ok(Buffer.from(members[0].data).equals(payload));
    assert.equal(members[0].data[0], 0x80);
    assert.equal(text(members[1].data), 'modelgate 7z fixture\n');
  });

  it('extracts an LZMA2 archive with a folder; the folder itself is not a member', async () => {
    const members = await extract7z(fixture('lzma2.7z'), LIMITS);
    assert.deepEqual(
      members.map((m) => m.name),
      ['model.pkl', 'readme.txt', 'sub/nested.txt'],
    );
    assert.ok(Buffer.from(members[0].data).equals(payload));
    assert.equal(text(members[2].data), 'nested file\n');
  });

  it('extracts the corpus 7z-wrapped pickle', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('../fixtures/corpus/container/archive_7z.bin', import.meta.url)));
    const [member, ...rest] = await extract7z(bytes, LIMITS);
    assert.equal(rest.length, 0);
    assert.equal(member.name, 'weights/data.pkl');
    assert.equal(member.data[0], 0x80);
  });

  it('lists without extracting', async () => {
    const entries = await list7z(fixture('lzma2.7z'));
    assert.deepEqual(
      entries.map((e) => [e.name, e.size, e.isDir]),
      [
        ['sub', 0, true],
        ['model.pkl', payload.length, false],
        ['readme.txt', 21, false],
        ['sub/nested.txt', 12, false],
      ],
    );
    assert.match(entries[1].method, /LZMA2/);
  });

  it('refuses too many entries from the listing, then keeps working', async () => {
    const err = await rejectsWith(extract7z(fixture('many.7z'), { maxEntries: 10, maxTotalBytes: 64 * MiB }), LimitError);
    assert.equal(err.limit, '7z-entries');
    assert.equal((await extract7z(fixture('many.7z'), LIMITS)).length, 50);
    assert.equal((await extract7z(fixture('store.7z'), LIMITS)).length, 2);
  });

  it('refuses a too-large total before extracting: 200 MB of zeros, fast and without the memory', async (t) => {
    const bomb = fixture('zeros-200m.7z');
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const err = await rejectsWith(extract7z(bomb, { maxEntries: 100, maxTotalBytes: 8 * MiB }), LimitError);
    const ms = performance.now() - t0;
    const grew = process.memoryUsage().rss - rss0;
    t.diagnostic(`7z bomb (${bomb.length} bytes): ${err.limit} after ${ms.toFixed(1)} ms, rss +${(grew / MiB).toFixed(1)} MiB`);
    assert.equal(err.limit, '7z-bytes');
    assert.match(err.message, /declares 200000000 bytes/);
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
    assert.ok(grew < 64 * MiB, `rss grew by ${(grew / MiB).toFixed(0)} MiB`);
    await rejectsWith(extract7z(fixture('store.7z'), { maxEntries: 100, maxTotalBytes: payload.length }), LimitError);
  });

  it('reports encrypted archives', async () => {
    for (const f of ['encrypted.7z', 'encrypted-headers.7z']) {
      await rejectsWith(extract7z(fixture(f), LIMITS), FormatError, (e) => assert.equal(e.code, 'ENCRYPTED', f));
    }
  });

  it('returns traversal names made safe by 7-Zip; list7z keeps them as declared', async () => {
    const bytes = fixture('traversal.7z');
    assert.ok((await list7z(bytes)).some((e) => e.name === '../../x.tx'));
    const members = await extract7z(bytes, LIMITS);
    assert.deepEqual(
      members.map((m) => m.name).sort(),
      ['sub/nested.txt', 'x.tx'],
    );
    assert.equal(text(members.find((m) => m.name === 'x.tx')!.data), 'modelgate 7z fixture\n');
  });

  it('refuses a symbolic link pointing outside the archive', async () => {
    await rejectsWith(extract7z(fixture('link.7z'), LIMITS), FormatError, (e) => assert.equal(e.code, 'UNSAFE_LINK'));
  });

  it('reports a coder needing more memory than the WASM heap as a limit', async () => {
    await rejectsWith(extract7z(fixture('dict-4g.7z'), LIMITS), LimitError, (e) => assert.equal(e.limit, 'decoder-memory'));
  });

  it('rejects non-7z, truncated and corrupt input', async () => {
    await rejectsWith(extract7z(payload, LIMITS), FormatError, (e) => assert.equal(e.code, 'NOT_7Z'));
    await rejectsWith(extract7z(new Uint8Array(0), LIMITS), FormatError);
    const store = fixture('store.7z');
    for (const len of [6, 32, 100, Math.floor(store.length / 2), store.length - 1]) {
      await rejectsWith(extract7z(store.subarray(0, len), LIMITS), FormatError, undefined);
    }
    const flipped = store.slice();
    flipped[1000] ^= 0xff; // inside model.pkl's stored data: the CRC check fails
    await rejectsWith(extract7z(flipped, LIMITS), FormatError, (e) => assert.equal(e.code, 'CORRUPT_ARCHIVE'));
  });

  it('reuses one instance across many sequential and parallel calls', async () => {
    const store = fixture('store.7z');
    for (let i = 0; i < 15; i++) assert.equal((await extract7z(store, LIMITS)).length, 2);
    const all = await Promise.all([store, fixture('lzma2.7z'), store, fixture('many.7z')].map((b) => extract7z(b, LIMITS)));
    assert.deepEqual(
      all.map((m) => m.length),
      [2, 3, 2, 50],
    );
  });

  it('leaves process.exitCode and the real disk alone', async () => {
    const before = process.exitCode;
    const rootBefore = readdirSync('/').sort();
    const cwdBefore = readdirSync('.').sort();
    await rejectsWith(extract7z(fixture('store.7z').subarray(0, 100), LIMITS), FormatError);
    await extract7z(fixture('lzma2.7z'), LIMITS);
    assert.equal(process.exitCode, before);
    assert.deepEqual(readdirSync('/').sort(), rootBefore);
    assert.deepEqual(readdirSync('.').sort(), cwdBefore);
    assert.equal(existsSync('/modelgate-7z-1'), false);
  });

  it('fuzz: 150 seeded mutations only ever give members, FormatError or LimitError', async (t) => {
    const rnd = lcg(0x7a);
    const pick = (n: number) => Math.floor(rnd() * n);
    const tally = { ok: 0, format: 0, limit: 0 };
    const seeds = [fixture('lzma2.7z'), fixture('many.7z'), fixture('plain-header.7z')];
    for (let i = 0; i < 150; i++) {
      const b = seeds[i % seeds.length].slice();
      // Two thirds of the time, damage only the (uncompressed) header and fix both CRCs, so 7-Zip's header
      // parser, not its checksum, meets the damage.
      const headerOnly = i % 3 === 2 || (i % 3 === 0 && pick(2) === 0);
      const dv = new DataView(b.buffer);
      const hStart = 32 + Number(dv.getBigUint64(12, true));
      const hSize = Number(dv.getBigUint64(20, true));
      for (let e = 0, n = 1 + pick(3); e < n; e++) {
        const at = headerOnly ? hStart + pick(hSize) : 6 + pick(b.length - 6);
        if (pick(2)) b[at] ^= 1 << pick(8);
        else b.fill(0xff, at, Math.min(at + 1 + pick(4), headerOnly ? hStart + hSize : b.length));
      }
      if (headerOnly) {
        dv.setUint32(28, crc32(b.subarray(hStart, hStart + hSize)), true);
        dv.setUint32(8, crc32(b.subarray(12, 32)), true);
      }
      try {
        await extract7z(b, { maxEntries: 60, maxTotalBytes: 4 * MiB });
        tally.ok++;
      } catch (err) {
        if (err instanceof FormatError) tally.format++;
        else if (err instanceof LimitError) tally.limit++;
        else assert.fail(`mutation ${i} threw ${err instanceof Error ? `${err.name}: ${err.stack}` : String(err)}`);
      }
    }
    t.diagnostic(JSON.stringify(tally));
    assert.equal((await extract7z(fixture('store.7z'), LIMITS)).length, 2, 'still works after the fuzz');
  });
});
