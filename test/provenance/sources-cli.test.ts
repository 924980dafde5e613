// `modelgate fetch` end to end (built CLI) against the local Hub stand-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/scan.ts';
import { runCliAsync, startHubServer, type HubServer } from '../helpers/hub-server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mg-fetch-cli-'));
let hub: HubServer;
let tampered: HubServer;
const TOKEN = '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';
before(async () => {
  hub = await startHubServer({ root: `${FIXTURES}/hub`, requireToken: TOKEN });
  tampered = await startHubServer({ root: `${FIXTURES}/hub`, tamper: ['model.safetensors'] });
});
after(async () => {
  await hub.close();
  await tampered.close();
  rmSync(tmp, { recursive: true, force: true });
});
let n = 0;
const store = () => join(tmp, `s${n++}`);
const commit = () => hub.commitOf('acme/tiny-model');
const env = { HF_TOKEN: TOKEN, HF_ENDPOINT: undefined };

function allFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name)) : [];
}

test('fetch --json prints the manifest and its digest; exit 0; the token is in no output or file', async () => {
  const s = store();
  const r = await runCliAsync(['fetch', `hf://acme/tiny-model@${commit()}`, '--endpoint', hub.url, '--store', s, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { manifestDigest: string; manifestPath: string; reused: boolean; manifest: { resolvedCommit: string; files: { path: string; sha256: string }[] } };
  assert.equal(out.manifest.resolvedCommit, commit());
  assert.equal(out.manifest.files.length, 5);
  assert.equal(out.manifestDigest, `sha256:${createHash('sha256').update(readFileSync(out.manifestPath)).digest('hex')}`);
  assert.equal(out.reused, false);
  assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN));
  for (const f of allFiles(s)) assert.ok(!readFileSync(f).includes(TOKEN), `token written to ${f}`);
  // Second run: nothing fetched, same manifest.
  const again = await runCliAsync(['fetch', `hf://acme/tiny-model@${commit()}`, '--endpoint', hub.url, '--store', s], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already in quarantine: nothing fetched/);
  assert.ok(again.stdout.includes(out.manifestDigest));
});

test('--token-env names another variable; without a token the Hub refuses and the hint says how to set one', async () => {
  const ok = await runCliAsync(['fetch', `hf://acme/tiny-model@${commit()}`, '--endpoint', hub.url, '--store', store(), '--token-env', 'MY_HUB_TOKEN'], { env: { HF_TOKEN: undefined, MY_HUB_TOKEN: TOKEN } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(!ok.stdout.includes(TOKEN) && !ok.stderr.includes(TOKEN));
  const no = await runCliAsync(['fetch', `hf://acme/tiny-model@${commit()}`, '--endpoint', hub.url, '--store', store()], { env: { HF_TOKEN: undefined } });
  assert.equal(no.code, 2);
  assert.match(no.stderr, /HTTP 401 .*HF_TOKEN/);
});

test('a floating branch is refused (exit 2) unless --allow-floating, which records the commit', async () => {
  const s = store();
  const refused = await runCliAsync(['fetch', 'hf://acme/tiny-model@main', '--endpoint', hub.url, '--store', s], { env });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /"main" is a branch or tag, not a commit.*--allow-floating/);
  assert.equal(refused.stdout, '');
  const ok = await runCliAsync(['fetch', 'hf://acme/tiny-model@main', '--allow-floating', '--endpoint', hub.url, '--store', s], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`commit    ${commit()} \\(resolved from "main"\\)`));
});

test('HF_ENDPOINT sets the base URL; a tampered file exits 2 naming the file and both digests, the store keeps no manifest', async () => {
  const s = store();
  const model = readFileSync(`${FIXTURES}/hub/acme/tiny-model/model.safetensors`);
  const want = createHash('sha256').update(model).digest('hex');
  const r = await runCliAsync(['fetch', `hf://acme/tiny-model@${tampered.commitOf('acme/tiny-model')}`, '--store', s], { env: { HF_ENDPOINT: tampered.url, HF_TOKEN: TOKEN } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`model\\.safetensors: expected sha256 ${want}, got [0-9a-f]{64}`));
  assert.ok(!r.stderr.includes(TOKEN));
  assert.deepEqual(allFiles(join(s, 'manifests')), []);
  assert.ok(!existsSync(join(s, 'blobs/sha256', want.slice(0, 2), want.slice(2))));
});

test('usage errors exit 2: an https source without --sha256, a bad --token-env, a missing folder', async () => {
  for (const args of [['fetch', 'https://127.0.0.1:1/x.bin'], ['fetch', 'hf://a/b@main', '--token-env', 'not a var'], ['fetch', join(tmp, 'nope')]]) {
    const r = await runCliAsync([...args, '--store', store()]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^modelgate: /);
  }
});

test('--list shows the files at the resolved commit with their digests and downloads nothing', async () => {
  const s = store();
  const r = await runCliAsync(['fetch', 'hf://acme/tiny-model@main', '--allow-floating', '--list', '--json', '--endpoint', hub.url, '--store', s], { env });
  assert.equal(r.code, 0, r.stderr);
  const l = JSON.parse(r.stdout) as { resolvedCommit: string; floating: boolean; files: { path: string; size: number; gitOid: string; lfs: { sha256: string } | null }[] };
  assert.equal(l.resolvedCommit, commit());
  assert.equal(l.floating, true);
  const model = readFileSync(`${FIXTURES}/hub/acme/tiny-model/model.safetensors`);
  assert.equal(l.files.find((f) => f.path === 'model.safetensors')!.lfs!.sha256, createHash('sha256').update(model).digest('hex'));
  const cfg = readFileSync(`${FIXTURES}/hub/acme/tiny-model/config.json`);
  assert.equal(l.files.find((f) => f.path === 'config.json')!.gitOid, createHash('sha1').update(`blob ${cfg.length}\0`).update(cfg).digest('hex'));
  assert.deepEqual(allFiles(join(s, 'blobs')), []);
  const refused = await runCliAsync(['fetch', 'hf://acme/tiny-model@main', '--list', '--endpoint', hub.url, '--store', s], { env });
  assert.equal(refused.code, 2);
});
