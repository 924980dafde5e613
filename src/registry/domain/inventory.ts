// Inventory of behaviour-changing artifacts: components (prompts, tool schemas, retrieval indexes,
// eval suites, provider routes, feature flags, datasets) and AI systems that pin a model version and
// components into releases.
//
// Components: a row per (kind, name, content digest). A file's digest is its SHA-256; a folder's is
// its OMS root digest (hashModel). Versions are numbered 1, 2, 3 … per (kind, name) in the order
// their content was first recorded; the same content again is the same version (idempotent).
// Systems: `pinSystem` writes release n+1 (slot "model" plus one slot "KIND:NAME" per component) and
// clears needs-reassessment. When a new version of a component is recorded, every system whose
// current release pins that component (with other content) is marked needs-reassessment (same
// transaction, audited), then the gate of the system's pinned model is re-run for the system's
// environments and each result is recorded (gate evidence + a `system.gate` audit row).
// A system's environments are those where its pinned model version currently runs (aliases); when
// it runs nowhere, every environment the registry knows.
// Audit subjects: "component:KIND/NAME" and "system:NAME".
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { ModelgateError } from '../../scan/model.ts';
import { hashModel } from '../../provenance/hash/index.ts';
import type { Policy } from '../../policy/index.ts';
import type { Store } from '../store/index.ts';
import type { RegistryDB } from '../store/schema.ts';
import { appendAudit } from '../audit/index.ts';
import { gate, parseRef } from './index.ts';

type Db = Kysely<RegistryDB>;

export const COMPONENT_KINDS = ['prompt', 'tool-schema', 'retrieval-index', 'eval-suite', 'provider-route', 'feature-flag', 'dataset'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._\/-]*$/;
const iso = (d?: Date | string) => (d === undefined ? new Date().toISOString() : new Date(d).toISOString());

function checkKind(kind: string): ComponentKind {
  if (!(COMPONENT_KINDS as readonly string[]).includes(kind)) throw new ModelgateError('USAGE', `unknown component kind "${kind}" (expected one of: ${COMPONENT_KINDS.join(', ')})`);
  return kind as ComponentKind;
}
function checkName(what: string, name: string): void {
  if (!name || !NAME_RE.test(name)) throw new ModelgateError('USAGE', `${what} name "${name}" must start with a letter or digit and use only letters, digits, . _ / -`);
}

/** SHA-256 of a file, or the OMS root digest of a folder (lowercase hex, no prefix). */
export async function componentDigest(path: string): Promise<string> {
  if (!existsSync(path)) throw new ModelgateError('NOT_FOUND', `no such file or folder: ${path}`);
  if (statSync(path).isDirectory()) return (await hashModel(path)).rootDigest.replace(/^sha256:/, '');
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface ComponentVersion {
  kind: ComponentKind; name: string; version: number; digest: string; owner: string; path: string | null; createdAt: string; createdBy: string;
}

async function versionsOf(db: Db, kind: string, name: string): Promise<ComponentVersion[]> {
  const rows = await db.selectFrom('components').selectAll().where('kind', '=', kind).where('name', '=', name).orderBy('created_at').orderBy('digest').execute();
  return rows.map((r, i) => ({ kind: r.kind as ComponentKind, name: r.name, version: i + 1, digest: r.digest, owner: r.owner, path: r.path, createdAt: r.created_at, createdBy: r.created_by }));
}

export interface ReassessedSystem { system: string; release: string; previous: { version: number; digest: string } | null; reason: string }
export interface SystemGateRun { system: string; model: string; version: string; env: string; allowed: boolean; evidenceId: string; failed: string[] }
export interface AddComponentOptions { kind: string; name: string; owner: string; by?: string; now?: Date | string; policy?: Policy }
export interface AddComponentResult extends ComponentVersion {
  created: boolean;
  /** Systems marked needs-reassessment by this change. */
  reassessed: ReassessedSystem[];
  /** Gates re-run for those systems. */
  gates: SystemGateRun[];
}

/** Records a component's content; a new digest is a new version and flags the systems pinning the component. */
export async function addComponent(store: Store, path: string, o: AddComponentOptions): Promise<AddComponentResult> {
  const kind = checkKind(o.kind);
  checkName('component', o.name);
  if (!o.owner) throw new ModelgateError('USAGE', 'an owner is required (--owner ID)');
  const digest = await componentDigest(path);
  const now = iso(o.now);
  const by = o.by ?? o.owner;
  const r = await store.transaction(async (tx) => {
    const existing = (await versionsOf(tx, kind, o.name)).find((v) => v.digest === digest);
    if (existing) return { ...existing, created: false, reassessed: [] as ReassessedSystem[] };
    await tx.insertInto('components').values({ kind, name: o.name, digest, owner: o.owner, path: resolve(path), created_at: now, created_by: by }).execute();
    const all = await versionsOf(tx, kind, o.name);
    const mine = all.find((v) => v.digest === digest)!;
    await appendAudit(tx, { actor: by, action: 'component.add', subject: `component:${kind}/${o.name}`, at: now, details: { version: mine.version, digest, owner: o.owner, path: resolve(path) } });
    const reassessed: ReassessedSystem[] = [];
    const pins = await tx.selectFrom('system_pins').select(['system', 'release', 'digest']).where('slot', '=', `${kind}:${o.name}`).execute();
    const current = await currentReleases(tx, [...new Set(pins.map((p) => p.system))]);
    for (const p of pins) {
      if (current.get(p.system) !== p.release || p.digest === digest) continue;
      const prev = all.find((v) => v.digest === p.digest);
      const reason = `${kind} ${o.name} changed: release ${p.release} pins version ${prev?.version ?? '?'} (${p.digest.slice(0, 12)}), now version ${mine.version} (${digest.slice(0, 12)}) recorded at ${now}`;
      const sys = await tx.selectFrom('systems').select(['needs_reassessment', 'reassessment_reason']).where('name', '=', p.system).executeTakeFirstOrThrow();
      const full = sys.needs_reassessment && sys.reassessment_reason ? `${sys.reassessment_reason}; ${reason}` : reason;
      await tx.updateTable('systems').set({ needs_reassessment: 1, reassessment_reason: full }).where('name', '=', p.system).execute();
      await appendAudit(tx, { actor: by, action: 'system.needs-reassessment', subject: `system:${p.system}`, at: now, details: { release: p.release, component: `${kind}:${o.name}`, pinned: p.digest, changed: digest, version: mine.version } });
      reassessed.push({ system: p.system, release: p.release, previous: prev ? { version: prev.version, digest: prev.digest } : null, reason });
    }
    return { ...mine, created: true, reassessed };
  });
  const gates: SystemGateRun[] = [];
  for (const s of r.reassessed) gates.push(...(await regate(store, s.system, { by, now, policy: o.policy })));
  return { ...r, gates };
}

async function currentReleases(db: Db, systems: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (systems.length === 0) return out;
  const rows = await db.selectFrom('system_pins').select(['system', 'release']).where('system', 'in', systems).execute();
  for (const r of rows) if (!out.has(r.system) || Number(r.release) > Number(out.get(r.system))) out.set(r.system, r.release);
  return out;
}

/** Re-runs the gate of the system's pinned model for its environments and records each result. */
export async function regate(store: Store, system: string, o: { by: string; now?: Date | string; policy?: Policy }): Promise<SystemGateRun[]> {
  const s = await showSystem(store, system);
  const model = s.pins.find((p) => p.slot === 'model');
  if (!model || !model.version) return [];
  const envs = await environmentsOf(store.db, model.name, model.version);
  const runs: SystemGateRun[] = [];
  for (const env of envs) {
    const g = await gate(store, `${model.name}@${model.version}`, env, { policy: o.policy, now: o.now, by: o.by });
    const failed = g.decision.requirements.filter((q) => q.status === 'fail' || q.status === 'missing').map((q) => q.id);
    const run = { system, model: model.name, version: model.version, env, allowed: g.decision.allowed, evidenceId: g.evidenceId, failed };
    await store.transaction((tx) => appendAudit(tx, { actor: o.by, action: 'system.gate', subject: `system:${system}`, at: iso(o.now), details: { release: s.release, model: `${model.name}@${model.version}`, env, allowed: run.allowed, evidence: run.evidenceId, failed } }));
    runs.push(run);
  }
  return runs;
}

async function environmentsOf(db: Db, model: string, version: string): Promise<string[]> {
  const running = await db.selectFrom('aliases').select('env').where('model', '=', model).where('version', '=', version).orderBy('env').execute();
  if (running.length) return running.map((r) => r.env);
  return (await db.selectFrom('environments').select('name').orderBy('name').execute()).map((r) => r.name);
}

export async function listComponents(store: Store, o: { kind?: string } = {}): Promise<Array<ComponentVersion & { versions: number }>> {
  let q = store.db.selectFrom('components').select(['kind', 'name']).distinct();
  if (o.kind) q = q.where('kind', '=', checkKind(o.kind));
  const names = await q.orderBy('kind').orderBy('name').execute();
  const out: Array<ComponentVersion & { versions: number }> = [];
  for (const n of names) {
    const vs = await versionsOf(store.db, n.kind, n.name);
    out.push({ ...vs[vs.length - 1], versions: vs.length });
  }
  return out;
}

/** Every version of a component; NAME may be "KIND/NAME" when the name is used by more than one kind. */
export async function showComponent(store: Store, name: string, o: { kind?: string } = {}): Promise<{ kind: ComponentKind; name: string; versions: ComponentVersion[] }> {
  let kind = o.kind;
  let n = name;
  const slash = name.indexOf('/');
  if (!kind && slash > 0 && (COMPONENT_KINDS as readonly string[]).includes(name.slice(0, slash))) { kind = name.slice(0, slash); n = name.slice(slash + 1); }
  let q = store.db.selectFrom('components').select('kind').distinct().where('name', '=', n);
  if (kind) q = q.where('kind', '=', checkKind(kind));
  const kinds = (await q.execute()).map((r) => r.kind);
  if (kinds.length === 0) throw new ModelgateError('NOT_FOUND', `no component "${name}" in the registry`);
  if (kinds.length > 1) throw new ModelgateError('USAGE', `"${n}" names components of several kinds (${kinds.join(', ')}): say KIND/NAME`);
  return { kind: kinds[0] as ComponentKind, name: n, versions: await versionsOf(store.db, kinds[0], n) };
}

// ---- systems ------------------------------------------------------------------------------------

export interface PinSpec { kind: ComponentKind; ref: string }
export interface PinSystemOptions { model: string; components?: PinSpec[]; by: string; owner?: string; now?: Date | string }
export interface SystemPin { slot: string; kind: string; name: string; version: string | null; digest: string; pinnedAt: string; pinnedBy: string }
export interface SystemInfo {
  name: string; owner: string; createdAt: string; release: string | null;
  status: 'ok' | 'needs-reassessment'; reason: string | null;
  pins: SystemPin[];
  /** Gates re-run since the current release was pinned (most recent last). */
  gates: Array<{ at: string; model: string; env: string; allowed: boolean; evidence: string; failed: string[] }>;
}

async function resolveComponent(db: Db, kind: ComponentKind, ref: string): Promise<ComponentVersion> {
  const r = parseRef(ref);
  if (!r.version) throw new ModelgateError('USAGE', `pin a ${kind} as NAME@VERSION (a version number or a digest prefix), not "${ref}"`);
  const vs = await versionsOf(db, kind, r.name);
  if (vs.length === 0) throw new ModelgateError('NOT_FOUND', `no ${kind} "${r.name}" in the registry (record it with: modelgate component add --kind ${kind})`);
  const want = r.version.replace(/^sha256:/, '').toLowerCase();
  const hit = /^\d+$/.test(want) ? vs.filter((v) => v.version === Number(want)) : want.length >= 7 ? vs.filter((v) => v.digest.startsWith(want)) : [];
  if (hit.length !== 1) throw new ModelgateError('NOT_FOUND', `no single version "${r.version}" of ${kind} ${r.name} (versions 1–${vs.length})`);
  return hit[0];
}

/** Pins release n+1 of a system (model + components); clears needs-reassessment. */
export async function pinSystem(store: Store, name: string, o: PinSystemOptions): Promise<SystemInfo & { created: boolean }> {
  checkName('system', name);
  if (!o.by) throw new ModelgateError('USAGE', 'who pins is required (--by ID)');
  const now = iso(o.now);
  const m = parseRef(o.model);
  if (!m.version) throw new ModelgateError('USAGE', `pin the model as NAME@VERSION, not "${o.model}"`);
  let created = false;
  await store.transaction(async (tx) => {
    const ver = await tx.selectFrom('versions').select(['root_digest', 'revoked_at']).where('model', '=', m.name).where('version', '=', m.version!).executeTakeFirst();
    if (!ver) throw new ModelgateError('NOT_FOUND', `no version ${m.name}@${m.version} in the registry`);
    if (ver.revoked_at) throw new ModelgateError('REVOKED', `${m.name}@${m.version} is revoked and cannot be pinned`);
    const slots = new Map<string, { kind: string; name: string; version: string | null; digest: string }>();
    slots.set('model', { kind: 'model', name: m.name, version: m.version, digest: ver.root_digest });
    for (const c of o.components ?? []) {
      const kind = checkKind(c.kind);
      const v = await resolveComponent(tx, kind, c.ref);
      const slot = `${kind}:${v.name}`;
      if (slots.has(slot)) throw new ModelgateError('USAGE', `${kind} ${v.name} is pinned twice`);
      slots.set(slot, { kind, name: v.name, version: String(v.version), digest: v.digest });
    }
    const sys = await tx.selectFrom('systems').selectAll().where('name', '=', name).executeTakeFirst();
    if (!sys) {
      await tx.insertInto('systems').values({ name, owner: o.owner ?? o.by, created_at: now, needs_reassessment: 0, reassessment_reason: null }).execute();
      await appendAudit(tx, { actor: o.by, action: 'system.create', subject: `system:${name}`, at: now, details: { owner: o.owner ?? o.by } });
    }
    const rel = (await currentReleases(tx, [name])).get(name) ?? null;
    if (rel !== null && !sys?.needs_reassessment) {
      const cur = await tx.selectFrom('system_pins').select(['slot', 'digest']).where('system', '=', name).where('release', '=', rel).execute();
      const same = cur.length === slots.size && cur.every((p) => slots.get(p.slot)?.digest === p.digest);
      if (same) return; // the same release again: idempotent
    }
    created = true;
    const release = String(rel === null ? 1 : Number(rel) + 1);
    await tx.insertInto('system_pins').values([...slots].map(([slot, p]) => ({ system: name, release, slot, kind: p.kind, name: p.name, version: p.version, digest: p.digest, pinned_at: now, pinned_by: o.by }))).execute();
    await tx.updateTable('systems').set({ needs_reassessment: 0, reassessment_reason: null }).where('name', '=', name).execute();
    await appendAudit(tx, {
      actor: o.by, action: 'system.pin', subject: `system:${name}`, at: now,
      details: { release, cleared: sys?.needs_reassessment ? sys.reassessment_reason : null, pins: Object.fromEntries([...slots].map(([slot, p]) => [slot, { version: p.version, digest: p.digest }])) },
    });
  });
  return { ...(await showSystem(store, name)), created };
}

export async function showSystem(store: Store, name: string): Promise<SystemInfo> {
  const db = store.db;
  const sys = await db.selectFrom('systems').selectAll().where('name', '=', name).executeTakeFirst();
  if (!sys) throw new ModelgateError('NOT_FOUND', `no AI system "${name}" in the registry`);
  const release = (await currentReleases(db, [name])).get(name) ?? null;
  const pins = release === null ? [] : await db.selectFrom('system_pins').selectAll().where('system', '=', name).where('release', '=', release).orderBy('slot').execute();
  const audit = await db.selectFrom('audit_log').select(['seq', 'at', 'action', 'details']).where('subject', '=', `system:${name}`).where('action', 'in', ['system.pin', 'system.gate']).orderBy('seq').execute();
  const gates: SystemInfo['gates'] = [];
  for (const a of audit) {
    const d = JSON.parse(a.details) as { model: string; env: string; allowed: boolean; evidence: string; failed: string[] };
    if (a.action === 'system.pin') gates.length = 0;
    else gates.push({ at: a.at, model: d.model, env: d.env, allowed: d.allowed, evidence: d.evidence, failed: d.failed });
  }
  return {
    name, owner: sys.owner, createdAt: sys.created_at, release,
    status: sys.needs_reassessment ? 'needs-reassessment' : 'ok', reason: sys.reassessment_reason,
    pins: pins.sort((a, b) => (a.slot === 'model' ? -1 : b.slot === 'model' ? 1 : a.slot < b.slot ? -1 : 1))
      .map((p) => ({ slot: p.slot, kind: p.kind, name: p.name, version: p.version, digest: p.digest, pinnedAt: p.pinned_at, pinnedBy: p.pinned_by })),
    gates,
  };
}

export async function listSystems(store: Store): Promise<Array<{ name: string; owner: string; release: string | null; status: SystemInfo['status']; model: string | null }>> {
  const rows = await store.db.selectFrom('systems').selectAll().orderBy('name').execute();
  const rel = await currentReleases(store.db, rows.map((r) => r.name));
  const models = rows.length ? await store.db.selectFrom('system_pins').select(['system', 'release', 'name', 'version']).where('slot', '=', 'model').execute() : [];
  return rows.map((r) => {
    const m = models.find((p) => p.system === r.name && p.release === rel.get(r.name));
    return { name: r.name, owner: r.owner, release: rel.get(r.name) ?? null, status: r.needs_reassessment ? 'needs-reassessment' as const : 'ok' as const, model: m ? `${m.name}@${m.version}` : null };
  });
}
