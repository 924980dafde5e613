// Times evaluateGate (pure, no I/O) on the default policy, high × production (8 requirements).
//   node --import tsx bench/policy-gate.ts [iterations]
import { defaultPolicy, evaluateGate, type GateFacts } from '../src/policy/index.ts';

const P = defaultPolicy();
const D = `sha256:${'a'.repeat(64)}`;
const NOW = Date.parse('2026-11-29T12:00:00Z');
const ago = (d: number) => new Date(NOW - d * 86_400_000).toISOString();
const facts: GateFacts = {
  rootDigest: D,
  scan: { maxSeverity: 'low', findingsByRule: { 'MG-FMT-002': { severity: 'low', count: 1 } }, modelFormats: ['safetensors'], remoteCode: false, errors: 0, at: ago(1) },
  license: { decision: 'approved', at: ago(1) },
  signature: { verified: true, identity: 'release@example.com', at: ago(1) },
  evals: [{ suite: 'safety', passRate: 0.97, at: ago(1) }],
  vulnerabilities: { critical: 0, high: 0, at: ago(1) },
  approvals: [
    { by: 'alice', role: 'security', at: ago(1), rootDigest: D },
    { by: 'bob', role: 'ml-lead', at: ago(1), rootDigest: D },
  ],
  waivers: [{ requirementId: 'vulnerabilities', grantedBy: 'sam', role: 'security', reason: 'r', expiresAt: ago(-2), rootDigest: D }],
};
const n = Number(process.argv[2] ?? 100_000);
for (let round = 1; round <= 3; round++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) evaluateGate(P, facts, { tier: 'high', env: 'production', now: NOW });
  console.log(`round ${round}: ${(Number(process.hrtime.bigint() - t0) / 1000 / n).toFixed(2)} µs per decision (${n} decisions)`);
}
