// The public corpus families of the remote-code and secrets areas meet their expected verdicts
// through the library and the exit-code contract (folder samples are scanned as folders).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FIXTURES, atLeast, findingsAbove, scanOne } from '../helpers/scan.ts';

interface Sample { path: string; expect: 'malicious' | 'clean' | 'review'; family: string; technique: string }
const manifest = JSON.parse(readFileSync(`${FIXTURES}/corpus/manifest.json`, 'utf8')) as { samples: Sample[] };
const FAMILIES = new Set(['hf-remote-code', 'hf-folder', 'secret-leak', 'text']);
const samples = manifest.samples.filter((s) => FAMILIES.has(s.family));

test('the corpus covers every remote-code and secrets family', () => {
  assert.deepEqual([...new Set(samples.map((s) => s.family))].sort(), [...FAMILIES].sort());
});

// Verdicts of every corpus sample (all families) are checked once, in corpus.test.ts.

test('hf_automap_subprocess: the config names the imported files and the modeling file is critical at import time', async () => {
  const { report } = await scanOne(`${FIXTURES}/corpus/hf_automap_subprocess`);
  const config = report.files.find((f) => f.path.endsWith('config.json'))!.findings.find((f) => f.ruleId === 'MG-RC-001')!;
  assert.deepEqual(config.evidence.files, ['configuration_custom.py', 'modeling_custom.py']);
  assert.deepEqual(config.evidence.dangerous, ['modeling_custom.py']);
  const modeling = report.files.find((f) => f.path.endsWith('modeling_custom.py'))!.findings.find((f) => f.ruleId === 'MG-PY-001')!;
  assert.equal(modeling.severity, 'critical');
  assert.equal(modeling.evidence.call, 'subprocess.run');
  assert.equal(modeling.evidence.importTime, true);
  assert.equal(modeling.evidence.line, 4);
});
