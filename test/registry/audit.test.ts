// The audit log's hash chain: appends, verification, and each kind of tampering detected and named,
// on SQLite and on a throwaway PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/registry/store/index.ts';
import { appendAudit, auditHash, auditHead, canonicalJson, verifyAudit, GENESIS_HASH } from '../../src/registry/audit/index.ts';
import { useTestStores } from '../helpers/postgres.ts';

const stores = useTestStores('mg-audit-');
let n = 0;

test('canonical JSON sorts keys at every level and drops undefined members', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: 'é' }], c: null } }), '{"a":{"c":null,"d":[1,{"x":"é","z":1}]},"b":1}');
  assert.throws(() => canonicalJson({ a: Number.NaN }));
});

test('the hash is SHA-256 over the canonical [seq, at, actor, action, subject, details, prev_hash]', () => {
  const row = { seq: 1, at: '2026-01-01T00:00:00.000Z', actor: 'alice', action: 'approve', subject: 'm@1', details: '{"role":"risk","note":"ok"}', prev_hash: GENESIS_HASH };
  const expected = createHash('sha256').update(`[1,"2026-01-01T00:00:00.000Z","alice","approve","m@1",{"note":"ok","role":"risk"},"${GENESIS_HASH}"]`).digest('hex');
  assert.equal(auditHash(row), expected);
  assert.equal(auditHash({ ...row, details: '{ "note": "ok", "role": "risk" }' }), expected, 'JSON spelling does not matter');
  assert.notEqual(auditHash({ ...row, seq: 2 }), expected);
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`audit chain on ${kind}`, () => {
    let store: Store;
    const ROWS = 10;
    before(async () => {
      const url = kind === 'sqlite' ? join(stores.tmp(), `a${++n}.db`) : await stores.pg().createDatabase(`a${++n}`);
      store = await openStore(url);
    });
    after(async () => { await store?.close(); });

    // A fresh log of ROWS rows for each tampering test.
    async function fresh(): Promise<void> {
      await store.db.deleteFrom('audit_log').execute();
      for (let i = 1; i <= ROWS; i++) {
        await store.transaction((tx) => appendAudit(tx, { actor: i % 2 ? 'alice' : 'bob', action: 'test.step', subject: `m@${i}`, details: { i, note: `step ${i}` } }));
      }
      const v = await verifyAudit(store);
      assert.deepEqual({ ok: v.ok, rows: v.rows }, { ok: true, rows: ROWS });
    }
    const setSeq = (from: number, to: number) => store.db.updateTable('audit_log').set({ seq: to }).where('seq', '=', from).execute();

    test('appends link each row to the previous one; several appends in one transaction chain too', async () => {
      await store.db.deleteFrom('audit_log').execute();
      const first = await store.transaction((tx) => appendAudit(tx, { actor: 'alice', action: 'intake', subject: 'm@1', details: { tier: 'high' }, at: '2026-11-29T10:00:00.000Z' }));
      assert.equal(first.seq, 1);
      assert.equal(first.prev_hash, GENESIS_HASH);
      assert.match(first.hash, /^[0-9a-f]{64}$/);
      const [b, c] = await store.transaction(async (tx) => [await appendAudit(tx, { actor: 'bob', action: 'approve', subject: 'm@1' }), await appendAudit(tx, { actor: 'carol', action: 'approve', subject: 'm@1' })]);
      assert.deepEqual([b.seq, c.seq], [2, 3]);
      assert.equal(b.prev_hash, first.hash);
      assert.equal(c.prev_hash, b.hash);
      const stored = await store.db.selectFrom('audit_log').selectAll().where('seq', '=', 1).executeTakeFirstOrThrow();
      assert.equal(stored.details, '{"tier":"high"}');
      assert.equal(stored.at, '2026-11-29T10:00:00.000Z');
      const v = await verifyAudit(store);
      assert.deepEqual(v, { ok: true, rows: 3, head: { seq: 3, hash: c.hash } });
      assert.deepEqual(await auditHead(store), { seq: 3, hash: c.hash });
    });

    test('an empty log verifies with no head', async () => {
      await store.db.deleteFrom('audit_log').execute();
      assert.deepEqual(await verifyAudit(store), { ok: true, rows: 0, head: null });
    });

    test('a modified details field is named: row 4 modified', async () => {
      await fresh();
      await store.db.updateTable('audit_log').set({ details: '{"i":4,"note":"approved by nobody"}' }).where('seq', '=', 4).execute();
      const v = await verifyAudit(store);
      assert.equal(v.ok, false);
      assert.deepEqual({ seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { seq: 4, problem: 'modified' });
      assert.equal(v.rows, 4, 'verification stops at the first bad row');
    });

    test('a modified actor is named: row 7 modified', async () => {
      await fresh();
      await store.db.updateTable('audit_log').set({ actor: 'mallory' }).where('seq', '=', 7).execute();
      const v = await verifyAudit(store);
      assert.deepEqual({ ok: v.ok, seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { ok: false, seq: 7, problem: 'modified' });
    });

    test('a deleted middle row is named: row 5 deleted', async () => {
      await fresh();
      await store.db.deleteFrom('audit_log').where('seq', '=', 5).execute();
      const v = await verifyAudit(store);
      assert.deepEqual({ ok: v.ok, seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { ok: false, seq: 5, problem: 'deleted' });
    });

    test('a deleted row hidden by renumbering the rest is still named: row 5 deleted', async () => {
      await fresh();
      await store.db.deleteFrom('audit_log').where('seq', '=', 5).execute();
      for (let s = 6; s <= ROWS; s++) await setSeq(s, s - 1);
      const v = await verifyAudit(store);
      assert.deepEqual({ ok: v.ok, seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { ok: false, seq: 5, problem: 'deleted' });
    });

    test('two rows with swapped seq are named: row 3 reordered', async () => {
      await fresh();
      await setSeq(3, -3); await setSeq(7, 3); await setSeq(-3, 7);
      const v = await verifyAudit(store);
      assert.deepEqual({ ok: v.ok, seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { ok: false, seq: 3, problem: 'reordered' });
      assert.match(v.firstBad!.message, /written as row 7/);
    });

    test('two adjacent rows swapped are named: row 6 reordered', async () => {
      await fresh();
      await setSeq(6, -6); await setSeq(7, 6); await setSeq(-6, 7);
      const v = await verifyAudit(store);
      assert.deepEqual({ ok: v.ok, seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { ok: false, seq: 6, problem: 'reordered' });
    });

    test('a forged row slipped in (rest renumbered, its own hash correct) is named: row 5 inserted', async () => {
      await fresh();
      for (let s = ROWS; s >= 5; s--) await setSeq(s, s + 1);
      const prev = await store.db.selectFrom('audit_log').select('hash').where('seq', '=', 4).executeTakeFirstOrThrow();
      const forged = { seq: 5, at: new Date().toISOString(), actor: 'mallory', action: 'approve', subject: 'm@5', details: '{"role":"risk"}', prev_hash: prev.hash, hash: '' };
      forged.hash = auditHash(forged);
      await store.db.insertInto('audit_log').values(forged).execute();
      const v = await verifyAudit(store);
      assert.deepEqual({ ok: v.ok, seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { ok: false, seq: 5, problem: 'inserted' });
    });

    test('a forged row placed before row 1 (well-formed, seq 0) is named: row 0 inserted', async () => {
      await fresh();
      const forged = { seq: 0, at: new Date().toISOString(), actor: 'mallory', action: 'approve', subject: 'm@0', details: '{}', prev_hash: GENESIS_HASH, hash: '' };
      forged.hash = auditHash(forged);
      await store.db.insertInto('audit_log').values(forged).execute();
      const v = await verifyAudit(store);
      assert.deepEqual({ ok: v.ok, seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { ok: false, seq: 0, problem: 'inserted' });
    });

    test('a forged row appended with a made-up hash is named: row 11 modified', async () => {
      await fresh();
      const prev = await store.db.selectFrom('audit_log').select('hash').where('seq', '=', ROWS).executeTakeFirstOrThrow();
      await store.db.insertInto('audit_log').values({ seq: ROWS + 1, at: new Date().toISOString(), actor: 'mallory', action: 'deploy', subject: 'm@x', details: '{}', prev_hash: prev.hash, hash: 'f'.repeat(64) }).execute();
      const v = await verifyAudit(store);
      assert.deepEqual({ ok: v.ok, seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { ok: false, seq: ROWS + 1, problem: 'modified' });
    });

    test('a recorded head pins the chain: a rewritten and re-hashed tail is caught, an intact log passes', async () => {
      await fresh();
      const head = (await auditHead(store))!;
      const ok = await verifyAudit(store, { expect: head });
      assert.equal(ok.ok, true);
      // Rewrite the last row consistently (a chain alone cannot see this).
      const last = await store.db.selectFrom('audit_log').selectAll().where('seq', '=', ROWS).executeTakeFirstOrThrow();
      const rewritten = { ...last, seq: Number(last.seq), actor: 'mallory' };
      rewritten.hash = auditHash(rewritten);
      await store.db.updateTable('audit_log').set({ actor: 'mallory', hash: rewritten.hash }).where('seq', '=', ROWS).execute();
      assert.equal((await verifyAudit(store)).ok, true, 'without a recorded head the rewrite is invisible');
      const v = await verifyAudit(store, { expect: head });
      assert.deepEqual({ ok: v.ok, seq: v.firstBad?.seq, problem: v.firstBad?.problem }, { ok: false, seq: ROWS, problem: 'modified' });
      await store.db.deleteFrom('audit_log').where('seq', '=', ROWS).execute();
      const t = await verifyAudit(store, { expect: head });
      assert.deepEqual({ ok: t.ok, seq: t.firstBad?.seq, problem: t.firstBad?.problem }, { ok: false, seq: ROWS, problem: 'deleted' });
    });

    test('verification pages through a log larger than one batch', async () => {
      await fresh();
      const v = await verifyAudit(store, { batch: 3 });
      assert.deepEqual({ ok: v.ok, rows: v.rows, seq: v.head?.seq }, { ok: true, rows: ROWS, seq: ROWS });
      await store.db.updateTable('audit_log').set({ subject: 'x' }).where('seq', '=', 8).execute();
      const bad = await verifyAudit(store, { batch: 3 });
      assert.deepEqual({ seq: bad.firstBad?.seq, problem: bad.firstBad?.problem }, { seq: 8, problem: 'modified' });
    });
  });
}
