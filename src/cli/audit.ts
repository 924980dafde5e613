// `modelgate audit verify|head`: check the registry's hash-chained audit log.
import type { Command } from 'commander';
import { ModelgateError } from '../scan/model.ts';
import { openStore } from '../registry/store/index.ts';
import { auditHead, verifyAudit, type AuditVerification } from '../registry/audit/index.ts';

const DB_HELP = 'registry database: a path, sqlite:PATH or postgres://… (default: $MODELGATE_DB, else .modelgate/registry.db)';

const VERIFY_HELP = `
Every audit row carries the SHA-256 of its own content and of the row before it. verify walks the
whole log and names the first row that was modified, deleted, reordered or inserted.
A chain alone cannot see a consistent rewrite of its newest rows: record \`modelgate audit head\`
somewhere else (a ticket, a signed note) and pass it back with --expect.

Exit codes:
  0  the chain is intact
  1  the chain is broken (the first bad row is named)
  2  usage error, or the database cannot be opened

JSON (--json): {"ok": true|false, "rows": N, "head": {"seq": N, "hash": "…"} | null,
                "firstBad"?: {"seq": N, "problem": "modified|deleted|reordered|inserted", "message": "…"},
                "store": "sqlite|postgres", "location": "…"}

Examples:
  modelgate audit verify
  modelgate audit verify --db postgres://modelgate@db.internal/registry --json
  modelgate audit verify --expect 1841:3f5c…e9`;

export interface AuditVerifyResult extends AuditVerification { store: string; location: string }

/** The library side of `audit verify`: opens the store read-only in spirit (no file is created). */
export async function runAuditVerify(opts: { db?: string; expect?: string; cwd?: string }): Promise<AuditVerifyResult> {
  let expect: { seq: number; hash: string } | undefined;
  if (opts.expect !== undefined) {
    const m = /^(\d+):([0-9a-f]{64})$/i.exec(opts.expect.trim());
    if (!m) throw new ModelgateError('USAGE', `--expect takes SEQ:HASH as printed by \`modelgate audit head\`, not "${opts.expect}"`);
    expect = { seq: Number(m[1]), hash: m[2].toLowerCase() };
  }
  const store = await openStore(opts.db, { create: false, cwd: opts.cwd });
  try {
    const v = await verifyAudit(store, { expect });
    return { ...v, store: store.kind, location: store.location };
  } finally {
    await store.close();
  }
}

export function renderAuditVerify(r: AuditVerifyResult): string {
  if (r.ok) return `audit log intact: ${r.rows} row${r.rows === 1 ? '' : 's'}${r.head ? `, head ${r.head.seq}:${r.head.hash}` : ''} (${r.store} ${r.location})\n`;
  const b = r.firstBad!;
  return `audit log BROKEN at row ${b.seq}: ${b.problem} — ${b.message} (${r.rows} row${r.rows === 1 ? '' : 's'} read; ${r.store} ${r.location})\n`;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('Check the registry\'s append-only, hash-chained audit log');
  audit
    .command('verify')
    .description('Verify the audit chain and name the first modified, deleted, reordered or inserted row')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .option('--expect <seq:hash>', 'also require this recorded head row to be present and unchanged')
    .addHelpText('after', VERIFY_HELP)
    .action(async (flags: { db?: string; json?: boolean; expect?: string }) => {
      const r = await runAuditVerify(flags);
      process.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : renderAuditVerify(r));
      process.exitCode = r.ok ? 0 : 1;
    });
  audit
    .command('head')
    .description('Print the last audit row as SEQ:HASH, to record outside the database')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
Exit codes: 0 printed (an empty log prints nothing in text, "head": null in JSON); 2 usage or database error.

Example:
  modelgate audit head > audit-head-$(date +%F).txt   # later: modelgate audit verify --expect "$(cat …)"`)
    .action(async (flags: { db?: string; json?: boolean }) => {
      const store = await openStore(flags.db, { create: false });
      try {
        const head = await auditHead(store);
        if (flags.json) process.stdout.write(`${JSON.stringify({ head }, null, 2)}\n`);
        else if (head) process.stdout.write(`${head.seq}:${head.hash}\n`);
      } finally {
        await store.close();
      }
    });
}
