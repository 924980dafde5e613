// The public corpus families of the graph formats (test/fixtures/corpus, manifest.json): each sample meets
// its expected verdict through the library and the exit-code contract; folder samples are scanned as folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FIXTURES, atLeast, findingsAbove, scanOne } from '../helpers/scan.ts';

interface Sample { path: string; expect: 'malicious' | 'clean' | 'review'; family: string; technique: string }
const manifest = JSON.parse(readFileSync(`${FIXTURES}/corpus/manifest.json`, 'utf8')) as { samples: Sample[] };
const FAMILIES = new Set(['onnx']);
const samples = manifest.samples.filter((s) => FAMILIES.has(s.family));

test('the corpus has the graph-format samples', () => {
  assert.deepEqual(samples.map((s) => s.path).sort(), ['onnx/tiny.onnx', 'onnx_traversal', 'onnx_with_data']);
});

// Verdicts of every corpus sample (all families) are checked once, in corpus.test.ts.

test('the traversal sample is reported as CVE-2022-25882-style external data escaping the folder', async () => {
  const { report } = await scanOne(`${FIXTURES}/corpus/onnx_traversal`);
  const f = report.files.flatMap((r) => r.findings).find((x) => x.ruleId === 'MG-ONNX-001');
  assert.equal(f?.severity, 'critical');
  assert.match(String(f?.evidence.location), /etc\/passwd$/);
});
