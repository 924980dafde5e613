// Registry commands: approve, gate, waive, deploy, rollback, revoke, where, history, evidence
// add/export, identity add. Thin wrappers over src/registry/domain.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { ModelgateError } from '../scan/model.ts';
import { openStore, type Store } from '../registry/store/index.ts';
import { loadPolicy, parseDuration, type GateDecision, type Policy } from '../policy/index.ts';
import { isEvidenceKind, outsideReportPredicate, parseOutsideReport, exportEvidenceBundle, REPORT_FORMATS, type EvidenceKind, type ReportFormat } from '../registry/evidence/index.ts';
import * as reg from '../registry/domain/index.ts';

const DB_HELP = 'registry database: a path, sqlite:PATH or postgres://… (default: $MODELGATE_DB, else .modelgate/registry.db)';
const POLICY_HELP = 'policy file (default: ./modelgate.policy.yaml, else the built-in default)';

async function withStore<T>(db: string | undefined, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try { return await fn(store); } finally { await store.close(); }
}

function out(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text);
}

function policyOf(file?: string): Policy { return loadPolicy(file); }

export function renderDecision(model: string, version: string, d: GateDecision): string {
  const lines = [`gate ${model}@${version} → ${d.env} (tier ${d.tier}): ${d.allowed ? 'PASS' : 'BLOCKED'}`];
  for (const r of d.requirements) lines.push(`  ${r.status.toUpperCase().padEnd(7)} ${r.id}: ${r.reason}`);
  return lines.join('\n') + '\n';
}

const EXIT = `
Exit codes:
  0  done
  1  refused by the release gate (the failing requirements are listed)
  2  usage error, unknown model/version/identity, separation of duties, or the database cannot be opened`;

export function registerRegistry(program: Command): void {
  program
    .command('gate')
    .description('Evaluate the release gate of NAME@VER for an environment and record the decision')
    .argument('<ref>', 'NAME@VERSION')
    .requiredOption('--env <env>', 'target environment')
    .option('--policy <file>', POLICY_HELP)
    .option('--by <id>', 'who asks (default: the OS user)')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
Every requirement of the policy cell (tier × environment) is reported as pass, fail, missing or
waived, with why. The decision is stored as "gate" evidence and in the audit log.

Exit codes:
  0  the gate passes
  1  the gate blocks
  2  usage error, unknown version, or the database cannot be opened

JSON (--json): {"model", "version", "evidenceId", "decision": {"allowed", "tier", "env", "rootDigest",
                "at", "requirements": [{"id", "status", "reason", "evidence"?}]}}

Examples:
  modelgate gate support-bert@3 --env production
  modelgate gate support-bert@3 --env staging --policy ./modelgate.policy.yaml --json`)
    .action(async (ref: string, o: { env: string; policy?: string; by?: string; db?: string; json?: boolean }) => {
      const policy = policyOf(o.policy);
      const r = await withStore(o.db, (s) => reg.gate(s, ref, o.env, { policy, by: o.by ?? reg.defaultActor() }));
      out(o.json, r, renderDecision(r.model, r.version, r.decision));
      process.exitCode = r.decision.allowed ? 0 : 1;
    });

  program
    .command('approve')
    .description('Approve NAME@VER as a configured identity in one of its roles (bound to the root digest)')
    .argument('<ref>', 'NAME@VERSION')
    .requiredOption('--by <id>', 'approving identity (must be configured: modelgate identity add)')
    .requiredOption('--role <role>', 'role the approval is given in (the identity must hold it)')
    .option('--note <text>', 'a note kept with the approval')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
Approvals are bound to the version's root digest and expire after 90 days. The intake's submitter
cannot approve their own intake (separation of duties). Approving twice in the same role is a no-op.
${EXIT}

JSON (--json): {"id", "model", "version", "rootDigest", "by", "role", "at", "expiresAt", "created"}

Examples:
  modelgate approve support-bert@3 --by bob --role security --note "scan + license reviewed"`)
    .action(async (ref: string, o: { by: string; role: string; note?: string; db?: string; json?: boolean }) => {
      const r = await withStore(o.db, (s) => reg.approve(s, ref, { by: o.by, role: o.role, note: o.note }));
      out(o.json, r, `${r.created ? 'approved' : 'already approved'} ${r.model}@${r.version} by ${r.by} as ${r.role} (expires ${r.expiresAt})\n`);
    });

  program
    .command('waive')
    .description('Grant a time-boxed exception to one gate requirement of NAME@VER in an environment')
    .argument('<ref>', 'NAME@VERSION')
    .requiredOption('--env <env>', 'environment the waiver applies to')
    .requiredOption('--requirement <id>', 'requirement id, e.g. vulnerabilities, eval:harmful-refusal, scan.formats')
    .requiredOption('--reason <text>', 'why (required)')
    .requiredOption('--by <id>', 'granting identity')
    .requiredOption('--role <role>', 'role it is granted in (policy waivers.grantors decides whether it counts)')
    .option('--for <duration>', 'how long, e.g. 7d, 48h (default 7d)')
    .option('--until <iso>', 'expiry as an ISO time (instead of --for)')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
The policy decides at gate time whether a waiver counts: the requirement must be waivable there,
the role must be a grantor and the duration within waivers.maxDuration.
${EXIT}

Examples:
  modelgate waive support-bert@3 --env production --requirement vulnerabilities \\
      --reason "CVE fix ships next week" --by bob --role security --for 7d`)
    .action(async (ref: string, o: { env: string; requirement: string; reason: string; by: string; role: string; for?: string; until?: string; db?: string; json?: boolean }) => {
      let durationMs: number | undefined;
      if (o.for !== undefined) {
        const ms = parseDuration(o.for);
        if (ms === null) throw new ModelgateError('USAGE', `--for takes a duration like 7d, 48h or 30m, not "${o.for}"`);
        durationMs = ms;
      }
      const r = await withStore(o.db, (s) => reg.waive(s, ref, { env: o.env, requirement: o.requirement, reason: o.reason, by: o.by, role: o.role, durationMs, expiresAt: o.until }));
      out(o.json, r, `waiver for ${r.requirement} on ${r.model}@${r.version} in ${r.env} until ${r.expiresAt}\n`);
    });

  program
    .command('deploy')
    .description('Point an environment at NAME@VER if its release gate passes at this moment')
    .argument('<ref>', 'NAME@VERSION')
    .requiredOption('--env <env>', 'target environment')
    .requiredOption('--by <id>', 'who deploys')
    .option('--policy <file>', POLICY_HELP)
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
The gate is evaluated inside the same transaction that moves the environment's alias, so nothing
can change between the check and the move. A deployment row, gate and deployment evidence and an
audit entry are recorded with it.
${EXIT}

JSON (--json): {"model", "version", "env", "rootDigest", "previousVersion", "deploymentId", "gateEvidence", "at"}
  blocked: {"blocked": true, "decision": {…}}

Examples:
  modelgate deploy support-bert@3 --env staging --by ops-jane`)
    .action(async (ref: string, o: { env: string; by: string; policy?: string; db?: string; json?: boolean }) => {
      const policy = policyOf(o.policy);
      await withStore(o.db, async (s) => {
        try {
          const r = await reg.deploy(s, ref, { env: o.env, by: o.by, policy });
          out(o.json, r, `deployed ${r.model}@${r.version} to ${r.env}${r.previousVersion ? ` (was ${r.previousVersion})` : ''}\n`);
        } catch (e) {
          if (!(e instanceof reg.GateBlockedError)) throw e;
          const { name, version } = reg.parseRef(ref);
          out(o.json, { blocked: true, decision: e.decision }, renderDecision(name, version ?? '', e.decision));
          process.exitCode = 1;
        }
      });
    });

  program
    .command('rollback')
    .description('Re-point an environment to the previous version of NAME that still passes its gate')
    .argument('<name>', 'model name')
    .requiredOption('--env <env>', 'environment')
    .requiredOption('--by <id>', 'who rolls back')
    .requiredOption('--reason <text>', 'why (required)')
    .option('--to <version>', 'a specific version instead of the previous one')
    .option('--drill', 'rehearse: run the rollback in a transaction that is rolled back, report whether it would succeed')
    .option('--policy <file>', POLICY_HELP)
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
Candidates are the versions deployed to the environment before, newest first; revoked versions and
versions whose gate fails now are skipped (and listed).
${EXIT} (1: no version to roll back to)

Examples:
  modelgate rollback support-bert --env production --by ops-jane --reason "latency regression"
  modelgate rollback support-bert --env production --by ops-jane --reason drill --drill --json`)
    .action(async (name: string, o: { env: string; by: string; reason: string; to?: string; drill?: boolean; policy?: string; db?: string; json?: boolean }) => {
      const policy = policyOf(o.policy);
      await withStore(o.db, async (s) => {
        try {
          const r = await reg.rollback(s, name, { env: o.env, by: o.by, reason: o.reason, to: o.to, drill: o.drill, policy });
          out(o.json, r, `${r.drill ? 'drill: would roll back' : 'rolled back'} ${r.model} in ${r.env} from ${r.previousVersion} to ${r.version}\n${r.skipped.map((k) => `  skipped ${r.model}@${k.version}: ${k.why}\n`).join('')}`);
        } catch (e) {
          if (!(e instanceof ModelgateError) || e.code !== 'NO_ROLLBACK_TARGET') throw e;
          out(o.json, { ok: false, error: e.message, drill: !!o.drill }, `${o.drill ? 'drill: rollback would FAIL: ' : ''}${e.message}\n`);
          process.exitCode = 1;
        }
      });
    });

  program
    .command('revoke')
    .description('Block NAME@VER everywhere, list where it runs, and with --rollback roll each back')
    .argument('<ref>', 'NAME@VERSION')
    .requiredOption('--reason <text>', 'why (required)')
    .requiredOption('--by <id>', 'who revokes')
    .option('--rollback', 'roll back every environment it runs in')
    .option('--policy <file>', POLICY_HELP)
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
A revoked version fails every gate from then on (requirement "revoked"), so it cannot be deployed
or rolled back to.
${EXIT} (1: --rollback found no target for some environment)

JSON (--json): {"model", "version", "rootDigest", "alreadyRevoked", "environments": [...],
                "rollbacks": [{"env", "to": "VER"|null, "error"?}]}

Examples:
  modelgate revoke support-bert@3 --reason "prompt-injection regression" --by bob --rollback`)
    .action(async (ref: string, o: { reason: string; by: string; rollback?: boolean; policy?: string; db?: string; json?: boolean }) => {
      const policy = o.rollback ? policyOf(o.policy) : undefined;
      const r = await withStore(o.db, (s) => reg.revoke(s, ref, { reason: o.reason, by: o.by, rollback: o.rollback, policy }));
      const text = [`revoked ${r.model}@${r.version}${r.alreadyRevoked ? ' (already revoked)' : ''}; running in: ${r.environments.join(', ') || 'none'}`,
        ...r.rollbacks.map((b) => (b.to ? `  ${b.env}: rolled back to ${b.to}` : `  ${b.env}: NOT rolled back: ${b.error}`))].join('\n') + '\n';
      out(o.json, r, text);
      if (r.rollbacks.some((b) => !b.to)) process.exitCode = 1;
    });

  program
    .command('where')
    .description('Every environment where a root digest, a file SHA-256, or NAME[@VER] runs now')
    .argument('<query>', 'root digest or file SHA-256 (hex or sha256:hex), or NAME[@VERSION]')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
Exit codes: 0 found, 1 runs nowhere, 2 usage or database error.

JSON (--json): [{"env", "model", "version", "rootDigest", "since", "by", "revoked", "files"?,
                 "approvals": [{"by", "role", "at", "expiresAt", "active"}]}]

Examples:
  modelgate where sha256:185c4e25445bc472412ea76e27b7550d0a77aa1ca49ab36c055c60394c6c3f3c
  modelgate where support-bert --json`)
    .action(async (query: string, o: { db?: string; json?: boolean }) => {
      const r = await withStore(o.db, (s) => reg.where(s, query));
      const text = r.length === 0 ? `${query} runs nowhere\n` : r.map((w) => `${w.env}: ${w.model}@${w.version}${w.revoked ? ' (REVOKED)' : ''} since ${w.since} by ${w.by}${w.files ? ` [files: ${w.files.join(', ')}]` : ''}; approvals: ${w.approvals.filter((a) => a.active).map((a) => `${a.by}/${a.role}`).join(', ') || 'none active'}\n`).join('');
      out(o.json, r, text);
      process.exitCode = r.length ? 0 : 1;
    });

  program
    .command('history')
    .description('The timeline of a model from the audit log')
    .argument('<name>', 'model name')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
JSON (--json): [{"seq", "at", "actor", "action", "subject", "details"}]

Example:
  modelgate history support-bert`)
    .action(async (name: string, o: { db?: string; json?: boolean }) => {
      const r = await withStore(o.db, (s) => reg.history(s, name));
      out(o.json, r, r.map((h) => `${h.at} #${h.seq} ${h.actor} ${h.action} ${h.subject} ${JSON.stringify(h.details)}\n`).join('') || `no history for ${name}\n`);
    });

  const evidence = program.command('evidence').description('Attach or export evidence of a model version');
  evidence
    .command('add')
    .description('Attach an outside report or a predicate to NAME@VER')
    .argument('<ref>', 'NAME@VERSION')
    .requiredOption('--kind <kind>', `trivy|grype|syft|cyclonedx|outside-report (parsed reports), or an evidence kind (eval-run, eval, signature, …) whose predicate JSON is in --file`)
    .requiredOption('--file <path>', 'the report or predicate JSON')
    .option('--scope <text>', 'what an outside report describes, e.g. container or dependencies')
    .option('--by <id>', 'who attaches it (default: the OS user)')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
Trivy/Grype vulnerability JSON gives the gate's vulnerability counts. For other kinds the file holds
the predicate, an in-toto statement, or a DSSE envelope (its predicate is used).

Examples:
  modelgate evidence add support-bert@3 --kind trivy --file trivy.json --scope container
  modelgate evidence add support-bert@3 --kind eval-run --file eval-result.json`)
    .action(async (ref: string, o: { kind: string; file: string; scope?: string; by?: string; db?: string; json?: boolean }) => {
      let raw: string;
      try { raw = readFileSync(o.file, 'utf8'); } catch (e) { throw new ModelgateError('NOT_FOUND', `cannot read ${o.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
      let kind: EvidenceKind;
      let predicate: object;
      if ((REPORT_FORMATS as readonly string[]).includes(o.kind) || o.kind === 'outside-report') {
        const report = parseOutsideReport(raw, o.kind === 'outside-report' ? {} : { expect: o.kind as ReportFormat });
        kind = 'outside-report';
        predicate = outsideReportPredicate(report, raw, { scope: o.scope, name: basename(o.file) });
      } else if (isEvidenceKind(o.kind)) {
        kind = o.kind;
        let doc: Record<string, unknown>;
        try { doc = JSON.parse(raw) as Record<string, unknown>; } catch { throw new ModelgateError('USAGE', `${o.file} is not JSON`); }
        if (typeof doc.payload === 'string') doc = JSON.parse(Buffer.from(doc.payload, 'base64').toString('utf8')) as Record<string, unknown>;
        if (typeof doc._type === 'string' && doc.predicate && typeof doc.predicate === 'object') doc = doc.predicate as Record<string, unknown>;
        predicate = doc;
      } else {
        throw new ModelgateError('USAGE', `unknown evidence kind "${o.kind}"`);
      }
      const r = await withStore(o.db, (s) => reg.addEvidence(s, ref, kind, predicate, { by: o.by ?? reg.defaultActor() }));
      out(o.json, r, `attached ${r.kind} evidence ${r.id} to ${ref}\n`);
    });
  evidence
    .command('export')
    .description('Write every evidence envelope of NAME@VER, an index and a README into a folder')
    .argument('<ref>', 'NAME@VERSION')
    .requiredOption('--out <dir>', 'output folder')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable index on stdout')
    .addHelpText('after', `
Example:
  modelgate evidence export support-bert@3 --out ./audit/support-bert-3`)
    .action(async (ref: string, o: { out: string; db?: string; json?: boolean }) => {
      const items = await withStore(o.db, (s) => reg.evidenceOf(s, ref));
      const index = exportEvidenceBundle(items, o.out, { title: ref });
      out(o.json, index, `wrote ${index.count} evidence file${index.count === 1 ? '' : 's'} to ${o.out}\n`);
    });

  const identity = program.command('identity').description('Configure the identities and roles that may approve and waive');
  identity
    .command('add')
    .description('Add an identity (or roles to it)')
    .argument('<id>', 'identity id')
    .requiredOption('--role <role...>', 'role(s) it holds')
    .option('--name <display>', 'display name')
    .option('--by <id>', 'who configures it (default: the OS user)')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
Example:
  modelgate identity add bob --role security`)
    .action(async (id: string, o: { role: string[]; name?: string; by?: string; db?: string; json?: boolean }) => {
      const r = await withStore(o.db, (s) => reg.addIdentity(s, id, o.role, { by: o.by ?? reg.defaultActor(), displayName: o.name }));
      out(o.json, r, `${r.id}: ${r.roles.join(', ')}\n`);
    });
}
