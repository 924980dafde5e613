// The content-addressed store: blobs appear under their final name only after verification; a killed
// download leaves nothing there and resumes later; manifests are named by the SHA-256 of their bytes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContentStore, buildManifest, gitBlobSha1, lfsPointer } from '../../src/provenance/quarantine/index.ts';
import { fetchSource } from '../../src/provenance/sources/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import { startHubServer } from '../helpers/hub-server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mg-quarantine-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
let n = 0;
const fresh = () => new ContentStore(join(tmp, `s${n++}`));

test('git blob SHA-1 is computed as git does (known vectors)', () => {
  // `git hash-object` of an empty file and of "hello\n".
  assert.equal(gitBlobSha1(Buffer.alloc(0)), 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
  assert.equal(gitBlobSha1(Buffer.from('hello\n')), 'ce013625030ba8dba906f756967f9e9ca394464a');
  assert.match(lfsPointer('a'.repeat(64), 5), /^version https:\/\/git-lfs.github.com\/spec\/v1\noid sha256:a{64}\nsize 5\n$/);
});

test('a verified blob is renamed into blobs/sha256/ab/cdef…; the git SHA-1 index finds it', async () => {
  const s = fresh();
  const data = Buffer.from('weights!');
  const w = await s.begin('k1', data.length);
  await w.write(data.subarray(0, 3));
  assert.equal(existsSync(s.blobPath(sha256(data))), false, 'not under its final name while written');
  await w.write(data.subarray(3));
  const d = await w.commit({ sha256: sha256(data), gitSha1: gitBlobSha1(data), size: data.length }, 'x.bin');
  assert.deepEqual(d, { sha256: sha256(data), gitSha1: gitBlobSha1(data), size: data.length });
  const p = join(s.root, 'blobs/sha256', d.sha256.slice(0, 2), d.sha256.slice(2));
  assert.deepEqual(readFileSync(p), data);
  assert.equal(s.sha256ForGitSha1(gitBlobSha1(data)), d.sha256);
  assert.deepEqual(readdirSync(join(s.root, 'tmp')), []);
});

test('a mismatch deletes the partial file and names the file, expectation and fact', async () => {
  const s = fresh();
  const w = await s.begin('k2', 3);
  await w.write(Buffer.from('abd'));
  await assert.rejects(w.commit({ sha256: sha256('abc'), size: 3 }, 'dir/file.bin'), (e: unknown) => {
    assert.ok(e instanceof ModelgateError && e.code === 'DIGEST_MISMATCH');
    assert.match(e.message, new RegExp(`^dir/file.bin: expected sha256 ${sha256('abc')}, got ${sha256('abd')}`));
    return true;
  });
  const w2 = await s.begin('k3', 4);
  await w2.write(Buffer.from('abc'));
  await assert.rejects(w2.commit({ sha256: sha256('abc'), size: 4 }, 'short.bin'), /short.bin: expected size 4, got 3/);
  assert.deepEqual(readdirSync(join(s.root, 'tmp')), []);
  assert.deepEqual(readdirSync(join(s.root, 'blobs/sha256')), []);
});

test('one writer per partial file: a live lock refuses a second writer, a dead one is taken over', async () => {
  const s = fresh();
  const w = await s.begin('k4', 3);
  await assert.rejects(s.begin('k4', 3), (e: unknown) => e instanceof ModelgateError && e.code === 'STORE_BUSY' && e.message.includes(`pid ${process.pid}`));
  await w.abort(false);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(s.root, 'tmp', 'k5.lock'), '2147483646'); // no such process
  const w2 = await s.begin('k5', 1);
  await w2.write(Buffer.from('x'));
  await w2.commit({ size: 1 }, 'x');
  assert.deepEqual(readdirSync(join(s.root, 'tmp')), []);
});

test('manifests are stored under the SHA-256 of their bytes and re-checked when read', async () => {
  const s = fresh();
  const m = buildManifest({ type: 'local-folder', uri: '/x', path: '/x' }, [{ path: 'b', size: 1, sha256: 'b'.repeat(64), gitBlobSha1: 'c'.repeat(40) }, { path: 'a', size: 2, sha256: 'a'.repeat(64), gitBlobSha1: 'd'.repeat(40) }], new Date('2026-01-02T03:04:05Z'));
  assert.deepEqual(m.files.map((f) => f.path), ['a', 'b'], 'files sorted by path');
  assert.deepEqual(m.totals, { files: 2, bytes: 3 });
  const put = s.putManifest(m);
  assert.equal(put.digest, `sha256:${sha256(readFileSync(put.path))}`);
  assert.deepEqual(s.getManifest(put.digest).manifest, m);
  assert.deepEqual(s.listManifests(), [put.digest]);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(put.path, readFileSync(put.path, 'utf8').replace('"a"', '"z"'));
  assert.throws(() => s.getManifest(put.digest), /DIGEST_MISMATCH|expected sha256/);
});

test('a killed download leaves no blob under its final name, and the next fetch resumes from the partial', async () => {
  // Its own small repo with a 4 MiB LFS file, so that the killed process has flushed some of it.
  const HUB = join(tmp, 'hub');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(join(HUB, 'acme/big'), { recursive: true });
  const model = Buffer.alloc(4 << 20);
  for (let i = 0; i < model.length; i += 4) model.writeUInt32LE((i * 2654435761) >>> 0, i);
  writeFileSync(join(HUB, 'acme/big/model.safetensors'), model);
  writeFileSync(join(HUB, 'acme/big/config.json'), '{}\n');
  let stalled: () => void = () => undefined;
  const stalledP = new Promise<void>((ok) => (stalled = ok));
  const hub = await startHubServer({ root: HUB, stallOnce: ['model.safetensors'], onStall: () => stalled() });
  const storeDir = join(tmp, 'killed');
  try {
    const commit = hub.commitOf('acme/big');
    // A separate process runs the fetch (through tsx, from source) and is killed mid-download.
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const script = `import { fetchSource } from ${JSON.stringify(`${root}src/provenance/sources/index.ts`)};
      await fetchSource(${JSON.stringify(`hf://acme/big@${commit}`)}, { store: ${JSON.stringify(storeDir)}, endpoint: ${JSON.stringify(hub.url)}, concurrency: 1 });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: 'ignore' });
    const exited = new Promise<void>((ok) => child.on('exit', () => ok()));
    await stalledP;
    const part = join(storeDir, 'tmp', `sha256-${sha256(model)}.part`);
    // Writes are batched by 1 MiB: wait until the child has written what it can of the half it got.
    for (let i = 0; i < 200 && (!existsSync(part) || statSync(part).size < 1 << 20); i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    const kept = statSync(part).size;
    assert.ok(kept >= 1 << 20 && kept <= model.length >> 1, `partial file holds ${kept} bytes`);
    assert.ok(existsSync(part.replace(/\.part$/, '.lock')), 'the killed writer left its lock');
    assert.equal(existsSync(join(storeDir, 'blobs/sha256', sha256(model).slice(0, 2), sha256(model).slice(2))), false, 'no blob under the final name');
    assert.equal(existsSync(join(storeDir, 'manifests/sha256')) && readdirSync(join(storeDir, 'manifests/sha256')).length, 0);
    const r = await fetchSource(`hf://acme/big@${commit}`, { store: storeDir, endpoint: hub.url, http: { retryBaseMs: 5 } });
    assert.ok(hub.requests.some((q) => q.server === 'cdn' && q.range === `bytes=${kept}-`), 'resumed with Range from the partial size');
    assert.equal(r.manifest.files.find((f) => f.path === 'model.safetensors')!.sha256, sha256(model));
    assert.deepEqual(readdirSync(join(storeDir, 'tmp')), []);
  } finally {
    await hub.close();
  }
});
