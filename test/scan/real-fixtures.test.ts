// Files written by the real libraries (test/fixtures/real/make_fixtures.py: torch 1.13, numpy, sklearn,
// joblib, dill, cloudpickle) must not raise alarms. TorchScript archives and a full-module save of a
// class outside every allowlist are "review" (medium at most), as in the corpus manifest: loading them
// runs code that the scanner can list but not vouch for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { FIXTURES, findingsAbove, scanOne } from '../helpers/scan.ts';

const REVIEW = new Map([
  ['full_model.pt', 'MG-PKL-003'],
  ['scripted.pt', 'MG-PT-001'],
  ['traced.pt', 'MG-PT-001'],
]);
const dir = `${FIXTURES}/real`;
const files = readdirSync(dir).filter((f) => !/\.(py|md)$/.test(f) && f !== '__pycache__');

test('real-library fixtures exist for every library', () => {
  for (const re of [/\.pt$/, /\.npy$/, /\.npz$/, /\.joblib$/, /\.joblib\.xz$/, /\.joblib\.lzma$/, /\.joblib\.bz2$/, /\.joblib\.gz$/, /\.joblib\.z$/, /\.joblib\.lz4$/, /dill/, /cloudpickle/, /legacy/]) {
    assert.ok(files.some((f) => re.test(f)), `no fixture matching ${re}`);
  }
});

for (const f of files) {
  test(`real fixture ${f} is ${REVIEW.has(f) ? 'review' : 'clean'}`, async () => {
    const { report, code } = await scanOne(`${dir}/${f}`, true);
    assert.equal(report.summary.errors, 0, JSON.stringify(report.files.map((x) => [x.path, x.status, x.findings.map((y) => y.message)])));
    const rule = REVIEW.get(f);
    if (rule) {
      assert.deepEqual(findingsAbove(report, 'medium'), []);
      assert.ok(report.files.some((x) => x.findings.some((y) => y.ruleId === rule)), `expected ${rule}`);
    } else {
      assert.equal(code, 0);
      assert.deepEqual(findingsAbove(report, 'low'), []);
    }
    for (const row of report.files) {
      assert.notEqual(row.format, 'unknown', `${row.path} not identified`);
      assert.match(row.sha256 ?? '', /^[0-9a-f]{64}$/);
    }
  });
}
