// ZIP directory reader: real archives from the zip tool, hand-assembled hostile archives (each one a known
// parser-differential technique), a zip bomb and a seeded mutation fuzz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { BufferSource, FileSource, readAll, SliceSource } from '../../src/formats/source.ts';
import { looksLikeZip, openZipEntry, readZipDirectory, verifyZipEntryCrc, type ZipDirectory } from '../../src/formats/zip/index.ts';
import { lcg } from '../helpers/random.ts';

// ---- a tiny zip writer with a knob for every field an attacker controls ----

type Field = [bytes: 2 | 4 | 8, value: number];
function pack(fields: Field[]): Buffer {
  const b = Buffer.alloc(fields.reduce((n, [w]) => n + w, 0));
  let o = 0;
  for (const [w, v] of fields) {
    if (w === 2) b.writeUInt16LE(v, o);
    else if (w === 4) b.writeUInt32LE(v, o);
    else b.writeBigUInt64LE(BigInt(v), o);
    o += w;
  }
  return b;
}

interface Member {
  name: string;
  data: string | Buffer;
  method?: number; // 0 stored (default), 8 deflate, other: stored bytes with that method number
  flags?: number;
  localFlags?: number;
  localName?: string;
  localMethod?: number;
  localSizes?: [number, number];
  crc?: number;
  externalAttrs?: number;
  zip64?: boolean; // sizes and offset in a ZIP64 extra field
  lhoDelta?: number; // lie about the local header offset
  reuseLocalOf?: number; // point at another member's local header (overlap)
}
interface Layout {
  declaredEntries?: number;
  zip64Eocd?: boolean;
  z64Entries?: number;
  comment?: string;
  trailing?: Buffer;
}

function buildZip(members: Member[], layout: Layout = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const offsets: number[] = [];
  let off = 0;
  for (const m of members) {
    const raw = Buffer.from(m.data);
    const method = m.method ?? 0;
    const body = method === 8 ? deflateRawSync(raw) : raw;
    const crc = m.crc ?? crc32(raw);
    const name = Buffer.from(m.name);
    const localName = Buffer.from(m.localName ?? m.name);
    const [lc, lu] = m.localSizes ?? [body.length, raw.length];
    const z64 = m.zip64 ? pack([[2, 1], [2, 16], [8, lu], [8, lc]]) : Buffer.alloc(0);
    const local = pack([[4, 0x04034b50], [2, m.zip64 ? 45 : 20], [2, m.localFlags ?? m.flags ?? 0], [2, m.localMethod ?? method], [2, 0], [2, 0], [4, crc],
      [4, m.zip64 ? 0xffffffff : lc], [4, m.zip64 ? 0xffffffff : lu], [2, localName.length], [2, z64.length]]);
    const lho = m.reuseLocalOf !== undefined ? offsets[m.reuseLocalOf] : off;
    offsets.push(lho);
    if (m.reuseLocalOf === undefined) {
      locals.push(local, localName, z64, body);
      off += local.length + localName.length + z64.length + body.length;
    }
    const cz64 = m.zip64 ? pack([[2, 1], [2, 24], [8, raw.length], [8, body.length], [8, lho]]) : Buffer.alloc(0);
    centrals.push(pack([[4, 0x02014b50], [2, 0x031e], [2, 20], [2, m.flags ?? 0], [2, method], [2, 0], [2, 0], [4, crc],
      [4, m.zip64 ? 0xffffffff : body.length], [4, m.zip64 ? 0xffffffff : raw.length], [2, name.length], [2, cz64.length], [2, 0], [2, 0], [2, 0],
      [4, m.externalAttrs ?? 0], [4, m.zip64 ? 0xffffffff : lho + (m.lhoDelta ?? 0)]]), name, cz64);
  }
  const cd = Buffer.concat(centrals);
  const count = layout.declaredEntries ?? members.length;
  const tail: Buffer[] = [];
  if (layout.zip64Eocd) {
    const z64At = off + cd.length;
    tail.push(pack([[4, 0x06064b50], [8, 44], [2, 45], [2, 45], [4, 0], [4, 0], [8, layout.z64Entries ?? count], [8, layout.z64Entries ?? count], [8, cd.length], [8, off]]));
    tail.push(pack([[4, 0x07064b50], [4, 0], [8, z64At], [4, 1]]));
  }
  const comment = Buffer.from(layout.comment ?? '');
  const big = layout.zip64Eocd;
  tail.push(pack([[4, 0x06054b50], [2, 0], [2, 0], [2, big ? 0xffff : count], [2, big ? 0xffff : count], [4, big ? 0xffffffff : cd.length], [4, big ? 0xffffffff : off], [2, comment.length]]), comment);
  return Buffer.concat([...locals, cd, ...tail, layout.trailing ?? Buffer.alloc(0)]);
}

const LIMITS = { maxEntries: 1000 };
const read = (b: Buffer): ZipDirectory => readZipDirectory(new BufferSource(b), LIMITS);
const kinds = (d: ZipDirectory): string[] => d.anomalies.map((a) => a.kind).sort();
const text = (s: { size: number; read(o: number, l: number): Uint8Array }): string => Buffer.from(readAll(s)).toString();

// ---- ordinary archives ----

test('a hand-built stored + deflated zip reads cleanly, stored data is a slice, deflated data inflates', () => {
  const buf = buildZip([{ name: 'archive/data.pkl', data: 'stored bytes' }, { name: 'archive/big.txt', data: 'x'.repeat(5000), method: 8 }]);
  const src = new BufferSource(buf);
  assert.ok(looksLikeZip(src));
  const d = readZipDirectory(src, LIMITS);
  assert.deepEqual(d.anomalies, []);
  assert.equal(d.prefixBytes, 0);
  assert.deepEqual(d.entries.map((e) => [e.name, e.method, e.uncompressedSize]), [['archive/data.pkl', 0, 12], ['archive/big.txt', 8, 5000]]);
  const stored = openZipEntry(src, d.entries[0], { maxBytes: 1 << 20 });
  assert.ok(stored instanceof SliceSource && stored.parent === src, 'stored members are windows, not copies');
  assert.equal(text(stored), 'stored bytes');
  const inflated = openZipEntry(src, d.entries[1], { maxBytes: 1 << 20 });
  assert.equal(text(inflated), 'x'.repeat(5000));
  assert.ok(verifyZipEntryCrc(src, d.entries[0], stored) && verifyZipEntryCrc(src, d.entries[1], inflated));
});

const haveZip = (() => {
  try {
    execFileSync('zip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('archives written by Info-ZIP zip (stored, deflated, forced ZIP64) read through a FileSource', () => {
  assert.ok(haveZip, 'Info-ZIP `zip` is required (.ci/run installs it: apt-get install zip)');
  const dir = mkdtempSync(join(tmpdir(), 'mg-zip-'));
  try {
    writeFileSync(join(dir, 'a.txt'), 'hello '.repeat(1000));
    writeFileSync(join(dir, 'b.bin'), Buffer.from([1, 2, 3]));
    for (const flags of [['-0'], ['-9'], ['-fz']]) {
      const out = join(dir, `t${flags[0]}.zip`);
      execFileSync('zip', ['-q', '-X', ...flags, out, 'a.txt', 'b.bin'], { cwd: dir });
      const src = new FileSource(out);
      try {
        const d = readZipDirectory(src, LIMITS);
        assert.deepEqual(d.anomalies, [], `${flags}: ${JSON.stringify(d.anomalies)}`);
        assert.deepEqual(d.entries.map((e) => e.name), ['a.txt', 'b.bin']);
        const a = openZipEntry(src, d.entries[0], { maxBytes: 1 << 20 });
        assert.equal(text(a), 'hello '.repeat(1000));
        assert.ok(verifyZipEntryCrc(src, d.entries[0], a));
      } finally {
        src.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ZIP64: end-of-directory record, locator and per-entry extra fields', () => {
  const buf = buildZip([{ name: 'a', data: 'alpha', zip64: true }, { name: 'b', data: 'beta'.repeat(50), method: 8, zip64: true }], { zip64Eocd: true });
  const src = new BufferSource(buf);
  const d = readZipDirectory(src, LIMITS);
  assert.deepEqual(d.anomalies, []);
  assert.deepEqual(d.entries.map((e) => [e.name, e.compressedSize, e.uncompressedSize]), [['a', 5, 5], ['b', d.entries[1].compressedSize, 200]]);
  assert.equal(d.entries[1].localHeaderOffset, 30 + 1 + 20 + 5);
  assert.equal(text(openZipEntry(src, d.entries[1], { maxBytes: 1000 })), 'beta'.repeat(50));
  // Prepended data also shifts the ZIP64 record; the reader finds it next to the locator.
  const poly = readZipDirectory(new BufferSource(Buffer.concat([Buffer.alloc(33, 7), buf])), LIMITS);
  assert.equal(poly.prefixBytes, 33);
  assert.equal(poly.entries[0].localHeaderOffset, 33);
});

// ---- hostile archives ----

test('prefix data (a pickle glued in front of a zip) is reported and offsets are adjusted', () => {
  const pickle = Buffer.from([0x80, 0x04, 0x95, ...Buffer.from('cos\nsystem\n'), 0x2e]);
  const src = new BufferSource(Buffer.concat([pickle, buildZip([{ name: 'archive/data.pkl', data: 'payload' }])]));
  assert.ok(looksLikeZip(src));
  const d = readZipDirectory(src, LIMITS);
  assert.equal(d.prefixBytes, pickle.length);
  assert.deepEqual(kinds(d), ['prefix-data']);
  assert.equal(d.entries[0].localHeaderOffset, pickle.length);
  assert.equal(text(openZipEntry(src, d.entries[0], { maxBytes: 100 })), 'payload');
});

test('local vs central name mismatch keeps the central name (what PyTorch loads)', () => {
  const d = read(buildZip([{ name: 'archive/data.pkl', localName: 'archive/datap.kl', data: 'x' }]));
  assert.deepEqual(kinds(d), ['name-mismatch']);
  assert.equal(d.entries[0].name, 'archive/data.pkl');
  assert.equal(d.entries[0].localName, 'archive/datap.kl');
});

test('duplicate names report both indices; case-only duplicates too (miniz looks up case-insensitively)', () => {
  const d = read(buildZip([{ name: 'archive/data.pkl', data: 'evil' }, { name: 'archive/data.pkl', data: 'benign' }, { name: 'archive/DATA.pkl', data: 'x' }, { name: 'archive/version', data: '3\n' }]));
  const dups = d.anomalies.filter((a) => a.kind === 'duplicate-name');
  assert.deepEqual(dups.map((a) => a.indices), [[0, 1], [0, 2]]);
  assert.equal(d.entries.length, 4, 'every entry is listed so each can be scanned');
});

test('flag bits 0x1 / 0x20 / 0x40 and local/central flag differences', () => {
  const d = read(buildZip([
    { name: 'enc', data: 'a', flags: 0x1 },
    { name: 'patched', data: 'b', flags: 0x20 },
    { name: 'strong', data: 'c', flags: 0x40 },
    { name: 'differ', data: 'd', flags: 0, localFlags: 0x20 },
    { name: 'utf8-ok', data: 'e', flags: 0x800 },
  ]));
  const by = (name: string): string[] => d.anomalies.filter((a) => a.entry === name).map((a) => a.kind).sort();
  assert.deepEqual(by('enc'), ['encrypted', 'flag-bits']);
  assert.deepEqual(by('patched'), ['flag-bits']);
  assert.deepEqual(by('strong'), ['flag-bits']);
  assert.deepEqual(by('differ'), ['flag-bits']);
  assert.deepEqual(by('utf8-ok'), []);
});

test('a CRC mismatch is found by verifyZipEntryCrc while the data stays readable', () => {
  const buf = buildZip([{ name: 'archive/data.pkl', data: "print('123')", crc: crc32("print('456')") }]);
  const src = new BufferSource(buf);
  const d = readZipDirectory(src, LIMITS);
  assert.deepEqual(d.anomalies, [], 'readZipDirectory does not check CRCs, like loaders');
  const data = openZipEntry(src, d.entries[0], { maxBytes: 100 });
  assert.equal(text(data), "print('123')");
  assert.equal(verifyZipEntryCrc(src, d.entries[0], data), false);
});

test('per-entry anomalies: traversal, absolute, symlink, method, sizes, missing header, overlap, trailing data, count', () => {
  const d = read(buildZip([
    { name: '../../etc/cron.d/x', data: 'a' },
    { name: '/abs', data: 'b' },
    { name: 'C:\\win', data: 'c' },
    { name: 'link', data: '/etc/passwd', externalAttrs: (0o120777 << 16) >>> 0 },
    { name: 'bz', data: 'd', method: 12 },
    { name: 'streamed', data: 'e', localMethod: 8 },
    { name: 'sizes', data: 'fff', localSizes: [1, 1] },
    { name: 'lost', data: 'g', lhoDelta: 3 },
    { name: 'alias', data: 'h', reuseLocalOf: 0 },
  ], { trailing: Buffer.from('junk'), declaredEntries: 8 }));
  const by = (name: string | null): string[] => d.anomalies.filter((a) => a.entry === name).map((a) => a.kind).sort();
  assert.deepEqual(by('../../etc/cron.d/x'), ['path-traversal']);
  assert.deepEqual(by('/abs'), ['absolute-path']);
  assert.deepEqual(by('C:\\win'), ['absolute-path']);
  assert.deepEqual(by('link'), ['symlink']);
  assert.deepEqual(by('bz'), ['unsupported-method']);
  assert.deepEqual(by('streamed'), ['method-mismatch']);
  assert.deepEqual(by('sizes'), ['size-mismatch']);
  assert.deepEqual(by('lost'), ['local-header-missing']);
  assert.equal(d.entries[7].dataOffset, -1);
  assert.throws(() => openZipEntry(new BufferSource(Buffer.alloc(0)), d.entries[7], { maxBytes: 10 }), FormatError);
  assert.deepEqual(by('alias'), ['name-mismatch', 'overlap', 'path-traversal'], 'its local name is the traversal one');
  assert.deepEqual(by(null), ['entry-count-mismatch', 'trailing-data']);
});

test('openZipEntry refuses unsupported methods and corrupt deflate with FormatError', () => {
  const src = new BufferSource(buildZip([{ name: 'bz', data: 'abc', method: 12 }, { name: 'bad', data: Buffer.from([0xff, 0xff, 0xff]), method: 8 }]));
  const d = readZipDirectory(src, LIMITS);
  assert.throws(() => openZipEntry(src, d.entries[0], { maxBytes: 100 }), (e: unknown) => e instanceof FormatError && e.code === 'ZIP_METHOD');
  const corrupt = { ...d.entries[1], compressedSize: 3 };
  const raw = Buffer.from(buildZip([{ name: 'bad', data: 'zzz' }]));
  raw.fill(0xff, corrupt.dataOffset, corrupt.dataOffset + 3);
  assert.throws(() => openZipEntry(new BufferSource(raw), corrupt, { maxBytes: 100 }), FormatError);
});

test('a zip bomb (50 MB of zeros) stops at maxBytes with a LimitError, quickly', () => {
  const src = new BufferSource(buildZip([{ name: 'bomb', data: Buffer.alloc(50 << 20), method: 8 }]));
  const d = readZipDirectory(src, LIMITS);
  const t = performance.now();
  assert.throws(() => openZipEntry(src, d.entries[0], { maxBytes: 1 << 20 }), LimitError);
  assert.ok(performance.now() - t < 1000, 'the inflate was cut at the budget');
  // Compressed input larger than the budget is refused before anything is read into memory.
  assert.throws(() => openZipEntry(src, d.entries[0], { maxBytes: 1000 }), LimitError);
});

test('truncated or missing central directory is a FormatError, not a crash', () => {
  const good = buildZip([{ name: 'a', data: 'aaaa' }, { name: 'b', data: 'bbbb' }]);
  const cdStart = good.indexOf(Buffer.from([0x50, 0x4b, 1, 2]));
  const eocd = good.length - 22;
  // Directory bytes cut out, end record intact.
  assert.throws(() => read(Buffer.concat([good.subarray(0, cdStart + 20), good.subarray(eocd)])), FormatError);
  // File cut in the middle of the directory: no end record at all.
  assert.throws(() => read(good.subarray(0, cdStart + 60)), (e: unknown) => e instanceof FormatError && e.code === 'ZIP_NO_EOCD');
  // Second record's signature destroyed.
  const smashed = Buffer.from(good);
  smashed.writeUInt32LE(0, cdStart + 47);
  assert.throws(() => read(smashed), FormatError);
  assert.throws(() => read(Buffer.from('not a zip at all')), FormatError);
});

test('an end record claiming 2^32 (ZIP64) or 65535 entries does not drive allocation', () => {
  const z64 = buildZip([{ name: 'a', data: 'a' }], { zip64Eocd: true, z64Entries: 2 ** 32 });
  assert.throws(() => readZipDirectory(new BufferSource(z64), { maxEntries: 10000 }), LimitError);
  const many = buildZip([{ name: 'a', data: 'a' }], { declaredEntries: 0xffff });
  assert.throws(() => readZipDirectory(new BufferSource(many), { maxEntries: 1000 }), LimitError);
  // Within the budget the lie is just an anomaly: the walk follows the real directory.
  const d = readZipDirectory(new BufferSource(many), { maxEntries: 100000 });
  assert.deepEqual(kinds(d), ['entry-count-mismatch']);
  // More real records than the budget: LimitError after maxEntries records, never more.
  const lots = buildZip(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, data: '' })), { declaredEntries: 5 });
  assert.throws(() => readZipDirectory(new BufferSource(lots), { maxEntries: 10 }), LimitError);
});

test('looksLikeZip: local header at 0, or an end record near the end', () => {
  assert.ok(looksLikeZip(new BufferSource(Buffer.from('PK\x03\x04rest'))));
  assert.ok(looksLikeZip(new BufferSource(Buffer.concat([Buffer.alloc(100), buildZip([])]))));
  assert.ok(!looksLikeZip(new BufferSource(Buffer.alloc(200))));
  assert.ok(!looksLikeZip(new BufferSource(Buffer.alloc(0))));
});

// ---- fuzz ----


function mutate(base: Buffer, rnd: () => number, hot: number): Buffer {
  let b = Buffer.from(base);
  const n = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) {
    // Half the hits land in the directory/end record, where the parser's decisions are made.
    const at = rnd() < 0.5 && b.length > hot ? hot + Math.floor(rnd() * (b.length - hot)) : Math.floor(rnd() * b.length);
    const r = rnd();
    if (r < 0.6) b[at] = Math.floor(rnd() * 256);
    else if (r < 0.8) b.fill(0xff, at, Math.min(b.length, at + 4));
    else if (r < 0.9) b = b.subarray(0, at);
    else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 8))]);
  }
  return b;
}

test('fuzz: 300 mutations of a valid zip either parse or throw FormatError/LimitError', () => {
  const base = buildZip([
    { name: 'archive/data.pkl', data: 'stored payload' },
    { name: 'archive/w', data: 'w'.repeat(3000), method: 8 },
    { name: 'z64', data: 'zz', zip64: true },
  ], { zip64Eocd: true, comment: 'c' });
  const hot = base.indexOf(Buffer.from([0x50, 0x4b, 1, 2]));
  const rnd = lcg(0x5eed);
  const t = performance.now();
  let parsed = 0;
  for (let i = 0; i < 300; i++) {
    const src = new BufferSource(mutate(base, rnd, hot));
    try {
      looksLikeZip(src);
      const d = readZipDirectory(src, { maxEntries: 50 });
      parsed++;
      for (const e of d.entries) {
        try {
          verifyZipEntryCrc(src, e, openZipEntry(src, e, { maxBytes: 1 << 16 }));
        } catch (err) {
          assert.ok(err instanceof FormatError || err instanceof LimitError, `iteration ${i}, entry ${e.index}: ${(err as Error).stack}`);
        }
      }
    } catch (err) {
      assert.ok(err instanceof FormatError || err instanceof LimitError, `iteration ${i}: ${(err as Error).stack}`);
    }
  }
  assert.ok(parsed > 30, `most mutations should still parse (${parsed})`);
  assert.ok(performance.now() - t < 5000);
});
