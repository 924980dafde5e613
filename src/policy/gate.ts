// The release gate: a pure function of a policy cell and the facts the registry holds about one model
// version. No I/O; every requirement of the cell is reported as pass, fail, missing or waived, with why.
import { ModelgateError, severityRank, type Severity } from '../scan/index.ts';
import { formatSpan } from './duration.ts';
import { TIERS, type CellRequirements, type GateDecision, type GateFacts, type Policy, type RequirementResult, type Tier, type Timestamp } from './types.ts';

export interface GateOptions {
  tier: Tier;
  env: string;
  /** The moment of the decision (default: now). The only input besides the policy and the facts. */
  now?: Timestamp;
}

/** The cell of a policy for a tier and environment; throws on an unknown tier or environment. */
export function requirementsFor(policy: Policy, tier: string, env: string): CellRequirements {
  if (!(TIERS as readonly string[]).includes(tier)) throw new ModelgateError('POLICY_UNKNOWN_TIER', `unknown risk tier "${tier}" (expected one of: ${TIERS.join(', ')})`);
  const cell = policy.cells[tier as Tier][env];
  if (!cell) throw new ModelgateError('POLICY_UNKNOWN_ENV', `unknown environment "${env}" in ${policy.source} (expected one of: ${policy.environments.join(', ')})`);
  return cell;
}

export function evaluateGate(policy: Policy, facts: GateFacts, opts: GateOptions): GateDecision {
  const cell = requirementsFor(policy, opts.tier, opts.env);
  const now = opts.now === undefined ? Date.now() : toMs(opts.now);
  if (Number.isNaN(now)) throw new ModelgateError('USAGE', `cannot read the decision time "${String(opts.now)}"`);
  const ctx: Ctx = { cell, facts, now };
  const out: RequirementResult[] = [];
  if (cell.scan) {
    out.push(scanSeverity(ctx));
    if (cell.scan.allowedFormats) out.push(waivable(ctx, scanFormats(ctx)));
    if (!cell.scan.remoteCode) out.push(waivable(ctx, scanRemoteCode(ctx)));
  }
  if (cell.license) out.push(waivable(ctx, license(ctx)));
  if (cell.signature?.required) out.push(waivable(ctx, signature(ctx)));
  for (const e of cell.evals) out.push(waivable(ctx, evalSuite(ctx, e.suite, e.minPassRate, e.digest)));
  if (cell.vulnerabilities && (cell.vulnerabilities.maxCritical !== null || cell.vulnerabilities.maxHigh !== null)) out.push(waivable(ctx, vulnerabilities(ctx)));
  if (cell.approvals && (cell.approvals.quorum > 0 || cell.approvals.roles.length > 0)) out.push(approvals(ctx));
  return {
    allowed: out.every((r) => r.status === 'pass' || r.status === 'waived'),
    tier: opts.tier,
    env: opts.env,
    rootDigest: facts.rootDigest,
    at: new Date(now).toISOString(),
    requirements: out,
  };
}

interface Ctx {
  cell: CellRequirements;
  facts: GateFacts;
  now: number;
}

function toMs(t: Timestamp): number {
  return t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
}

function iso(ms: number): string {
  return Number.isNaN(ms) ? 'an unreadable time' : new Date(ms).toISOString();
}

/** Why evidence recorded at `at` cannot be used now (unreadable, in the future, or stale), or null. */
function tooOld(ctx: Ctx, what: string, at: Timestamp): string | null {
  const ms = toMs(at);
  if (Number.isNaN(ms)) return `${what} has an unreadable time (${String(at)})`;
  if (ms > ctx.now + 5 * 60_000) return `${what} is dated in the future (${iso(ms)})`;
  const max = ctx.cell.maxEvidenceAgeMs;
  if (max !== null && ctx.now - ms > max) return `${what} is stale: recorded ${formatSpan(ctx.now - ms)} ago (${iso(ms)}), policy allows ${ctx.cell.maxEvidenceAge}; re-run it`;
  return null;
}

// ---- waivers ------------------------------------------------------------------------------------

type Waiver = NonNullable<GateFacts['waivers']>[number];

/** The valid waiver for a requirement id, or the reason the candidates do not count. */
function findWaiver(ctx: Ctx, id: string): { waiver: Waiver | null; rejected: string[] } {
  const policy = ctx.cell.waivers;
  const rejected: string[] = [];
  for (const w of ctx.facts.waivers ?? []) {
    if (w.requirementId !== id) continue;
    const why = waiverProblem(ctx, w, policy);
    if (why === null) return { waiver: w, rejected };
    rejected.push(`waiver by ${w.grantedBy} ${why}`);
  }
  return { waiver: null, rejected };
}

function waiverProblem(ctx: Ctx, w: Waiver, policy: CellRequirements['waivers']): string | null {
  if (!policy) return 'does not count: this tier and environment accept no waivers';
  if (w.rootDigest !== ctx.facts.rootDigest) return `was granted for another model digest (${w.rootDigest})`;
  const exp = toMs(w.expiresAt);
  if (Number.isNaN(exp)) return 'has an unreadable expiry';
  if (exp <= ctx.now) return `expired at ${iso(exp)}`;
  const from = w.at === undefined || w.at === null ? ctx.now : toMs(w.at);
  if (!Number.isNaN(from) && exp - from > policy.maxDurationMs) return `runs ${formatSpan(exp - from)}, longer than the ${policy.maxDuration} the policy allows`;
  if (policy.grantors.length > 0 && (!w.role || !policy.grantors.includes(w.role))) return `was granted by role ${w.role ?? '(none)'}; only ${policy.grantors.join(', ')} may grant waivers`;
  if (!w.reason || !w.reason.trim()) return 'gives no reason';
  return null;
}

function waivableId(ctx: Ctx, id: string): boolean {
  const list = ctx.cell.waivers?.requirements ?? [];
  return list.some((p) => p === id || (p.endsWith('*') && id.startsWith(p.slice(0, -1))));
}

/** Turns a fail or missing result into waived when a valid waiver covers it. */
function waivable(ctx: Ctx, r: RequirementResult): RequirementResult {
  if (r.status === 'pass' || r.status === 'waived') return r;
  const hasCandidate = (ctx.facts.waivers ?? []).some((w) => w.requirementId === r.id);
  if (!hasCandidate) return r;
  if (!ctx.cell.waivers) return { ...r, reason: `${r.reason} (a waiver exists, but this tier and environment accept no waivers)` };
  if (!waivableId(ctx, r.id)) return { ...r, reason: `${r.reason} (a waiver exists, but the policy does not let ${r.id} be waived here)` };
  const { waiver, rejected } = findWaiver(ctx, r.id);
  if (!waiver) return { ...r, reason: `${r.reason} (${rejected.join('; ')})` };
  return {
    id: r.id,
    status: 'waived',
    reason: `waived by ${waiver.grantedBy} until ${iso(toMs(waiver.expiresAt))}: ${waiver.reason} (otherwise: ${r.reason})`,
    evidence: { ...r.evidence, waiver: { grantedBy: waiver.grantedBy, expiresAt: iso(toMs(waiver.expiresAt)), reason: waiver.reason } },
  };
}

// ---- requirements -------------------------------------------------------------------------------

function scanSeverity(ctx: Ctx): RequirementResult {
  const id = 'scan.severity';
  const policy = ctx.cell.scan!;
  const s = ctx.facts.scan;
  if (!s) return { id, status: 'missing', reason: `no scan evidence; run the scan (findings above ${policy.maxSeverity} fail)` };
  const old = tooOld(ctx, 'the scan', s.at);
  const evidence = { maxSeverity: s.maxSeverity, at: iso(toMs(s.at)) };
  if (old) return { id, status: 'fail', reason: old, evidence };
  if ((s.errors ?? 0) > 0) return { id, status: 'fail', reason: `${s.errors} file(s) could not be fully scanned (fail closed)`, evidence };
  const limit = severityRank(policy.maxSeverity);
  const offending = Object.entries(s.findingsByRule)
    .filter(([, f]) => severityRank(f.severity) > limit)
    .sort((a, b) => severityRank(b[1].severity) - severityRank(a[1].severity) || a[0].localeCompare(b[0]));
  if (offending.length === 0) {
    if (s.maxSeverity && severityRank(s.maxSeverity) > limit) return { id, status: 'fail', reason: `max severity ${s.maxSeverity} is above ${policy.maxSeverity} (the scan evidence names no rules)`, evidence };
    return { id, status: 'pass', reason: `max severity ${s.maxSeverity ?? 'none'} is within ${policy.maxSeverity}`, evidence };
  }
  const open: string[] = [];
  const waived: string[] = [];
  for (const [rule, f] of offending) {
    const label = `${rule} (${f.severity}${f.count > 1 ? ` ×${f.count}` : ''})`;
    const wid = `${id}:${rule}`;
    const candidates = (ctx.facts.waivers ?? []).some((w) => w.requirementId === wid);
    if (!candidates) {
      open.push(label);
      continue;
    }
    if (!policy.waivableRules.includes(rule)) {
      open.push(`${label} [waiver ignored: ${rule} is not in scan.waivableRules here]`);
      continue;
    }
    const { waiver, rejected } = findWaiver(ctx, wid);
    if (waiver) waived.push(`${label} by ${waiver.grantedBy} until ${iso(toMs(waiver.expiresAt))}`);
    else open.push(`${label} [${rejected.join('; ')}]`);
  }
  const ev = { ...evidence, above: offending.map(([r]) => r) };
  if (open.length > 0) return { id, status: 'fail', reason: `findings above ${policy.maxSeverity}: ${open.join(', ')}${waived.length ? `; waived: ${waived.join(', ')}` : ''}`, evidence: ev };
  return { id, status: 'waived', reason: `every finding above ${policy.maxSeverity} is waived: ${waived.join(', ')}`, evidence: ev };
}

function scanFormats(ctx: Ctx): RequirementResult {
  const id = 'scan.formats';
  const allowed = ctx.cell.scan!.allowedFormats!;
  const s = ctx.facts.scan;
  if (!s) return { id, status: 'missing', reason: `no scan evidence, so the model formats are unknown (allowed: ${allowed.join(', ')})` };
  const evidence = { modelFormats: s.modelFormats, allowed };
  const old = tooOld(ctx, 'the scan', s.at);
  if (old) return { id, status: 'fail', reason: old, evidence };
  if (s.modelFormats.length === 0) return { id, status: 'fail', reason: `the scan identified no model format (allowed: ${allowed.join(', ')})`, evidence };
  const bad = s.modelFormats.filter((f) => !allowed.includes(f));
  if (bad.length > 0) return { id, status: 'fail', reason: `format${bad.length > 1 ? 's' : ''} ${bad.join(', ')} not allowed (allowed: ${allowed.join(', ')})`, evidence };
  return { id, status: 'pass', reason: `formats ${s.modelFormats.join(', ')} are allowed`, evidence };
}

function scanRemoteCode(ctx: Ctx): RequirementResult {
  const id = 'scan.remote-code';
  const s = ctx.facts.scan;
  if (!s) return { id, status: 'missing', reason: 'no scan evidence, so remote code (trust_remote_code) is unknown' };
  const rules = Object.keys(s.findingsByRule).filter((r) => r.startsWith('MG-RC-')).sort();
  const evidence = { remoteCode: s.remoteCode || rules.length > 0, rules };
  const old = tooOld(ctx, 'the scan', s.at);
  if (old) return { id, status: 'fail', reason: old, evidence };
  if (s.remoteCode || rules.length > 0) return { id, status: 'fail', reason: `the model needs trust_remote_code${rules.length ? ` (${rules.join(', ')})` : ''}, which is not allowed here`, evidence };
  return { id, status: 'pass', reason: 'no remote code (no auto_map / trust_remote_code)', evidence };
}

function license(ctx: Ctx): RequirementResult {
  const id = 'license';
  const allowed = ctx.cell.license!.allowed;
  const l = ctx.facts.license;
  if (!l) return { id, status: 'missing', reason: `no license review; run \`modelgate license\` (allowed decisions: ${allowed.join(', ')})` };
  const evidence = { decision: l.decision, expression: l.expression ?? null, at: iso(toMs(l.at)) };
  const old = tooOld(ctx, 'the license review', l.at);
  if (old) return { id, status: 'fail', reason: old, evidence };
  if (!allowed.includes(l.decision)) return { id, status: 'fail', reason: `license decision is ${l.decision}${l.expression ? ` (${l.expression})` : ''}; allowed here: ${allowed.join(', ')}`, evidence };
  return { id, status: 'pass', reason: `license decision ${l.decision}${l.expression ? ` (${l.expression})` : ''}`, evidence };
}

/** Exact match, or a `*` wildcard standing for any run of characters. */
function matchesPattern(value: string, pattern: string): boolean {
  if (!pattern.includes('*')) return value === pattern;
  const parts = pattern.split('*');
  if (!value.startsWith(parts[0])) return false;
  let pos = parts[0].length;
  for (let i = 1; i < parts.length - 1; i++) {
    const j = value.indexOf(parts[i], pos);
    if (j < 0) return false;
    pos = j + parts[i].length;
  }
  const last = parts[parts.length - 1];
  return value.length - last.length >= pos && value.endsWith(last);
}

function signature(ctx: Ctx): RequirementResult {
  const id = 'signature';
  const p = ctx.cell.signature!;
  const sig = ctx.facts.signature;
  if (!sig) return { id, status: 'missing', reason: 'no signature verification; sign the model and run `modelgate verify`' };
  const evidence = { verified: sig.verified, identity: sig.identity ?? null, keyId: sig.keyId ?? null, at: iso(toMs(sig.at)) };
  const old = tooOld(ctx, 'the signature verification', sig.at);
  if (old) return { id, status: 'fail', reason: old, evidence };
  if (!sig.verified) return { id, status: 'fail', reason: 'the signature did not verify against this root digest', evidence };
  const trusted = p.identities.length + p.keys.length === 0;
  const idOk = sig.identity ? p.identities.some((i) => matchesPattern(sig.identity!, i)) : false;
  const keyOk = sig.keyId ? p.keys.includes(sig.keyId) : false;
  if (!trusted && !idOk && !keyOk) {
    const who = [sig.identity && `identity ${sig.identity}`, sig.keyId && `key ${sig.keyId}`].filter(Boolean).join(', ') || 'an unnamed signer';
    return { id, status: 'fail', reason: `signed by ${who}, which is not trusted here (trusted: ${[...p.identities, ...p.keys].join(', ')})`, evidence };
  }
  return { id, status: 'pass', reason: `signature verified${sig.identity ? ` (${sig.identity})` : sig.keyId ? ` (key ${sig.keyId})` : ''}`, evidence };
}

function evalSuite(ctx: Ctx, suite: string, min: number, digest: string | undefined): RequirementResult {
  const id = `eval:${suite}`;
  const runs = (ctx.facts.evals ?? []).filter((e) => e.suite === suite);
  const pinned = digest ? runs.filter((e) => e.digest === digest) : runs;
  const pct = (x: number) => `${(x * 100).toFixed(1).replace(/\.0$/, '')}%`;
  if (pinned.length === 0) {
    const extra = digest && runs.length > 0 ? ` (${runs.length} run(s) of other suite versions; policy pins ${digest})` : '';
    return { id, status: 'missing', reason: `no run of eval suite "${suite}"${extra}; needs a pass rate of at least ${pct(min)}` };
  }
  let latest = pinned[0];
  for (const r of pinned) if (toMs(r.at) > toMs(latest.at)) latest = r;
  const evidence = { suite, digest: latest.digest ?? null, passRate: latest.passRate, minPassRate: min, at: iso(toMs(latest.at)) };
  const old = tooOld(ctx, `the latest "${suite}" eval run`, latest.at);
  if (old) return { id, status: 'fail', reason: old, evidence };
  if (!(latest.passRate >= min)) return { id, status: 'fail', reason: `"${suite}" pass rate ${pct(latest.passRate)} is below ${pct(min)}`, evidence };
  return { id, status: 'pass', reason: `"${suite}" pass rate ${pct(latest.passRate)} (at least ${pct(min)})`, evidence };
}

function vulnerabilities(ctx: Ctx): RequirementResult {
  const id = 'vulnerabilities';
  const p = ctx.cell.vulnerabilities!;
  const limits = [p.maxCritical !== null && `critical ≤ ${p.maxCritical}`, p.maxHigh !== null && `high ≤ ${p.maxHigh}`].filter(Boolean).join(', ');
  const v = ctx.facts.vulnerabilities;
  if (!v) return { id, status: 'missing', reason: `no container/dependency vulnerability report (Trivy or Grype JSON via \`modelgate evidence add\`); needs ${limits}` };
  const evidence = { critical: v.critical, high: v.high, at: iso(toMs(v.at)) };
  const old = tooOld(ctx, 'the vulnerability report', v.at);
  if (old) return { id, status: 'fail', reason: old, evidence };
  const over: string[] = [];
  if (p.maxCritical !== null && v.critical > p.maxCritical) over.push(`${v.critical} critical (max ${p.maxCritical})`);
  if (p.maxHigh !== null && v.high > p.maxHigh) over.push(`${v.high} high (max ${p.maxHigh})`);
  if (over.length > 0) return { id, status: 'fail', reason: `too many vulnerabilities: ${over.join(', ')}`, evidence };
  return { id, status: 'pass', reason: `${v.critical} critical, ${v.high} high (${limits})`, evidence };
}

function approvals(ctx: Ctx): RequirementResult {
  const id = 'approvals';
  const p = ctx.cell.approvals!;
  const need = `${p.quorum} approval${p.quorum === 1 ? '' : 's'}${p.roles.length ? ` incl. ${p.roles.join(', ')}` : ''}`;
  const all = ctx.facts.approvals ?? [];
  if (all.length === 0) return { id, status: 'missing', reason: `no approvals; needs ${need}` };
  const ignored: string[] = [];
  // One person counts once; their roles are what they approved as.
  const rolesBy = new Map<string, Set<string>>();
  for (const a of all) {
    if (a.rootDigest !== ctx.facts.rootDigest) {
      ignored.push(`${a.by} approved another digest`);
      continue;
    }
    const exp = a.expiresAt === undefined || a.expiresAt === null ? Infinity : toMs(a.expiresAt);
    if (Number.isNaN(exp) || exp <= ctx.now) {
      ignored.push(`${a.by}'s approval expired${Number.isNaN(exp) ? '' : ` at ${iso(exp)}`}`);
      continue;
    }
    const at = toMs(a.at);
    if (Number.isNaN(at) || at > ctx.now + 5 * 60_000) {
      ignored.push(`${a.by}'s approval has an unusable time`);
      continue;
    }
    let set = rolesBy.get(a.by);
    if (!set) rolesBy.set(a.by, (set = new Set()));
    set.add(a.role);
  }
  const people = [...rolesBy.keys()].sort();
  const assigned = assignRoles(p.roles, rolesBy);
  const missingRoles = p.roles.filter((_, i) => assigned[i] === null);
  const evidence = { approvers: people.map((by) => ({ by, roles: [...rolesBy.get(by)!].sort() })), ignored };
  const problems: string[] = [];
  if (people.length < p.quorum) problems.push(`${people.length} of ${p.quorum} approvals`);
  if (missingRoles.length > 0) problems.push(`no distinct approver with role ${missingRoles.join(', ')}`);
  const tail = ignored.length ? `; not counted: ${ignored.join(', ')}` : '';
  if (problems.length > 0) return { id, status: people.length === 0 ? 'missing' : 'fail', reason: `${problems.join('; ')} (needs ${need})${tail}`, evidence };
  const roleText = p.roles.length ? ` (${p.roles.map((r, i) => `${r}: ${assigned[i]}`).join(', ')})` : '';
  return { id, status: 'pass', reason: `${people.length} approval${people.length === 1 ? '' : 's'} by ${people.join(', ')}${roleText}${tail}`, evidence };
}

/** Each required role gets a distinct approver who approved in that role (bipartite matching). */
function assignRoles(roles: string[], rolesBy: Map<string, Set<string>>): Array<string | null> {
  const holder = new Map<string, number>(); // person → index of the role slot they fill
  const tryAssign = (slot: number, seen: Set<string>): boolean => {
    for (const [person, rs] of rolesBy) {
      if (!rs.has(roles[slot]) || seen.has(person)) continue;
      seen.add(person);
      const other = holder.get(person);
      if (other === undefined || tryAssign(other, seen)) {
        holder.set(person, slot);
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < roles.length; i++) tryAssign(i, new Set());
  const out: Array<string | null> = roles.map(() => null);
  for (const [person, slot] of holder) out[slot] = person;
  return out;
}
