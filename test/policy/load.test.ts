// Policy files: the default validates and matches the shipped file; bad files fail with the line, what was
// expected and what was found; layers merge as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ROOT } from '../helpers/scan.ts';
import { checkPolicy, defaultPolicy, parsePolicy, PolicyError, DEFAULT_POLICY_YAML, type PolicyIssue } from '../../src/policy/index.ts';

const HEAD = 'version: 1\nenvironments: [dev, staging, production]\nroles: [security, ml-lead]\n';
const TIERS_OK = 'tiers:\n  low: {}\n  medium: {}\n  high: {}\n  critical: {}\n';

function issues(text: string): PolicyIssue[] {
  const r = checkPolicy(text, 'p.yaml');
  assert.equal(r.policy, null, 'expected the policy to be invalid');
  assert.ok(r.issues.length > 0);
  return r.issues;
}

function only(text: string): PolicyIssue {
  const list = issues(text);
  assert.equal(list.length, 1, JSON.stringify(list, null, 2));
  return list[0];
}

test('the built-in default validates and is the same text as modelgate.policy.yaml', () => {
  assert.equal(readFileSync(`${ROOT}modelgate.policy.yaml`, 'utf8'), DEFAULT_POLICY_YAML);
  const p = defaultPolicy();
  assert.deepEqual(p.environments, ['dev', 'staging', 'production']);
  assert.equal(p.source, '(built-in default)');
  // production is stricter than staging for the high tier
  assert.equal(p.cells.high.production.maxEvidenceAge, '14d');
  assert.equal(p.cells.high.staging.maxEvidenceAge, '30d');
  assert.deepEqual(p.cells.high.production.scan?.allowedFormats, ['safetensors', 'gguf']);
  assert.deepEqual(p.cells.high.staging.scan?.allowedFormats, ['safetensors', 'gguf', 'onnx']);
  assert.equal(p.cells.critical.production.waivers, null);
  assert.equal(p.cells.high.dev.signature, null, 'null removes a requirement inherited from the tier default');
});

test('wrong type names the line, the expectation and what was found', () => {
  const i = only(`${HEAD}defaults:\n  approvals:\n    quorum: two\n${TIERS_OK}`);
  assert.equal(i.line, 6);
  assert.equal(i.path, 'defaults.approvals.quorum');
  assert.match(i.message, /expected a whole number, found the text "two"/);
});

test('unknown key: the line of the key, a suggestion and the allowed keys', () => {
  const i = only(`${HEAD}defaults:\n  scan:\n    maxSeverty: low\n${TIERS_OK}`);
  assert.equal(i.line, 6);
  assert.equal(i.column, 5);
  assert.equal(i.path, 'defaults.scan.maxSeverty');
  assert.match(i.message, /unknown key "maxSeverty" \(did you mean "maxSeverity"\?\); expected one of: maxSeverity, waivableRules, allowedFormats, remoteCode/);
  const top = only(`${HEAD}tier:\n  low: {}\n${TIERS_OK}`);
  assert.equal(top.line, 4);
  assert.match(top.message, /unknown key "tier" \(did you mean "tiers"\?\)/);
});

test('bad duration and bad severity are reported with their lines', () => {
  const list = issues(`${HEAD}defaults:\n  maxEvidenceAge: 30 days\n  waivers: { maxDuration: 2y }\n${TIERS_OK.replace('high: {}', 'high:\n    production:\n      scan: { maxSeverity: hihg }')}`);
  const byPath = new Map(list.map((i) => [i.path, i]));
  const age = byPath.get('defaults.maxEvidenceAge')!;
  assert.equal(age.line, 5);
  assert.match(age.message, /expected a duration: a whole number and a unit m, h, d or w \(e\.g\. 30d, 12h, 2w\), found the text "30 days"/);
  assert.equal(byPath.get('defaults.waivers.maxDuration')!.line, 6);
  const sev = byPath.get('tiers.high.production.scan.maxSeverity')!;
  assert.equal(sev.line, 12);
  assert.match(sev.message, /expected a severity: info, low, medium, high or critical, found the text "hihg"/);
});

test('a missing tier and a missing top-level key are named', () => {
  const list = issues('version: 1\ntiers:\n  low: {}\n  medium: {}\n  high: {}\n');
  const msgs = list.map((i) => `${i.path}|${i.message}`);
  assert.ok(msgs.includes('|missing required key "environments"'), msgs.join('\n'));
  assert.ok(msgs.includes('tiers|missing required key "critical"'), msgs.join('\n'));
  assert.equal(list.find((i) => i.path === 'tiers')!.line, 3);
});

test('version must be 1', () => {
  const i = only(HEAD.replace('version: 1', 'version: 2') + TIERS_OK);
  assert.equal(i.line, 1);
  assert.match(i.message, /expected the number 1 .*found the number 2/);
});

test('an undeclared environment is named with a suggestion', () => {
  const i = only(`${HEAD}${TIERS_OK.replace('medium: {}', 'medium:\n    prodution: { maxEvidenceAge: 7d }')}`);
  assert.equal(i.line, 7);
  assert.match(i.message, /unknown environment "prodution" \(did you mean "production"\?\)/);
});

test('roles must be declared; rule ids must exist; approvals cannot be waived', () => {
  const list = issues(`${HEAD}defaults:\n  approvals: { quorum: 1, roles: [ml-lead, auditor] }\n  scan: { maxSeverity: low, waivableRules: [MG-XX-999] }\n${TIERS_OK}`);
  assert.deepEqual(list.map((i) => i.line), [5, 6]);
  assert.match(list[0].message, /unknown role "auditor"; expected one of the roles: security, ml-lead/);
  assert.match(list[1].message, /no rule "MG-XX-999" in the catalogue/);
  const w = only(`${HEAD}defaults:\n  waivers: { maxDuration: 7d, requirements: [approvals] }\n${TIERS_OK}`);
  assert.equal(w.line, 5);
  assert.match(w.message, /approvals are never waivable/);
});

test('after merging, a section without its key field is an error naming the cell', () => {
  const i = only(`${HEAD}${TIERS_OK.replace('high: {}', 'high:\n    production:\n      approvals: { roles: [security] }')}`);
  assert.equal(i.line, 9, 'the line of the section that lacks it');
  assert.equal(i.path, 'tiers.high.production.approvals');
  assert.match(i.message, /"approvals" needs "quorum" .*; in high × production$/);
  const q = only(`${HEAD}defaults:\n  approvals: { quorum: 1, roles: [security, ml-lead] }\n${TIERS_OK}`);
  assert.equal(q.line, 5);
  assert.equal(q.path, 'defaults.approvals');
  assert.match(q.message, /quorum 1 is less than the 2 roles required \(security, ml-lead\); in 12 cells \(low × dev, low × staging, low × production, …\)/);
});

test('YAML syntax errors and duplicate keys carry a line', () => {
  const s = issues(`${HEAD}defaults:\n  scan: [low\n${TIERS_OK}`)[0];
  assert.match(s.message, /^not valid YAML/);
  assert.ok(s.line !== null && s.line >= 5, `line ${s.line}`);
  const d = issues(`${HEAD}environments: [dev]\n${TIERS_OK}`)[0];
  assert.equal(d.line, 4);
  assert.match(d.message, /not valid YAML: .*unique/i);
  assert.match(only('').message, /empty/);
});

test('layers merge: mappings key by key, lists replace, null removes', () => {
  const p = parsePolicy(
    `${HEAD}defaults:\n  maxEvidenceAge: 30d\n  scan: { maxSeverity: low, allowedFormats: [safetensors, gguf] }\n  license: { allowed: [approved] }\n` +
      'tiers:\n  low:\n    default:\n      scan: { maxSeverity: high }\n    dev:\n      license: null\n      maxEvidenceAge: null\n  medium: {}\n  high:\n    production:\n      scan: { allowedFormats: [safetensors] }\n  critical: {}\n',
    'p.yaml',
  );
  assert.equal(p.cells.low.staging.scan?.maxSeverity, 'high');
  assert.deepEqual(p.cells.low.staging.scan?.allowedFormats, ['safetensors', 'gguf'], 'a mapping merges with the inherited one');
  assert.equal(p.cells.low.dev.license, null);
  assert.equal(p.cells.low.dev.maxEvidenceAgeMs, null);
  assert.equal(p.cells.low.staging.maxEvidenceAgeMs, 30 * 86_400_000);
  assert.deepEqual(p.cells.high.production.scan?.allowedFormats, ['safetensors'], 'a list replaces');
  assert.equal(p.cells.high.production.scan?.maxSeverity, 'low');
});

test('parsePolicy throws POLICY_INVALID with every issue as file:line:column', () => {
  assert.throws(
    () => parsePolicy(`${HEAD}defaults:\n  approvals:\n    quorum: -1\n${TIERS_OK}`, 'ops/policy.yaml'),
    (e: unknown) => e instanceof PolicyError && e.code === 'POLICY_INVALID' && /^ops\/policy\.yaml:6:13: defaults\.approvals\.quorum: expected a number >= 0, found the number -1$/.test(e.message),
  );
});
