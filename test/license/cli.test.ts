// `modelgate license` as a user runs it (the built bin): JSON shape, exit codes, usage errors, help.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, runCli } from '../helpers/scan.ts';

const DIR = mkdtempSync(join(tmpdir(), 'mg-license-cli-'));
after(() => rmSync(DIR, { recursive: true, force: true }));
writeFileSync(join(DIR, 'README.md'), '---\nlicense: llama3.1\n---\n# model\n');
writeFileSync(join(DIR, 'LICENSE'), readFileSync(`${FIXTURES}/licenses/llama3.1.txt`));

test('approved → exit 0; JSON has the documented shape', () => {
  const r = runCli(['license', DIR, '--use', 'commercial', '--users', '1,000,000', '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const j = JSON.parse(r.stdout);
  assert.equal(j.schemaVersion, 1);
  assert.equal(j.tool.name, 'modelgate');
  assert.equal(j.use, 'commercial');
  assert.equal(j.users, 1_000_000);
  assert.equal(j.decision, 'approved');
  assert.equal(j.expression, 'LicenseRef-llama3.1');
  assert.deepEqual(Object.keys(j).sort(), ['decision', 'evidence', 'expression', 'licenses', 'obligations', 'path', 'reasons', 'schemaVersion', 'tool', 'use', 'users']);
  const lic = j.licenses[0];
  assert.deepEqual(Object.keys(lic).sort(), ['category', 'entry', 'evidence', 'name', 'spdx']);
  const file = lic.evidence.find((e: { kind: string }) => e.kind === 'license-file');
  assert.equal(file.file, 'LICENSE');
  assert.match(file.sha256, /^[0-9a-f]{64}$/);
  assert.match(file.normalizedSha256, /^[0-9a-f]{64}$/);
  assert.equal(file.match.kind, 'exact');
  assert.equal(file.match.score, 1);
  assert.equal(file.match.kbFile, 'llama3.1.txt');
  for (const o of j.obligations) {
    assert.ok(['attribution', 'naming', 'acceptable-use', 'pass-through', 'field-of-use', 'redistribution', 'outputs', 'geography', 'user-threshold', 'remote-restriction', 'copyleft', 'governing-law'].includes(o.kind));
    assert.equal(o.license, 'llama3.1');
  }
  for (const x of j.reasons) assert.ok(['approved', 'review', 'forbidden'].includes(x.decision));
});

test('review → exit 3 (never success); forbidden → exit 1', () => {
  const review = runCli(['license', DIR, '--use', 'commercial']);
  assert.equal(review.code, 3);
  assert.match(review.stdout, /REVIEW for commercial use/);
  assert.match(review.stdout, /pass --users N/);
  const forbidden = runCli(['license', DIR, '--use', 'internal', '--users', '800000000']);
  assert.equal(forbidden.code, 1);
  assert.match(forbidden.stdout, /FORBIDDEN/);
  assert.match(forbidden.stdout, /\[§2 Additional Commercial Terms\]/);
});

test('usage errors → exit 2', () => {
  assert.equal(runCli(['license', DIR, '--use', 'resale']).code, 2);
  assert.equal(runCli(['license', DIR]).code, 2, '--use is required');
  const bad = runCli(['license', DIR, '--use', 'research', '--users', 'many']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--users takes a whole number/);
  const missing = runCli(['license', join(DIR, 'nope'), '--use', 'research']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or folder/);
});

test('--help teaches uses, exit codes and examples', () => {
  const r = runCli(['license', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /3 {2}review needed/);
  assert.match(r.stdout, /modelgate license \.\/Llama-3\.1-8B --use commercial --users/);
});
