// `modelgate audit verify|head`: through commander in-process (src/cli/audit.ts), and through the built
// CLI (bin/modelgate.js, bundled) on SQLite and on a throwaway PostgreSQL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerAudit, runAuditVerify } from '../../src/cli/audit.ts';
import { openStore } from '../../src/registry/store/index.ts';
import { appendAudit } from '../../src/registry/audit/index.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { runCli } from '../helpers/scan.ts';

let tmp: string;
let db: string;
before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mg-audit-cli-'));
  db = join(tmp, 'r.db');
  const s = await openStore(db);
  for (let i = 0; i < 5; i++) await s.transaction((tx) => appendAudit(tx, { actor: 'a', action: 'x', subject: `s${i}` }));
  await s.close();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ out: string; code: number }> {
  const program = new Command('modelgate').exitOverride();
  registerAudit(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  const saved = process.exitCode;
  process.exitCode = 0;
  (process.stdout as any).write = (chunk: string) => { out += chunk; return true; };
  try {
    await program.parseAsync(['node', 'modelgate', ...args]);
  } finally {
    process.stdout.write = write;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = saved;
  return { out, code };
}

test('audit verify: intact log exits 0 with the head; --json has the documented shape', async () => {
  const t = await cli(['audit', 'verify', '--db', db]);
  assert.equal(t.code, 0);
  assert.match(t.out, /^audit log intact: 5 rows, head 5:[0-9a-f]{64} \(sqlite /);
  const j = await cli(['audit', 'verify', '--db', `sqlite:${db}`, '--json']);
  const r = JSON.parse(j.out);
  assert.equal(j.code, 0);
  assert.deepEqual({ ok: r.ok, rows: r.rows, seq: r.head.seq, store: r.store }, { ok: true, rows: 5, seq: 5, store: 'sqlite' });
});

test('audit verify: a tampered row exits 1 and is named; audit head round-trips into --expect', async () => {
  const head = (await cli(['audit', 'head', '--db', db])).out.trim();
  assert.match(head, /^5:[0-9a-f]{64}$/);
  assert.equal((await cli(['audit', 'verify', '--db', db, '--expect', head])).code, 0);
  const s = await openStore(db);
  await s.db.updateTable('audit_log').set({ actor: 'mallory' }).where('seq', '=', 3).execute();
  await s.close();
  const t = await cli(['audit', 'verify', '--db', db]);
  assert.equal(t.code, 1);
  assert.match(t.out, /BROKEN at row 3: modified/);
});

test('audit verify: a missing SQLite file is a DB_OPEN error and is not created; a bad --expect is a usage error', async () => {
  const missing = join(tmp, 'nope', 'r.db');
  await assert.rejects(runAuditVerify({ db: missing }), (e: Error & { code?: string }) => e.code === 'DB_OPEN');
  assert.equal(existsSync(missing), false);
  await assert.rejects(runAuditVerify({ db, expect: '5:xyz' }), (e: Error & { code?: string }) => e.code === 'USAGE');
});

test('the built CLI: exit 0 on SQLite and on PostgreSQL (--json), exit 1 on a broken chain, exit 2 on a missing database', { timeout: 120_000 }, async () => {
  let pgServer: TestPostgres | undefined;
  try {
    pgServer = await startPostgres();
    const url = await pgServer.createDatabase('cli');
    const s = await openStore(url);
    for (let i = 0; i < 3; i++) await s.transaction((tx) => appendAudit(tx, { actor: 'a', action: 'x', subject: `p${i}` }));
    await s.close();
    const pgRun = runCli(['audit', 'verify', '--json'], { env: { MODELGATE_DB: url } });
    assert.equal(pgRun.code, 0, pgRun.stderr);
    const r = JSON.parse(pgRun.stdout);
    assert.deepEqual({ ok: r.ok, rows: r.rows, store: r.store }, { ok: true, rows: 3, store: 'postgres' });
    assert.ok(!pgRun.stdout.includes(url.split(':')[2].split('@')[0]), 'the password is not printed');

    const sq = join(tmp, 'cli.db');
    const t = await openStore(sq);
    for (let i = 0; i < 4; i++) await t.transaction((tx) => appendAudit(tx, { actor: 'a', action: 'x', subject: `q${i}` }));
    await t.db.deleteFrom('audit_log').where('seq', '=', 2).execute();
    await t.close();
    const broken = runCli(['audit', 'verify', '--db', sq]);
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stdout, /BROKEN at row 2: deleted/);

    const missing = runCli(['audit', 'verify', '--db', join(tmp, 'none.db')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no registry database/);
  } finally {
    await pgServer?.stop();
  }
});
