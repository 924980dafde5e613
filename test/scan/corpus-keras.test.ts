// The public corpus families of this area (keras, nemo-hydra) meet their expected verdicts, and every
// hostile HDF5/msgpack/config fixture of the area ends in `error` with a finding, quickly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { FIXTURES, atLeast, findingsAbove, scanOne } from '../helpers/scan.ts';

interface Sample { path: string; expect: 'malicious' | 'clean' | 'review'; family: string; technique: string }
const manifest = JSON.parse(readFileSync(`${FIXTURES}/corpus/manifest.json`, 'utf8')) as { samples: Sample[] };
const FAMILIES = new Set(['keras', 'nemo-hydra']);
const samples = manifest.samples.filter((s) => FAMILIES.has(s.family));

test('the corpus has samples of both families', () => {
  for (const f of FAMILIES) assert.ok(samples.some((s) => s.family === f), `family ${f} missing`);
});

// Verdicts of every corpus sample (all families) are checked once, in corpus.test.ts.

test('corpus malicious Keras/NeMo samples are found by this area\'s rules', async () => {
  const want: Record<string, string> = {
    'keras/lambda_model.h5': 'MG-KERAS-001',
    'keras/model_with_lambda.keras': 'MG-KERAS-001',
    'keras/module_injection.keras': 'MG-KERAS-002',
    'nemo/model_target_subprocess.nemo': 'MG-HYDRA-001',
  };
  for (const [p, rule] of Object.entries(want)) {
    const { report } = await scanOne(`${FIXTURES}/corpus/${p}`);
    assert.ok(report.files.some((f) => f.findings.some((x) => x.ruleId === rule)), `${p}: no ${rule}`);
  }
});

const hostile = readdirSync(`${FIXTURES}/keras/hostile`);
for (const f of hostile) {
  test(`hostile ${f}: error status with a finding, bounded`, async () => {
    const t0 = performance.now();
    const { report, code } = await scanOne(`${FIXTURES}/keras/hostile/${f}`);
    const errored = report.files.filter((r) => r.status === 'error');
    assert.ok(errored.length > 0, JSON.stringify(report.files.map((r) => [r.path, r.status])));
    for (const r of errored) assert.ok(r.findings.length > 0);
    assert.notEqual(code, 0);
    assert.ok(performance.now() - t0 < 5000);
  });
}

test('every rule of this area is reached by its fixtures', async () => {
  const { kerasHydraRules } = await import('../../src/scan/rules/keras-hydra.ts');
  const { report } = await scanOne(`${FIXTURES}/keras`);
  const seen = new Set(report.files.flatMap((f) => f.findings.map((x) => x.ruleId)));
  for (const r of kerasHydraRules) assert.ok(seen.has(r.id), `${r.id} is reached by no fixture`);
});
