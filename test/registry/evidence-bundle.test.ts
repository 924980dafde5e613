import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportEvidenceBundle, makeEvidence, parseEvidence } from '../../src/registry/evidence/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';

const ROOT = 'd'.repeat(64);

test('exportEvidenceBundle: one canonical file per envelope named by its id, index.json, README.txt, public key', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-evidence-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const approval = makeEvidence('approval', ROOT, { approver: 'alice', role: 'ml-lead', decision: 'approved', at: '2026-11-20T10:00:00Z' }, { key: privateKey, name: 'm', created: '2026-11-20T10:00:02Z' });
  const deploy = makeEvidence('deployment', ROOT, { environment: 'staging', action: 'deploy', by: 'dave', at: '2026-11-20T11:00:00Z' }, { name: 'm', created: '2026-11-20T11:00:01Z' });
  const index = exportEvidenceBundle([deploy, approval, deploy], join(dir, 'out'), { publicKey, title: 'm@1', exported: new Date('2026-11-21T00:00:00Z') });
  const out = join(dir, 'out');
  assert.deepEqual(readdirSync(out).sort(), [`${approval.id}.json`, `${deploy.id}.json`, 'README.txt', 'index.json', 'public-key.pem'].sort());
  // The SHA-256 of each file is its name, and each file parses back (the signed one verifies).
  for (const e of [approval, deploy]) {
    const bytes = readFileSync(join(out, `${e.id}.json`));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), e.id);
    const back = parseEvidence(bytes, { expectedId: e.id, ...(e === approval ? { publicKey } : {}) });
    assert.equal(back.kind, e.kind);
  }
  const onDisk = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
  assert.deepEqual(onDisk, index);
  assert.equal(index.count, 2);
  assert.equal(index.exported, '2026-11-21T00:00:00.000Z');
  assert.deepEqual(index.items.map((i) => [i.id, i.kind, i.predicateType, i.subject, i.created, i.signed]), [
    [approval.id, 'approval', 'https://modelgate.dev/approval/v1', [{ name: 'm', sha256: ROOT }], '2026-11-20T10:00:02Z', true],
    [deploy.id, 'deployment', 'https://modelgate.dev/deployment/v1', [{ name: 'm', sha256: ROOT }], '2026-11-20T11:00:01Z', false],
  ]);
  const readme = readFileSync(join(out, 'README.txt'), 'utf8');
  assert.match(readme, /^m@1\n/);
  assert.match(readme, /sha256sum/);
  assert.match(readme, /DSSEv1/);
  assert.match(readme, /openssl dgst -sha256 -verify public-key\.pem/);
  assert.match(readFileSync(join(out, 'public-key.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
});

test('exportEvidenceBundle refuses an item whose id does not match its envelope', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-evidence-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const e = makeEvidence('deployment', ROOT, { environment: 'prod', action: 'revoke', by: 'eve', at: '2026-11-20T11:00:00Z', reason: 'CVE' });
  assert.throws(() => exportEvidenceBundle([{ ...e, id: 'e'.repeat(64) }], dir), (x: unknown) => x instanceof ModelgateError && x.code === 'EVIDENCE_ID_MISMATCH');
  assert.deepEqual(readdirSync(dir), []);
});
