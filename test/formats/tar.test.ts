// TAR reader: archives from GNU tar (GNU long names, pax), hand-built hostile headers, a seeded fuzz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { BufferSource, readAll, SliceSource } from '../../src/formats/source.ts';
import { looksLikeTar, readTarEntries } from '../../src/formats/tar/index.ts';
import { lcg } from '../helpers/random.ts';

// ---- a hand tar writer ----

interface Header {
  name: string;
  size?: number;
  type?: string;
  link?: string;
  prefix?: string;
  magic?: 'ustar' | 'gnu' | 'v7';
  sizeField?: Buffer; // raw 12 bytes, e.g. base-256
  badChecksum?: boolean;
}

function header(h: Header): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100);
  b.write('0000644\0', 100);
  b.write('0000000\0', 108);
  b.write('0000000\0', 116);
  if (h.sizeField) h.sizeField.copy(b, 124);
  else b.write(`${(h.size ?? 0).toString(8).padStart(11, '0')}\0`, 124);
  b.write('14712345670\0', 136);
  b.write(h.type ?? '0', 156);
  b.write(h.link ?? '', 157, 100);
  if (h.magic === 'gnu') b.write('ustar  \0', 257);
  else if (h.magic !== 'v7') b.write('ustar\x0000', 257);
  if (h.prefix) b.write(h.prefix, 345, 155);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${(h.badChecksum ? sum + 1 : sum).toString(8).padStart(6, '0')}\0 `, 148);
  return b;
}

const pad = (data: Buffer): Buffer => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
function tar(members: Array<[Header, (string | Buffer)?]>, end = true): Buffer {
  const parts: Buffer[] = [];
  for (const [h, data] of members) {
    const d = Buffer.from(data ?? '');
    parts.push(header({ size: d.length, ...h }), pad(d));
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
function paxRecords(kv: Record<string, string>): Buffer {
  let out = '';
  for (const [k, v] of Object.entries(kv)) {
    const body = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(body) + 1;
    while (String(len).length + Buffer.byteLength(body) !== len) len++;
    out += len + body;
  }
  return Buffer.from(out);
}

const LIMITS = { maxEntries: 1000 };
const read = (b: Buffer) => readTarEntries(new BufferSource(b), LIMITS);
const dataOf = (b: Buffer, e: { dataOffset: number; size: number }): string => Buffer.from(readAll(new SliceSource(new BufferSource(b), e.dataOffset, e.size))).toString();

// ---- archives from GNU tar ----

function withTar(format: string, names: string[], fn: (buf: Buffer) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'mg-tar-'));
  try {
    for (const n of names) {
      mkdirSync(join(dir, 'src', n, '..'), { recursive: true });
      writeFileSync(join(dir, 'src', n), `content of ${n}`);
    }
    execFileSync('tar', [`--format=${format}`, '-cf', join(dir, 'out.tar'), '-C', join(dir, 'src'), ...names]);
    fn(readFileSync(join(dir, 'out.tar')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const longName = `${'deep/'.repeat(25)}weights-with-a-long-name.bin`;

test('GNU tar: a long name (typeflag L) is joined to its entry; data is a slice', () => {
  withTar('gnu', [longName, 'short.txt'], (buf) => {
    assert.ok(looksLikeTar(buf.subarray(0, 512)));
    const { entries, anomalies } = read(buf);
    assert.deepEqual(anomalies, []);
    assert.deepEqual(entries.map((e) => [e.name, e.type]), [[longName, 'file'], ['short.txt', 'file']]);
    assert.equal(dataOf(buf, entries[0]), `content of ${longName}`);
  });
});

test('pax tar: path from the extended header (long and non-ASCII names)', () => {
  withTar('pax', [longName, 'modèle.bin'], (buf) => {
    const { entries, anomalies } = read(buf);
    assert.deepEqual(anomalies, []);
    assert.deepEqual(entries.map((e) => e.name), [longName, 'modèle.bin']);
    assert.equal(dataOf(buf, entries[1]), 'content of modèle.bin');
  });
});

// ---- hand-built headers ----

test('ustar prefix, directories, v7 headers, base-256 sizes', () => {
  const body = Buffer.alloc(600, 0x61);
  const b256 = Buffer.alloc(12);
  b256[0] = 0x80;
  b256.writeUInt16BE(600, 10);
  const buf = tar([
    [{ name: 'data.pkl', prefix: 'archive' }, 'p'],
    [{ name: 'dir/', type: '5' }],
    [{ name: 'old.txt', magic: 'v7', type: '\0' }, 'v7 data'],
    [{ name: 'big.bin', sizeField: b256 }, body],
  ]);
  const { entries, anomalies } = read(buf);
  assert.deepEqual(anomalies, []);
  assert.deepEqual(entries.map((e) => [e.name, e.type, e.size]), [['archive/data.pkl', 'file', 1], ['dir/', 'dir', 0], ['old.txt', 'file', 7], ['big.bin', 'file', 600]]);
  assert.equal(dataOf(buf, entries[3]), 'a'.repeat(600));
  assert.ok(looksLikeTar(header({ name: 'x', magic: 'v7' })), 'v7 header recognised by its checksum');
  assert.ok(!looksLikeTar(Buffer.alloc(512)));
  assert.ok(!looksLikeTar(Buffer.alloc(100)));
});

test('pax: local path/size, global path applies to following entries', () => {
  const buf = tar([
    [{ name: 'PaxHeaders/x', type: 'x' }, paxRecords({ path: '../escape.pkl', size: '3' })],
    [{ name: 'placeholder', size: 3 }, 'abc'],
    [{ name: 'pax_global_header', type: 'g' }, paxRecords({ comment: 'hi' })],
    [{ name: 'plain.txt' }, 'ok'],
  ]);
  const { entries, anomalies } = read(buf);
  assert.deepEqual(entries.map((e) => [e.name, e.size]), [['../escape.pkl', 3], ['plain.txt', 2]]);
  assert.deepEqual(anomalies.map((a) => a.kind), ['path-traversal']);
  assert.equal(dataOf(buf, entries[1]), 'ok');
  // POSIX: a global path renames every following member (GNU tar does; Python only via a later 'x').
  const g = read(tar([[{ name: 'g', type: 'g' }, paxRecords({ path: 'same.pkl' })], [{ name: 'a' }, '1'], [{ name: 'b' }, '2']]));
  assert.deepEqual(g.entries.map((e) => e.name), ['same.pkl', 'same.pkl']);
  assert.deepEqual(g.anomalies.map((a) => a.kind), ['duplicate-name']);
});

test('traversal, absolute names, symlinks and hardlinks, duplicates', () => {
  const { entries, anomalies } = read(tar([
    [{ name: '../../etc/passwd' }, 'x'],
    [{ name: '/abs/file' }, 'y'],
    [{ name: 'link', type: '2', link: '/etc/shadow' }],
    [{ name: 'hard', type: '1', link: '../outside' }],
    [{ name: 'dup.pkl' }, 'first'],
    [{ name: 'dup.pkl' }, 'second'],
  ]));
  assert.deepEqual(entries.map((e) => [e.type, e.linkName]), [['file', null], ['file', null], ['symlink', '/etc/shadow'], ['hardlink', '../outside'], ['file', null], ['file', null]]);
  const by = (name: string): string[] => anomalies.filter((a) => a.entry === name).map((a) => a.kind).sort();
  assert.deepEqual(by('../../etc/passwd'), ['path-traversal']);
  assert.deepEqual(by('/abs/file'), ['absolute-path']);
  assert.deepEqual(by('link'), ['absolute-path', 'link']);
  assert.deepEqual(by('hard'), ['link', 'path-traversal']);
  assert.deepEqual(by('dup.pkl'), ['duplicate-name']);
});

test('bad checksum: FormatError on the first header, an anomaly that ends the walk later', () => {
  assert.throws(() => read(tar([[{ name: 'a', badChecksum: true }, 'x']])), FormatError);
  const { entries, anomalies } = read(tar([[{ name: 'a' }, 'x'], [{ name: 'b', badChecksum: true }, 'y'], [{ name: 'c' }, 'z']]));
  assert.deepEqual(entries.map((e) => e.name), ['a']);
  assert.deepEqual(anomalies.map((a) => a.kind), ['bad-checksum']);
  assert.throws(() => read(Buffer.from('x'.repeat(2000))), FormatError);
});

test('truncated data and a partial header are reported, entries before them kept', () => {
  const full = tar([[{ name: 'a' }, 'aaaa'], [{ name: 'b' }, Buffer.alloc(2000, 1)]], false);
  const cut = read(full.subarray(0, 512 + 512 + 512 + 100));
  assert.deepEqual(cut.entries.map((e) => e.name), ['a', 'b']);
  assert.deepEqual(cut.anomalies.map((a) => [a.kind, a.entry]), [['truncated', 'b']]);
  const partial = read(full.subarray(0, 1024 + 200));
  assert.deepEqual(partial.anomalies.map((a) => a.kind), ['truncated']);
  // No end-of-archive blocks at all is fine (end of data).
  assert.deepEqual(read(tar([[{ name: 'a' }, 'aaaa']], false)).anomalies, []);
});

test('a lone zero block does not hide the members after it; two end the archive', () => {
  const a = tar([[{ name: 'a' }, 'x']], false);
  const b = tar([[{ name: 'hidden' }, 'y']], false);
  assert.deepEqual(read(Buffer.concat([a, Buffer.alloc(512), b])).entries.map((e) => e.name), ['a', 'hidden']);
  assert.deepEqual(read(Buffer.concat([a, Buffer.alloc(1024), b])).entries.map((e) => e.name), ['a']);
});

test('limits: entry count and oversized meta headers', () => {
  const many = tar(Array.from({ length: 20 }, (_, i): [Header] => [{ name: `f${i}` }]));
  assert.throws(() => readTarEntries(new BufferSource(many), { maxEntries: 10 }), LimitError);
  const huge = Buffer.concat([header({ name: 'L', type: 'L', size: 1 << 30 }), Buffer.alloc(512)]);
  assert.throws(() => read(huge), LimitError);
});

// ---- fuzz ----

test('fuzz: 300 mutations of a valid tar either parse or throw FormatError/LimitError', () => {
  const base = tar([
    [{ name: 'PaxHeaders/x', type: 'x' }, paxRecords({ path: 'p/long', linkpath: 'q' })],
    [{ name: 'x', type: '2', link: 'y' }],
    [{ name: '././@LongLink', type: 'L', magic: 'gnu' }, `${longName}\0`],
    [{ name: 'short', magic: 'gnu' }, 'data'.repeat(200)],
    [{ name: 'z', prefix: 'pre' }, 'zz'],
  ]);
  const rnd = lcg(0x7a5);
  const t = performance.now();
  for (let i = 0; i < 300; i++) {
    let b = Buffer.from(base);
    for (let n = 1 + Math.floor(rnd() * 6); n > 0; n--) {
      const at = Math.floor(rnd() * b.length);
      const r = rnd();
      if (r < 0.7) b[at] = Math.floor(rnd() * 256);
      else if (r < 0.85) b = b.subarray(0, at);
      else b.fill(0x80 | Math.floor(rnd() * 128), at, Math.min(b.length, at + 12));
    }
    try {
      looksLikeTar(b.subarray(0, 512));
      const { entries } = readTarEntries(new BufferSource(b), { maxEntries: 50 });
      for (const e of entries) readAll(new SliceSource(new BufferSource(b), e.dataOffset, e.size));
    } catch (err) {
      assert.ok(err instanceof FormatError || err instanceof LimitError, `iteration ${i}: ${(err as Error).stack}`);
    }
  }
  assert.ok(performance.now() - t < 5000);
});
