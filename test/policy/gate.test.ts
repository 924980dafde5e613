// evaluateGate: every requirement kind as pass, fail, missing, stale and waived; approvals and waivers
// bound to the digest and to time; production stricter than staging; microseconds per decision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPolicy, evaluateGate, parsePolicy, type GateDecision, type GateFacts, type RequirementResult } from '../../src/policy/index.ts';

const POLICY = defaultPolicy();
const D = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const NOW = Date.parse('2026-11-29T12:00:00Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW - days * DAY).toISOString();
const inDays = (days: number) => new Date(NOW + days * DAY).toISOString();

/** Facts that pass every requirement of high × production in the default policy. */
function good(): GateFacts {
  return {
    rootDigest: D,
    scan: { maxSeverity: 'low', findingsByRule: { 'MG-FMT-002': { severity: 'low', count: 1 } }, modelFormats: ['safetensors'], remoteCode: false, errors: 0, at: ago(1) },
    license: { decision: 'approved', expression: 'Apache-2.0', at: ago(1) },
    signature: { verified: true, identity: 'release@example.com', at: ago(1) },
    evals: [{ suite: 'harmful-refusal', digest: `sha256:${'c'.repeat(64)}`, passRate: 0.97, at: ago(2) }],
    vulnerabilities: { critical: 0, high: 0, at: ago(1) },
    approvals: [
      { by: 'alice', role: 'security', at: ago(1), expiresAt: inDays(30), rootDigest: D },
      { by: 'bob', role: 'ml-lead', at: ago(1), expiresAt: inDays(30), rootDigest: D },
    ],
    waivers: [],
  };
}

function gate(facts: GateFacts, tier: 'low' | 'medium' | 'high' | 'critical' = 'high', env = 'production', policy = POLICY): GateDecision {
  return evaluateGate(policy, facts, { tier, env, now: NOW });
}

function req(d: GateDecision, id: string): RequirementResult {
  const r = d.requirements.find((x) => x.id === id);
  assert.ok(r, `no requirement ${id} in ${d.requirements.map((x) => x.id).join(', ')}`);
  return r;
}

const waiver = (requirementId: string, over: Partial<NonNullable<GateFacts['waivers']>[number]> = {}) => ({
  requirementId, grantedBy: 'sam', role: 'security', reason: 'vendor fix due next week', at: ago(1), expiresAt: inDays(5), rootDigest: D, ...over,
});

test('all evidence present and good: allowed, every requirement reported as pass', () => {
  const d = gate(good());
  assert.equal(d.allowed, true, JSON.stringify(d.requirements, null, 2));
  assert.deepEqual(d.requirements.map((r) => r.id), ['scan.severity', 'scan.formats', 'scan.remote-code', 'license', 'signature', 'eval:harmful-refusal', 'vulnerabilities', 'approvals']);
  assert.ok(d.requirements.every((r) => r.status === 'pass' && r.reason.length > 0));
  assert.equal(d.tier, 'high');
  assert.equal(d.env, 'production');
  assert.equal(d.rootDigest, D);
  assert.equal(d.at, '2026-11-29T12:00:00.000Z');
  assert.match(req(d, 'approvals').reason, /security: alice, ml-lead: bob/);
});

test('no evidence at all: every requirement missing, the gate fails closed', () => {
  const d = gate({ rootDigest: D });
  assert.equal(d.allowed, false);
  assert.equal(d.requirements.length, 8);
  for (const r of d.requirements) assert.equal(r.status, 'missing', `${r.id}: ${r.reason}`);
  assert.match(req(d, 'vulnerabilities').reason, /Trivy or Grype/);
});

test('scan severity: a finding above the limit fails and is named; unscanned files fail closed', () => {
  const f = good();
  f.scan!.findingsByRule['MG-PKL-001'] = { severity: 'critical', count: 2 };
  f.scan!.maxSeverity = 'critical';
  const r = req(gate(f), 'scan.severity');
  assert.equal(r.status, 'fail');
  assert.match(r.reason, /findings above low: MG-PKL-001 \(critical ×2\)/);
  const g = good();
  g.scan!.errors = 1;
  assert.match(req(gate(g), 'scan.severity').reason, /1 file\(s\) could not be fully scanned/);
  const h = good();
  h.scan = { ...h.scan!, maxSeverity: 'high', findingsByRule: {} };
  assert.equal(req(gate(h), 'scan.severity').status, 'fail', 'a max severity without a rule breakdown still fails');
});

test('stale evidence fails in production (14d) and passes in staging (30d)', () => {
  const f = good();
  f.scan!.at = ago(20);
  f.license!.at = ago(20);
  const prod = gate(f);
  assert.equal(req(prod, 'scan.severity').status, 'fail');
  assert.match(req(prod, 'scan.severity').reason, /stale: recorded 20d ago .* policy allows 14d/);
  assert.equal(req(prod, 'license').status, 'fail');
  const f2 = good();
  f2.scan!.at = ago(20);
  f2.license!.at = ago(20);
  f2.evals![0].passRate = 0.95;
  const staging = gate(f2, 'high', 'staging');
  assert.equal(req(staging, 'scan.severity').status, 'pass');
  assert.equal(req(staging, 'license').status, 'pass');
  const future = good();
  future.vulnerabilities!.at = inDays(2);
  assert.match(req(gate(future), 'vulnerabilities').reason, /dated in the future/);
});

test('remote code: MG-RC findings fail where not allowed; a waiver per rule and per requirement accepts them', () => {
  const f = good();
  f.scan!.findingsByRule['MG-RC-001'] = { severity: 'medium', count: 1 };
  f.scan!.remoteCode = true;
  const d = gate(f);
  assert.equal(req(d, 'scan.remote-code').status, 'fail');
  assert.match(req(d, 'scan.remote-code').reason, /trust_remote_code \(MG-RC-001\)/);
  assert.match(req(d, 'scan.severity').reason, /MG-RC-001 \(medium\)/);
  f.waivers = [waiver('scan.severity:MG-RC-001'), waiver('scan.remote-code')];
  const w = gate(f);
  assert.equal(req(w, 'scan.severity').status, 'waived');
  assert.equal(req(w, 'scan.remote-code').status, 'waived');
  assert.match(req(w, 'scan.remote-code').reason, /^waived by sam until .*: vendor fix due next week \(otherwise: /);
  assert.equal(w.allowed, true);
  // low × dev allows remote code: no remote-code requirement at all
  assert.ok(!gate(f, 'low', 'dev').requirements.some((r) => r.id === 'scan.remote-code'));
});

test('waivers: expired, another digest, too long, wrong grantor, not waivable, or no waivers in the cell do not count', () => {
  const base = () => {
    const f = good();
    f.vulnerabilities = { critical: 1, high: 0, at: ago(1) };
    return f;
  };
  const cases: Array<[Partial<ReturnType<typeof waiver>>, RegExp]> = [
    [{ expiresAt: ago(1) }, /expired at 2026-11-28/],
    [{ rootDigest: OTHER }, /was granted for another model digest/],
    [{ at: ago(1), expiresAt: inDays(10) }, /runs 11d, longer than the 7d the policy allows/],
    [{ role: 'ml-lead' }, /granted by role ml-lead; only security may grant waivers/],
    [{ reason: ' ' }, /gives no reason/],
  ];
  for (const [over, why] of cases) {
    const f = base();
    f.waivers = [waiver('vulnerabilities', over)];
    const r = req(gate(f), 'vulnerabilities');
    assert.equal(r.status, 'fail', JSON.stringify(over));
    assert.match(r.reason, why);
  }
  const ok = base();
  ok.waivers = [waiver('vulnerabilities')];
  assert.equal(req(gate(ok), 'vulnerabilities').status, 'waived');
  // a waiver is bound to one requirement
  const other = base();
  other.waivers = [waiver('license')];
  assert.equal(req(gate(other), 'vulnerabilities').status, 'fail');
  // a rule that is not waivable here
  const pkl = good();
  pkl.scan!.findingsByRule['MG-PKL-001'] = { severity: 'critical', count: 1 };
  pkl.waivers = [waiver('scan.severity:MG-PKL-001')];
  assert.match(req(gate(pkl), 'scan.severity').reason, /waiver ignored: MG-PKL-001 is not in scan.waivableRules/);
  // a requirement the cell does not let be waived (license is not in waivers.requirements)
  const lic = good();
  lic.license!.decision = 'review';
  lic.waivers = [waiver('license')];
  assert.match(req(gate(lic), 'license').reason, /the policy does not let license be waived here/);
  // critical × production accepts no waivers
  const crit = base();
  crit.waivers = [waiver('vulnerabilities', { expiresAt: inDays(1) })];
  assert.match(req(gate(crit, 'critical', 'production'), 'vulnerabilities').reason, /accept no waivers/);
});

test('approvals: bound to the digest, expiring, quorum by distinct people and roles, never waivable', () => {
  const other = good();
  other.approvals![1].rootDigest = OTHER;
  const r1 = req(gate(other), 'approvals');
  assert.equal(r1.status, 'fail');
  assert.match(r1.reason, /1 of 2 approvals; no distinct approver with role ml-lead .*not counted: bob approved another digest/);
  const expired = good();
  expired.approvals![0].expiresAt = ago(1);
  assert.match(req(gate(expired), 'approvals').reason, /alice's approval expired at/);
  // two security approvers: quorum met but the ml-lead role is not
  const roles = good();
  roles.approvals![1].role = 'security';
  const r2 = req(gate(roles), 'approvals');
  assert.equal(r2.status, 'fail');
  assert.match(r2.reason, /^no distinct approver with role ml-lead/);
  // one person in both roles counts once
  const one = good();
  one.approvals = [
    { by: 'alice', role: 'security', at: ago(1), expiresAt: null, rootDigest: D },
    { by: 'alice', role: 'ml-lead', at: ago(1), expiresAt: null, rootDigest: D },
  ];
  assert.match(req(gate(one), 'approvals').reason, /1 of 2 approvals; no distinct approver with role ml-lead/);
  // roles are matched to distinct people: alice (security+ml-lead) and bob (security) → alice ml-lead, bob security
  const match = good();
  match.approvals = [
    { by: 'alice', role: 'security', at: ago(1), rootDigest: D },
    { by: 'alice', role: 'ml-lead', at: ago(1), rootDigest: D },
    { by: 'bob', role: 'security', at: ago(1), rootDigest: D },
  ];
  const r3 = req(gate(match), 'approvals');
  assert.equal(r3.status, 'pass', r3.reason);
  assert.match(r3.reason, /security: bob, ml-lead: alice/);
  // a waiver never replaces approvals
  const none = good();
  none.approvals = [];
  none.waivers = [waiver('approvals')];
  assert.equal(req(gate(none), 'approvals').status, 'missing');
});

test('format allowlist vs the scan inventory; production narrower than staging', () => {
  const f = good();
  f.scan!.modelFormats = ['onnx', 'safetensors'];
  f.evals![0].passRate = 0.96;
  assert.equal(req(gate(f, 'high', 'staging'), 'scan.formats').status, 'pass');
  const prod = req(gate(f), 'scan.formats');
  assert.equal(prod.status, 'fail');
  assert.equal(prod.reason, 'format onnx not allowed (allowed: safetensors, gguf)');
  const pickle = good();
  pickle.scan!.modelFormats = ['pickle', 'pytorch-zip'];
  assert.match(req(gate(pickle), 'scan.formats').reason, /formats pickle, pytorch-zip not allowed/);
  const nothing = good();
  nothing.scan!.modelFormats = [];
  assert.match(req(gate(nothing), 'scan.formats').reason, /identified no model format/);
  pickle.waivers = [waiver('scan.formats')];
  assert.equal(req(gate(pickle), 'scan.formats').status, 'waived');
});

test('license decisions: review passes low × staging, fails production', () => {
  const f = good();
  f.license!.decision = 'review';
  assert.equal(req(gate(f, 'low', 'staging'), 'license').status, 'pass');
  const r = req(gate(f, 'low', 'production'), 'license');
  assert.equal(r.status, 'fail');
  assert.match(r.reason, /license decision is review \(Apache-2.0\); allowed here: approved/);
});

test('signature: unverified fails, trusted identities and keys (with * wildcards) are enforced', () => {
  const f = good();
  f.signature!.verified = false;
  assert.match(req(gate(f), 'signature').reason, /did not verify/);
  const p = parsePolicy(
    'version: 1\nenvironments: [production]\ndefaults:\n  signature: { required: true, identities: ["https://github.com/acme/*/.github/workflows/release.yml@refs/heads/main"], keys: ["sha256:k1"] }\ntiers: { low: {}, medium: {}, high: {}, critical: {} }\n',
    'p.yaml',
  );
  const g = good();
  g.signature = { verified: true, identity: 'https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main', at: ago(1) };
  assert.equal(req(gate(g, 'high', 'production', p), 'signature').status, 'pass');
  g.signature.identity = 'https://github.com/evil/models/.github/workflows/release.yml@refs/heads/main';
  const bad = req(gate(g, 'high', 'production', p), 'signature');
  assert.equal(bad.status, 'fail');
  assert.match(bad.reason, /signed by identity https:\/\/github.com\/evil.*not trusted here/);
  g.signature.keyId = 'sha256:k1';
  assert.equal(req(gate(g, 'high', 'production', p), 'signature').status, 'pass');
  // high × dev does not require a signature
  assert.ok(!gate(good(), 'high', 'dev').requirements.some((r) => r.id === 'signature'));
});

test('evals: missing, below threshold, latest run wins, pinned suite digest', () => {
  const f = good();
  f.evals = [];
  assert.equal(req(gate(f), 'eval:harmful-refusal').status, 'missing');
  f.evals = [
    { suite: 'harmful-refusal', passRate: 0.99, at: ago(5) },
    { suite: 'harmful-refusal', passRate: 0.93, at: ago(1) },
  ];
  const r = req(gate(f), 'eval:harmful-refusal');
  assert.equal(r.status, 'fail');
  assert.equal(r.reason, '"harmful-refusal" pass rate 93% is below 95%');
  assert.equal(req(gate(f, 'high', 'staging'), 'eval:harmful-refusal').status, 'pass', 'staging needs 90%');
  const pin = `sha256:${'d'.repeat(64)}`;
  const p = parsePolicy(`version: 1\nenvironments: [production]\ndefaults:\n  evals: [{ suite: harmful-refusal, minPassRate: 0.9, digest: "${pin}" }]\ntiers: { low: {}, medium: {}, high: {}, critical: {} }\n`, 'p.yaml');
  const m = req(gate(good(), 'high', 'production', p), 'eval:harmful-refusal');
  assert.equal(m.status, 'missing');
  assert.match(m.reason, /1 run\(s\) of other suite versions; policy pins sha256:d{64}/);
  const g = good();
  g.evals = [{ suite: 'harmful-refusal', digest: pin, passRate: 0.91, at: ago(1) }];
  assert.equal(req(gate(g, 'high', 'production', p), 'eval:harmful-refusal').status, 'pass');
});

test('vulnerabilities: critical and high limits per cell', () => {
  const f = good();
  f.vulnerabilities = { critical: 0, high: 3, at: ago(1) };
  assert.match(req(gate(f), 'vulnerabilities').reason, /too many vulnerabilities: 3 high \(max 0\)/);
  assert.equal(req(gate(f, 'medium', 'production'), 'vulnerabilities').status, 'pass', 'medium production allows 5 high');
  assert.ok(!gate(f, 'high', 'dev').requirements.some((r) => r.id === 'vulnerabilities'));
});

test('tiers and environments differ: the same evidence passes staging and fails production', () => {
  const f = good();
  f.evals![0].passRate = 0.92;
  f.scan!.modelFormats = ['onnx'];
  const staging = gate(f, 'high', 'staging');
  const production = gate(f, 'high', 'production');
  assert.equal(staging.allowed, true, JSON.stringify(staging.requirements, null, 2));
  assert.equal(production.allowed, false);
  assert.deepEqual(production.requirements.filter((r) => r.status !== 'pass').map((r) => r.id), ['scan.formats', 'eval:harmful-refusal']);
  // critical needs more than high
  const crit = gate(good(), 'critical', 'production');
  assert.equal(crit.allowed, false);
  assert.deepEqual(crit.requirements.filter((r) => r.status !== 'pass').map((r) => `${r.id}:${r.status}`), ['scan.severity:fail', 'eval:harmful-refusal:fail', 'eval:jailbreak:missing', 'approvals:fail']);
});

test('unknown tier or environment is a usage error, not a pass', () => {
  assert.throws(() => evaluateGate(POLICY, good(), { tier: 'huge' as 'high', env: 'production', now: NOW }), /unknown risk tier "huge"/);
  assert.throws(() => evaluateGate(POLICY, good(), { tier: 'high', env: 'prod', now: NOW }), /unknown environment "prod"/);
});

test('a decision takes microseconds', () => {
  const f = good();
  f.waivers = [waiver('vulnerabilities')];
  const n = 20_000;
  for (let i = 0; i < 2000; i++) gate(f);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) gate(f);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`evaluateGate: ${us.toFixed(2)} µs per decision (high × production, 8 requirements)`);
  assert.ok(us < 200, `${us} µs`);
});
