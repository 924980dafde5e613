// The registry commands through the built CLI, on SQLite and PostgreSQL.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestStores } from '../helpers/postgres.ts';
import { FIXTURES, runCli } from '../helpers/scan.ts';

const stores = useTestStores('mg-domain-cli-');
let n = 0;

const POLICY = `version: 1
environments: [staging, production]
roles: [security, ml-lead]
defaults:
  maxEvidenceAge: 30d
  scan: { maxSeverity: medium, allowedFormats: [safetensors], remoteCode: false }
  license: { allowed: [approved, review] }
  approvals: { quorum: 2, roles: [security, ml-lead] }
tiers:
  low: { default: {} }
  medium: { default: {} }
  critical: { default: {} }
  high:
    production:
      evals:
        - { suite: harmful-refusal, minPassRate: 0.9 }
`;

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`registry CLI on ${kind}`, () => {
    let db = '';
    let dir = '';
    before(async () => {
      dir = join(stores.tmp(), `cli${++n}`);
      db = kind === 'sqlite' ? join(stores.tmp(), `cli${n}.db`) : await stores.pg().createDatabase(`cli${n}`);
    });

    test('intake, gate, approve, deploy, evidence, where, history, rollback drill, revoke, export, audit verify', () => {
      const run = (...args: string[]) => runCli([...args, '--db', db]);
      const json = (...args: string[]) => { const r = run(...args, '--json'); assert.equal(r.code, 0, r.stderr); return JSON.parse(r.stdout); };
      const model = join(dir, 'bert');
      cpSync(join(FIXTURES, 'corpus', 'hf_model_bert'), model, { recursive: true });
      const policy = join(dir, 'policy.yaml');
      writeFileSync(policy, POLICY);
      assert.equal(run('identity', 'add', 'bob', '--role', 'security').code, 0);
      assert.equal(run('identity', 'add', 'carol', '--role', 'ml-lead').code, 0);
      assert.equal(run('identity', 'add', 'alice', '--role', 'security', 'ml-lead').code, 0);

      const args = ['intake', model, '--name', 'bert', '--owner', 'team-nlp', '--use', 'internal support bot', '--sensitivity', 'internal', '--tier', 'high', '--by', 'alice'];
      const r1 = json(...args);
      assert.equal(r1.created, true);
      assert.equal(r1.version, '1');
      assert.equal(json(...args).created, false, 'idempotent by digest');

      const g0 = run('gate', 'bert@1', '--env', 'staging', '--policy', policy, '--json');
      assert.equal(g0.code, 1);
      assert.equal(JSON.parse(g0.stdout).decision.requirements.find((r: { id: string }) => r.id === 'approvals').status, 'missing');
      const self = run('approve', 'bert@1', '--by', 'alice', '--role', 'security');
      assert.equal(self.code, 2);
      assert.match(self.stderr, /separation of duties/);
      assert.equal(run('approve', 'bert@1', '--by', 'mallory', '--role', 'security').code, 2);
      json('approve', 'bert@1', '--by', 'bob', '--role', 'security');
      json('approve', 'bert@1', '--by', 'carol', '--role', 'ml-lead');
      assert.equal(run('gate', 'bert@1', '--env', 'staging', '--policy', policy).code, 0);
      const d = json('deploy', 'bert@1', '--env', 'staging', '--by', 'ops', '--policy', policy);
      assert.equal(d.env, 'staging');
      const blocked = run('deploy', 'bert@1', '--env', 'production', '--by', 'ops', '--policy', policy);
      assert.equal(blocked.code, 1);
      assert.match(blocked.stdout, /MISSING eval:harmful-refusal/);

      const evalFile = join(dir, 'eval.json');
      writeFileSync(evalFile, JSON.stringify({ endpoint: 'http://127.0.0.1:9/v1', model: 'bert', minPassRate: 0.9, verdict: 'pass', suites: [{ id: 'harmful-refusal', version: '1', digest: 'b'.repeat(64), total: 50, passed: 49, passRate: 0.98, ci95: [0.9, 1] }] }));
      assert.equal(json('evidence', 'add', 'bert@1', '--kind', 'eval-run', '--file', evalFile, '--by', 'ops').kind, 'eval-run');
      json('deploy', 'bert@1', '--env', 'production', '--by', 'ops', '--policy', policy);

      const w = json('where', `sha256:${r1.rootDigest}`);
      assert.deepEqual(w.map((x: { env: string }) => x.env), ['production', 'staging']);
      assert.equal(run('where', 'f'.repeat(64)).code, 1);
      const h = json('history', 'bert');
      assert.deepEqual(h.map((x: { action: string }) => x.action), ['model.create', 'intake', 'gate', 'approve', 'approve', 'gate', 'deploy', 'evidence.add', 'deploy']);

      const drill = run('rollback', 'bert', '--env', 'production', '--by', 'ops', '--reason', 'drill', '--drill', '--policy', policy);
      assert.equal(drill.code, 1, 'nothing earlier to roll back to');
      assert.match(drill.stdout, /drill: rollback would FAIL/);

      const out = join(dir, 'bundle');
      const idx = json('evidence', 'export', 'bert@1', '--out', out);
      assert.ok(idx.count >= 8);
      assert.ok(existsSync(join(out, 'index.json')));
      assert.ok(idx.items.some((i: { kind: string }) => i.kind === 'approval'));

      const rv = run('revoke', 'bert@1', '--reason', 'regression', '--by', 'bob', '--json');
      assert.equal(rv.code, 0);
      assert.deepEqual(JSON.parse(rv.stdout).environments, ['production', 'staging']);
      assert.equal(run('gate', 'bert@1', '--env', 'staging', '--policy', policy).code, 1);
      const v = run('audit', 'verify', '--json');
      assert.equal(v.code, 0, v.stderr);
      assert.equal(JSON.parse(v.stdout).ok, true);
      assert.ok(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).count >= 8);
    });
  });
}
