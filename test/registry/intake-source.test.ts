// `intake hf://ORG/NAME@COMMIT`: fetched through the quarantine (verified while streaming) from a local
// server that speaks the Hub's API, then recorded; a tampered file or a floating branch records nothing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/registry/store/index.ts';
import { intakeSource } from '../../src/registry/domain/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import { startHubServer } from '../helpers/hub-server.ts';
import { FIXTURES } from '../helpers/scan.ts';

const REPO = 'acme/tiny-model';
const tmp = mkdtempSync(join(tmpdir(), 'mg-intake-src-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const META = { name: 'tiny', owner: 'team-ml', use: 'internal support bot', sensitivity: 'internal', tier: 'low', submitter: 'alice' };
const FAST = { retries: 2, retryBaseMs: 5, retryMaxMs: 20 };

test('a pinned Hub revision is fetched, verified and intaken once', async () => {
  const hub = await startHubServer({ root: `${FIXTURES}/hub` });
  const store = await openStore(`sqlite:${join(tmp, 'ok.db')}`);
  try {
    const commit = hub.commitOf(REPO);
    const fetch = { store: join(tmp, 'q1'), endpoint: hub.url, http: FAST };
    const r = await intakeSource(store, `hf://${REPO}@${commit}`, fetch, META);
    assert.equal(r.created, true);
    assert.equal(r.source.resolvedCommit, commit);
    assert.match(r.source.manifestDigest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(r.files >= 4, `${r.files} files`);
    const again = await intakeSource(store, `hf://${REPO}@${commit}`, fetch, META);
    assert.equal(again.created, false);
    assert.equal(again.rootDigest, r.rootDigest);
  } finally {
    await store.close();
    await hub.close();
  }
});

test('a tampered file or a floating branch records nothing', async () => {
  const hub = await startHubServer({ root: `${FIXTURES}/hub`, tamper: ['config.json'] });
  const store = await openStore(`sqlite:${join(tmp, 'bad.db')}`);
  try {
    const fetch = { store: join(tmp, 'q2'), endpoint: hub.url, http: FAST };
    await assert.rejects(intakeSource(store, `hf://${REPO}@${hub.commitOf(REPO)}`, fetch, META), (e: unknown) => e instanceof ModelgateError && e.code === 'DIGEST_MISMATCH' && /config\.json/.test(e.message));
    await assert.rejects(intakeSource(store, `hf://${REPO}@main`, fetch, META), (e: unknown) => e instanceof ModelgateError && e.code === 'FLOATING_REVISION');
    const versions = await store.db.selectFrom('versions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    assert.equal(Number(versions?.n), 0);
  } finally {
    await store.close();
    await hub.close();
  }
});
