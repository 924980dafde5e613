// fetchSource() against a local Hub stand-in: pinned and floating revisions, digests verified while
// streaming, retries, resume, tampered files refused and named, token handling, URL and local sources.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchSource, HubClient, parseHfUri } from '../../src/provenance/sources/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import { FIXTURES } from '../helpers/scan.ts';
import { startHubServer, type HubServer } from '../helpers/hub-server.ts';

const HUB = `${FIXTURES}/hub`;
const REPO = 'acme/tiny-model';
const REPO_DIR = `${HUB}/${REPO}`;
const FAST = { retries: 4, retryBaseMs: 5, retryMaxMs: 20 };
const tmp = mkdtempSync(join(tmpdir(), 'mg-sources-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const FILES = ['.gitattributes', 'README.md', 'config.json', 'model.safetensors', 'tokenizer/tokenizer_config.json'];
const fixture = (p: string) => readFileSync(`${REPO_DIR}/${p}`);
let n = 0;
const freshStore = () => join(tmp, `store-${n++}`);

function walkFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

async function withHub<T>(opts: Parameters<typeof startHubServer>[0] | Partial<Parameters<typeof startHubServer>[0]>, run: (hub: HubServer, commit: string) => Promise<T>): Promise<T> {
  const hub = await startHubServer({ root: HUB, ...opts });
  try {
    return await run(hub, hub.commitOf(REPO));
  } finally {
    await hub.close();
  }
}

async function rejectsWith(p: Promise<unknown>, code: string, ...parts: (string | RegExp)[]): Promise<ModelgateError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ModelgateError, `expected a ModelgateError, got ${(e as Error)?.stack}`);
    assert.equal(e.code, code, e.message);
    for (const part of parts) assert.match(e.message, typeof part === 'string' ? new RegExp(part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : part);
    return e;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

test('parseHfUri: repo and revision, with refs containing slashes; bad references refused', () => {
  assert.deepEqual(parseHfUri('hf://acme/tiny-model@0123'), { repo: 'acme/tiny-model', revision: '0123', explicit: true });
  assert.deepEqual(parseHfUri('hf://acme/tiny-model'), { repo: 'acme/tiny-model', revision: 'main', explicit: false });
  assert.equal(parseHfUri('hf://acme/m@refs/pr/1').revision, 'refs/pr/1');
  for (const bad of ['hf://acme', 'hf://a/b/c', 'hf://../x', 'hf://acme/m@', 'hf://acme/m@a..b']) assert.throws(() => parseHfUri(bad), (e: unknown) => e instanceof ModelgateError && e.code === 'USAGE', bad);
});

test('a pinned commit: every file listed, downloaded, verified and recorded with both digests', async () => {
  await withHub({}, async (hub, commit) => {
    const store = freshStore();
    const r = await fetchSource(`hf://${REPO}@${commit}`, { store, endpoint: hub.url, http: FAST });
    const m = r.manifest;
    assert.equal(m.kind, 'modelgate.quarantine.manifest');
    assert.equal(m.resolvedCommit, commit);
    assert.equal(m.source.type, 'hf');
    assert.deepEqual(m.files.map((f) => f.path), FILES);
    for (const f of m.files) {
      const b = fixture(f.path);
      assert.equal(f.size, b.length, f.path);
      assert.equal(f.sha256, sha256(b), f.path);
      assert.equal(f.gitBlobSha1, gitSha1(b), f.path);
      assert.equal(f.lfs, f.path === 'model.safetensors', f.path);
      // The blob is stored under its SHA-256, byte-identical.
      const blob = join(store, 'blobs/sha256', f.sha256.slice(0, 2), f.sha256.slice(2));
      assert.deepEqual(readFileSync(blob), b, f.path);
    }
    assert.equal(m.totals.bytes, FILES.reduce((s, p) => s + fixture(p).length, 0));
    // The manifest's digest is the SHA-256 of its stored bytes.
    assert.equal(r.manifestDigest, `sha256:${sha256(readFileSync(r.manifestPath))}`);
    assert.equal(r.downloaded.files, FILES.length);
    // LFS content came from the CDN origin by redirect; downloads were by commit, never by branch.
    assert.ok(hub.requests.some((q) => q.server === 'cdn'));
    assert.ok(hub.requests.filter((q) => q.url.includes('/resolve/')).every((q) => q.url.includes(`/resolve/${commit}/`)));
    assert.deepEqual(walkFiles(join(store, 'tmp')), []);
  });
});

test('fetching the same revision twice downloads nothing and returns the same manifest', async () => {
  await withHub({}, async (hub, commit) => {
    const store = freshStore();
    const first = await fetchSource(`hf://${REPO}@${commit}`, { store, endpoint: hub.url, http: FAST });
    const before = hub.requests.length;
    const second = await fetchSource(`hf://${REPO}@${commit}`, { store, endpoint: hub.url, http: FAST });
    const later = hub.requests.slice(before);
    assert.equal(second.reused, true);
    assert.equal(second.manifestDigest, first.manifestDigest);
    assert.deepEqual(later.filter((q) => q.url.includes('/resolve/') || q.server === 'cdn'), []);
    assert.deepEqual(second.downloaded, { files: 0, bytes: 0 });
  });
});

test('a lost ref still downloads nothing: blobs are found by SHA-256 (LFS) and git blob SHA-1 (others)', async () => {
  await withHub({}, async (hub, commit) => {
    const store = freshStore();
    await fetchSource(`hf://${REPO}@${commit}`, { store, endpoint: hub.url, http: FAST });
    rmSync(join(store, 'refs'), { recursive: true });
    mkdirSync(join(store, 'refs'));
    const before = hub.requests.length;
    const again = await fetchSource(`hf://${REPO}@${commit}`, { store, endpoint: hub.url, http: FAST });
    assert.deepEqual(hub.requests.slice(before).filter((q) => q.url.includes('/resolve/') || q.server === 'cdn'), []);
    assert.equal(again.downloaded.files, 0);
    assert.equal(again.manifest.files.length, FILES.length);
  });
});

test('a floating branch or tag is refused without allowFloating, before any request', async () => {
  await withHub({}, async (hub) => {
    for (const ref of [`hf://${REPO}@main`, `hf://${REPO}@v1.0`, `hf://${REPO}`]) {
      await rejectsWith(fetchSource(ref, { store: freshStore(), endpoint: hub.url }), 'FLOATING_REVISION', 'not a commit', '--allow-floating');
    }
    assert.equal(hub.requests.length, 0);
  });
});

test('@main with allowFloating resolves and records the commit; downloads use the commit', async () => {
  await withHub({}, async (hub, commit) => {
    const r = await fetchSource(`hf://${REPO}@main`, { store: freshStore(), endpoint: hub.url, allowFloating: true, http: FAST });
    assert.equal(r.manifest.resolvedCommit, commit);
    assert.equal(r.manifest.source.type === 'hf' && r.manifest.source.requestedRevision, 'main');
    assert.equal(r.manifest.source.type === 'hf' && r.manifest.source.floating, true);
    assert.equal(r.manifest.source.uri, `hf://${REPO}@${commit}`);
    assert.ok(hub.requests.some((q) => q.url === `/api/models/${REPO}/revision/main`));
    assert.ok(hub.requests.some((q) => q.url.startsWith(`/api/models/${REPO}/tree/${commit}`)));
  });
});

test('a revision with slashes (refs/pr/1) is sent URL-encoded and needs allowFloating', async () => {
  await withHub({}, async (hub, commit) => {
    await rejectsWith(fetchSource(`hf://${REPO}@refs/pr/1`, { store: freshStore(), endpoint: hub.url }), 'FLOATING_REVISION', '"refs/pr/1"');
    const r = await fetchSource(`hf://${REPO}@refs/pr/1`, { store: freshStore(), endpoint: hub.url, allowFloating: true, http: FAST });
    assert.equal(r.manifest.resolvedCommit, commit);
    assert.ok(hub.requests.some((q) => q.url === `/api/models/${REPO}/revision/refs%2Fpr%2F1`));
  });
});

test('an unknown commit is an error naming the Hub status', async () => {
  await withHub({}, async (hub) => {
    await rejectsWith(fetchSource(`hf://${REPO}@${'0'.repeat(40)}`, { store: freshStore(), endpoint: hub.url, http: FAST }), 'HTTP_NOT_FOUND', 'HTTP 404');
  });
});

test('503 and 429 (with Retry-After) are retried with backoff, then the fetch succeeds', async () => {
  await withHub({ failOnce: [{ match: '/tree/', status: 503 }, { match: '/resolve/', status: 429, retryAfter: '0' }, { match: '/repos/', status: 502 }] }, async (hub, commit) => {
    const retries: string[] = [];
    const r = await fetchSource(`hf://${REPO}@${commit}`, { store: freshStore(), endpoint: hub.url, http: { ...FAST, onRetry: (x) => retries.push(x.reason) } });
    assert.equal(r.manifest.files.length, FILES.length);
    assert.equal(retries.length, 3, retries.join('\n'));
    assert.ok(retries.some((x) => x.includes('HTTP 503')) && retries.some((x) => x.includes('HTTP 429')) && retries.some((x) => x.includes('HTTP 502')));
    assert.equal(hub.requests.filter((q) => q.url.includes('/tree/')).length, 2);
  });
});

test('retries are bounded: a server that keeps failing gives up with a named error', async () => {
  await withHub({ failAlways: '/revision/' }, async (hub, commit) => {
    await rejectsWith(fetchSource(`hf://${REPO}@${commit}`, { store: freshStore(), endpoint: hub.url, http: { retries: 2, retryBaseMs: 1 } }), 'HTTP_RETRIES_EXHAUSTED', 'HTTP 503', 'after 3 attempts');
    assert.equal(hub.requests.length, 3);
  });
});

test('a body cut mid-way is resumed with a Range request and still verified', async () => {
  await withHub({ cutOnce: ['model.safetensors', 'config.json'] }, async (hub, commit) => {
    const store = freshStore();
    const r = await fetchSource(`hf://${REPO}@${commit}`, { store, endpoint: hub.url, http: FAST, concurrency: 1 });
    const model = r.manifest.files.find((f) => f.path === 'model.safetensors')!;
    assert.equal(model.sha256, sha256(fixture('model.safetensors')));
    const ranged = hub.requests.filter((q) => q.range);
    const half = fixture('model.safetensors').length >> 1;
    assert.ok(ranged.some((q) => q.server === 'cdn' && q.range === `bytes=${half}-`), JSON.stringify(ranged));
    assert.ok(ranged.some((q) => q.url.endsWith('/config.json') && q.range === `bytes=${fixture('config.json').length >> 1}-`));
    assert.deepEqual(readFileSync(join(store, 'blobs/sha256', model.sha256.slice(0, 2), model.sha256.slice(2))), fixture('model.safetensors'));
  });
});

test('a partial file left by an earlier run is re-hashed and resumed, not trusted', async () => {
  await withHub({}, async (hub, commit) => {
    const store = freshStore();
    const b = fixture('model.safetensors');
    mkdirSync(join(store, 'tmp'), { recursive: true });
    writeFileSync(join(store, 'tmp', `sha256-${sha256(b)}.part`), b.subarray(0, 1000));
    const r = await fetchSource(`hf://${REPO}@${commit}`, { store, endpoint: hub.url, http: FAST });
    assert.ok(hub.requests.some((q) => q.server === 'cdn' && q.range === 'bytes=1000-'));
    assert.equal(r.manifest.files.find((f) => f.path === 'model.safetensors')!.sha256, sha256(b));
    // A corrupt partial is not trusted either: the final check refuses it and deletes it.
    const store2 = freshStore();
    mkdirSync(join(store2, 'tmp'), { recursive: true });
    const bad = Buffer.from(b.subarray(0, 1000));
    bad[10] ^= 0xff;
    writeFileSync(join(store2, 'tmp', `sha256-${sha256(b)}.part`), bad);
    await rejectsWith(fetchSource(`hf://${REPO}@${commit}`, { store: store2, endpoint: hub.url, http: FAST }), 'DIGEST_MISMATCH', 'model.safetensors');
    assert.deepEqual(walkFiles(join(store2, 'tmp')), []);
  });
});

for (const [file, digestName] of [['model.safetensors', 'sha256'], ['config.json', 'git blob sha1']] as const) {
  test(`a tampered ${file} is refused, named with expected and actual digests, and nothing of it is kept`, async () => {
    await withHub({ tamper: [file] }, async (hub, commit) => {
      const store = freshStore();
      const good = fixture(file);
      const bad = Buffer.from(good);
      bad[bad.length >> 1] ^= 0x01;
      const expected = digestName === 'sha256' ? sha256(good) : gitSha1(good);
      const actual = digestName === 'sha256' ? sha256(bad) : gitSha1(bad);
      await rejectsWith(fetchSource(`hf://${REPO}@${commit}`, { store, endpoint: hub.url, http: FAST }), 'DIGEST_MISMATCH', file, `expected ${digestName} ${expected}, got ${actual}`);
      assert.ok(!existsSync(join(store, 'blobs/sha256', sha256(bad).slice(0, 2), sha256(bad).slice(2))), 'tampered bytes are not a blob');
      assert.deepEqual(walkFiles(join(store, 'manifests')), [], 'no manifest');
      assert.deepEqual(walkFiles(join(store, 'refs')), [], 'no ref');
      assert.deepEqual(walkFiles(join(store, 'tmp')), [], 'no partial');
      // Every blob that is in the store is a verified file of the repo.
      const good256 = new Set(FILES.map((p) => sha256(fixture(p))));
      for (const f of walkFiles(join(store, 'blobs'))) assert.ok(good256.has(sha256(readFileSync(f))), f);
    });
  });
}

test('the token goes to the Hub origin only (not to the CDN after a redirect) and appears in no error or file', async () => {
  const token = 'hf_TESTTOKENabcdefghijklmnopqrstuv';
  await withHub({ requireToken: token, tamper: ['config.json'] }, async (hub, commit) => {
    const store = freshStore();
    await rejectsWith(fetchSource(`hf://${REPO}@${commit}`, { store: freshStore(), endpoint: hub.url, http: FAST }), 'HTTP_UNAUTHORIZED', 'HF_TOKEN');
    const e = await rejectsWith(fetchSource(`hf://${REPO}@${commit}`, { store, endpoint: hub.url, token, http: FAST }), 'DIGEST_MISMATCH', 'config.json');
    assert.ok(!e.message.includes(token) && !String(e.stack).includes(token));
    const api = hub.requests.filter((q) => q.server === 'api' && q.authorization);
    assert.ok(api.length > 0 && api.every((q) => q.authorization === `Bearer ${token}`));
    assert.ok(hub.requests.some((q) => q.server === 'cdn'));
    assert.ok(hub.requests.filter((q) => q.server === 'cdn').every((q) => q.authorization === undefined), 'no token to another origin');
    for (const f of walkFiles(store)) assert.ok(!readFileSync(f).includes(token), f);
  });
});

test('tree listings are followed across Link-header pages; paths-info answers for chosen paths', async () => {
  await withHub({ pageSize: 2 }, async (hub, commit) => {
    const client = new HubClient(hub.url, FAST);
    const all = await client.listFiles(REPO, commit);
    assert.deepEqual(all.map((e) => e.path).sort(), FILES);
    assert.ok(hub.requests.filter((q) => q.url.includes('/tree/')).length >= 3);
    const info = await client.pathsInfo(REPO, commit, ['config.json', 'model.safetensors']);
    assert.equal(info.find((e) => e.path === 'config.json')!.oid, gitSha1(fixture('config.json')));
    assert.equal(info.find((e) => e.path === 'model.safetensors')!.lfs!.oid, sha256(fixture('model.safetensors')));
  });
});

test('https:// sources need --sha256, are verified, and a wrong digest is refused', async () => {
  await withHub({}, async (hub) => {
    const b = fixture('model.safetensors');
    const url = `${hub.cdnUrl}/repos/${sha256(b)}`;
    await rejectsWith(fetchSource(url, { store: freshStore() }), 'USAGE', '--sha256');
    const store = freshStore();
    const r = await fetchSource(url, { store, sha256: sha256(b), http: FAST, token: 'hf_NOTFORURLS' });
    assert.equal(r.manifest.source.type, 'https');
    assert.ok(hub.requests.length > 0 && hub.requests.every((q) => q.authorization === undefined), 'a Hub token is never sent to a URL source');
    assert.deepEqual(r.manifest.files.map((f) => [f.path, f.size, f.sha256, f.gitBlobSha1]), [[sha256(b), b.length, sha256(b), gitSha1(b)]]);
    const wrong = 'ab'.repeat(32);
    const s2 = freshStore();
    await rejectsWith(fetchSource(url, { store: s2, sha256: wrong, http: FAST }), 'DIGEST_MISMATCH', `expected sha256 ${wrong}, got ${sha256(b)}`);
    assert.deepEqual(walkFiles(join(s2, 'blobs')), []);
    await rejectsWith(fetchSource('http://example.com/x.bin', { store: freshStore(), sha256: wrong }), 'USAGE', 'https');
  });
});

test('a local folder is copied with digests (.git skipped); refetching an unchanged folder keeps the manifest', async () => {
  const store = freshStore();
  const r = await fetchSource(REPO_DIR, { store });
  assert.equal(r.manifest.source.type, 'local-folder');
  assert.deepEqual(r.manifest.files.map((f) => f.path), FILES);
  for (const f of r.manifest.files) assert.equal(f.gitBlobSha1, gitSha1(fixture(f.path)));
  const again = await fetchSource(REPO_DIR, { store });
  assert.equal(again.reused, true);
  assert.equal(again.manifestDigest, r.manifestDigest);
});

test('a local archive is stored as one file (never extracted) and flagged as an archive', async () => {
  const { gzipSync } = await import('node:zlib');
  const p = join(tmp, 'model.tar.gz');
  writeFileSync(p, gzipSync(fixture('config.json')));
  const r = await fetchSource(p, { store: freshStore() });
  assert.equal(r.manifest.source.type === 'local-file' && r.manifest.source.archive, true);
  assert.deepEqual(r.manifest.files.map((f) => [f.path, f.sha256]), [['model.tar.gz', sha256(readFileSync(p))]]);
  assert.equal(statSync(join(r.store, 'blobs/sha256', r.manifest.files[0].sha256.slice(0, 2), r.manifest.files[0].sha256.slice(2))).size, readFileSync(p).length);
});
