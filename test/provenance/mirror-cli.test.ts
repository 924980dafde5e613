// `modelgate mirror` end to end (built CLI): copy by digest, --verify, exit codes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/scan.ts';
import { runCliAsync } from '../helpers/hub-server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mg-mirror-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('fetch, mirror by digest, verify; a changed mirror blob makes --verify exit 1 naming the file', async () => {
  const store = join(tmp, 'q');
  const to = join(tmp, 'm');
  const f = await runCliAsync(['fetch', `${FIXTURES}/hub/acme/tiny-model`, '--store', store, '--json']);
  assert.equal(f.code, 0, f.stderr);
  const { manifestDigest, manifest } = JSON.parse(f.stdout) as { manifestDigest: string; manifest: { files: { path: string; sha256: string }[] } };
  const m = await runCliAsync(['mirror', manifestDigest, '--to', to, '--store', store, '--json']);
  assert.equal(m.code, 0, m.stderr);
  assert.deepEqual(JSON.parse(m.stdout), { manifestDigest, mirror: to, copied: { files: 5, bytes: 66035 }, present: 0, files: 5 });
  const v = await runCliAsync(['mirror', '--verify', '--to', to]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /checked   1 versions, 5 files/);
  const cfg = manifest.files.find((x) => x.path === 'config.json')!;
  const p = join(to, 'blobs/sha256', cfg.sha256.slice(0, 2), cfg.sha256.slice(2));
  writeFileSync(p, readFileSync(p, 'utf8').replace('tiny', 'tinY'));
  const bad = await runCliAsync(['mirror', '--verify', manifestDigest, '--to', to, '--json']);
  assert.equal(bad.code, 1);
  const r = JSON.parse(bad.stdout) as { ok: boolean; problems: { path: string; message: string }[] };
  assert.equal(r.ok, false);
  assert.equal(r.problems[0].path, 'config.json');
  assert.match(r.problems[0].message, new RegExp(`config.json: expected sha256 ${cfg.sha256}, got`));
});

test('mirror without an input and without --verify is a usage error (exit 2); --to is required', async () => {
  const a = await runCliAsync(['mirror', '--to', join(tmp, 'x')]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /needs an INPUT/);
  const b = await runCliAsync(['mirror', 'sha256:' + 'a'.repeat(64)]);
  assert.equal(b.code, 2);
  const c = await runCliAsync(['mirror', 'sha256:' + 'a'.repeat(64), '--to', join(tmp, 'y'), '--store', join(tmp, 'empty')]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /no manifest sha256:a{64}/);
});
