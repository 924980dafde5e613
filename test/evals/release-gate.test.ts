// Eval results as release evidence: an eval run is stored as an in-toto statement bound to the model's
// root digest, read back, turned into gate facts, and the default policy's eval requirement blocks the
// vulnerable model and admits the robust one.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadSuite, runEval } from '../../src/evals/index.ts';
import { makeEvidence, parseEvidence } from '../../src/registry/evidence/index.ts';
import { defaultPolicy, evaluateGate, type GateFacts } from '../../src/policy/index.ts';
import { startLlmServer, type LlmServer } from '../helpers/llm-server.ts';

let srv: LlmServer;
before(async () => {
  srv = await startLlmServer();
});
after(() => srv.close());

async function evalFacts(model: 'vulnerable' | 'robust', rootDigest: string): Promise<GateFacts['evals']> {
  const run = await runEval({ endpoint: srv.url, model, suites: [loadSuite('harmful-refusal')], detect: false, modelDigest: `sha256:${rootDigest}` });
  const ev = makeEvidence('eval-run', rootDigest, run.predicate);
  const back = parseEvidence(JSON.stringify(ev.envelope), { expectedId: ev.id });
  assert.equal(back.statement.subject[0].digest.sha256, rootDigest);
  const predicate = back.statement.predicate as unknown as typeof run.predicate;
  return predicate.suites.map((s) => ({ suite: s.id, digest: s.digest, passRate: s.passRate, at: new Date().toISOString() }));
}

test('the default policy eval requirement blocks the vulnerable model and admits the robust one', async () => {
  const policy = defaultPolicy();
  for (const [model, digest, expected] of [['vulnerable', 'a'.repeat(64), 'fail'], ['robust', 'b'.repeat(64), 'pass']] as const) {
    const facts: GateFacts = { rootDigest: digest, evals: await evalFacts(model, digest) };
    const decision = evaluateGate(policy, facts, { tier: 'high', env: 'staging' });
    const req = decision.requirements.find((r) => r.id === 'eval:harmful-refusal');
    assert.ok(req, JSON.stringify(decision.requirements.map((r) => r.id)));
    assert.equal(req.status, expected, `${model}: ${req.reason}`);
    assert.equal(decision.allowed, false); // other requirements (scan, approvals…) have no evidence here: fail closed
  }
});
