// A decision for every license text in test/fixtures/licenses, for each intended use, with and without
// monthly-active-user counts around the thresholds (Llama 700M, Tongyi Qianwen 100M).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { reviewLicense, exitCodeForLicense, type Decision, type IntendedUse } from '../../src/license/index.ts';
import { FIXTURES } from '../helpers/scan.ts';

const DIR = `${FIXTURES}/licenses/`;
const USES: IntendedUse[] = ['commercial', 'internal', 'research'];
type Row = Record<IntendedUse, Decision>;
const all = (d: Decision): Row => ({ commercial: d, internal: d, research: d });

const LLAMA = ['llama2', 'llama3', 'llama3.1', 'llama3.2', 'llama3.3', 'llama4'];
/** Expected decision per text, per user count (undefined = not given). */
const EXPECT: Record<string, { entry: string | null; byUsers: Array<[number | undefined, Row]> }> = {
  ...Object.fromEntries(
    LLAMA.map((id) => [
      `${id}.txt`,
      {
        entry: id,
        byUsers: [
          [undefined, all('review')], // the 700M threshold cannot be checked
          [1_000, all('approved')],
          [700_000_000, all('approved')], // "greater than 700 million"
          [700_000_001, all('forbidden')],
        ],
      },
    ]),
  ),
  'tongyi-qianwen.txt': {
    entry: 'tongyi-qianwen',
    byUsers: [
      [undefined, { commercial: 'review', internal: 'review', research: 'approved' }],
      [100_000_000, all('approved')], // "more than 100 million"
      [100_000_001, { commercial: 'forbidden', internal: 'forbidden', research: 'approved' }],
    ],
  },
  'tongyi-qianwen-research.txt': {
    entry: 'tongyi-qianwen-research',
    byUsers: [
      [undefined, { commercial: 'forbidden', internal: 'forbidden', research: 'approved' }],
      [10, { commercial: 'forbidden', internal: 'forbidden', research: 'approved' }],
    ],
  },
  'gemma.txt': { entry: 'gemma', byUsers: [[undefined, all('approved')], [2_000_000_000, all('approved')]] },
  'deepseek.txt': { entry: 'deepseek', byUsers: [[undefined, all('approved')], [2_000_000_000, all('approved')]] },
  'bigscience-bloom-rail-1.0.txt': { entry: 'bigscience-bloom-rail-1.0', byUsers: [[undefined, all('approved')]] },
  'creativeml-openrail-m.txt': { entry: 'creativeml-openrail-m', byUsers: [[undefined, all('approved')]] },
  // A use policy alone names no license: review.
  ...Object.fromEntries(LLAMA.map((id) => [`${id}-use-policy.md`, { entry: null, byUsers: [[undefined, all('review')], [1_000, all('review')]] }])),
};

test('every fixture text has an expectation', () => {
  const files = readdirSync(DIR).filter((f) => f !== 'README.md').sort();
  assert.deepEqual(files, Object.keys(EXPECT).sort());
});

for (const [file, exp] of Object.entries(EXPECT)) {
  test(`decisions for ${file}`, () => {
    for (const [users, row] of exp.byUsers) {
      for (const use of USES) {
        const r = reviewLicense(DIR + file, { use, users });
        assert.equal(r.decision, row[use], `${file} ${use} users=${users}: ${r.reasons.map((x) => `${x.decision}: ${x.text}`).join(' / ')}`);
        const ev = r.evidence.find((e) => e.file === file)!;
        assert.ok(ev.match, `${file} must match a KB text`);
        assert.equal(ev.match.kind, 'exact');
        assert.equal(ev.match.kbFile, file);
        assert.match(ev.sha256!, /^[0-9a-f]{64}$/);
        assert.match(ev.normalizedSha256!, /^[0-9a-f]{64}$/);
        if (exp.entry) assert.deepEqual(r.licenses.map((l) => l.entry), [exp.entry]);
        else assert.deepEqual(r.licenses, []);
        // every non-approving reason is explained
        for (const x of r.reasons) assert.ok(x.text.length > 10);
      }
    }
  });
}

test('threshold reasons cite the clause; forbidden carries the count', () => {
  const r = reviewLicense(`${DIR}llama3.1.txt`, { use: 'commercial', users: 800_000_000 });
  const reason = r.reasons.find((x) => x.decision === 'forbidden')!;
  assert.match(reason.text, /800,000,000 monthly active users is above the 700,000,000 threshold/);
  assert.equal(reason.clause?.section, '§2 Additional Commercial Terms');
  assert.equal(exitCodeForLicense(r.decision), 1);
});

test('obligations: Llama 3.1 naming and "Built with Llama"; Llama 3 prefix "Llama 3" and no improving other LLMs', () => {
  const l31 = reviewLicense(`${DIR}llama3.1.txt`, { use: 'commercial', users: 10 });
  assert.ok(l31.obligations.some((o) => o.kind === 'naming' && o.text.includes('beginning with "Llama"') && o.clause?.section === '§1.b.i'));
  assert.ok(l31.obligations.some((o) => o.kind === 'attribution' && o.text.includes('Built with Llama')));
  assert.ok(!l31.obligations.some((o) => o.kind === 'outputs'), 'Llama 3.1 dropped the clause on improving other LLMs');
  const l3 = reviewLicense(`${DIR}llama3.txt`, { use: 'commercial', users: 10 });
  assert.ok(l3.obligations.some((o) => o.kind === 'naming' && o.text.includes('"Llama 3"')));
  assert.ok(l3.obligations.some((o) => o.kind === 'outputs' && o.clause?.section === '§1.b.v'));
  assert.ok(l3.obligations.some((o) => o.kind === 'attribution' && o.text.includes('Built with Meta Llama 3')));
  const l4 = reviewLicense(`${DIR}llama4.txt`, { use: 'commercial', users: 10 });
  assert.ok(l4.obligations.some((o) => o.kind === 'geography' && o.text.includes('European Union')));
  assert.ok(l4.reasons.some((x) => x.text.includes('natively multimodal')));
});

test('obligations: pass-through of use restrictions for Gemma, DeepSeek and the RAIL licenses', () => {
  for (const f of ['gemma.txt', 'deepseek.txt', 'bigscience-bloom-rail-1.0.txt', 'creativeml-openrail-m.txt']) {
    const r = reviewLicense(DIR + f, { use: 'commercial' });
    assert.ok(r.obligations.some((o) => o.kind === 'pass-through' && /enforceable provision/.test(o.text)), f);
    assert.ok(r.obligations.every((o) => o.license === r.licenses[0].entry));
  }
  const ds = reviewLicense(`${DIR}deepseek.txt`, { use: 'commercial' });
  assert.ok(ds.obligations.some((o) => o.kind === 'field-of-use' && o.text.includes('military')));
  const bloom = reviewLicense(`${DIR}bigscience-bloom-rail-1.0.txt`, { use: 'commercial' });
  assert.ok(bloom.obligations.some((o) => o.kind === 'field-of-use' && o.text.includes('medical advice')));
});
