// openStore(url): one typed query layer (Kysely) over SQLite (better-sqlite3) or PostgreSQL (pg).
//
//   (nothing) / MODELGATE_DB unset  → SQLite at .modelgate/registry.db in the working directory
//   PATH | sqlite:PATH | sqlite://PATH | :memory:  → SQLite
//   postgres://user:pass@host:port/db | postgresql://…  → PostgreSQL
//
// Transactions: `store.transaction(fn)` is the only way writers should touch the registry.
// - SQLite: BEGIN IMMEDIATE takes the write lock up front, so writers in different processes queue
//   (busy_timeout) instead of failing half-way; WAL lets readers continue meanwhile.
// - PostgreSQL: SERIALIZABLE, retried with jittered backoff on serialization failure (40001) and
//   deadlock (40P01): every invariant that a transaction reads and then writes holds under concurrency.
// A process killed inside `fn` leaves nothing: the transaction never commits.
// `fn` may run more than once (PostgreSQL retries, SQLite BUSY retries): keep side effects outside the
// database (files, network, stdout) out of it, or make them idempotent.
// Do not call `store.transaction` inside `fn` (SQLite has one connection: it would wait forever).
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { ModelgateError } from '../../scan/model.ts';
import type { RegistryDB } from './schema.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';

export type StoreKind = 'sqlite' | 'postgres';
export type Tx = Kysely<RegistryDB>;

export interface Store {
  readonly kind: StoreKind;
  /** The location with any password removed, for messages and reports. */
  readonly location: string;
  readonly db: Kysely<RegistryDB>;
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Create a missing SQLite file (default true); false makes a missing file a DB_OPEN error. */
  create?: boolean;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Working directory for the default and relative SQLite paths (default process.cwd()). */
  cwd?: string;
  /** SQLite: how long a writer waits for another process's write lock, in ms (default 30000). */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool (default 4). */
  poolSize?: number;
}

export const DEFAULT_DB = '.modelgate/registry.db';

export interface StoreTarget { kind: StoreKind; target: string }

/** Parses a store URL (or MODELGATE_DB, or the default) into its kind and target. */
export function resolveStoreUrl(url?: string, cwd = process.cwd()): StoreTarget {
  const u = (url ?? process.env.MODELGATE_DB ?? '').trim() || DEFAULT_DB;
  if (/^postgres(ql)?:\/\//i.test(u)) return { kind: 'postgres', target: u };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u) && !/^sqlite:/i.test(u)) {
    throw new ModelgateError('USAGE', `unsupported database URL "${redact(u)}" (a path, sqlite:PATH or postgres://…)`);
  }
  let p = u.replace(/^sqlite:(\/\/)?/i, '');
  if (p === '') throw new ModelgateError('USAGE', 'empty SQLite path in the database URL');
  if (p !== ':memory:') p = resolve(cwd, p);
  return { kind: 'sqlite', target: p };
}

export function redact(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/i, '$1:***@');
}

// better-sqlite3 finds its native addon through `bindings`, which does not work once the CLI is bundled
// into ESM; pointing it at the addon next to the package (wherever it is installed) works in both.
let addonPath: string | null | undefined;
function sqliteAddonPath(): string | undefined {
  if (addonPath === undefined) {
    try {
      const req = createRequire(import.meta.url);
      const p = join(dirname(req.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
      addonPath = existsSync(p) ? p : null;
    } catch {
      addonPath = null; // let better-sqlite3 look for it itself
    }
  }
  return addonPath ?? undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openStore(url?: string, opts: OpenOptions = {}): Promise<Store> {
  const { kind, target } = resolveStoreUrl(url, opts.cwd);
  if (kind === 'sqlite' && opts.create === false && target !== ':memory:' && !existsSync(target)) {
    throw new ModelgateError('DB_OPEN', `no registry database at ${target} (pass --db URL or set MODELGATE_DB)`);
  }
  const store = kind === 'sqlite' ? openSqlite(target, opts) : await openPostgres(target, opts);
  if (opts.migrate !== false) {
    try {
      await migrate(store);
    } catch (e) {
      await store.close().catch(() => undefined);
      if (e instanceof ModelgateError) throw e;
      throw new ModelgateError('DB_MIGRATE', `cannot bring the registry schema at ${store.location} up to date: ${(e as Error).message}`);
    }
  }
  return store;
}

function openSqlite(path: string, opts: OpenOptions): Store {
  let database: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const nativeBinding = sqliteAddonPath();
    database = new Database(path, { timeout: opts.busyTimeoutMs ?? 30_000, ...(nativeBinding ? { nativeBinding } : {}) });
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL'); // a commit survives power loss, not only a killed process
    database.pragma('foreign_keys = ON');
  } catch (e) {
    throw new ModelgateError('DB_OPEN', `cannot open SQLite database ${path}: ${(e as Error).message}`);
  }
  const db = new Kysely<RegistryDB>({ dialect: new SqliteDialect({ database }) });
  return {
    kind: 'sqlite',
    location: path,
    db,
    async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.connection().execute(async (conn) => {
            await sql`begin immediate`.execute(conn);
            try {
              const r = await fn(conn);
              await sql`commit`.execute(conn);
              return r;
            } catch (e) {
              if (database.inTransaction) await sql`rollback`.execute(conn).catch(() => undefined);
              throw e;
            }
          });
        } catch (e) {
          // busy_timeout already waited; a BUSY that still escapes (e.g. a lock upgrade) is retried.
          if ((e as { code?: string }).code === 'SQLITE_BUSY' && attempt < 20) { await sleep(20 + Math.random() * 80); continue; }
          throw e;
        }
      }
    },
    async close() { await db.destroy(); },
  };
}

const RETRY_PG = new Set(['40001', '40P01']);

async function openPostgres(url: string, opts: OpenOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 4,
    // bigint (int8) → JS number: sizes and audit sequence numbers stay below 2^53.
    types: { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
  });
  pool.on('error', () => undefined); // an idle client's lost connection must not crash the process
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new ModelgateError('DB_OPEN', `cannot connect to PostgreSQL ${redact(url)}: ${(e as Error).message}`);
  }
  const db = new Kysely<RegistryDB>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    location: redact(url),
    db,
    async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.transaction().setIsolationLevel('serializable').execute(fn);
        } catch (e) {
          if (RETRY_PG.has((e as { code?: string }).code ?? '') && attempt < 200) {
            await sleep(Math.min(200, 2 * 1.3 ** Math.min(attempt, 20)) * (0.5 + Math.random()));
            continue;
          }
          throw e;
        }
      }
    },
    async close() { await db.destroy(); },
  };
}

/** Applies pending migrations in order; returns the versions it applied (empty when up to date). */
export async function migrate(store: Store, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const run = async (tx: Kysely<any>): Promise<number[]> => {
    if (store.kind === 'postgres') await sql`select pg_advisory_xact_lock(727100501)`.execute(tx);
    await tx.schema.createTable('schema_migrations').ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'text', (c) => c.notNull())
      .execute();
    const done = new Set((await tx.selectFrom('schema_migrations').select('version').execute()).map((r: { version: number }) => Number(r.version)));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await m.up(tx);
      await tx.insertInto('schema_migrations').values({ version: m.version, name: m.name, applied_at: new Date().toISOString() }).execute();
      applied.push(m.version);
    }
    return applied;
  };
  // PostgreSQL: READ COMMITTED behind an advisory lock (each statement sees the latest commits);
  // SQLite: BEGIN IMMEDIATE already serializes.
  if (store.kind === 'postgres') return store.db.transaction().execute(run);
  return store.transaction(run);
}
