// The knowledge base: its texts are the fixture bytes, and every clause it cites is in the text it cites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MODEL_LICENSES, AUP_TEXTS, normalizeLicenseText, classifySpdx, spdxId, entryForLicenseName } from '../../src/license/index.ts';
import { KB_TEXTS } from '../../src/license/kb/texts.generated.ts';
import { FIXTURES } from '../helpers/scan.ts';

test('KB texts are byte-identical to test/fixtures/licenses (regenerate with scripts/license-texts.mjs)', () => {
  assert.equal(KB_TEXTS.length, 18);
  for (const t of KB_TEXTS) {
    const bytes = readFileSync(`${FIXTURES}/licenses/${t.file}`);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), t.sha256, t.file);
    assert.equal(bytes.toString('utf8'), t.text, t.file);
  }
});

test('every verified model entry has a text, and every quoted clause appears in it (normalised)', () => {
  let checked = 0;
  for (const e of MODEL_LICENSES.filter((x) => x.verified)) {
    assert.ok(e.textFile, e.id);
    const license = normalizeLicenseText(readFileSync(`${FIXTURES}/licenses/${e.textFile}`, 'utf8'));
    const aup = e.acceptableUse?.textFile ? normalizeLicenseText(readFileSync(`${FIXTURES}/licenses/${e.acceptableUse.textFile}`, 'utf8')) : '';
    const clauses = [...e.obligations.map((o) => o.clause), e.threshold?.clause, e.acceptableUse?.clause].filter((c) => c !== undefined);
    for (const c of clauses) {
      const haystack = /Acceptable Use Policy$/.test(c.section) ? aup : license;
      for (const piece of c.quote.split('…').map((p) => normalizeLicenseText(p)).filter((p) => p.length > 0)) {
        assert.ok(haystack.includes(piece), `${e.id} ${c.section}: "${piece}" not found in ${e.textFile}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 60, `checked ${checked} quotes`);
});

test('thresholds read from the texts: Llama 700M, Tongyi Qianwen 100M (commercial only)', () => {
  for (const e of MODEL_LICENSES.filter((x) => x.id.startsWith('llama'))) assert.equal(e.threshold?.monthlyActiveUsers, 700_000_000, e.id);
  const q = MODEL_LICENSES.find((x) => x.id === 'tongyi-qianwen')!;
  assert.equal(q.threshold?.monthlyActiveUsers, 100_000_000);
  assert.deepEqual([...q.threshold!.appliesTo], ['commercial', 'internal']);
  assert.equal(MODEL_LICENSES.find((x) => x.id === 'tongyi-qianwen-research')!.researchOnly, true);
});

test('each AUP text belongs to exactly one Llama license', () => {
  assert.deepEqual(AUP_TEXTS.map((a) => a.license), ['llama2', 'llama3', 'llama3.1', 'llama3.2', 'llama3.3', 'llama4']);
});

test('SPDX classification of common licenses; unknown stays unknown', () => {
  const expect: Record<string, string> = {
    'Apache-2.0': 'permissive', MIT: 'permissive', 'BSD-3-Clause': 'permissive', 'CC-BY-4.0': 'permissive',
    'CC0-1.0': 'public-domain', Unlicense: 'public-domain',
    'LGPL-2.1-only': 'weak-copyleft', 'MPL-2.0': 'weak-copyleft', 'EPL-2.0': 'weak-copyleft',
    'GPL-3.0-only': 'strong-copyleft', 'AGPL-3.0-only': 'strong-copyleft', 'CC-BY-SA-4.0': 'strong-copyleft',
    'CC-BY-NC-4.0': 'non-commercial', 'CC-BY-NC-SA-4.0': 'non-commercial', 'CC-BY-NC-ND-4.0': 'non-commercial',
    'CC-BY-ND-4.0': 'no-derivatives',
    'Sleepycat': 'unknown', 'LicenseRef-acme': 'unknown',
  };
  for (const [id, cat] of Object.entries(expect)) assert.equal(classifySpdx(id), cat, id);
  assert.equal(spdxId('apache-2.0'), 'Apache-2.0');
  assert.equal(spdxId('not-a-license'), null);
});

test('license_name lookup tolerates case, spaces and underscores', () => {
  assert.equal(entryForLicenseName('DeepSeek')?.id, 'deepseek');
  assert.equal(entryForLicenseName('tongyi_qianwen_research')?.id, 'tongyi-qianwen-research');
  assert.equal(entryForLicenseName('Tongyi Qianwen')?.id, 'tongyi-qianwen');
  assert.equal(entryForLicenseName('acme'), null);
});
