// The public corpus (test/fixtures/corpus, copied from shared/corpus with its manifest): every sample of
// the scanner-core families meets its expected verdict through the library and exit-code contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FIXTURES, atLeast, findingsAbove, scanOne } from '../helpers/scan.ts';

interface Sample { path: string; expect: 'malicious' | 'clean' | 'review'; family: string; technique: string }
const manifest = JSON.parse(readFileSync(`${FIXTURES}/corpus/manifest.json`, 'utf8')) as { samples: Sample[] };
const FAMILIES = new Set(['pickle-data', 'torch', 'torchscript', 'numpy', 'sklearn-joblib', 'safetensors', 'container']);
const samples = manifest.samples.filter((s) => FAMILIES.has(s.family) || s.family.startsWith('pickle/'));

test('the corpus covers every scanner-core family', () => {
  const seen = new Set(samples.map((s) => s.family));
  for (const f of [...FAMILIES, 'pickle/deny-gadget', 'pickle/opcode-trick', 'pickle/code-injection']) assert.ok(seen.has(f), `family ${f} missing`);
  assert.ok(samples.length >= 70, `only ${samples.length} samples`);
});

for (const s of samples) {
  test(`${s.expect}: ${s.path} (${s.technique})`, async () => {
    const { report, code, worst } = await scanOne(`${FIXTURES}/corpus/${s.path}`);
    if (s.expect === 'malicious') {
      assert.equal(code, 1, `exit ${code}; findings: ${JSON.stringify(report.files.map((f) => [f.path, f.status, f.findings.map((x) => x.ruleId)]))}`);
      assert.ok(atLeast(worst, 'high'), `worst severity ${worst}`);
    } else if (s.expect === 'clean') {
      assert.equal(code, 0, `exit ${code}: ${findingsAbove(report, 'low').join('; ')}`);
      assert.deepEqual(findingsAbove(report, 'low'), []);
      assert.equal(report.summary.errors, 0);
    } else {
      assert.deepEqual(findingsAbove(report, 'medium'), []);
      assert.equal(report.summary.errors, 0);
    }
  });
}
