// The registry domain on SQLite and PostgreSQL: intake, gate, approvals, waivers, deployments,
// rollback, revocation, where, history, and an operator's day end to end.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/registry/store/index.ts';
import { verifyAudit } from '../../src/registry/audit/index.ts';
import { parsePolicy } from '../../src/policy/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import * as reg from '../../src/registry/domain/index.ts';
import { useTestStores } from '../helpers/postgres.ts';
import { CLI, FIXTURES } from '../helpers/scan.ts';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

const stores = useTestStores('mg-domain-');
let n = 0;
const code = (c: string) => (e: unknown) => e instanceof ModelgateError && e.code === c;

const POLICY_TEXT = `version: 1
environments: [staging, production]
roles: [security, ml-lead]
defaults:
  maxEvidenceAge: 30d
  scan: { maxSeverity: medium, allowedFormats: [safetensors], remoteCode: false }
  license: { allowed: [approved, review] }
  approvals: { quorum: 2, roles: [security, ml-lead] }
  waivers: { maxDuration: 14d, grantors: [security], requirements: ["eval:*", vulnerabilities] }
tiers:
  low: { default: { approvals: { quorum: 0, roles: [] } } }
  medium: { default: {} }
  critical: { default: {} }
  high:
    production:
      evals:
        - { suite: harmful-refusal, minPassRate: 0.9 }
`;
const POLICY = parsePolicy(POLICY_TEXT, 'test-policy.yaml');

const BERT = join(FIXTURES, 'corpus', 'hf_model_bert');
const INTAKE = { owner: 'team-nlp', use: 'internal support chatbot', sensitivity: 'internal', tier: 'high', submitter: 'alice' };
const SUITE_DIGEST = 'a'.repeat(64);

function variant(dir: string, tag: string): string {
  const p = join(dir, `bert-${tag}`);
  cpSync(BERT, p, { recursive: true });
  writeFileSync(join(p, 'generation_config.json'), JSON.stringify({ variant: tag }));
  return p;
}

function evalRun(passRate: number) {
  return {
    endpoint: 'http://127.0.0.1:9/v1', model: 'bert', minPassRate: 0.9, verdict: passRate >= 0.9 ? 'pass' : 'fail',
    suites: [{ id: 'harmful-refusal', version: '1', digest: SUITE_DIGEST, total: 100, passed: Math.round(passRate * 100), passRate, ci95: [Math.max(0, passRate - 0.05), Math.min(1, passRate + 0.03)] }],
  };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`registry domain on ${kind}`, () => {
    let store: Store;
    let url = '';
    before(async () => {
      url = kind === 'sqlite' ? join(stores.tmp(), `d${++n}.db`) : await stores.pg().createDatabase(`d${++n}`);
      store = await openStore(url);
      await reg.addIdentity(store, 'bob', ['security']);
      await reg.addIdentity(store, 'carol', ['ml-lead']);
      await reg.addIdentity(store, 'alice', ['security', 'ml-lead']);
      await reg.addIdentity(store, 'ops', ['operator']);
    });
    after(async () => { await store?.close(); });

    test('intake records the version, files, intake, four evidence kinds and audit; the same bytes again are the same version', async () => {
      const r = await reg.intake(store, BERT, { name: 'idem', ...INTAKE });
      assert.equal(r.created, true);
      assert.equal(r.version, '1');
      assert.equal(r.files, 6);
      assert.deepEqual(r.evidence.map((e) => e.kind).sort(), ['card', 'license', 'sbom', 'scan']);
      const again = await reg.intake(store, BERT, { name: 'idem', ...INTAKE, submitter: 'dave' });
      assert.equal(again.created, false);
      assert.equal(again.version, '1');
      assert.equal(again.rootDigest, r.rootDigest);
      const versions = await store.db.selectFrom('versions').selectAll().where('model', '=', 'idem').execute();
      assert.equal(versions.length, 1);
      const files = await store.db.selectFrom('version_files').selectAll().where('model', '=', 'idem').execute();
      assert.equal(files.length, 6);
      const ev = await store.db.selectFrom('evidence').select('kind').where('root_digest', '=', r.rootDigest).execute();
      assert.equal(ev.length, 4);
      const intakeRows = await store.db.selectFrom('intakes').selectAll().where('model', '=', 'idem').execute();
      assert.equal(intakeRows[0].submitter, 'alice');
      const h = await reg.history(store, 'idem');
      assert.deepEqual(h.map((x) => x.action), ['model.create', 'intake']);
      await assert.rejects(reg.intake(store, variant(stores.tmp(), `idem${kind}`), { name: 'idem', ...INTAKE, version: '1' }), code('VERSION_EXISTS'));
      await assert.rejects(reg.intake(store, BERT, { name: 'idem', ...INTAKE, tier: 'extreme' }), code('USAGE'));
    });

    test('gate facts come from stored evidence; approvals need configured identities and roles', async () => {
      const r = await reg.intake(store, BERT, { name: 'facts', ...INTAKE });
      const f = await reg.gateFactsFromEvidence(store, 'facts@1');
      assert.equal(f.rootDigest, r.rootDigest);
      assert.deepEqual(f.scan?.modelFormats, ['safetensors']);
      assert.equal(f.license?.decision, 'approved');
      await assert.rejects(reg.approve(store, 'facts@1', { by: 'mallory', role: 'security' }), code('UNKNOWN_IDENTITY'));
      await assert.rejects(reg.approve(store, 'facts@1', { by: 'carol', role: 'security' }), code('ROLE_NOT_HELD'));
      const a = await reg.approve(store, 'facts@1', { by: 'bob', role: 'security', now: '2026-01-01T00:00:00.000Z' });
      assert.equal(a.expiresAt, '2026-04-01T00:00:00.000Z');
      const dup = await reg.approve(store, 'facts@1', { by: 'bob', role: 'security', now: '2026-01-02T00:00:00.000Z' });
      assert.equal(dup.created, false);
      assert.equal((await reg.gateFactsFromEvidence(store, 'facts@1', '2026-02-01T00:00:00Z')).approvals?.length, 1);
      assert.equal((await reg.gateFactsFromEvidence(store, 'facts@1', '2026-05-01T00:00:00Z')).approvals?.length, 0, 'expired approvals do not count');
    });

    test('waivers: a permitted role, a reason, and the policy decides whether they count', async () => {
      await reg.intake(store, BERT, { name: 'waived', ...INTAKE });
      await reg.approve(store, 'waived@1', { by: 'bob', role: 'security' });
      await reg.approve(store, 'waived@1', { by: 'carol', role: 'ml-lead' });
      const blocked = await reg.gate(store, 'waived@1', 'production', { policy: POLICY });
      assert.equal(blocked.decision.allowed, false);
      assert.equal(blocked.decision.requirements.find((x) => x.id === 'eval:harmful-refusal')?.status, 'missing');
      await assert.rejects(reg.waive(store, 'waived@1', { env: 'production', requirement: 'eval:harmful-refusal', reason: '', by: 'bob', role: 'security' }), code('USAGE'));
      await reg.waive(store, 'waived@1', { env: 'production', requirement: 'eval:harmful-refusal', reason: 'suite under repair', by: 'carol', role: 'ml-lead' });
      assert.equal((await reg.gate(store, 'waived@1', 'production', { policy: POLICY })).decision.allowed, false, 'ml-lead may not grant waivers under this policy');
      await reg.waive(store, 'waived@1', { env: 'production', requirement: 'eval:harmful-refusal', reason: 'suite under repair', by: 'bob', role: 'security' });
      const ok = await reg.gate(store, 'waived@1', 'production', { policy: POLICY });
      assert.equal(ok.decision.allowed, true);
      assert.equal(ok.decision.requirements.find((x) => x.id === 'eval:harmful-refusal')?.status, 'waived');
      const stored = await store.db.selectFrom('evidence').select('id').where('id', '=', ok.evidenceId).where('kind', '=', 'gate').execute();
      assert.equal(stored.length, 1, 'the gate decision is recorded as evidence');
    });

    test('concurrent writers in parallel processes (built CLI): approvals and deploys keep every invariant', async () => {
      await reg.intake(store, variant(stores.tmp(), `conc-${kind}`), { name: 'conc', ...INTAKE });
      const policyFile = join(stores.tmp(), `conc-policy-${kind}.yaml`);
      writeFileSync(policyFile, POLICY_TEXT);
      const cli = (...args: string[]) => execFileP(process.execPath, [CLI, ...args, '--db', url, '--json']).then((r) => JSON.parse(r.stdout) as Record<string, unknown>);
      await Promise.all([
        cli('approve', 'conc@1', '--by', 'bob', '--role', 'security'),
        cli('approve', 'conc@1', '--by', 'carol', '--role', 'ml-lead'),
        cli('approve', 'conc@1', '--by', 'bob', '--role', 'security'),
      ]);
      const approvals = await store.db.selectFrom('approvals').selectAll().where('model', '=', 'conc').execute();
      assert.equal(approvals.length, 2, 'the duplicate approval was not recorded twice');
      await reg.addEvidence(store, 'conc@1', 'eval-run', evalRun(0.99), { by: 'ops' });
      const results = await Promise.all([
        cli('deploy', 'conc@1', '--env', 'staging', '--by', 'ops', '--policy', policyFile),
        cli('deploy', 'conc@1', '--env', 'production', '--by', 'ops', '--policy', policyFile),
        cli('deploy', 'conc@1', '--env', 'staging', '--by', 'ops2', '--policy', policyFile),
      ]);
      assert.equal(new Set(results.map((r) => r.deploymentId)).size, 3);
      assert.deepEqual(results.map((r) => r.previousVersion).filter((v) => v !== null), ['1'], 'exactly one of the two staging deploys saw the other');
      const v = await verifyAudit(store);
      assert.equal(v.ok, true);
      const seqs = (await store.db.selectFrom('audit_log').select('seq').orderBy('seq').execute()).map((r) => Number(r.seq));
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'no gaps or forks in the audit sequence');
    });

    test('rollback --to a version, the newest earlier one by default; a revoked version is skipped and named', async () => {
      const low = { ...INTAKE, tier: 'low' };
      for (const t of ['a', 'b', 'c']) await reg.intake(store, variant(stores.tmp(), `rb-${t}-${kind}`), { name: 'rb', ...low });
      for (const v of ['1', '2', '3']) await reg.deploy(store, `rb@${v}`, { env: 'staging', by: 'ops', policy: POLICY });
      const to1 = await reg.rollback(store, 'rb', { env: 'staging', to: '1', by: 'ops', reason: 'pin v1', policy: POLICY });
      assert.deepEqual([to1.version, to1.previousVersion], ['1', '3']);
      await reg.revoke(store, 'rb@3', { reason: 'bad', by: 'bob' });
      const back = await reg.rollback(store, 'rb', { env: 'staging', by: 'ops', reason: 'undo', policy: POLICY });
      assert.equal(back.version, '2');
      assert.deepEqual(back.skipped.map((k) => k.version), ['3']);
      assert.match(back.skipped[0].why, /revoked/);
      await assert.rejects(reg.rollback(store, 'rb', { env: 'staging', to: '3', by: 'ops', reason: 'x', policy: POLICY }), code('NO_ROLLBACK_TARGET'));
      await assert.rejects(reg.rollback(store, 'rb', { env: 'production', by: 'ops', reason: 'x', policy: POLICY }), code('NOT_DEPLOYED'));
      assert.deepEqual((await reg.where(store, 'rb')).map((w) => `${w.env}:${w.version}`), ['staging:2']);
    });

    test('kill -9 during intake leaves no half-written version; re-running completes it', async () => {
      const paths = Array.from({ length: 6 }, (_, i) => variant(stores.tmp(), `kill${i}-${kind}`));
      for (const [i, p] of paths.entries()) {
        const child = spawn(process.execPath, [CLI, 'intake', p, '--name', 'killed', '--owner', 'o', '--use', 'research', '--sensitivity', 'public', '--tier', 'low', '--by', 'alice', '--db', url], { stdio: 'ignore' });
        const exited = new Promise<void>((r) => child.on('exit', () => r()));
        setTimeout(() => child.kill('SIGKILL'), 250 + i * 120);
        await exited;
      }
      const check = async () => {
        const versions = await store.db.selectFrom('versions').selectAll().where('model', '=', 'killed').execute();
        for (const v of versions) {
          const intakeRow = await store.db.selectFrom('intakes').select('submitter').where('model', '=', 'killed').where('version', '=', v.version).execute();
          assert.equal(intakeRow.length, 1, `killed@${v.version} has its intake record`);
          const files = await store.db.selectFrom('version_files').select('path').where('model', '=', 'killed').where('version', '=', v.version).execute();
          assert.equal(files.length, 6, `killed@${v.version} has all its files`);
          const kinds = (await store.db.selectFrom('evidence').select('kind').where('root_digest', '=', v.root_digest).execute()).map((e) => e.kind).sort();
          assert.deepEqual(kinds, ['card', 'license', 'sbom', 'scan']);
        }
        const intakes = (await reg.history(store, 'killed')).filter((h) => h.action === 'intake');
        assert.equal(intakes.length, versions.length, 'one intake audit entry per version');
        assert.equal((await verifyAudit(store)).ok, true);
        return versions.length;
      };
      await check();
      for (const p of paths) await reg.intake(store, p, { name: 'killed', ...INTAKE, tier: 'low' });
      assert.equal(await check(), 6);
    });

    test("an operator's day: intake → gate → approvals → staging → eval → production → v2 → revoke → rollback → where → audit", async () => {
      const v1path = variant(stores.tmp(), `day1-${kind}`);
      const v1 = await reg.intake(store, v1path, { name: 'chat', ...INTAKE, targetEnv: 'production' });
      // The gate fails: no approvals.
      const g0 = await reg.gate(store, 'chat@1', 'staging', { policy: POLICY, by: 'ops' });
      assert.equal(g0.decision.allowed, false);
      assert.equal(g0.decision.requirements.find((r) => r.id === 'approvals')?.status, 'missing');
      await assert.rejects(reg.deploy(store, 'chat@1', { env: 'staging', by: 'ops', policy: POLICY }), (e: unknown) => e instanceof reg.GateBlockedError && /approvals/.test(e.message));
      // Self-approval is refused even though alice holds the role.
      await assert.rejects(reg.approve(store, 'chat@1', { by: 'alice', role: 'security' }), code('SELF_APPROVAL'));
      await reg.approve(store, 'chat@1', { by: 'bob', role: 'security', note: 'scan and license reviewed' });
      await reg.approve(store, 'chat@1', { by: 'carol', role: 'ml-lead' });
      const d1 = await reg.deploy(store, 'chat@1', { env: 'staging', by: 'ops', policy: POLICY });
      assert.equal(d1.previousVersion, null);
      // Production needs the eval suite.
      await assert.rejects(reg.deploy(store, 'chat@1', { env: 'production', by: 'ops', policy: POLICY }), /eval:harmful-refusal/);
      await reg.addEvidence(store, 'chat@1', 'eval-run', evalRun(0.97), { by: 'ops' });
      await reg.deploy(store, 'chat@1', { env: 'production', by: 'ops', policy: POLICY });

      // A newer version goes through the same gates.
      const v2 = await reg.intake(store, variant(stores.tmp(), `day2-${kind}`), { name: 'chat', ...INTAKE, submitter: 'carol' });
      assert.equal(v2.version, '2');
      assert.notEqual(v2.rootDigest, v1.rootDigest);
      await assert.rejects(reg.approve(store, 'chat@2', { by: 'carol', role: 'ml-lead' }), code('SELF_APPROVAL'));
      await reg.approve(store, 'chat@2', { by: 'bob', role: 'security' });
      await reg.approve(store, 'chat@2', { by: 'alice', role: 'ml-lead' });
      await reg.addEvidence(store, 'chat@2', 'eval-run', evalRun(0.95), { by: 'ops' });
      await reg.deploy(store, 'chat@2', { env: 'staging', by: 'ops', policy: POLICY });
      const d2 = await reg.deploy(store, 'chat@2', { env: 'production', by: 'ops', policy: POLICY });
      assert.equal(d2.previousVersion, '1');

      // A rollback drill rehearses without changing anything.
      const drill = await reg.rollback(store, 'chat', { env: 'production', by: 'ops', reason: 'quarterly drill', drill: true, policy: POLICY });
      assert.equal(drill.drill, true);
      assert.equal(drill.version, '1');
      assert.equal((await reg.where(store, 'chat@2')).length, 2, 'the drill left v2 in place');

      // v2 misbehaves: revoke it everywhere and roll each environment back.
      const rv = await reg.revoke(store, 'chat@2', { reason: 'prompt-injection regression', by: 'bob', rollback: true, policy: POLICY });
      assert.deepEqual(rv.environments, ['production', 'staging']);
      assert.deepEqual(rv.rollbacks, [{ env: 'production', to: '1' }, { env: 'staging', to: '1' }]);
      await assert.rejects(reg.deploy(store, 'chat@2', { env: 'staging', by: 'ops', policy: POLICY }), /revoked/);
      // A rollback now finds nothing else that passes (v2 is revoked).
      await assert.rejects(reg.rollback(store, 'chat', { env: 'production', by: 'ops', reason: 'again', policy: POLICY }), code('NO_ROLLBACK_TARGET'));

      // where: by root digest, by a single file's SHA-256, by name.
      const byDigest = await reg.where(store, v1.rootDigest);
      assert.deepEqual(byDigest.map((w) => `${w.env}:${w.model}@${w.version}`), ['production:chat@1', 'staging:chat@1']);
      assert.deepEqual(byDigest[0].approvals.map((a) => `${a.by}/${a.role}`).sort(), ['bob/security', 'carol/ml-lead']);
      assert.equal(byDigest[0].by, 'bob');
      assert.deepEqual(await reg.where(store, `sha256:${v2.rootDigest}`), []);
      const file = await store.db.selectFrom('version_files').select('sha256').where('model', '=', 'chat').where('version', '=', '1').where('path', '=', 'generation_config.json').executeTakeFirstOrThrow();
      const byFile = await reg.where(store, file.sha256);
      assert.deepEqual(byFile.map((w) => [w.env, w.version, w.files]), [['production', '1', ['generation_config.json']], ['staging', '1', ['generation_config.json']]]);
      const shared = await store.db.selectFrom('version_files').select('sha256').where('model', '=', 'chat').where('version', '=', '1').where('path', '=', 'model.safetensors').executeTakeFirstOrThrow();
      assert.ok((await reg.where(store, shared.sha256)).some((w) => w.model === 'chat'), 'a weight file shared by several models is found');

      // history: the timeline.
      const h = await reg.history(store, 'chat');
      const actions = h.map((x) => `${x.action} ${x.subject}`);
      for (const a of ['intake chat@1', 'approve chat@1', 'deploy chat@1', 'evidence.add chat@1', 'intake chat@2', 'revoke chat@2', 'rollback chat@1']) assert.ok(actions.includes(a), `history has ${a}`);
      assert.ok(actions.indexOf('revoke chat@2') < actions.lastIndexOf('rollback chat@1'));
      const deps = await store.db.selectFrom('deployments').selectAll().where('model', '=', 'chat').orderBy('id').execute();
      assert.deepEqual(deps.map((d) => `${d.action}:${d.env}:${d.version}`), ['deploy:staging:1', 'deploy:production:1', 'deploy:staging:2', 'deploy:production:2', 'rollback:production:1', 'rollback:staging:1']);

      // Audit verify, then a tampered row is named.
      const ok = await verifyAudit(store);
      assert.equal(ok.ok, true);
      const target = h.find((x) => x.action === 'approve')!;
      await sql`update audit_log set actor = ${'eve'} where seq = ${target.seq}`.execute(store.db);
      const bad = await verifyAudit(store);
      assert.equal(bad.ok, false);
      assert.equal(bad.firstBad?.seq, target.seq);
      assert.equal(bad.firstBad?.problem, 'modified');
    });
  });
}
