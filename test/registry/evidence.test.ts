import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import {
  bindsTo,
  canonicalize,
  evidenceId,
  evidenceKinds,
  EVIDENCE_KINDS,
  kindForPredicateType,
  makeEvidence,
  parseEvidence,
  predicateErrors,
  scanPredicate,
  testResultsFromEvalRun,
  gatePredicate,
  type DsseEnvelope,
} from '../../src/registry/evidence/index.ts';
import { pae } from '../../src/provenance/signing/index.ts';
import { defaultPolicy, evaluateGate } from '../../src/policy/index.ts';
import { ModelgateError, type ScanReport } from '../../src/scan/model.ts';

const ROOT = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const approval = { approver: 'alice', role: 'ml-lead', decision: 'approved', at: '2026-11-20T10:00:00Z' };

const code = (c: string) => (e: unknown) => e instanceof ModelgateError && e.code === c;

test('canonicalize: RFC 8785 examples and stability across key order', () => {
  assert.equal(canonicalize({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } }), '{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}');
  assert.equal(canonicalize({ c: { y: 2, z: 1 }, a: [true, null, 'x'], b: 1 }), canonicalize({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } }));
  // Numbers as ECMAScript serialises them (RFC 8785 §3.2.2.3).
  assert.equal(canonicalize([1e21, 1e-7, -0, 0.1, 100, 4.5]), '[1e+21,1e-7,0,0.1,100,4.5]');
  // Keys sort by UTF-16 code units, not code points: U+1F600 (surrogates D83D DE00) sorts before U+FB01.
  assert.equal(canonicalize({ '\ufb01': 1, '😀': 2, a: 3, '\r': 4 }), '{"\\r":4,"a":3,"😀":2,"\ufb01":1}');
  assert.equal(canonicalize({ a: undefined, b: 'é\u0001"' }), '{"b":"é\\u0001\\""}');
  assert.throws(() => canonicalize({ a: Number.NaN }), code('EVIDENCE_NOT_CANONICAL'));
  assert.throws(() => canonicalize({ a: 1n }), code('EVIDENCE_NOT_CANONICAL'));
});

test('makeEvidence: an in-toto statement in a DSSE envelope, id = sha256 of canonical envelope', () => {
  const ev = makeEvidence('approval', `sha256:${ROOT.toUpperCase()}`, approval, { name: 'llama-3-8b', created: '2026-11-20T10:00:01Z' });
  assert.equal(ev.kind, 'approval');
  assert.equal(ev.envelope.payloadType, 'application/vnd.in-toto+json');
  assert.deepEqual(ev.envelope.signatures, []);
  const st = JSON.parse(Buffer.from(ev.envelope.payload, 'base64').toString('utf8'));
  assert.deepEqual(st, { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'llama-3-8b', digest: { sha256: ROOT } }], predicateType: 'https://modelgate.dev/approval/v1', predicate: approval });
  assert.equal(ev.id, createHash('sha256').update(canonicalize(ev.envelope)).digest('hex'));
  assert.equal(ev.created, '2026-11-20T10:00:01Z');
  // Same content, keys written in another order, other creation time: same id.
  const again = makeEvidence('approval', ROOT, { at: approval.at, decision: 'approved', role: 'ml-lead', approver: 'alice' }, { name: 'llama-3-8b' });
  assert.equal(again.id, ev.id);
  assert.equal(makeEvidence('approval', ROOT, approval).statement.subject[0]!.name, 'model');
});

test('the id changes with any byte of the predicate', () => {
  const base = makeEvidence('approval', ROOT, approval).id;
  const seen = new Set([base]);
  for (const p of [
    { ...approval, approver: 'alicf' },
    { ...approval, role: 'ml-lead ' },
    { ...approval, at: '2026-11-20T10:00:01Z' },
    { ...approval, decision: 'rejected' },
    { ...approval, note: '' },
  ]) {
    const id = makeEvidence('approval', ROOT, p).id;
    assert.ok(!seen.has(id), `id collided for ${JSON.stringify(p)}`);
    seen.add(id);
  }
  // Every single-character change of a field gives a new id.
  const note = 'ship it after review';
  const ids = new Set<string>();
  for (let i = 0; i < note.length; i++) ids.add(makeEvidence('approval', ROOT, { ...approval, note: note.slice(0, i) + '#' + note.slice(i + 1) }).id);
  assert.equal(ids.size, note.length);
  assert.ok(!ids.has(base));
  assert.notEqual(makeEvidence('approval', OTHER, approval).id, base);
  assert.notEqual(makeEvidence('approval', ROOT, approval, { name: 'other' }).id, base);
});

test('bindsTo: the statement subject names the root digest', () => {
  const ev = makeEvidence('approval', ROOT, approval);
  assert.equal(bindsTo(ev, ROOT), true);
  assert.equal(bindsTo(ev, `sha256:${ROOT}`), true);
  assert.equal(bindsTo(ev, OTHER), false);
  assert.equal(bindsTo(ev, 'not-a-digest'), false);
  assert.equal(bindsTo(parseEvidence(JSON.stringify(ev.envelope)), ROOT), true);
  assert.throws(() => makeEvidence('approval', 'abc', approval), code('EVIDENCE_BAD_DIGEST'));
});

test('signatures: P-256 signed evidence verifies with its key and fails with another', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ev = makeEvidence('approval', ROOT, approval, { key: privateKey });
  assert.equal(ev.envelope.signatures.length, 1);
  assert.match(ev.envelope.signatures[0]!.keyid, /^[0-9a-f]{64}$/);
  const parsed = parseEvidence(JSON.stringify(ev.envelope), { publicKey });
  assert.equal(parsed.signed, true);
  assert.equal(parsed.verifiedKeyid, ev.envelope.signatures[0]!.keyid);
  assert.equal(parsed.id, ev.id);
  assert.throws(() => parseEvidence(ev.envelope, { publicKey: other.publicKey }), code('EVIDENCE_SIGNATURE'));
  // A changed payload (another approver) under the old signature fails.
  const forged: DsseEnvelope = { ...ev.envelope, payload: Buffer.from(Buffer.from(ev.envelope.payload, 'base64').toString().replace('alice', 'mallo')).toString('base64') };
  assert.throws(() => parseEvidence(forged, { publicKey }), code('EVIDENCE_SIGNATURE'));
  // The signature is ECDSA over the DSSE PAE of the payload bytes.
  assert.ok(verify('sha256', pae('application/vnd.in-toto+json', Buffer.from(ev.envelope.payload, 'base64')), publicKey, Buffer.from(ev.envelope.signatures[0]!.sig, 'base64')));
  // Unsigned evidence with a key given, or when a signature is required, is refused.
  const unsigned = makeEvidence('approval', ROOT, approval);
  assert.throws(() => parseEvidence(unsigned.envelope, { publicKey }), code('EVIDENCE_SIGNATURE'));
  assert.throws(() => parseEvidence(unsigned.envelope, { requireSignature: true }), code('EVIDENCE_SIGNATURE'));
  assert.equal(parseEvidence(unsigned.envelope).signed, false);
  // Signing changes the id (the signature is part of the envelope).
  assert.notEqual(unsigned.id, ev.id);
});

test('parseEvidence refuses wrong payloadType, statement type, subject digest, unknown predicate, id mismatch', () => {
  const ev = makeEvidence('approval', ROOT, approval);
  const withStatement = (st: unknown): DsseEnvelope => ({ ...ev.envelope, payload: Buffer.from(JSON.stringify(st)).toString('base64') });
  assert.throws(() => parseEvidence({ ...ev.envelope, payloadType: 'application/json' }), (e: unknown) => e instanceof ModelgateError && e.code === 'EVIDENCE_MALFORMED' && /payloadType/.test(e.message));
  assert.throws(() => parseEvidence('{not json'), code('EVIDENCE_MALFORMED'));
  assert.throws(() => parseEvidence({ ...ev.envelope, signatures: 'x' }), code('EVIDENCE_MALFORMED'));
  assert.throws(() => parseEvidence(withStatement({ ...ev.statement, _type: 'https://in-toto.io/Statement/v0.1' })), (e: unknown) => e instanceof ModelgateError && /_type/.test(e.message));
  assert.throws(() => parseEvidence(withStatement({ ...ev.statement, subject: [] })), (e: unknown) => e instanceof ModelgateError && /no subject/.test(e.message));
  assert.throws(() => parseEvidence(withStatement({ ...ev.statement, subject: [{ name: 'm', digest: { sha256: 'ABC' } }] })), (e: unknown) => e instanceof ModelgateError && /subject\[0\]\.digest\.sha256/.test(e.message));
  assert.throws(() => parseEvidence(withStatement({ ...ev.statement, predicateType: 'https://example.com/x' })), code('EVIDENCE_UNKNOWN_KIND'));
  assert.throws(() => parseEvidence(withStatement({ ...ev.statement, predicate: { approver: 'a' } })), code('EVIDENCE_BAD_PREDICATE'));
  assert.throws(() => parseEvidence(ev.envelope, { expectedId: OTHER }), code('EVIDENCE_ID_MISMATCH'));
  assert.equal(parseEvidence(Buffer.from(JSON.stringify(ev.envelope)), { expectedId: ev.id }).id, evidenceId(ev.envelope));
});

test('kinds: every kind has a distinct predicate type and a schema', () => {
  const kinds = evidenceKinds();
  assert.deepEqual(kinds.map((k) => k.kind), [...EVIDENCE_KINDS]);
  assert.equal(new Set(kinds.map((k) => k.predicateType)).size, kinds.length);
  assert.equal(kindForPredicateType('https://in-toto.io/attestation/test-result/v0.1'), 'eval');
  for (const k of kinds) assert.ok(predicateErrors(k.kind, {}).length > 0, `${k.kind} accepted an empty predicate`);
  assert.throws(() => makeEvidence('bogus' as 'scan', ROOT, {}), (e: unknown) => e instanceof ModelgateError && e.code === 'EVIDENCE_UNKNOWN_KIND' && /scan, license/.test(e.message));
});

test('schema rejection messages name the field and the expectation', () => {
  assert.deepEqual(predicateErrors('approval', { approver: 'alice', decision: 'maybe', at: 'yesterday' }), [
    'predicate: missing required field "role"',
    'predicate.decision: must be one of "approved", "rejected"',
    'predicate.at: must match format "date-time"',
  ]);
  assert.deepEqual(predicateErrors('gate', { environment: 'prod', decision: 'pass', evaluatedAt: '2026-11-20T10:00:00Z', requirements: [{ id: 'scan', status: 'ok' }] }), ['predicate.requirements[0].status: must be one of "pass", "fail", "missing", "waived"']);
  assert.throws(
    () => makeEvidence('waiver', ROOT, { requirement: 'scan.maxSeverity', reason: 'vendor fix pending', grantedBy: 'bob', at: '2026-11-20T10:00:00Z' }),
    (e: unknown) => e instanceof ModelgateError && e.code === 'EVIDENCE_BAD_PREDICATE' && e.message === 'waiver evidence: predicate: missing required field "expiresAt"',
  );
});

test('each kind accepts a well-formed predicate', () => {
  const at = '2026-11-20T10:00:00Z';
  const good: Record<string, object> = {
    license: { licenses: ['llama3'], use: 'commercial', decision: 'review', reasons: [{ decision: 'review', text: 'over 700M MAU needs a licence' }], licenseTextSha256: ROOT },
    signature: { verified: true, method: 'key', keyHint: OTHER },
    sbom: { bom: { mediaType: 'application/vnd.cyclonedx+json', digest: { sha256: OTHER }, specVersion: '1.6', components: 12 } },
    card: { path: 'README.md', sha256: OTHER, metadata: { license: 'apache-2.0' } },
    eval: { result: 'PASSED', configuration: [{ name: 'toxicity-v2', digest: { sha256: OTHER } }], passedTests: ['t1', 't2'], failedTests: [], summary: { suite: 'toxicity-v2', suiteDigest: OTHER, total: 2, passed: 2, passRate: 1, ci: { low: 0.34, high: 1, level: 0.95 } } },
    approval,
    waiver: { requirement: 'vulns.critical', reason: 'no fix upstream', grantedBy: 'bob', approvedBy: ['carol'], at, expiresAt: '2026-12-20T10:00:00Z' },
    gate: { environment: 'production', tier: 'high', decision: 'fail', evaluatedAt: at, requirements: [{ id: 'approvals', status: 'missing', reason: '0 of 2' }] },
    deployment: { environment: 'staging', action: 'deploy', by: 'dave', at, previousDigest: null },
    'outside-report': { format: 'grype', tool: 'grype', toolVersion: '0.82.2', target: 'img', counts: { critical: 0, high: 1, medium: 0, low: 0, unknown: 0 }, findings: [{ id: 'CVE-1', severity: 'high', package: 'p', version: '1', fixedIn: null }], source: { sha256: OTHER, bytes: 10 } },
  };
  for (const [kind, p] of Object.entries(good)) assert.deepEqual(predicateErrors(kind as 'scan', p), [], kind);
});

test('scanPredicate: summary, per-file max severity and the models inventory', () => {
  const report: ScanReport = {
    schemaVersion: 1,
    tool: { name: 'modelgate', version: '0.1.0' },
    summary: { files: 2, scanned: 2, skipped: 0, errors: 0, maxSeverity: 'critical', bySeverity: { critical: 1, high: 0, medium: 1, low: 0, info: 0 } },
    models: [{ path: 'm', formats: { pickle: 1, safetensors: 1 }, modelFormats: ['pickle', 'safetensors'] }],
    files: [
      { path: 'm/model.pkl', format: 'pickle', size: 10, sha256: OTHER, status: 'scanned', findings: [
        { ruleId: 'MG-PKL-001', severity: 'critical', path: 'm/model.pkl', offset: 2, message: 'x', evidence: {} },
        { ruleId: 'MG-PKL-009', severity: 'medium', path: 'm/model.pkl', offset: 3, message: 'y', evidence: {} },
      ] },
      { path: 'm/model.safetensors', format: 'safetensors', size: 10, sha256: ROOT, status: 'scanned', findings: [] },
    ],
  } as unknown as ScanReport;
  const p = scanPredicate(report);
  assert.deepEqual(p.files.map((f) => [f.path, f.maxSeverity, f.findings, f.rules]), [
    ['m/model.pkl', 'critical', 2, ['MG-PKL-001', 'MG-PKL-009']],
    ['m/model.safetensors', null, 0, []],
  ]);
  assert.deepEqual(p.findingsByRule, { 'MG-PKL-001': { severity: 'critical', count: 1 }, 'MG-PKL-009': { severity: 'medium', count: 1 } });
  const ev = makeEvidence('scan', ROOT, p);
  assert.equal(ev.statement.predicateType, 'https://modelgate.dev/scan/v1');
  assert.deepEqual(parseEvidence(ev.envelope).statement.predicate, JSON.parse(JSON.stringify(p)));
});

test('eval runs: the predicate modelgate eval writes is kind eval-run; each suite converts to a test-result predicate', () => {
  const D = 'e'.repeat(64);
  const mk = (id: string, status: 'pass' | 'fail' | 'error') => ({ id, status, reasons: [], assertions: [], transcript: { request: [] }, latencyMs: 5 });
  const run = {
    endpoint: 'http://127.0.0.1:11434/v1',
    model: 'llama3',
    server: { kind: 'openai' },
    parameters: { temperature: 0 },
    startedAt: '2026-11-20T10:00:00.000Z',
    finishedAt: '2026-11-20T10:01:00.000Z',
    minPassRate: 0.9,
    verdict: 'fail',
    warnings: [],
    suites: [
      { id: 'jailbreak', version: '1', digest: D, total: 3, passed: 2, failed: 1, errored: 0, passRate: 0.6667, ci95: [0.2077, 0.9385], latencyMs: { mean: 5, p50: 5, p95: 5 }, usage: { promptTokens: 0, completionTokens: 0 }, cases: [mk('a', 'pass'), mk('b', 'fail'), mk('c', 'pass')] },
      { id: 'pii', version: '2', digest: `sha256:${D}`, total: 2, passed: 2, failed: 0, errored: 0, passRate: 1, ci95: [0.3424, 1], latencyMs: { mean: 5, p50: 5, p95: 5 }, usage: { promptTokens: 0, completionTokens: 0 }, cases: [mk('x', 'pass'), mk('y', 'pass')] },
    ],
  };
  const ev = makeEvidence('eval-run', ROOT, run);
  assert.equal(ev.statement.predicateType, 'https://modelgate.dev/eval-result/v1');
  assert.equal(parseEvidence(ev.envelope).kind, 'eval-run');
  const tr = testResultsFromEvalRun(run as never);
  assert.deepEqual(tr.map((t) => [t.result, t.passedTests, t.failedTests, t.summary.suiteDigest, t.summary.ci]), [
    ['FAILED', ['a', 'c'], ['b'], D, { low: 0.2077, high: 0.9385, level: 0.95 }],
    ['PASSED', ['x', 'y'], [], D, { low: 0.3424, high: 1, level: 0.95 }],
  ]);
  for (const p of tr) assert.equal(makeEvidence('eval', ROOT, p).statement.predicateType, 'https://in-toto.io/attestation/test-result/v0.1');
  assert.deepEqual(predicateErrors('eval-run', { ...run, suites: [{ ...run.suites[0], digest: 'abc' }] }), ['predicate.suites[0].digest: must match pattern "^(sha256:)?[0-9a-f]{64}$"']);
});

test('gatePredicate: a policy gate decision becomes gate evidence', () => {
  const decision = evaluateGate(defaultPolicy(), { rootDigest: ROOT }, { tier: 'high', env: 'production', now: '2026-11-20T10:00:00Z' });
  const p = gatePredicate(decision, { policyDigest: OTHER });
  assert.equal(p.decision, 'fail');
  assert.equal(p.environment, 'production');
  assert.ok(p.requirements.some((r) => r.status === 'missing'));
  const ev = makeEvidence('gate', ROOT, p);
  assert.deepEqual(parseEvidence(ev.envelope).statement.predicate, JSON.parse(JSON.stringify(p)));
});
