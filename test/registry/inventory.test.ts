// Inventory of behaviour-changing artifacts on SQLite and PostgreSQL: components (idempotent by
// digest, versions kept), systems pinning a model + components, a changed component flagging the
// systems and re-running their gate, a re-pin clearing the flag; and the same through the built CLI.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/registry/store/index.ts';
import { verifyAudit } from '../../src/registry/audit/index.ts';
import { parsePolicy } from '../../src/policy/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import * as reg from '../../src/registry/domain/index.ts';
import { useTestStores } from '../helpers/postgres.ts';
import { FIXTURES, runCli } from '../helpers/scan.ts';

const stores = useTestStores('mg-inventory-');
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
tiers:
  low: { default: { approvals: { quorum: 0, roles: [] } } }
  medium: { default: {} }
  high: { default: {} }
  critical: { default: {} }
`;
const POLICY = parsePolicy(POLICY_TEXT, 'test-policy.yaml');
const INV = join(FIXTURES, 'inventory');
const BERT = join(FIXTURES, 'corpus', 'hf_model_bert');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`inventory on ${kind}`, () => {
    let store: Store;
    let dir = '';
    before(async () => {
      const url = kind === 'sqlite' ? join(stores.tmp(), `inv${++n}.db`) : await stores.pg().createDatabase(`inv${++n}`);
      dir = join(stores.tmp(), `work${n}`);
      mkdirSync(dir, { recursive: true });
      store = await openStore(url);
      await reg.intake(store, BERT, { name: 'bert', owner: 'team-nlp', use: 'internal support chatbot', sensitivity: 'internal', tier: 'low', submitter: 'alice' });
      await reg.deploy(store, 'bert@1', { env: 'staging', by: 'alice', policy: POLICY });
    });
    after(async () => { await store?.close(); });

    test('add → idempotent → change → systems flagged and gate re-run recorded → re-pin clears', async () => {
      const prompt = join(dir, 'prompt.txt');
      copyFileSync(join(INV, 'prompt-v1.txt'), prompt);
      const a = await reg.addComponent(store, prompt, { kind: 'prompt', name: 'support', owner: 'team-nlp', by: 'alice', policy: POLICY });
      assert.equal(a.created, true);
      assert.equal(a.version, 1);
      assert.equal(a.digest, sha(prompt));
      const again = await reg.addComponent(store, prompt, { kind: 'prompt', name: 'support', owner: 'team-nlp', by: 'bob', policy: POLICY });
      assert.equal(again.created, false);
      assert.equal(again.version, 1);
      assert.equal((await store.db.selectFrom('components').selectAll().where('name', '=', 'support').execute()).length, 1);

      const kb = await reg.addComponent(store, join(INV, 'kb'), { kind: 'retrieval-index', name: 'kb', owner: 'team-search', by: 'alice' });
      assert.match(kb.digest, /^[0-9a-f]{64}$/);
      assert.notEqual(kb.digest, sha(join(INV, 'kb', 'a.txt')));
      await reg.addComponent(store, join(INV, 'tools.json'), { kind: 'tool-schema', name: 'crm', owner: 'team-nlp', by: 'alice' });

      await assert.rejects(reg.pinSystem(store, 'bot', { model: 'bert@9', by: 'alice' }), code('NOT_FOUND'));
      await assert.rejects(reg.pinSystem(store, 'bot', { model: 'bert@1', components: [{ kind: 'prompt', ref: 'support@2' }], by: 'alice' }), code('NOT_FOUND'));
      await assert.rejects(reg.addComponent(store, prompt, { kind: 'template', name: 'x', owner: 'o' }), code('USAGE'));
      const pinned = await reg.pinSystem(store, 'bot', { model: 'bert@1', components: [{ kind: 'prompt', ref: 'support@1' }, { kind: 'retrieval-index', ref: `kb@${kb.digest.slice(0, 10)}` }, { kind: 'tool-schema', ref: 'crm@1' }], by: 'alice' });
      assert.equal(pinned.release, '1');
      assert.equal(pinned.status, 'ok');
      assert.deepEqual(pinned.pins.map((p) => p.slot), ['model', 'prompt:support', 'retrieval-index:kb', 'tool-schema:crm']);
      const same = await reg.pinSystem(store, 'bot', { model: 'bert@1', components: [{ kind: 'prompt', ref: 'support@1' }, { kind: 'retrieval-index', ref: 'kb@1' }, { kind: 'tool-schema', ref: 'crm@1' }], by: 'alice' });
      assert.equal(same.created, false);
      assert.equal(same.release, '1');
      // a second system that does not pin the prompt is not flagged
      await reg.pinSystem(store, 'other', { model: 'bert@1', components: [{ kind: 'tool-schema', ref: 'crm@1' }], by: 'alice' });

      copyFileSync(join(INV, 'prompt-v2.txt'), prompt);
      const changed = await reg.addComponent(store, prompt, { kind: 'prompt', name: 'support', owner: 'team-nlp', by: 'carol', policy: POLICY });
      assert.equal(changed.created, true);
      assert.equal(changed.version, 2);
      assert.deepEqual(changed.reassessed.map((s) => s.system), ['bot']);
      assert.equal(changed.reassessed[0].previous?.version, 1);
      assert.equal(changed.gates.length, 1);
      assert.equal(changed.gates[0].env, 'staging');
      assert.equal(changed.gates[0].model, 'bert');
      assert.equal(changed.gates[0].allowed, true, 'the low-tier gate that let bert@1 into staging still passes');
      const gateEv = await store.db.selectFrom('evidence').select('kind').where('id', '=', changed.gates[0].evidenceId).executeTakeFirst();
      assert.equal(gateEv?.kind, 'gate');

      const shown = await reg.showSystem(store, 'bot');
      assert.equal(shown.status, 'needs-reassessment');
      assert.match(shown.reason ?? '', /prompt support changed: release 1 pins version 1 .* now version 2/);
      assert.equal(shown.gates.length, 1);
      assert.equal(shown.gates[0].evidence, changed.gates[0].evidenceId);
      assert.equal((await reg.showSystem(store, 'other')).status, 'ok');
      assert.deepEqual((await reg.listSystems(store)).map((s) => [s.name, s.status]), [['bot', 'needs-reassessment'], ['other', 'ok']]);
      const c = await reg.showComponent(store, 'support');
      assert.deepEqual(c.versions.map((v) => v.version), [1, 2]);

      // re-pinning the same components while flagged is still a new, reviewed release; it clears the flag
      const repin = await reg.pinSystem(store, 'bot', { model: 'bert@1', components: [{ kind: 'prompt', ref: 'support@2' }, { kind: 'retrieval-index', ref: 'kb@1' }, { kind: 'tool-schema', ref: 'crm@1' }], by: 'bob' });
      assert.equal(repin.created, true);
      assert.equal(repin.release, '2');
      assert.equal(repin.status, 'ok');
      assert.equal(repin.reason, null);
      assert.equal(repin.gates.length, 0);
      assert.equal(repin.pins.find((p) => p.slot === 'prompt:support')?.version, '2');

      const audit = await store.db.selectFrom('audit_log').select(['action', 'subject']).where('subject', 'like', 'system:bot').orderBy('seq').execute();
      assert.deepEqual(audit.map((r) => r.action), ['system.create', 'system.pin', 'system.needs-reassessment', 'system.gate', 'system.pin']);
      const compAudit = await store.db.selectFrom('audit_log').select('action').where('subject', '=', 'component:prompt/support').execute();
      assert.equal(compAudit.length, 2, 'one audit row per new version, none for the idempotent add');
      assert.equal((await verifyAudit(store)).ok, true);
    });
  });
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`inventory CLI on ${kind}`, () => {
    let db = '';
    let dir = '';
    before(async () => {
      dir = join(stores.tmp(), `cli${++n}`);
      mkdirSync(dir, { recursive: true });
      db = kind === 'sqlite' ? join(stores.tmp(), `cli${n}.db`) : await stores.pg().createDatabase(`cli${n}`);
    });

    test('component add/list/show, system pin/show/list, change flags and re-pin clears', () => {
      const run = (...args: string[]) => runCli([...args, '--db', db]);
      const json = (...args: string[]) => { const r = run(...args, '--json'); assert.equal(r.code, 0, r.stderr); return JSON.parse(r.stdout); };
      const policy = join(dir, 'policy.yaml');
      writeFileSync(policy, POLICY_TEXT);
      const model = join(dir, 'bert');
      cpSync(BERT, model, { recursive: true });
      assert.equal(run('intake', model, '--name', 'bert', '--owner', 'team-nlp', '--use', 'internal support bot', '--sensitivity', 'internal', '--tier', 'low', '--by', 'alice').code, 0);
      const dep = run('deploy', 'bert@1', '--env', 'staging', '--by', 'alice', '--policy', policy);
      assert.equal(dep.code, 0, dep.stderr + dep.stdout);

      const prompt = join(dir, 'prompt.txt');
      copyFileSync(join(INV, 'prompt-v1.txt'), prompt);
      const add = ['component', 'add', '--kind', 'prompt', '--name', 'support', '--owner', 'team-nlp', '--policy', policy, prompt];
      const a = json(...add);
      assert.equal(a.version, 1);
      assert.equal(a.created, true);
      assert.equal(json(...add).created, false);
      assert.equal(run('component', 'add', '--kind', 'template', '--name', 'x', '--owner', 'o', prompt).code, 2);
      json('component', 'add', '--kind', 'feature-flag', '--name', 'streaming', '--owner', 'team-nlp', join(INV, 'tools.json'));
      const list = json('component', 'list');
      assert.deepEqual(list.map((c: { kind: string; name: string }) => `${c.kind}/${c.name}`), ['feature-flag/streaming', 'prompt/support']);

      const p = json('system', 'pin', 'bot', '--model', 'bert@1', '--prompt', 'support@1', '--flag', 'streaming@1', '--by', 'alice');
      assert.equal(p.release, '1');
      assert.equal(p.pins.length, 3);
      assert.equal(run('system', 'pin', 'bot', '--model', 'bert@1', '--prompt', 'nope@1', '--by', 'alice').code, 2);

      copyFileSync(join(INV, 'prompt-v2.txt'), prompt);
      const ch = json(...add);
      assert.equal(ch.version, 2);
      assert.equal(ch.reassessed[0].system, 'bot');
      assert.equal(ch.gates[0].env, 'staging');
      const text = run('system', 'show', 'bot');
      assert.equal(text.code, 0);
      assert.match(text.stdout, /needs-reassessment/);
      assert.match(text.stdout, /why: prompt support changed/);
      assert.match(text.stdout, /gate re-run .*bert@1 → staging/);
      assert.equal(json('component', 'show', 'support').versions.length, 2);
      assert.equal(json('system', 'list')[0].status, 'needs-reassessment');

      const re = json('system', 'pin', 'bot', '--model', 'bert@1', '--prompt', 'support@2', '--flag', 'streaming@1', '--by', 'bob');
      assert.equal(re.release, '2');
      assert.equal(json('system', 'show', 'bot').status, 'ok');
      assert.equal(run('system', 'show', 'nope').code, 2);
      const help = runCli(['component', 'add', '--help']);
      assert.match(help.stdout, /Examples:/);
    });
  });
}
