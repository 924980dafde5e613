// The registry's audit log: append-only and hash-chained.
//
// Row n carries seq = n (1, 2, 3 … without gaps), at, actor, action, subject, details (canonical JSON
// text), prev_hash = hash of row n-1 (64 zeros for row 1) and
//   hash = SHA-256( canonical JSON of [seq, at, actor, action, subject, details, prev_hash] )
// where details is the parsed JSON value with object keys sorted (so the hash does not depend on how
// a store spells the JSON). Changing any field of a row, removing a row, moving a row or slipping
// a row in breaks the chain at a place verifyAudit names.
//
// appendAudit runs inside the caller's transaction (store.transaction): the audit row commits with
// the change it records, or neither does. Concurrent writers are serialized by that transaction
// (SQLite BEGIN IMMEDIATE; PostgreSQL SERIALIZABLE with retry), so seq never forks.
//
// What a hash chain cannot show on its own: someone who can write the database and recomputes every
// hash from some row to the end (or appends well-formed rows) leaves a consistent chain. Record the
// head (`auditHead`) somewhere else (a ticket, a signed evidence record) and pass it to verifyAudit
// as `expect` to pin everything up to it.
import { createHash } from 'node:crypto';
import type { Store, Tx } from '../store/index.ts';
import type { AuditLogTable } from '../store/schema.ts';
import { canonicalize } from '../evidence/canonical.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  details?: unknown;
  /** Defaults to now. */
  at?: Date | string;
}

export type AuditRow = AuditLogTable;

export type AuditProblem = 'modified' | 'deleted' | 'reordered' | 'inserted';

export interface AuditVerification {
  ok: boolean;
  rows: number;
  head: { seq: number; hash: string } | null;
  firstBad?: { seq: number; problem: AuditProblem; message: string };
}

/** The one canonical JSON of the registry (RFC 8785, shared with evidence ids). */
export const canonicalJson = canonicalize;

/** The hash of a row's content: details given as its stored JSON text. */
export function auditHash(r: { seq: number; at: string; actor: string; action: string; subject: string; details: string; prev_hash: string }): string {
  const details = JSON.parse(r.details) as unknown;
  const body = canonicalJson([Number(r.seq), r.at, r.actor, r.action, r.subject, details, r.prev_hash]);
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** Appends one entry inside the caller's transaction; returns the stored row. */
export async function appendAudit(tx: Tx, entry: AuditEntry): Promise<AuditRow> {
  const last = await tx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const at = entry.at === undefined ? new Date().toISOString() : typeof entry.at === 'string' ? entry.at : entry.at.toISOString();
  const row = {
    seq: last ? Number(last.seq) + 1 : 1,
    at,
    actor: entry.actor,
    action: entry.action,
    subject: entry.subject,
    details: canonicalJson(entry.details ?? {}),
    prev_hash: last ? last.hash : GENESIS_HASH,
    hash: '',
  };
  row.hash = auditHash(row);
  await tx.insertInto('audit_log').values(row).execute();
  return row;
}

/** The last row's seq and hash (null for an empty log): record it elsewhere to pin the chain. */
export async function auditHead(store: Store): Promise<{ seq: number; hash: string } | null> {
  const r = await store.db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return r ? { seq: Number(r.seq), hash: r.hash } : null;
}

function safeHash(r: AuditRow): string | null {
  try { return auditHash(r); } catch { return null; }
}

/**
 * Walks the whole log in seq order and reports the first row that breaks the chain:
 * - modified: the row's content no longer matches its hash (a field was changed);
 * - deleted: a seq is missing, or a row links to a predecessor that is gone;
 * - reordered: the row is intact but sits at another position than the one it was written at;
 * - inserted: a row that was not part of the chain sits between two rows that were linked.
 * `expect` (a head recorded earlier) additionally requires that row to be present and unchanged.
 */
export async function verifyAudit(store: Store, opts: { expect?: { seq: number; hash: string }; batch?: number } = {}): Promise<AuditVerification> {
  const batch = opts.batch ?? 20_000;
  let prevHash = GENESIS_HASH;
  let prevPrevHash: string | null = null;
  let prevSeq = 0;
  let rows = 0;
  let head: AuditVerification['head'] = null;
  let expectSeen = false;
  const bad = (seq: number, problem: AuditProblem, message: string): AuditVerification => ({ ok: false, rows, head, firstBad: { seq, problem, message } });

  let cursor: number | null = null; // the first page has no lower bound: rows at seq 0 or below count too
  for (;;) {
    let q = store.db.selectFrom('audit_log').selectAll().orderBy('seq').limit(batch);
    if (cursor !== null) q = q.where('seq', '>', cursor);
    const page = await q.execute();
    if (page.length === 0) break;
    cursor = Number(page[page.length - 1].seq);
    for (const raw of page) {
      const r = { ...raw, seq: Number(raw.seq) };
      rows++;
      const computed = safeHash(r);
      if (computed !== r.hash) {
        // Intact content at another position? Then it was moved (or rows around it were).
        const from = await originalSeq(store, r);
        if (from !== null) {
          if (from < r.seq && r.prev_hash === prevPrevHash) return bad(r.seq - 1, 'inserted', `row ${r.seq - 1} is not part of the chain: row ${r.seq} (written as ${from}) links past it`);
          if (from > r.seq && !(await hashExists(store, r.prev_hash))) return bad(from - 1, 'deleted', `row ${from - 1} is missing: row written as ${from} now sits at ${r.seq}`);
          return bad(r.seq, 'reordered', `row ${r.seq} was written as row ${from}`);
        }
        return bad(r.seq, 'modified', `row ${r.seq} does not match its hash (content changed)`);
      }
      if (r.seq <= prevSeq) return bad(r.seq, 'inserted', `row ${r.seq} lies before the start of the chain (row 1)`);
      if (r.seq !== prevSeq + 1) return bad(prevSeq + 1, 'deleted', `row ${prevSeq + 1}${r.seq - prevSeq > 2 ? `…${r.seq - 1}` : ''} is missing (next row is ${r.seq})`);
      if (r.prev_hash !== prevHash) {
        if (prevPrevHash !== null && r.prev_hash === prevPrevHash) return bad(prevSeq, 'inserted', `row ${prevSeq} is not part of the chain: row ${r.seq} links to row ${prevSeq - 1}`);
        if (await hashExists(store, r.prev_hash)) return bad(r.seq, 'reordered', `row ${r.seq} links to a row other than row ${prevSeq}`);
        return bad(r.seq - 1, 'deleted', `row ${r.seq} links to a row that is no longer in the log (row ${r.seq - 1} was replaced or removed)`);
      }
      if (opts.expect && r.seq === opts.expect.seq) {
        expectSeen = true;
        if (r.hash !== opts.expect.hash) return bad(r.seq, 'modified', `row ${r.seq} differs from the recorded head`);
      }
      prevPrevHash = prevHash;
      prevHash = r.hash;
      prevSeq = r.seq;
      head = { seq: r.seq, hash: r.hash };
    }
  }
  if (opts.expect && !expectSeen) return bad(opts.expect.seq, 'deleted', `recorded head row ${opts.expect.seq} is missing (log ends at ${prevSeq})`);
  return { ok: true, rows, head };
}

async function hashExists(store: Store, hash: string): Promise<boolean> {
  return (await store.db.selectFrom('audit_log').select('seq').where('hash', '=', hash).executeTakeFirst()) !== undefined;
}

/** The seq a row was written at, if its content is intact; null if it was changed. */
async function originalSeq(store: Store, r: AuditRow): Promise<number | null> {
  // The row it links to tells where it was written: one after its predecessor.
  const pred = r.prev_hash === GENESIS_HASH ? { seq: 0 } : await store.db.selectFrom('audit_log').select('seq').where('hash', '=', r.prev_hash).executeTakeFirst();
  const candidates = new Set<number>();
  if (pred) for (const d of [1, 0, 2, -1]) candidates.add(Number(pred.seq) + d); // the predecessor may have moved too
  candidates.add(r.seq + 1);
  candidates.add(r.seq - 1);
  for (const s of candidates) if (s >= 1 && s !== r.seq && safeHash({ ...r, seq: s }) === r.hash) return s;
  // Last resort (only on a broken chain): every position up to the end of the log.
  const max = await store.db.selectFrom('audit_log').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
  const top = Number(max?.m ?? 0) + 1;
  for (let s = 1; s <= top; s++) if (s !== r.seq && !candidates.has(s) && safeHash({ ...r, seq: s }) === r.hash) return s;
  return null;
}
