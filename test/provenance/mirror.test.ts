// The mirror: verified versions copied by digest; reads (openMirrored, verifyMirror) re-verify.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchSource } from '../../src/provenance/sources/index.ts';
import { mirrorVersion, openMirrored, verifyMirror } from '../../src/provenance/mirror/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import { FIXTURES } from '../helpers/scan.ts';
import { startHubServer } from '../helpers/hub-server.ts';

const REPO_DIR = `${FIXTURES}/hub/acme/tiny-model`;
const tmp = mkdtempSync(join(tmpdir(), 'mg-mirror-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let n = 0;
const dir = (p: string) => join(tmp, `${p}-${n++}`);
const blob = (root: string, hex: string) => join(root, 'blobs/sha256', hex.slice(0, 2), hex.slice(2));

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('a version is mirrored by manifest digest with the same manifest bytes; a second copy copies nothing', async () => {
  const store = dir('q');
  const to = dir('m');
  const f = await fetchSource(REPO_DIR, { store });
  const r = await mirrorVersion(f.manifestDigest, { store, to });
  assert.equal(r.manifestDigest, f.manifestDigest);
  assert.equal(r.copied.files, f.manifest.files.length);
  assert.deepEqual(readFileSync(join(to, 'manifests/sha256', f.manifestDigest.slice(7, 9), `${f.manifestDigest.slice(9)}.json`)), readFileSync(f.manifestPath));
  for (const file of f.manifest.files) assert.deepEqual(readFileSync(blob(to, file.sha256)), readFileSync(join(REPO_DIR, file.path)));
  const again = await mirrorVersion(f.manifestPath, { store, to });
  assert.equal(again.copied.files, 0);
  assert.equal(again.present, f.manifest.files.length);
  const v = await verifyMirror(to);
  assert.equal(v.ok, true);
  assert.equal(v.manifests, 1);
  assert.equal(v.files, f.manifest.files.length);
});

test('mirroring a source fetches it into quarantine first (Hub, pinned)', async () => {
  const hub = await startHubServer({ root: `${FIXTURES}/hub` });
  try {
    const store = dir('q');
    const to = dir('m');
    const r = await mirrorVersion(`hf://acme/tiny-model@${hub.commitOf('acme/tiny-model')}`, { store, to, endpoint: hub.url });
    assert.equal(r.manifest.resolvedCommit, hub.commitOf('acme/tiny-model'));
    assert.equal((await verifyMirror(to, r.manifestDigest)).ok, true);
  } finally {
    await hub.close();
  }
});

test('a quarantine blob changed after fetch is refused while copying, and named', async () => {
  const store = dir('q');
  const to = dir('m');
  const f = await fetchSource(REPO_DIR, { store });
  const cfg = f.manifest.files.find((x) => x.path === 'config.json')!;
  const p = blob(store, cfg.sha256);
  const b = readFileSync(p);
  b[5] ^= 1;
  writeFileSync(p, b);
  await assert.rejects(mirrorVersion(f.manifestDigest, { store, to }), (e: unknown) => e instanceof ModelgateError && e.code === 'DIGEST_MISMATCH' && e.message.includes('config.json') && e.message.includes(`expected sha256 ${cfg.sha256}`));
});

test('openMirrored streams the verified bytes; a changed or truncated mirror blob fails, naming the file', async () => {
  const store = dir('q');
  const to = dir('m');
  const f = await fetchSource(REPO_DIR, { store });
  await mirrorVersion(f.manifestDigest, { store, to });
  const model = readFileSync(join(REPO_DIR, 'model.safetensors'));
  assert.deepEqual(await readAll(await openMirrored(to, f.manifestDigest, 'model.safetensors')), model);
  // Same size, one bit changed: the stream errors at its end.
  const p = blob(to, sha256(model));
  const bad = Buffer.from(model);
  bad[100] ^= 1;
  writeFileSync(p, bad);
  await assert.rejects(readAll(await openMirrored(to, f.manifestDigest, 'model.safetensors')), (e: unknown) => e instanceof ModelgateError && e.code === 'DIGEST_MISMATCH' && e.message.startsWith('model.safetensors') && e.message.includes(`got ${sha256(bad)}`));
  const v = await verifyMirror(to);
  assert.equal(v.ok, false);
  assert.equal(v.problems.length, 1);
  assert.match(v.problems[0].message, new RegExp(`^model.safetensors: expected sha256 ${sha256(model)}, got ${sha256(bad)}$`));
  // A different size is caught before reading.
  appendFileSync(blob(to, f.manifest.files.find((x) => x.path === 'README.md')!.sha256), 'x');
  await assert.rejects(openMirrored(to, f.manifestDigest, 'README.md'), /README.md: expected size \d+, got \d+/);
  await assert.rejects(openMirrored(to, f.manifestDigest, 'nope.bin'), /nope.bin: not in version/);
});

test('verifyMirror names a missing blob and an edited manifest', async () => {
  const store = dir('q');
  const to = dir('m');
  const f = await fetchSource(REPO_DIR, { store });
  await mirrorVersion(f.manifestDigest, { store, to });
  rmSync(blob(to, f.manifest.files.find((x) => x.path === 'config.json')!.sha256));
  const v = await verifyMirror(to, f.manifestDigest);
  assert.equal(v.ok, false);
  assert.ok(v.problems.some((p) => p.path === 'config.json' && /missing/.test(p.message)));
  const mp = join(to, 'manifests/sha256', f.manifestDigest.slice(7, 9), `${f.manifestDigest.slice(9)}.json`);
  writeFileSync(mp, readFileSync(mp, 'utf8').replace('config.json', 'config.jsom'));
  const v2 = await verifyMirror(to);
  assert.equal(v2.ok, false);
  assert.match(v2.problems[0].message, /manifest .*expected sha256/);
});
