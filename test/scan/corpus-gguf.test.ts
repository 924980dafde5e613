// The public corpus (test/fixtures/corpus) for the GGUF / chat-template families: every sample meets its
// expected verdict through the library and the exit-code contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FIXTURES, atLeast, findingsAbove, scanOne } from '../helpers/scan.ts';

interface Sample { path: string; expect: 'malicious' | 'clean' | 'review'; family: string; technique: string }
const manifest = JSON.parse(readFileSync(`${FIXTURES}/corpus/manifest.json`, 'utf8')) as { samples: Sample[] };
const FAMILIES = new Set(['gguf', 'chat-template-data', 'docs']);
const samples = manifest.samples.filter((s) => FAMILIES.has(s.family));

test('the corpus covers every GGUF / chat-template family', () => {
  const seen = new Set(samples.map((s) => s.family));
  for (const f of FAMILIES) assert.ok(seen.has(f), `family ${f} missing`);
  assert.ok(samples.length >= 28, `only ${samples.length} samples`);
  assert.ok(samples.some((s) => s.expect === 'malicious'));
});

// Verdicts of every corpus sample (all families) are checked once, in corpus.test.ts.

test('the SSTI sample is reported as template injection inside the GGUF metadata', async () => {
  const { report } = await scanOne(`${FIXTURES}/corpus/gguf/chat_template_ssti.gguf`);
  const f = report.files[0].findings.find((x) => x.ruleId === 'MG-TPL-001');
  assert.ok(f);
  assert.equal(f.severity, 'critical');
  assert.match(f.path, /chat_template_ssti\.gguf!tokenizer\.chat_template$/);
  assert.match(String(f.evidence.fragment), /lipsum\.__globals__/);
  assert.equal(report.files[0].format, 'gguf');
});
