// The registry domain: intake, gate, approvals, waivers, deployments, rollback, revocation, and the
// incident questions (where, history). Every write is one store.transaction with its evidence rows
// and audit entries; file I/O (hashing, scanning) happens before the transaction.
// Audit subjects: "NAME@VERSION" for version actions, "NAME" for model-level ones, "identity:ID".
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { Kysely } from 'kysely';
import { ModelgateError } from '../../scan/model.ts';
import { scan } from '../../scan/index.ts';
import { hashModel } from '../../provenance/hash/index.ts';
import { reviewLicense } from '../../license/index.ts';
import { INTENDED_USES, type IntendedUse } from '../../license/types.ts';
import { buildSbom } from '../../provenance/sbom/index.ts';
import { TIERS, evaluateGate, loadPolicy, type GateDecision, type GateFacts, type Policy, type Tier } from '../../policy/index.ts';
import type { Store } from '../store/index.ts';
import type { RegistryDB } from '../store/schema.ts';
import { appendAudit } from '../audit/index.ts';
import { canonicalDigest, gatePredicate, makeEvidence, scanPredicate, sha256Hex, type Evidence, type EvidenceKind } from '../evidence/index.ts';

type Db = Kysely<RegistryDB>;

export const SENSITIVITIES = ['public', 'internal', 'confidential', 'restricted'] as const;
/** Approvals expire this long after they are given. */
export const APPROVAL_TTL_MS = 90 * 24 * 3600_000;

export interface VersionRef { name: string; version: string }

export function parseRef(ref: string): { name: string; version: string | null } {
  const i = ref.lastIndexOf('@');
  if (i <= 0) return { name: ref, version: null };
  return { name: ref.slice(0, i), version: ref.slice(i + 1) || null };
}

export function defaultActor(): string {
  try { return userInfo().username || 'unknown'; } catch { return process.env.USER ?? 'unknown'; }
}

const iso = (d?: Date | string) => (d === undefined ? new Date().toISOString() : typeof d === 'string' ? new Date(d).toISOString() : d.toISOString());

async function storeEvidence(tx: Db, ev: Evidence<object>, by: string | null): Promise<void> {
  const digest = ev.statement.subject[0].digest.sha256;
  await tx.insertInto('evidence').values({ id: ev.id, root_digest: digest, kind: ev.kind, predicate_type: ev.statement.predicateType, envelope: JSON.stringify(ev.envelope), created_at: ev.created, created_by: by })
    .onConflict((oc) => oc.column('id').doNothing()).execute();
}

function intendedUseOf(use: string, licenseUse?: string): IntendedUse {
  const t = (licenseUse ?? use).toLowerCase();
  for (const u of INTENDED_USES) if (t === u || new RegExp(`\\b${u}\\b`).test(t)) return u;
  if (licenseUse !== undefined) throw new ModelgateError('USAGE', `unknown license use "${licenseUse}" (expected one of: ${INTENDED_USES.join(', ')})`);
  return 'commercial'; // the strictest reading when the intended use names none
}

// ---- intake -------------------------------------------------------------------------------------

export interface IntakeOptions {
  name: string; owner: string; use: string; sensitivity: string; tier: string;
  publisher?: string; targetEnv?: string; submitter: string;
  /** Version label; default the next whole number. */
  version?: string;
  /** commercial | internal | research for the license review (default: read from `use`). */
  licenseUse?: string;
  now?: Date | string;
}

export interface IntakeResult {
  model: string; version: string; rootDigest: string; created: boolean; files: number;
  evidence: Array<{ kind: string; id: string }>;
}

export async function intake(store: Store, path: string, o: IntakeOptions): Promise<IntakeResult> {
  if (!o.name || !/^[A-Za-z0-9][A-Za-z0-9._\/-]*$/.test(o.name)) throw new ModelgateError('USAGE', `model name "${o.name}" must start with a letter or digit and use only letters, digits, . _ / -`);
  if (!(SENSITIVITIES as readonly string[]).includes(o.sensitivity)) throw new ModelgateError('USAGE', `unknown sensitivity "${o.sensitivity}" (expected one of: ${SENSITIVITIES.join(', ')})`);
  if (!(TIERS as readonly string[]).includes(o.tier)) throw new ModelgateError('USAGE', `unknown risk tier "${o.tier}" (expected one of: ${TIERS.join(', ')})`);
  if (!o.owner) throw new ModelgateError('USAGE', 'an owner is required');
  if (!o.use) throw new ModelgateError('USAGE', 'an intended use is required');
  if (o.version !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(o.version)) throw new ModelgateError('USAGE', `version "${o.version}" must use only letters, digits, . _ -`);
  if (!existsSync(path)) throw new ModelgateError('NOT_FOUND', `no such file or folder: ${path}`);
  const use = intendedUseOf(o.use, o.licenseUse);
  const digest = await hashModel(path);
  const rootDigest = digest.rootDigest.replace(/^sha256:/, '');
  const existing = await store.db.selectFrom('versions').select(['version']).where('model', '=', o.name).where('root_digest', '=', rootDigest).executeTakeFirst();
  if (existing) return existingResult(store, o.name, existing.version, rootDigest);

  const now = iso(o.now);
  const report = await scan([path], { jobs: 1 });
  const review = reviewLicense(path, { use });
  const sbom = await buildSbom(path, { jobs: 1 });
  const cardJson = JSON.parse(JSON.stringify(sbom.card)) as Record<string, unknown>;
  const readme = statSync(path).isDirectory() && existsSync(join(path, 'README.md')) ? 'README.md' : null;
  const opts = { name: o.name, created: now };
  const evidence: Evidence<object>[] = [
    makeEvidence('scan', rootDigest, scanPredicate(report), opts),
    makeEvidence('license', rootDigest, {
      licenses: review.licenses.map((l) => l.spdx), use: review.use, decision: review.decision,
      reasons: review.reasons.map((r) => ({ decision: r.decision, text: r.text })),
    }, opts),
    makeEvidence('card', rootDigest, { path: readme ?? '(extracted)', sha256: canonicalDigest(cardJson), metadata: cardJson }, opts),
    makeEvidence('sbom', rootDigest, { bom: { mediaType: 'application/vnd.cyclonedx+json', digest: { sha256: sha256Hex(sbom.json) }, specVersion: String((JSON.parse(sbom.json) as { specVersion?: string }).specVersion ?? '1.6'), components: (JSON.parse(sbom.json) as { components?: unknown[] }).components?.length ?? 0 } }, opts),
  ];
  const files = digest.files.map((f) => ({ path: f.name, sha256: f.sha256 ?? '', size: f.size }));

  return store.transaction(async (tx) => {
    const again = await tx.selectFrom('versions').select(['version']).where('model', '=', o.name).where('root_digest', '=', rootDigest).executeTakeFirst();
    if (again) return { model: o.name, version: again.version, rootDigest, created: false, files: files.length, evidence: [] };
    const model = await tx.selectFrom('models').select('name').where('name', '=', o.name).executeTakeFirst();
    if (!model) {
      await tx.insertInto('models').values({ name: o.name, owner: o.owner, description: null, created_at: now, created_by: o.submitter }).execute();
      await appendAudit(tx, { actor: o.submitter, action: 'model.create', subject: o.name, details: { owner: o.owner }, at: now });
    }
    const versions = await tx.selectFrom('versions').select('version').where('model', '=', o.name).execute();
    let version = o.version;
    if (version === undefined) {
      version = String(versions.reduce((m, v) => Math.max(m, /^\d+$/.test(v.version) ? Number(v.version) : 0), 0) + 1);
    } else if (versions.some((v) => v.version === version)) {
      throw new ModelgateError('VERSION_EXISTS', `${o.name}@${version} already exists with other bytes; versions are immutable (pick another --version)`);
    }
    await tx.insertInto('versions').values({ model: o.name, version, root_digest: rootDigest, source: path, created_at: now, created_by: o.submitter, revoked_at: null, revoked_by: null, revoked_reason: null }).execute();
    for (let i = 0; i < files.length; i += 200) {
      await tx.insertInto('version_files').values(files.slice(i, i + 200).map((f) => ({ model: o.name, version: version!, ...f }))).execute();
    }
    await tx.insertInto('intakes').values({ model: o.name, version, owner: o.owner, intended_use: o.use, sensitivity: o.sensitivity, tier: o.tier, publisher: o.publisher ?? null, target_env: o.targetEnv ?? null, submitter: o.submitter, created_at: now }).execute();
    for (const ev of evidence) await storeEvidence(tx, ev, o.submitter);
    await appendAudit(tx, {
      actor: o.submitter, action: 'intake', subject: `${o.name}@${version}`, at: now,
      details: { rootDigest, files: files.length, owner: o.owner, use: o.use, sensitivity: o.sensitivity, tier: o.tier, publisher: o.publisher ?? null, targetEnv: o.targetEnv ?? null, evidence: Object.fromEntries(evidence.map((e) => [e.kind, e.id])) },
    });
    return { model: o.name, version, rootDigest, created: true, files: files.length, evidence: evidence.map((e) => ({ kind: e.kind, id: e.id })) };
  });
}

async function existingResult(store: Store, model: string, version: string, rootDigest: string): Promise<IntakeResult> {
  const n = await store.db.selectFrom('version_files').select((eb) => eb.fn.countAll<number>().as('n')).where('model', '=', model).where('version', '=', version).executeTakeFirst();
  const ev = await store.db.selectFrom('evidence').select(['kind', 'id']).where('root_digest', '=', rootDigest).orderBy('created_at').execute();
  return { model, version, rootDigest, created: false, files: Number(n?.n ?? 0), evidence: ev };
}

// ---- lookups --------------------------------------------------------------------------------------

export interface VersionInfo {
  model: string; version: string; rootDigest: string; tier: Tier; submitter: string; owner: string;
  revokedAt: string | null; revokedReason: string | null; createdAt: string;
}

async function getVersion(db: Db, ref: string | VersionRef): Promise<VersionInfo> {
  const r = typeof ref === 'string' ? parseRef(ref) : ref;
  if (!r.version) throw new ModelgateError('USAGE', `name a version: NAME@VERSION, not "${String(typeof ref === 'string' ? ref : r.name)}"`);
  const row = await db.selectFrom('versions').innerJoin('intakes', (j) => j.onRef('intakes.model', '=', 'versions.model').onRef('intakes.version', '=', 'versions.version'))
    .select(['versions.model', 'versions.version', 'versions.root_digest', 'versions.revoked_at', 'versions.revoked_reason', 'versions.created_at', 'intakes.tier', 'intakes.submitter', 'intakes.owner'])
    .where('versions.model', '=', r.name).where('versions.version', '=', r.version).executeTakeFirst();
  if (!row) throw new ModelgateError('NOT_FOUND', `no version ${r.name}@${r.version} in the registry`);
  return { model: row.model, version: row.version, rootDigest: row.root_digest, tier: row.tier as Tier, submitter: row.submitter, owner: row.owner, revokedAt: row.revoked_at, revokedReason: row.revoked_reason, createdAt: row.created_at };
}

export async function getVersionInfo(store: Store, ref: string): Promise<VersionInfo> { return getVersion(store.db, ref); }

function predicateOf(envelope: string): Record<string, any> {
  const env = JSON.parse(envelope) as { payload: string };
  return (JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { predicate: Record<string, any> }).predicate;
}

// ---- gate facts ---------------------------------------------------------------------------------

/** GateFacts of a version from stored evidence (latest per kind), active approvals and waivers for env. */
export async function gateFactsFromEvidence(db: Db | Store, ref: string | VersionRef, now: Date | string = new Date(), env?: string): Promise<GateFacts> {
  const q: Db = 'transaction' in db && 'kind' in db ? (db as Store).db : (db as Db);
  const v = await getVersion(q, ref);
  const nowIso = iso(now);
  const rows = await q.selectFrom('evidence').select(['id', 'kind', 'envelope', 'created_at']).where('root_digest', '=', v.rootDigest)
    .where('kind', 'in', ['scan', 'license', 'signature', 'eval', 'eval-run', 'outside-report']).orderBy('created_at', 'desc').orderBy('id').execute();
  const facts: GateFacts = { rootDigest: v.rootDigest, evals: [], approvals: [], waivers: [] };
  const seenSuite = new Set<string>();
  for (const r of rows) {
    const p = predicateOf(r.envelope);
    if (r.kind === 'scan' && facts.scan === undefined) {
      const rules = (p.findingsByRule ?? {}) as Record<string, { severity: any; count: number }>;
      facts.scan = { maxSeverity: p.summary.maxSeverity, findingsByRule: rules, modelFormats: [...new Set((p.models as Array<{ modelFormats: string[] }>).flatMap((m) => m.modelFormats))].sort(), remoteCode: Object.keys(rules).some((k) => k.startsWith('MG-RC-')), errors: p.summary.errors, at: r.created_at };
    } else if (r.kind === 'license' && facts.license === undefined) {
      facts.license = { decision: p.decision, expression: (p.licenses as string[]).join(' AND ') || undefined, at: r.created_at };
    } else if (r.kind === 'signature' && facts.signature === undefined) {
      facts.signature = { verified: p.verified, identity: p.identity ?? null, keyId: p.keyHint ?? null, at: r.created_at };
    } else if (r.kind === 'eval-run') {
      for (const s of p.suites as Array<{ id: string; digest: string; passRate: number }>) {
        if (seenSuite.has(s.id)) continue;
        seenSuite.add(s.id);
        facts.evals!.push({ suite: s.id, digest: s.digest.replace(/^sha256:/, ''), passRate: s.passRate, at: r.created_at });
      }
    } else if (r.kind === 'eval') {
      const s = p.summary as { suite: string; suiteDigest: string; passRate: number };
      if (!seenSuite.has(s.suite)) { seenSuite.add(s.suite); facts.evals!.push({ suite: s.suite, digest: s.suiteDigest, passRate: s.passRate, at: r.created_at }); }
    } else if (r.kind === 'outside-report' && facts.vulnerabilities === undefined && (p.format === 'trivy' || p.format === 'grype')) {
      facts.vulnerabilities = { critical: p.counts.critical, high: p.counts.high, at: r.created_at };
    }
  }
  const approvals = await q.selectFrom('approvals').selectAll().where('root_digest', '=', v.rootDigest).where('revoked_at', 'is', null).execute();
  for (const a of approvals) if (!a.expires_at || a.expires_at > nowIso) facts.approvals!.push({ by: a.approved_by, role: a.role, at: a.created_at, expiresAt: a.expires_at, rootDigest: a.root_digest });
  let wq = q.selectFrom('waivers').innerJoin('evidence', 'evidence.id', 'waivers.id').select(['waivers.requirement', 'waivers.approved_by', 'waivers.reason', 'waivers.created_at', 'waivers.expires_at', 'waivers.root_digest', 'evidence.envelope'])
    .where('waivers.root_digest', '=', v.rootDigest).where('waivers.revoked_at', 'is', null);
  if (env) wq = wq.where('waivers.env', '=', env);
  for (const w of await wq.execute()) {
    facts.waivers!.push({ requirementId: w.requirement, grantedBy: w.approved_by ?? '', role: (predicateOf(w.envelope).role as string | undefined) ?? null, reason: w.reason, at: w.created_at, expiresAt: w.expires_at, rootDigest: w.root_digest });
  }
  return facts;
}

export interface RegistryGateOptions { policy?: Policy; now?: Date | string; by?: string }
export interface GateResult { model: string; version: string; decision: GateDecision; evidenceId: string }

async function decide(db: Db, v: VersionInfo, env: string, policy: Policy, now: string): Promise<GateDecision> {
  const facts = await gateFactsFromEvidence(db, { name: v.model, version: v.version }, now, env);
  const d = evaluateGate(policy, facts, { tier: v.tier, env, now });
  if (v.revokedAt) {
    d.allowed = false;
    d.requirements.unshift({ id: 'revoked', status: 'fail', reason: `revoked at ${v.revokedAt}: ${v.revokedReason ?? ''}` });
  }
  return d;
}

function policyDigestOf(policy: Policy): string { return canonicalDigest(policy.cells); }

/** Evaluates the release gate for NAME@VER in env and records it (gate evidence + audit). */
export async function gate(store: Store, ref: string, env: string, o: RegistryGateOptions = {}): Promise<GateResult> {
  const policy = o.policy ?? loadPolicy();
  const now = iso(o.now);
  return store.transaction(async (tx) => {
    const v = await getVersion(tx, ref);
    const d = await decide(tx, v, env, policy, now);
    const ev = makeEvidence('gate', v.rootDigest, gatePredicate(d, { policyDigest: policyDigestOf(policy) }), { name: v.model, created: now });
    await storeEvidence(tx, ev, o.by ?? null);
    await appendAudit(tx, { actor: o.by ?? defaultActor(), action: 'gate', subject: `${v.model}@${v.version}`, at: now, details: { env, allowed: d.allowed, evidence: ev.id, failed: d.requirements.filter((r) => r.status === 'fail' || r.status === 'missing').map((r) => r.id) } });
    return { model: v.model, version: v.version, decision: d, evidenceId: ev.id };
  });
}

// ---- identities, approvals, waivers -------------------------------------------------------------

export async function addIdentity(store: Store, id: string, roles: string[], o: { by?: string; displayName?: string; now?: Date | string } = {}): Promise<{ id: string; roles: string[] }> {
  if (!id) throw new ModelgateError('USAGE', 'an identity id is required');
  const now = iso(o.now);
  return store.transaction(async (tx) => {
    const cur = await tx.selectFrom('identities').select('id').where('id', '=', id).executeTakeFirst();
    if (!cur) await tx.insertInto('identities').values({ id, display_name: o.displayName ?? null, created_at: now, disabled_at: null }).execute();
    const have = new Set((await tx.selectFrom('identity_roles').select('role').where('identity', '=', id).execute()).map((r) => r.role));
    const added = roles.filter((r) => !have.has(r));
    for (const role of added) await tx.insertInto('identity_roles').values({ identity: id, role }).execute();
    if (!cur || added.length) await appendAudit(tx, { actor: o.by ?? defaultActor(), action: 'identity.add', subject: `identity:${id}`, at: now, details: { roles: added } });
    return { id, roles: [...have, ...added].sort() };
  });
}

async function requireRole(db: Db, id: string, role: string): Promise<void> {
  const ident = await db.selectFrom('identities').select(['id', 'disabled_at']).where('id', '=', id).executeTakeFirst();
  if (!ident || ident.disabled_at) throw new ModelgateError('UNKNOWN_IDENTITY', `"${id}" is not a configured identity${ident ? ' (disabled)' : ''}; add it with \`modelgate identity add ${id} --role ${role}\``);
  const r = await db.selectFrom('identity_roles').select('role').where('identity', '=', id).where('role', '=', role).executeTakeFirst();
  if (!r) throw new ModelgateError('ROLE_NOT_HELD', `${id} does not hold the role "${role}"`);
}

export interface ApproveOptions { by: string; role: string; note?: string; now?: Date | string; ttlMs?: number }
export interface ApproveResult { id: string; model: string; version: string; rootDigest: string; by: string; role: string; at: string; expiresAt: string; created: boolean }

export async function approve(store: Store, ref: string, o: ApproveOptions): Promise<ApproveResult> {
  const now = iso(o.now);
  const expiresAt = new Date(Date.parse(now) + (o.ttlMs ?? APPROVAL_TTL_MS)).toISOString();
  return store.transaction(async (tx) => {
    const v = await getVersion(tx, ref);
    if (v.revokedAt) throw new ModelgateError('REVOKED', `${v.model}@${v.version} is revoked; it cannot be approved`);
    if (o.by === v.submitter) throw new ModelgateError('SELF_APPROVAL', `${o.by} submitted ${v.model}@${v.version} and cannot approve it (separation of duties)`);
    await requireRole(tx, o.by, o.role);
    const dup = await tx.selectFrom('approvals').selectAll().where('root_digest', '=', v.rootDigest).where('approved_by', '=', o.by).where('role', '=', o.role).where('revoked_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    if (dup) return { id: dup.id, model: v.model, version: v.version, rootDigest: v.rootDigest, by: o.by, role: o.role, at: dup.created_at, expiresAt: dup.expires_at!, created: false };
    const ev = makeEvidence('approval', v.rootDigest, { approver: o.by, role: o.role, decision: 'approved', at: now, expiresAt, tier: v.tier, ...(o.note ? { note: o.note } : {}) }, { name: v.model, created: now });
    await storeEvidence(tx, ev, o.by);
    await tx.insertInto('approvals').values({ id: ev.id, model: v.model, version: v.version, root_digest: v.rootDigest, approved_by: o.by, role: o.role, note: o.note ?? null, created_at: now, expires_at: expiresAt, revoked_at: null }).execute();
    await appendAudit(tx, { actor: o.by, action: 'approve', subject: `${v.model}@${v.version}`, at: now, details: { role: o.role, rootDigest: v.rootDigest, expiresAt, note: o.note ?? null, evidence: ev.id } });
    return { id: ev.id, model: v.model, version: v.version, rootDigest: v.rootDigest, by: o.by, role: o.role, at: now, expiresAt, created: true };
  });
}

export interface WaiveOptions { env: string; requirement: string; reason: string; by: string; role: string; expiresAt?: string; durationMs?: number; now?: Date | string }
export interface WaiveResult { id: string; model: string; version: string; env: string; requirement: string; expiresAt: string }

/** A time-boxed exception to one requirement id; the policy decides at gate time whether it counts. */
export async function waive(store: Store, ref: string, o: WaiveOptions): Promise<WaiveResult> {
  if (!o.reason || !o.reason.trim()) throw new ModelgateError('USAGE', 'a waiver needs a reason');
  if (!o.requirement) throw new ModelgateError('USAGE', 'name the requirement id to waive (e.g. vulnerabilities, eval:harmful-refusal)');
  const now = iso(o.now);
  const expiresAt = o.expiresAt ? iso(o.expiresAt) : new Date(Date.parse(now) + (o.durationMs ?? 7 * 24 * 3600_000)).toISOString();
  if (Number.isNaN(Date.parse(expiresAt)) || expiresAt <= now) throw new ModelgateError('USAGE', `waiver expiry ${expiresAt} must lie in the future`);
  return store.transaction(async (tx) => {
    const v = await getVersion(tx, ref);
    await requireRole(tx, o.by, o.role);
    if (o.by === v.submitter) throw new ModelgateError('SELF_APPROVAL', `${o.by} submitted ${v.model}@${v.version} and cannot grant it a waiver (separation of duties)`);
    const ev = makeEvidence('waiver', v.rootDigest, { requirement: o.requirement, reason: o.reason, grantedBy: o.by, role: o.role, environment: o.env, at: now, expiresAt }, { name: v.model, created: now });
    await storeEvidence(tx, ev, o.by);
    await tx.insertInto('waivers').values({ id: ev.id, model: v.model, version: v.version, root_digest: v.rootDigest, env: o.env, requirement: o.requirement, reason: o.reason, requested_by: o.by, approved_by: o.by, created_at: now, expires_at: expiresAt, revoked_at: null })
      .onConflict((oc) => oc.column('id').doNothing()).execute();
    await appendAudit(tx, { actor: o.by, action: 'waive', subject: `${v.model}@${v.version}`, at: now, details: { env: o.env, requirement: o.requirement, reason: o.reason, role: o.role, expiresAt, evidence: ev.id } });
    return { id: ev.id, model: v.model, version: v.version, env: o.env, requirement: o.requirement, expiresAt };
  });
}

// ---- deployments ----------------------------------------------------------------------------------

export interface DeployOptions { env: string; by: string; policy?: Policy; now?: Date | string }
export interface DeployResult { model: string; version: string; env: string; rootDigest: string; previousVersion: string | null; deploymentId: string; gateEvidence: string; at: string }

export class GateBlockedError extends ModelgateError {
  constructor(message: string, readonly decision: GateDecision) { super('GATE_BLOCKED', message); }
}

function blockedSummary(d: GateDecision): string {
  return d.requirements.filter((r) => r.status === 'fail' || r.status === 'missing').map((r) => `${r.id} (${r.status}: ${r.reason})`).join('; ');
}

async function moveAlias(tx: Db, v: VersionInfo, env: string, action: 'deploy' | 'rollback', by: string, now: string, d: GateDecision, policy: Policy, reason: string | null): Promise<DeployResult> {
  const gev = makeEvidence('gate', v.rootDigest, gatePredicate(d, { policyDigest: policyDigestOf(policy) }), { name: v.model, created: now });
  await storeEvidence(tx, gev, by);
  const envRow = await tx.selectFrom('environments').select('name').where('name', '=', env).executeTakeFirst();
  if (!envRow) await tx.insertInto('environments').values({ name: env, description: null, created_at: now }).execute();
  const cur = await tx.selectFrom('aliases').selectAll().where('env', '=', env).where('model', '=', v.model).executeTakeFirst();
  const dev = makeEvidence('deployment', v.rootDigest, { environment: env, action, by, at: now, previousDigest: cur?.root_digest ?? null, gateEvidence: gev.id, ...(reason ? { reason } : {}) }, { name: v.model, created: now });
  await storeEvidence(tx, dev, by);
  // Ids are zero-padded, so the highest id is the last one: read through the primary key, not a count.
  const last = await tx.selectFrom('deployments').select((eb) => eb.fn.max<string | null>('id').as('id')).executeTakeFirst();
  const id = String(Number(last?.id ?? 0) + 1).padStart(12, '0');
  await tx.insertInto('deployments').values({ id, env, model: v.model, version: v.version, root_digest: v.rootDigest, action, deployed_by: by, at: now, previous_version: cur?.version ?? null, reason }).execute();
  if (cur) await tx.updateTable('aliases').set({ version: v.version, root_digest: v.rootDigest, updated_at: now, updated_by: by }).where('env', '=', env).where('model', '=', v.model).execute();
  else await tx.insertInto('aliases').values({ env, model: v.model, version: v.version, root_digest: v.rootDigest, updated_at: now, updated_by: by }).execute();
  await appendAudit(tx, { actor: by, action, subject: `${v.model}@${v.version}`, at: now, details: { env, previousVersion: cur?.version ?? null, gate: gev.id, deployment: dev.id, reason } });
  return { model: v.model, version: v.version, env, rootDigest: v.rootDigest, previousVersion: cur?.version ?? null, deploymentId: id, gateEvidence: gev.id, at: now };
}

/** Deploys NAME@VER to env if, inside the transaction, its gate passes; moves the alias. */
export async function deploy(store: Store, ref: string, o: DeployOptions): Promise<DeployResult> {
  const policy = o.policy ?? loadPolicy();
  const now = iso(o.now);
  return store.transaction(async (tx) => {
    const v = await getVersion(tx, ref);
    const d = await decide(tx, v, o.env, policy, now);
    if (!d.allowed) throw new GateBlockedError(`gate blocks ${v.model}@${v.version} in ${o.env}: ${blockedSummary(d)}`, d);
    return moveAlias(tx, v, o.env, 'deploy', o.by, now, d, policy, null);
  });
}

export interface RollbackOptions { env: string; to?: string; by: string; reason: string; drill?: boolean; policy?: Policy; now?: Date | string }
export interface RollbackResult extends DeployResult { drill: boolean; skipped: Array<{ version: string; why: string }> }

class DrillDone extends Error { constructor(readonly result: RollbackResult) { super('drill'); } }

async function rollbackIn(tx: Db, name: string, o: RollbackOptions, policy: Policy, now: string): Promise<RollbackResult> {
  const cur = await tx.selectFrom('aliases').selectAll().where('env', '=', o.env).where('model', '=', name).executeTakeFirst();
  if (!cur) throw new ModelgateError('NOT_DEPLOYED', `${name} is not deployed in ${o.env}; nothing to roll back`);
  const skipped: Array<{ version: string; why: string }> = [];
  let candidates: string[];
  if (o.to) candidates = [o.to];
  else {
    const past = await tx.selectFrom('deployments').select(['version']).where('env', '=', o.env).where('model', '=', name).orderBy('id', 'desc').execute();
    candidates = [...new Set(past.map((p) => p.version))].filter((x) => x !== cur.version);
  }
  for (const ver of candidates) {
    const v = await getVersion(tx, { name, version: ver });
    if (ver === cur.version) { skipped.push({ version: ver, why: 'already deployed' }); continue; }
    const d = await decide(tx, v, o.env, policy, now);
    if (!d.allowed) { skipped.push({ version: ver, why: blockedSummary(d) }); continue; }
    const r = await moveAlias(tx, v, o.env, 'rollback', o.by, now, d, policy, o.reason);
    return { ...r, previousVersion: cur.version, drill: !!o.drill, skipped };
  }
  throw new ModelgateError('NO_ROLLBACK_TARGET', `no earlier version of ${name} passes its gate in ${o.env}${skipped.length ? `: ${skipped.map((s) => `${name}@${s.version}: ${s.why}`).join('; ')}` : ' (none was deployed there before)'}`);
}

/** Re-points env to the previous (or --to) version that still passes its gate; drill rolls it back. */
export async function rollback(store: Store, name: string, o: RollbackOptions): Promise<RollbackResult> {
  if (!o.reason || !o.reason.trim()) throw new ModelgateError('USAGE', 'a rollback needs a reason');
  const policy = o.policy ?? loadPolicy();
  const now = iso(o.now);
  try {
    return await store.transaction(async (tx) => {
      const r = await rollbackIn(tx, name, o, policy, now);
      if (o.drill) throw new DrillDone(r);
      return r;
    });
  } catch (e) {
    if (e instanceof DrillDone) return e.result;
    throw e;
  }
}

export interface RevokeOptions { reason: string; by: string; rollback?: boolean; policy?: Policy; now?: Date | string }
export interface RevokeResult {
  model: string; version: string; rootDigest: string; alreadyRevoked: boolean;
  /** Every environment it ran in when revoked. */
  environments: string[];
  rollbacks: Array<{ env: string; to: string | null; error?: string }>;
}

/** Blocks NAME@VER everywhere (its gate fails from now on); with rollback, rolls back every env it runs in. */
export async function revoke(store: Store, ref: string, o: RevokeOptions): Promise<RevokeResult> {
  if (!o.reason || !o.reason.trim()) throw new ModelgateError('USAGE', 'a revocation needs a reason');
  const policy = o.rollback ? (o.policy ?? loadPolicy()) : (o.policy ?? null);
  const now = iso(o.now);
  return store.transaction(async (tx) => {
    const v = await getVersion(tx, ref);
    const already = v.revokedAt !== null;
    if (!already) await tx.updateTable('versions').set({ revoked_at: now, revoked_by: o.by, revoked_reason: o.reason }).where('model', '=', v.model).where('version', '=', v.version).execute();
    const envs = (await tx.selectFrom('aliases').select('env').where('model', '=', v.model).where('version', '=', v.version).orderBy('env').execute()).map((a) => a.env);
    await appendAudit(tx, { actor: o.by, action: 'revoke', subject: `${v.model}@${v.version}`, at: now, details: { reason: o.reason, rootDigest: v.rootDigest, environments: envs, rollback: !!o.rollback } });
    const rollbacks: RevokeResult['rollbacks'] = [];
    if (o.rollback) {
      for (const env of envs) {
        try {
          const r = await rollbackIn(tx, v.model, { env, by: o.by, reason: `revoked ${v.model}@${v.version}: ${o.reason}` }, policy!, now);
          rollbacks.push({ env, to: r.version });
        } catch (e) {
          if (!(e instanceof ModelgateError) || e.code !== 'NO_ROLLBACK_TARGET') throw e;
          rollbacks.push({ env, to: null, error: e.message });
        }
      }
    }
    return { model: v.model, version: v.version, rootDigest: v.rootDigest, alreadyRevoked: already, environments: envs, rollbacks };
  });
}

// ---- incident questions ---------------------------------------------------------------------------

export interface WhereEntry {
  env: string; model: string; version: string; rootDigest: string; since: string; by: string;
  revoked: boolean;
  /** Files of that version with the queried SHA-256 (file queries only). */
  files?: string[];
  approvals: Array<{ by: string; role: string; at: string; expiresAt: string | null; active: boolean }>;
}

/** Every environment where a version with that root digest (or holding a file with that SHA-256), or NAME[@VER], runs now. */
export async function where(store: Store, query: string, o: { now?: Date | string } = {}): Promise<WhereEntry[]> {
  const db = store.db;
  const now = iso(o.now);
  const hex = query.replace(/^sha256:/i, '').toLowerCase();
  const rows: Array<{ env: string; model: string; version: string; root_digest: string; updated_at: string; updated_by: string; files?: string[] }> = [];
  if (/^[0-9a-f]{64}$/.test(hex)) {
    rows.push(...(await db.selectFrom('aliases').selectAll().where('root_digest', '=', hex).execute()));
    const files = await db.selectFrom('version_files').select(['model', 'version', 'path']).where('sha256', '=', hex).execute();
    const byVersion = new Map<string, string[]>();
    for (const f of files) byVersion.set(`${f.model}\u0000${f.version}`, [...(byVersion.get(`${f.model}\u0000${f.version}`) ?? []), f.path]);
    for (const [k, paths] of byVersion) {
      const [model, version] = k.split('\u0000');
      for (const a of await db.selectFrom('aliases').selectAll().where('model', '=', model).where('version', '=', version).execute()) {
        const seen = rows.find((r) => r.env === a.env && r.model === a.model);
        if (seen) seen.files = paths; else rows.push({ ...a, files: paths });
      }
    }
  } else {
    const r = parseRef(query);
    let q = db.selectFrom('aliases').selectAll().where('model', '=', r.name);
    if (r.version) q = q.where('version', '=', r.version);
    rows.push(...(await q.execute()));
  }
  const out: WhereEntry[] = [];
  for (const a of rows.sort((x, y) => (x.model + '\u0000' + x.env < y.model + '\u0000' + y.env ? -1 : 1))) {
    const approvals = await db.selectFrom('approvals').select(['approved_by', 'role', 'created_at', 'expires_at', 'revoked_at']).where('root_digest', '=', a.root_digest).orderBy('created_at').execute();
    const ver = await db.selectFrom('versions').select('revoked_at').where('model', '=', a.model).where('version', '=', a.version).executeTakeFirst();
    out.push({
      env: a.env, model: a.model, version: a.version, rootDigest: a.root_digest, since: a.updated_at, by: a.updated_by, revoked: !!ver?.revoked_at,
      ...(a.files ? { files: a.files } : {}),
      approvals: approvals.map((p) => ({ by: p.approved_by, role: p.role, at: p.created_at, expiresAt: p.expires_at, active: !p.revoked_at && (!p.expires_at || p.expires_at > now) })),
    });
  }
  return out;
}

export interface HistoryEntry { seq: number; at: string; actor: string; action: string; subject: string; details: unknown }

/** The timeline of a model from the audit log (model-level and every version's entries), oldest first. */
export async function history(store: Store, name: string): Promise<HistoryEntry[]> {
  const rows = await store.db.selectFrom('audit_log').selectAll()
    .where((eb) => eb.or([eb('subject', '=', name), eb.and([eb('subject', '>=', `${name}@`), eb('subject', '<', `${name}A`)])]))
    .orderBy('seq').execute();
  return rows.map((r) => ({ seq: Number(r.seq), at: r.at, actor: r.actor, action: r.action, subject: r.subject, details: JSON.parse(r.details) as unknown }));
}

/** Attaches a ready-made evidence statement to NAME@VER (the subject must be its root digest). */
export async function addEvidence(store: Store, ref: string, kind: EvidenceKind, predicate: object, o: { by: string; now?: Date | string }): Promise<{ id: string; kind: string }> {
  const now = iso(o.now);
  return store.transaction(async (tx) => {
    const v = await getVersion(tx, ref);
    const ev = makeEvidence(kind, v.rootDigest, predicate, { name: v.model, created: now });
    await storeEvidence(tx, ev, o.by);
    await appendAudit(tx, { actor: o.by, action: 'evidence.add', subject: `${v.model}@${v.version}`, at: now, details: { kind, evidence: ev.id } });
    return { id: ev.id, kind };
  });
}

/** Every stored evidence of a version, parsed back (for export). */
export async function evidenceOf(store: Store, ref: string): Promise<Evidence[]> {
  const v = await getVersion(store.db, ref);
  const rows = await store.db.selectFrom('evidence').selectAll().where('root_digest', '=', v.rootDigest).orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => {
    const envelope = JSON.parse(r.envelope);
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    return { id: r.id, kind: r.kind as EvidenceKind, envelope, statement, created: r.created_at };
  });
}
export * from './inventory.ts';
export { intakeSource, type SourceIntakeResult } from './source-intake.ts';
