// The `modelgate` command as a user runs it (the built bin): output contract, exit codes, help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import { FIXTURES, ROOT, runCli } from './helpers/scan.ts';
import { RULES } from '../src/scan/rules/index.ts';

const MAL = `${FIXTURES}/corpus/deny/os_system_p1.pkl`;
const CLEAN = `${FIXTURES}/real/state_dict.pt`;

test('clean model: exit 0, text report names the file and PASS', () => {
  const r = runCli(['scan', CLEAN]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /state_dict\.pt\s+pytorch-zip/);
  assert.match(r.stdout, /PASS \(exit 0\)/);
});

test('malicious pickle: exit 1 and the resolved call in the message', () => {
  const r = runCli(['scan', MAL]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /CRITICAL\s+MG-PKL-001/);
  assert.match(r.stdout, /os\.system\("echo MG_PUB_CANARY/);
});

test('--format json follows the documented schema', () => {
  const r = runCli(['scan', MAL, CLEAN, '--format', 'json']);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.schemaVersion, 1);
  assert.deepEqual(Object.keys(doc.tool), ['name', 'version']);
  assert.equal(doc.tool.name, 'modelgate');
  assert.equal(doc.tool.version, JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).version);
  for (const k of ['files', 'scanned', 'skipped', 'errors', 'maxSeverity', 'bySeverity']) assert.ok(k in doc.summary, k);
  assert.equal(doc.summary.maxSeverity, 'critical');
  assert.equal(doc.files.length, 2);
  assert.deepEqual(doc.models.map((m: { path: string; modelFormats: string[] }) => [m.path, m.modelFormats]), [[MAL, ['pickle']], [CLEAN, ['pytorch-zip']]]);
  for (const f of doc.files) {
    assert.deepEqual(Object.keys(f), ['path', 'format', 'size', 'sha256', 'status', 'findings']);
    assert.match(f.sha256, /^[0-9a-f]{64}$/);
    for (const x of f.findings) assert.deepEqual(Object.keys(x), ['ruleId', 'severity', 'path', 'offset', 'message', 'evidence']);
  }
  const mal = doc.files.find((f: { path: string }) => f.path.endsWith('os_system_p1.pkl'));
  const hit = mal.findings.find((x: { ruleId: string }) => x.ruleId === 'MG-PKL-001');
  assert.equal(hit.evidence.import, 'os.system');
  assert.equal(hit.evidence.opcode, 'GLOBAL');
  assert.equal(typeof hit.offset, 'number');
});

test('the format inventory of a model folder lists what it is made of', () => {
  const doc = JSON.parse(runCli(['scan', `${FIXTURES}/corpus/hf_model_bert/`, '--format', 'json']).stdout);
  assert.equal(doc.models.length, 1);
  assert.deepEqual(doc.models[0].modelFormats, ['safetensors']);
  assert.equal(doc.models[0].formats.json, 4);
});

test('--no-hash leaves sha256 null', () => {
  const doc = JSON.parse(runCli(['scan', CLEAN, '--format', 'json', '--no-hash']).stdout);
  assert.equal(doc.files[0].sha256, null);
});

test('--format sarif validates against the SARIF 2.1.0 schema and carries the rule catalogue', () => {
  const r = runCli(['scan', MAL, `${FIXTURES}/corpus/container/torch_zip_dup_names.pt`, '--format', 'sarif']);
  assert.equal(r.code, 1);
  const sarif = JSON.parse(r.stdout);
  const schema = JSON.parse(readFileSync(`${FIXTURES}/schemas/sarif-2.1.0-rtm.5.json`, 'utf8'));
  const Ajv = ((AjvDraft04 as unknown as { default?: unknown }).default ?? AjvDraft04) as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown[] } };
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  const validate = ajv.compile(schema);
  assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 5)));
  const run = sarif.runs[0];
  assert.equal(run.tool.driver.rules.length, RULES.length);
  assert.ok(run.results.some((x: { ruleId: string; level: string }) => x.ruleId === 'MG-PKL-001' && x.level === 'error'));
  assert.ok(run.results.some((x: { ruleId: string }) => x.ruleId === 'MG-ZIP-001'));
  for (const x of run.results) assert.equal(run.tool.driver.rules[x.ruleIndex].id, x.ruleId);
});

test('--fail-on moves the threshold; --output writes the report to a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-cli-'));
  const review = `${FIXTURES}/real/full_model.pt`; // imports fixture_models.Net: medium
  assert.equal(runCli(['scan', review]).code, 0);
  assert.equal(runCli(['scan', review, '--fail-on', 'medium']).code, 1);
  const out = join(dir, 'r.json');
  const r = runCli(['scan', MAL, '--format', 'json', '-o', out]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /report written to/);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).summary.maxSeverity, 'critical');
});

test('fail closed: a file named like a model that is none exits 2; danger still wins with exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-cli-'));
  writeFileSync(join(dir, 'weights.safetensors'), 'this is not a model at all\n');
  const r = runCli(['scan', dir, '--format', 'json']);
  assert.equal(r.code, 2);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.files[0].status, 'error');
  assert.equal(doc.files[0].findings[0].ruleId, 'MG-FMT-001');
  copyFileSync(MAL, join(dir, 'evil.pkl'));
  assert.equal(runCli(['scan', dir]).code, 1);
});

test('text files are read by the text checks; binary data is listed as skipped; neither fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-cli-'));
  writeFileSync(join(dir, 'README.md'), '# a model card\n');
  writeFileSync(join(dir, 'config.json'), '{"hidden_size": 8}\n');
  writeFileSync(join(dir, 'logo.png'), Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'));
  const r = runCli(['scan', dir, '--format', 'json']);
  assert.equal(r.code, 0);
  const doc = JSON.parse(r.stdout);
  const by = Object.fromEntries(doc.files.map((f: { path: string; status: string; format: string }) => [f.path.split('/').pop(), `${f.status}/${f.format}`]));
  assert.deepEqual(by, { 'README.md': 'scanned/markdown', 'config.json': 'scanned/json', 'logo.png': 'skipped/binary' });
});

test('usage errors exit 2 with a message', () => {
  let r = runCli(['scan', '/nonexistent/model.pt']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no such file or folder/);
  r = runCli(['scan', CLEAN, '--fail-on', 'catastrophic']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown severity/);
  r = runCli(['scan', CLEAN, '--format', 'xml']);
  assert.equal(r.code, 2);
  r = runCli(['scan']);
  assert.equal(r.code, 2);
  r = runCli(['explain', 'MG-NOPE-1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no rule/);
});

test('help teaches: exit codes and examples', () => {
  const r = runCli(['scan', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Exit codes:/);
  assert.match(r.stdout, /--fail-on/);
  assert.match(r.stdout, /--no-hash/);
});

test('rules lists the catalogue; explain prints what/why/fix/references', () => {
  const r = runCli(['rules']);
  assert.equal(r.code, 0);
  for (const rule of RULES) assert.match(r.stdout, new RegExp(rule.id));
  const e = runCli(['explain', 'mg-pkl-001']);
  assert.equal(e.code, 0);
  assert.match(e.stdout, /What it detects:/);
  assert.match(e.stdout, /Why it is dangerous:/);
  assert.match(e.stdout, /How to fix or accept it:/);
  assert.match(e.stdout, /References:/);
  const j = JSON.parse(runCli(['rules', '--json']).stdout);
  assert.equal(j.length, RULES.length);
  for (const rule of j) for (const k of ['id', 'severity', 'title', 'detects', 'why', 'fix', 'references']) assert.ok(rule[k] !== undefined, `${rule.id}.${k}`);
});

test('parallel folder scan equals a one-thread scan', () => {
  const a = JSON.parse(runCli(['scan', `${FIXTURES}/corpus/container`, '--format', 'json', '--jobs', '2']).stdout);
  const b = JSON.parse(runCli(['scan', `${FIXTURES}/corpus/container`, '--format', 'json', '--jobs', '1']).stdout);
  assert.deepEqual(a, b);
  assert.ok(a.files.length >= 17);
});

test('the README documents every rule of the catalogue', () => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  for (const r of RULES) assert.ok(readme.includes(`| ${r.id} |`), `${r.id} missing from the README rules table`);
});
