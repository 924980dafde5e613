// The public corpus (test/fixtures/corpus, copied from shared/corpus with its manifest): every sample of
// every family meets its expected verdict through the library and exit-code contract:
// malicious ⇒ exit 1 with a critical/high finding; clean ⇒ exit 0, nothing above low; review ⇒ nothing
// above medium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FIXTURES, atLeast, findingsAbove, scanOne } from '../helpers/scan.ts';

interface Sample { path: string; expect: 'malicious' | 'clean' | 'review'; family: string; technique: string }
const manifest = JSON.parse(readFileSync(`${FIXTURES}/corpus/manifest.json`, 'utf8')) as { samples: Sample[] };
const samples = manifest.samples;
const FAMILIES = ['pickle-data', 'torch', 'torchscript', 'numpy', 'sklearn-joblib', 'safetensors', 'container', 'pickle/deny-gadget', 'pickle/opcode-trick', 'pickle/code-injection',
  'gguf', 'chat-template-data', 'docs', 'onnx', 'keras', 'nemo-hydra', 'hf-remote-code', 'hf-folder', 'secret-leak', 'text'];

test('the corpus covers every family', () => {
  const seen = new Set(samples.map((s) => s.family));
  for (const f of FAMILIES) assert.ok(seen.has(f), `family ${f} missing`);
  for (const f of seen) assert.ok(FAMILIES.includes(f), `family ${f} is new: add it to this list`);
  assert.equal(samples.length, 114);
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
