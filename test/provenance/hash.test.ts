import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { comparePaths, formatManifestLines, hashModel, rootDigestOf } from '../../src/provenance/hash/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import { buildGoldenModels, MS } from './golden-models.ts';

const golden = buildGoldenModels();
after(() => rmSync(golden.dir, { recursive: true, force: true }));

function goldenVariants(kind: 'files' | 'shards'): { fixture: string; name: string; shardSize?: number }[] {
  return readdirSync(join(MS, 'golden/manifests', kind)).map((name) => {
    const small = name.endsWith('_small_shards');
    return { fixture: small ? name.slice(0, -'_small_shards'.length) : name, name, shardSize: kind === 'shards' ? (small ? 8 : 1_000_000_000) : undefined };
  });
}

for (const kind of ['files', 'shards'] as const) {
  for (const v of goldenVariants(kind)) {
    test(`golden manifest ${kind}/${v.name}`, async () => {
      const model = golden.models[v.fixture];
      assert.ok(model, `no fixture for ${v.fixture}`);
      const d = await hashModel(model, { serialization: kind, shardSize: v.shardSize, allowSymlinks: true });
      assert.equal(formatManifestLines(d.resources), readFileSync(join(MS, 'golden/manifests', kind, v.name), 'utf8').trimEnd() + (d.resources.length ? '\n' : ''));
    });
  }
}

// The golden payloads carry the full statement: its subject digest is the root digest.
for (const name of readdirSync(join(MS, 'golden/payloads'))) {
  test(`golden payload root digest ${name}`, async () => {
    const statement = JSON.parse(readFileSync(join(MS, 'golden/payloads', name), 'utf8'));
    const small = name.endsWith('_small_shards');
    const shard = small || name.endsWith('_shard');
    const fixture = name.replace(/_(small_shards|shard)$/, '');
    const d = await hashModel(golden.models[fixture]!, { serialization: shard ? 'shards' : 'files', shardSize: small ? 8 : undefined, allowSymlinks: true });
    assert.equal(d.rootDigest, statement.subject[0].digest.sha256);
    assert.equal(d.name, statement.subject[0].name);
    assert.deepEqual(d.resources, statement.predicate.resources.map((r: { name: string; algorithm: string; digest: string }) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })));
  });
}

test('root digest of an empty model is SHA-256 of nothing', async () => {
  const d = await hashModel(golden.models.empty_model_folder!);
  assert.equal(d.rootDigest, createHash('sha256').digest('hex'));
  assert.deepEqual(d.resources, []);
});

test('known vector digests: {signme-1, signme-2} and the ignore-me file', async () => {
  const d = await hashModel(join(MS, 'valid/v1.1.0-certificate'), { ignorePaths: ['ignore-me', 'model.sig'] });
  assert.equal(d.rootDigest, '61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226');
  assert.deepEqual(d.files.map((f) => f.name), ['signme-1', 'signme-2']);
  const withIgnoreMe = await hashModel(join(MS, 'valid/v1.1.0-certificate'), { signaturePath: join(MS, 'valid/v1.1.0-certificate/model.sig') });
  assert.deepEqual(withIgnoreMe.files.map((f) => f.name), ['ignore-me', 'signme-1', 'signme-2']);
  assert.deepEqual(withIgnoreMe.serialization.ignorePaths, ['.git', '.gitattributes', '.github', '.gitignore', 'model.sig']);
});

test('git paths are ignored by default (a folder drops its children), and kept on request', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-hash-'));
  try {
    mkdirSync(join(dir, '.git', 'objects'), { recursive: true });
    writeFileSync(join(dir, '.git', 'objects', 'x'), 'x');
    writeFileSync(join(dir, '.gitattributes'), '*.bin lfs');
    writeFileSync(join(dir, '.gitignore.bak'), 'kept: not the same segment');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'w.bin'), 'w');
    writeFileSync(join(dir, 'sub', 'skip.txt'), 's');
    const d = await hashModel(dir, { ignorePaths: ['sub/skip.txt'] });
    assert.deepEqual(d.files.map((f) => f.name), ['.gitignore.bak', 'sub/w.bin']);
    const all = await hashModel(dir, { ignoreGitPaths: false });
    assert.deepEqual(all.files.map((f) => f.name), ['.git/objects/x', '.gitattributes', '.gitignore.bak', 'sub/skip.txt', 'sub/w.bin']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('symlinks are refused unless allowed; the link name carries the target bytes', async () => {
  await assert.rejects(hashModel(golden.models.symlink_model_folder!), (e: unknown) => e instanceof ModelgateError && /symlink_file: is a symbolic link/.test(e.message));
  const d = await hashModel(golden.models.symlink_model_folder!, { allowSymlinks: true });
  assert.equal(d.files[0]!.name, 'symlink_file');
});

test('paths sort segment by segment, not as plain strings', async () => {
  assert.ok(comparePaths('a/b', 'a-b') < 0, 'a/b before a-b ("a" < "a-b")');
  assert.ok(comparePaths('a-b', 'a/b') > 0);
  const dir = mkdtempSync(join(tmpdir(), 'mg-hash-'));
  try {
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'b'), '1');
    writeFileSync(join(dir, 'a-b'), '2');
    writeFileSync(join(dir, 'B'), '3');
    const d = await hashModel(dir);
    assert.deepEqual(d.resources.map((r) => r.name), ['B', 'a/b', 'a-b']);
    assert.equal(d.rootDigest, rootDigestOf(d.resources.map((r) => r.digest)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('worker threads: a model above the inline threshold hashes the same as on one thread, shards included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-hash-'));
  try {
    const a = Buffer.alloc(20 << 20, 1);
    const b = Buffer.alloc(15 << 20 | 7, 2);
    writeFileSync(join(dir, 'a.bin'), a);
    writeFileSync(join(dir, 'b.bin'), b);
    let last = { bytesDone: 0, bytesTotal: 0 };
    const d = await hashModel(dir, { jobs: 2, onProgress: (p) => (last = p) });
    assert.deepEqual(last, { bytesDone: a.length + b.length, bytesTotal: a.length + b.length }, 'progress reaches the total');
    assert.equal(d.files[0]!.sha256, createHash('sha256').update(a).digest('hex'));
    assert.equal(d.files[1]!.sha256, createHash('sha256').update(b).digest('hex'));
    const shardSize = 6 << 20;
    const s = await hashModel(dir, { serialization: 'shards', shardSize, jobs: 2 });
    assert.equal(s.resources.length, 4 + 3);
    assert.equal(s.resources[4]!.name, `b.bin:0:${shardSize}`);
    assert.equal(s.resources[6]!.digest, createHash('sha256').update(b.subarray(2 * shardSize)).digest('hex'));
    assert.equal(s.resources[0]!.algorithm, `sha256-sharded-${shardSize}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a device (through an allowed symlink) is refused', { skip: process.platform === 'win32' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-hash-'));
  try {
    symlinkSync('/dev/null', join(dir, 'null'));
    await assert.rejects(hashModel(dir, { allowSymlinks: true }), /not a regular file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
