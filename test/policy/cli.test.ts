// `modelgate policy check|explain|default` through registerPolicy (see cli-harness.ts): output, JSON, exit codes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FIXTURES, ROOT } from '../helpers/scan.ts';
import { DEFAULT_POLICY_YAML } from '../../src/policy/index.ts';

const HARNESS = `${ROOT}test/policy/cli-harness.ts`;
// The tsx loader by absolute URL: the commands run in folders without node_modules.
const TSX = pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href;
const EMPTY = mkdtempSync(join(tmpdir(), 'mg-policy-cli-'));
after(() => rmSync(EMPTY, { recursive: true, force: true }));

function run(args: string[], cwd = EMPTY): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, HARNESS, 'policy', ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('check without a file in a folder without a policy uses the built-in default and prints the matrix', () => {
  const r = run(['check']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\(built-in default\): valid policy, 4 tiers × 3 environments \(dev, staging, production\)$/m);
  assert.match(r.stdout, /^high:\n  dev .*\n  staging .*evals=harmful-refusal≥0\.9 .*\n  production .*formats=safetensors\|gguf .*approvals=2\(security,ml-lead\) age≤14d/m);
});

test('check picks up ./modelgate.policy.yaml and reports invalid files with lines, exit 2', () => {
  const dir = mkdtempSync(join(EMPTY, 'cwd-'));
  writeFileSync(join(dir, 'modelgate.policy.yaml'), 'version: 1\nenvironments: [dev]\ntiers: { low: {}, medium: {}, high: {}, critical: {}, huge: {} }\n');
  const r = run(['check'], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /modelgate\.policy\.yaml:3:55: tiers\.huge: unknown key "huge" \(did you mean "high"\?\); expected one of: low, medium, high, critical/);
  const bad = run(['check', `${FIXTURES}/policy/invalid.policy.yaml`]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /invalid\.policy\.yaml:8:28: tiers\.medium\.production\.scan\.maxSeverity: expected a severity: info, low, medium, high or critical, found the text "severe"/);
  assert.match(bad.stderr, /invalid\.policy\.yaml:10:12: tiers\.high\.dev\.aprovals: unknown key "aprovals" \(did you mean "approvals"\?\)/);
  assert.match(bad.stderr, /invalid\.policy\.yaml:12:32: tiers\.critical\.default\.maxEvidenceAge: expected a duration.*found the text "1 month"/);
  assert.match(bad.stderr, /invalid policy \(3 problems\)$/m);
});

test('check --json: the matrix when valid, the issues when invalid', () => {
  const ok = run(['check', `${FIXTURES}/policy/valid.policy.yaml`, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const j = JSON.parse(ok.stdout);
  assert.equal(j.valid, true);
  assert.deepEqual(Object.keys(j.matrix), ['low', 'medium', 'high', 'critical']);
  assert.equal(j.matrix.high.production.maxEvidenceAge, '14d');
  assert.deepEqual(j.matrix.high.production.approvals, { quorum: 2, roles: ['security', 'ml-lead'] });
  const bad = run(['check', `${FIXTURES}/policy/invalid.policy.yaml`, '--json']);
  assert.equal(bad.code, 2);
  const b = JSON.parse(bad.stdout);
  assert.equal(b.valid, false);
  assert.deepEqual(b.issues.map((i: { line: number }) => i.line), [8, 10, 12]);
  assert.deepEqual(Object.keys(b.issues[0]).sort(), ['column', 'file', 'line', 'message', 'path']);
});

test('check of an unreadable file is exit 2 with one line', () => {
  const r = run(['check', join(EMPTY, 'nope.yaml')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^modelgate: .*nope\.yaml: cannot read the policy file \(ENOENT\)\n$/);
});

test('explain lists the requirements by the ids the gate reports', () => {
  const r = run(['explain', '--tier', 'high', '--env', 'production']);
  assert.equal(r.code, 0, r.stderr);
  const ids = r.stdout.split('\n').filter((l) => /^  [a-z]/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
  assert.deepEqual(ids, ['scan.severity', 'scan.formats', 'scan.remote-code', 'license', 'signature', 'eval:harmful-refusal', 'vulnerabilities', 'approvals']);
  assert.match(r.stdout, /· evidence older than 14d fails/);
  assert.match(r.stdout, /· waivers: up to 7d, granted by security/);
  const dev = run(['explain', '--tier', 'low', '--env', 'dev', '--json']);
  const j = JSON.parse(dev.stdout);
  assert.deepEqual(j.requirements.map((x: { id: string }) => x.id), ['scan.severity', 'license']);
  assert.equal(j.cell.maxEvidenceAge, '90d');
  const bad = run(['explain', '--tier', 'high', '--env', 'prod']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown environment "prod"/);
  assert.equal(run(['explain', '--env', 'dev']).code, 2, 'missing --tier is a usage error');
});

test('default prints the documented default policy', () => {
  const r = run(['default']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, DEFAULT_POLICY_YAML);
});
