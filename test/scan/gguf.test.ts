// The GGUF analyzer end to end over test/fixtures/gguf (make_gguf.py): real templates and format variants
// are clean, hostile headers end in `error` with MG-GGUF-001 quickly, anomalies get their rule, and a
// malicious template survives every wrapping (archives, truncation, duplicate keys).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import { FIXTURES, atLeast, findingsAbove, scanOne } from '../helpers/scan.ts';
import { storedZip, ustar } from '../helpers/archives.ts';

const G = `${FIXTURES}/gguf`;
const rules = (report: { files: Array<{ findings: Array<{ ruleId: string }> }> }) => new Set(report.files.flatMap((f) => f.findings.map((x) => x.ruleId)));

for (const dir of ['real', 'variants']) {
  test(`every ${dir}/ GGUF is clean, with a summary`, async () => {
    const { report, code } = await scanOne(`${G}/${dir}`);
    assert.equal(code, 0, findingsAbove(report, 'low').join('; '));
    assert.deepEqual(findingsAbove(report, 'low'), []);
    assert.equal(report.summary.errors, 0);
    for (const f of report.files) {
      assert.equal(f.format, 'gguf', f.path);
      assert.ok(f.findings.some((x) => x.ruleId === 'MG-GGUF-003'), f.path);
    }
    if (dir === 'real') assert.equal(report.files.length, 21);
  });
}

test('the summary evidence names version, byte order, architecture and templates', async () => {
  const { report } = await scanOne(`${G}/variants/big_endian_v3.gguf`);
  const s = report.files[0].findings.find((x) => x.ruleId === 'MG-GGUF-003');
  assert.deepEqual({ ...s?.evidence }, { version: 3, byteOrder: 'big', architecture: 'llama', name: 'be', tensors: 1, metadata: 15, alignment: 32, chatTemplates: ['tokenizer.chat_template'] });
});

for (const name of readdirSync(`${G}/hostile`)) {
  test(`hostile/${name} ends in error with MG-GGUF-001, quickly`, async () => {
    const t0 = performance.now();
    const { report, code } = await scanOne(`${G}/hostile/${name}`);
    assert.ok(performance.now() - t0 < 2000);
    const row = report.files[0];
    assert.equal(row.status, 'error');
    assert.equal(row.format, 'gguf');
    const f = row.findings.find((x) => x.ruleId === 'MG-GGUF-001');
    assert.ok(f, JSON.stringify(row.findings));
    assert.equal(f.severity, 'high');
    assert.equal(code, 1); // high finding wins over the error status
  });
}

test('a malicious template before a truncation is still reported', async () => {
  const { report } = await scanOne(`${G}/hostile/ssti_then_truncated.gguf`);
  assert.ok(rules(report).has('MG-TPL-001'));
  assert.equal(report.summary.maxSeverity, 'critical');
});

test('anomalies get their rules', async () => {
  const expect: Record<string, [string, string][]> = {
    'tensor_out_of_bounds.gguf': [['MG-GGUF-001', 'high']],
    'layout_anomalies.gguf': [['MG-GGUF-002', 'medium']],
    'trailing_bytes.gguf': [['MG-GGUF-002', 'low']],
    'template_not_string.gguf': [['MG-GGUF-002', 'medium']],
    'duplicate_template_key.gguf': [['MG-GGUF-002', 'medium'], ['MG-TPL-001', 'critical']],
  };
  assert.deepEqual(readdirSync(`${G}/anomalies`).sort(), Object.keys(expect).sort());
  for (const [file, want] of Object.entries(expect)) {
    const { report } = await scanOne(`${G}/anomalies/${file}`);
    const got = report.files[0].findings.map((f) => [f.ruleId, f.severity]);
    for (const w of want) assert.ok(got.some((g) => g[0] === w[0] && g[1] === w[1]), `${file}: ${JSON.stringify(got)}`);
    assert.equal(report.files[0].status, 'scanned', file);
  }
});

test('a GGUF inside zip and tar archives is parsed and its template checked', async () => {
  const ssti = new Uint8Array(readFileSync(`${FIXTURES}/corpus/gguf/chat_template_ssti.gguf`));
  for (const [name, bytes] of [['m.zip', storedZip([['model/evil.gguf', ssti]])], ['m.tar', ustar([['model/evil.gguf', ssti]])]] as const) {
    const rows = await scanSource(new BufferSource(bytes), name, { hash: false });
    const f = rows.flatMap((r) => r.findings).find((x) => x.ruleId === 'MG-TPL-001');
    assert.ok(f, name);
    assert.equal(f.path, `${name}!model/evil.gguf!tokenizer.chat_template`);
  }
});

test('a GGUF named otherwise is still found by content; a .gguf that is not GGUF fails closed', async () => {
  const ssti = new Uint8Array(readFileSync(`${FIXTURES}/corpus/gguf/chat_template_ssti.gguf`));
  const rows = await scanSource(new BufferSource(ssti), 'weights.bin', { hash: false });
  assert.equal(rows[0].format, 'gguf');
  assert.ok(rows[0].findings.some((f) => f.ruleId === 'MG-TPL-001' && atLeast(f.severity, 'high')));
  const fake = await scanSource(new BufferSource(new Uint8Array(64).fill(7)), 'model.gguf', { hash: false });
  assert.equal(fake[0].status, 'error');
});

for (const name of readdirSync(`${G}/malicious`)) {
  test(`malicious/${name} exits 1 with a template finding ≥ high`, async () => {
    const { report, code } = await scanOne(`${G}/malicious/${name}`);
    assert.equal(code, 1);
    const f = report.files[0].findings.filter((x) => x.ruleId.startsWith('MG-TPL-') && atLeast(x.severity, 'high'));
    assert.ok(f.length > 0, JSON.stringify(report.files[0].findings));
    assert.ok(f.every((x) => x.path.endsWith('!tokenizer.chat_template')));
  });
}

test('a template that loads another template is flagged and, unparseable by the subset parser, fails closed', async () => {
  const { report } = await scanOne(`${G}/malicious/include_file.gguf`);
  assert.ok(rules(report).has('MG-TPL-003'));
  assert.ok(rules(report).has('MG-TPL-004'));
  assert.equal(report.files[0].status, 'error');
});

test('every GGUF and template rule is reached by the committed GGUF fixtures', async () => {
  const { report } = await scanOne(G);
  const seen = rules(report);
  for (const id of ['MG-GGUF-001', 'MG-GGUF-002', 'MG-GGUF-003', 'MG-TPL-001', 'MG-TPL-002', 'MG-TPL-003', 'MG-TPL-004']) assert.ok(seen.has(id), id);
});
