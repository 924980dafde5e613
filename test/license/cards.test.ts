// Crafted model folders: card ids, `other` + license_name, missing / conflicting licenses, edited texts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reviewLicense, matchLicenseText, fingerprint, spdxForHubId, entryForSpdx, type IntendedUse } from '../../src/license/index.ts';
import { FIXTURES } from '../helpers/scan.ts';

const ROOT = mkdtempSync(join(tmpdir(), 'mg-license-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));
const text = (f: string) => readFileSync(`${FIXTURES}/licenses/${f}`, 'utf8');
let n = 0;
function model(files: Record<string, string>): string {
  const dir = join(ROOT, `m${n++}`);
  mkdirSync(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}
const card = (yaml: string) => `---\n${yaml}\n---\n\n# A model\n\nSome text with license: apache-2.0 in the body (ignored).\n`;
const decide = (dir: string, use: IntendedUse, users?: number) => reviewLicense(dir, { use, users });

test('SPDX id on the card: apache-2.0 approved for every use, with an attribution obligation', () => {
  const dir = model({ 'README.md': card('license: apache-2.0\nlibrary_name: transformers') });
  for (const use of ['commercial', 'internal', 'research'] as const) {
    const r = decide(dir, use);
    assert.equal(r.decision, 'approved', JSON.stringify(r.reasons));
    assert.equal(r.expression, 'Apache-2.0');
    assert.equal(r.licenses[0].category, 'permissive');
    assert.ok(r.obligations.some((o) => o.kind === 'attribution'));
  }
});

test('cc-by-nc-4.0: forbidden for commercial and internal, approved for research', () => {
  const dir = model({ 'README.md': card('license: cc-by-nc-4.0') });
  assert.equal(decide(dir, 'commercial').decision, 'forbidden');
  assert.equal(decide(dir, 'internal').decision, 'forbidden');
  assert.equal(decide(dir, 'research').decision, 'approved');
  assert.equal(decide(dir, 'research').expression, 'CC-BY-NC-4.0');
});

test('GPL and CC-BY-ND need review for commercial use; an id the KB does not know needs review', () => {
  assert.equal(decide(model({ 'README.md': card('license: gpl-3.0') }), 'commercial').decision, 'review');
  assert.equal(decide(model({ 'README.md': card('license: gpl-3.0') }), 'internal').decision, 'approved');
  assert.equal(decide(model({ 'README.md': card('license: cc-by-nd-4.0') }), 'commercial').decision, 'review');
  const r = decide(model({ 'README.md': card('license: apple-ascl') }), 'research');
  assert.equal(r.decision, 'review');
  assert.equal(r.expression, 'LicenseRef-apple-ascl');
  assert.deepEqual(r.licenses.map((l) => l.entry), [null]);
});

test('Hub model ids map to LicenseRef-* and resolve through the KB', () => {
  assert.equal(spdxForHubId('llama3.1'), 'LicenseRef-llama3.1');
  assert.equal(spdxForHubId('gemma'), 'LicenseRef-gemma');
  assert.equal(spdxForHubId('openrail'), 'LicenseRef-openrail');
  assert.equal(spdxForHubId('creativeml-openrail-m'), 'LicenseRef-creativeml-openrail-m');
  assert.equal(spdxForHubId('bigscience-bloom-rail-1.0'), 'LicenseRef-bigscience-bloom-rail-1.0');
  assert.equal(spdxForHubId('other'), 'LicenseRef-hf-other');
  assert.equal(spdxForHubId('MIT'), 'MIT');
  assert.equal(spdxForHubId('agpl-3.0'), 'AGPL-3.0-only');
  assert.equal(entryForSpdx('LicenseRef-llama3').id, 'llama3');
  const r = decide(model({ 'README.md': card('license: llama3.2'), LICENSE: text('llama3.2.txt'), 'USE_POLICY.md': text('llama3.2-use-policy.md') }), 'commercial', 5_000_000);
  assert.equal(r.decision, 'approved', JSON.stringify(r.reasons));
  assert.equal(r.licenses.length, 1);
  assert.deepEqual(r.licenses[0].evidence.map((e) => e.kind).sort(), ['card-license', 'license-file']);
  const aup = r.evidence.find((e) => e.file === 'USE_POLICY.md')!;
  assert.equal(aup.kind, 'use-policy-file');
  assert.equal(aup.match?.kbFile, 'llama3.2-use-policy.md');
});

test('the generic openrail id names no single text: review unless a known text is in the folder', () => {
  assert.equal(decide(model({ 'README.md': card('license: openrail') }), 'commercial').decision, 'review');
});

test('`other` + license_name resolves through the KB (deepseek, tongyi-qianwen-research)', () => {
  const ds = decide(model({ 'README.md': card('license: other\nlicense_name: deepseek\nlicense_link: LICENSE'), LICENSE: text('deepseek.txt') }), 'commercial');
  assert.equal(ds.expression, 'LicenseRef-deepseek');
  assert.equal(ds.decision, 'approved', JSON.stringify(ds.reasons));
  assert.ok(ds.evidence.some((e) => e.kind === 'card-license-link' && e.value === 'LICENSE'));
  const q = model({ 'README.md': card('license: other\nlicense_name: tongyi-qianwen-research'), LICENSE: text('tongyi-qianwen-research.txt') });
  assert.equal(decide(q, 'commercial').decision, 'forbidden');
  assert.equal(decide(q, 'research').decision, 'approved');
  // known only from research notes: never approved on its own
  const qr = decide(model({ 'README.md': card('license: other\nlicense_name: qwen') }), 'commercial', 10);
  assert.equal(qr.decision, 'review');
  assert.ok(qr.reasons.some((x) => /research notes/.test(x.text)));
  assert.equal(decide(model({ 'README.md': card('license: other\nlicense_name: qwen-research') }), 'commercial').decision, 'forbidden');
  // an unknown license_name: review (fail closed)
  const unk = decide(model({ 'README.md': card('license: other\nlicense_name: acme-model-license-2') }), 'research');
  assert.equal(unk.decision, 'review');
  assert.equal(unk.expression, 'LicenseRef-acme-model-license-2');
});

test('`other` without license_name and without a known file: review', () => {
  const r = decide(model({ 'README.md': card('license: other') }), 'research');
  assert.equal(r.decision, 'review');
  assert.ok(r.reasons.some((x) => /without `license_name`/.test(x.text)));
});

test('`other` without license_name is resolved by a LICENSE file the KB knows', () => {
  const r = decide(model({ 'README.md': card('license: other'), LICENSE: text('gemma.txt') }), 'commercial');
  assert.ok(r.licenses.some((l) => l.entry === 'gemma'));
  assert.equal(r.decision, 'review', 'the card names no license_name: a person confirms');
});

test('missing license: no card, no files → review; a card without a license field → review', () => {
  assert.equal(decide(model({ 'config.json': '{}' }), 'research').decision, 'review');
  const r = decide(model({ 'README.md': card('library_name: transformers') }), 'research');
  assert.equal(r.decision, 'review');
  assert.equal(r.expression, null);
});

test('conflict: card says apache-2.0 but LICENSE is the Llama 3.1 text → review, and both terms apply', () => {
  const dir = model({ 'README.md': card('license: apache-2.0'), LICENSE: text('llama3.1.txt') });
  const r = decide(dir, 'commercial', 1000);
  assert.equal(r.decision, 'review');
  assert.ok(r.reasons.some((x) => /conflict: the card says Apache-2.0 but a file holds LicenseRef-llama3.1/.test(x.text)));
  assert.equal(r.expression, 'Apache-2.0 AND LicenseRef-llama3.1');
  assert.ok(r.obligations.some((o) => o.license === 'llama3.1' && o.kind === 'naming'));
  // the file's terms can make it worse than review
  assert.equal(decide(dir, 'commercial', 900_000_000).decision, 'forbidden');
  const qr = decide(model({ 'README.md': card('license: mit'), 'LICENSE.txt': text('tongyi-qianwen-research.txt') }), 'commercial');
  assert.equal(qr.decision, 'forbidden');
});

test('conflict: a use policy of another license in the folder → review', () => {
  const r = decide(model({ 'README.md': card('license: llama3.1'), LICENSE: text('llama3.1.txt'), 'USE_POLICY.md': text('llama2-use-policy.md') }), 'commercial', 1000);
  assert.equal(r.decision, 'review');
  assert.ok(r.reasons.some((x) => /acceptable-use policy in the folder belongs to LicenseRef-llama2/.test(x.text)));
});

test('SPDX expressions: OR chooses the better option, AND applies both', () => {
  const or = decide(model({ 'README.md': card('license: cc-by-nc-4.0 OR mit') }), 'commercial');
  assert.equal(or.decision, 'approved');
  assert.equal(or.expression, 'CC-BY-NC-4.0 OR MIT');
  const and = decide(model({ 'README.md': card('license: cc-by-nc-4.0 AND mit') }), 'commercial');
  assert.equal(and.decision, 'forbidden');
  const list = decide(model({ 'README.md': card('license:\n  - apache-2.0\n  - llama3.3'), LICENSE: text('llama3.3.txt') }), 'commercial', 100);
  assert.equal(list.expression, 'Apache-2.0 AND LicenseRef-llama3.3');
  assert.equal(list.decision, 'approved');
  const bad = decide(model({ 'README.md': card('license: "mit OR OR apache-2.0"') }), 'research');
  assert.equal(bad.decision, 'review');
  assert.ok(bad.reasons.some((x) => /not a valid SPDX expression/.test(x.text)));
});

test('a slightly edited license text still matches (near), needs review, and shows the changed words', () => {
  const edited = text('llama3.1.txt').replace('700 million monthly active users', '7 million monthly active users').replace(/\s+/g, '  ').toUpperCase();
  const m = matchLicenseText(fingerprint(edited))!;
  assert.equal(m.entry, 'llama3.1');
  assert.equal(m.kind, 'near');
  assert.ok(m.score > 0.97 && m.score < 1, String(m.score));
  assert.ok(m.runnerUp && m.runnerUp.score < m.score);
  assert.ok(m.diff!.added.includes('7') && m.diff!.removed.includes('700'));
  const r = decide(model({ 'README.md': card('license: llama3.1'), LICENSE: edited }), 'commercial', 1000);
  assert.equal(r.decision, 'review');
  assert.ok(r.reasons.some((x) => /matches llama3\.1\.txt with edits/.test(x.text) && /removed: .*700/.test(x.text)));
});

test('whitespace, case, quotes and markdown do not change the normalised hash (exact match, approved)', () => {
  const reformatted = text('llama3.3.txt').replace(/\*\*/g, '').replace(/\\_/g, '_').replace(/[“”]/g, '"').replace(/\n/g, '\r\n\r\n').toLowerCase();
  const m = matchLicenseText(fingerprint(reformatted))!;
  assert.equal(m.kind, 'exact');
  assert.equal(m.entry, 'llama3.3');
  const orig = reviewLicense(`${FIXTURES}/licenses/llama3.3.txt`, { use: 'research', users: 1 }).evidence[0];
  const dir = model({ 'README.md': card('license: llama3.3'), 'LICENSE.md': reformatted });
  const r = decide(dir, 'research', 1);
  assert.equal(r.decision, 'approved', JSON.stringify(r.reasons));
  const ev = r.evidence.find((e) => e.file === 'LICENSE.md')!;
  assert.equal(ev.normalizedSha256, orig.normalizedSha256);
  assert.notEqual(ev.sha256, orig.sha256, 'the raw hash records the exact bytes');
});

test('sibling versions are told apart (Llama 3.2 vs 3.3 vs 4)', () => {
  for (const f of ['llama3.1.txt', 'llama3.2.txt', 'llama3.3.txt', 'llama4.txt']) {
    const m = matchLicenseText(fingerprint(text(f).replace(/Meta/g, 'Meta Platforms')))!;
    assert.equal(m.kbFile, f);
    assert.ok(m.runnerUp!.score < m.score);
  }
});

test('a different license text is not matched to a model license; known OSS texts are recognised by their opening', () => {
  const mit = 'MIT License\n\nCopyright (c) 2024 Someone\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction...';
  const m = matchLicenseText(fingerprint(mit))!;
  assert.equal(m.kind, 'signature');
  assert.equal(m.entry, 'MIT');
  const custom = 'ACME MODEL LICENSE\n\nYou may use this model only on Tuesdays, for any purpose, provided that you send us a postcard. All other rights reserved by ACME Corp.';
  assert.equal(matchLicenseText(fingerprint(custom)), null);
  const r = decide(model({ 'README.md': card('license: mit'), LICENSE: custom }), 'research');
  assert.equal(r.decision, 'review');
  assert.ok(r.reasons.some((x) => /LICENSE is not a license text the knowledge base knows/.test(x.text)));
  const ok = decide(model({ 'README.md': card('license: mit'), LICENSE: mit }), 'commercial');
  assert.equal(ok.decision, 'approved', JSON.stringify(ok.reasons));
});

test('license text plus appended text: "contains" match needs review', () => {
  const r = decide(model({ 'README.md': card('license: llama3.1'), LICENSE: `${text('llama3.1.txt')}\n\nAdditional terms:\n${text('bigscience-bloom-rail-1.0.txt')}` }), 'commercial', 5);
  const ev = r.evidence.find((e) => e.file === 'LICENSE')!;
  assert.equal(ev.match?.kind, 'contains');
  assert.deepEqual([ev.match!.entry, ...(ev.match!.alsoContains ?? [])].sort(), ['bigscience-bloom-rail-1.0', 'llama3.1']);
  assert.ok(ev.match!.score < 0.8 && ev.match!.containment >= 0.98);
  assert.equal(r.decision, 'review');
  assert.deepEqual(r.licenses.map((l) => l.entry).sort(), ['bigscience-bloom-rail-1.0', 'llama3.1']);
  assert.ok(r.reasons.some((x) => /plus other text/.test(x.text)));
  assert.ok(r.reasons.some((x) => /conflict: the card says LicenseRef-llama3\.1 but a file holds LicenseRef-bigscience-bloom-rail-1\.0/.test(x.text)));
  // a small addition (the AUP appended) is still a near match: review too
  const near = decide(model({ 'README.md': card('license: llama3.1'), LICENSE: `${text('llama3.1.txt')}\n\n${text('llama3.1-use-policy.md')}` }), 'commercial', 5);
  assert.equal(near.evidence.find((e) => e.file === 'LICENSE')!.match?.entry, 'llama3.1');
  assert.equal(near.decision, 'review');
});

test('NOTICE with a Llama attribution line and gated-card hints are recorded as evidence', () => {
  const dir = model({
    'README.md': card('license: llama3.1\nextra_gated_prompt: "You agree to the Llama 3.1 Community License"\nextra_gated_fields:\n  Company: text'),
    NOTICE: 'Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.\n',
  });
  const r = decide(dir, 'commercial', 10);
  // a NOTICE line names the license but is not its terms
  assert.equal(r.decision, 'review', JSON.stringify(r.reasons));
  assert.ok(r.reasons.some((x) => /the card names Llama 3\.1 Community License Agreement but no license text in the folder confirms it/.test(x.text)));
  const notice = r.evidence.find((e) => e.kind === 'notice-file')!;
  assert.equal(notice.match?.entry, 'llama3.1');
  assert.equal(r.evidence.filter((e) => e.kind === 'card-gated').length, 2);
});

test('a changed license file changes its hashes (re-review trigger)', () => {
  const a = decide(model({ LICENSE: text('gemma.txt') }), 'research').evidence[0];
  const b = decide(model({ LICENSE: text('gemma.txt').replace('March 24, 2025', 'April 1, 2026') }), 'research').evidence[0];
  assert.notEqual(a.sha256, b.sha256);
  assert.notEqual(a.normalizedSha256, b.normalizedSha256);
  assert.equal(b.match?.entry, 'gemma');
  assert.equal(b.match?.kind, 'near');
});

test('a single model card file can be reviewed; a missing path is a typed error', () => {
  const dir = model({ 'README.md': card('license: mit') });
  assert.equal(reviewLicense(join(dir, 'README.md'), { use: 'commercial' }).decision, 'approved');
  assert.throws(() => reviewLicense(join(dir, 'nope'), { use: 'commercial' }), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
  assert.throws(() => reviewLicense(dir, { use: 'resale' as IntendedUse }), /unknown intended use/);
});

test('a license text in extra_gated_prompt is matched like a file', () => {
  const prompt = JSON.stringify(text('llama3.1.txt'));
  const r = decide(model({ 'README.md': card(`license: llama3.1\nextra_gated_prompt: ${prompt}`) }), 'commercial', 10);
  const gated = r.evidence.find((e) => e.kind === 'card-gated')!;
  assert.equal(gated.match?.entry, 'llama3.1');
  assert.equal(gated.match?.kind, 'exact');
  assert.match(gated.sha256!, /^[0-9a-f]{64}$/);
  assert.equal(r.decision, 'approved', JSON.stringify(r.reasons));
  const other = decide(model({ 'README.md': card(`license: apache-2.0\nextra_gated_prompt: ${JSON.stringify(text('gemma.txt'))}`) }), 'commercial');
  assert.equal(other.decision, 'review');
  assert.ok(other.reasons.some((x) => /conflict: the card says Apache-2.0 but a file holds LicenseRef-gemma/.test(x.text)));
});

test('a local license_link that is not in the folder needs review', () => {
  const r = decide(model({ 'README.md': card('license: other\nlicense_name: deepseek\nlicense_link: LICENSE-MODEL') }), 'commercial');
  assert.equal(r.decision, 'review');
  assert.ok(r.reasons.some((x) => /license_link points to LICENSE-MODEL/.test(x.text)));
  const ok = decide(model({ 'README.md': card('license: other\nlicense_name: deepseek\nlicense_link: LICENSE-MODEL'), 'LICENSE-MODEL': text('deepseek.txt') }), 'commercial');
  assert.equal(ok.decision, 'approved', JSON.stringify(ok.reasons));
  const url = decide(model({ 'README.md': card('license: other\nlicense_name: deepseek\nlicense_link: https://example.com/LICENSE'), 'LICENSE.txt': text('deepseek.txt') }), 'commercial');
  assert.equal(url.decision, 'approved', JSON.stringify(url.reasons));
});

test('a card with broken YAML front matter is a review reason, not a crash', () => {
  const r = decide(model({ 'README.md': '---\nlicense: [mit\n---\n# x\n', LICENSE: text('gemma.txt') }), 'commercial');
  assert.equal(r.decision, 'review');
  assert.ok(r.reasons.some((x) => /front matter is not valid YAML/.test(x.text)));
  assert.ok(r.licenses.some((l) => l.entry === 'gemma'), 'the files are still read');
});

test('a card without license metadata leaves the decision to a known LICENSE file', () => {
  const r = decide(model({ 'README.md': '# just prose\n', LICENSE: text('gemma.txt') }), 'commercial');
  assert.equal(r.decision, 'approved', JSON.stringify(r.reasons));
  assert.ok(r.reasons.some((x) => /has no license in its front matter/.test(x.text)));
});

test('every Hub model id from governance §5 parses as an SPDX expression and never approves blindly', () => {
  const ids = ['llama2', 'llama3', 'llama3.1', 'llama3.2', 'llama3.3', 'llama4', 'grok2-community', 'gemma', 'openrail', 'openrail++', 'bigscience-openrail-m', 'creativeml-openrail-m', 'bigscience-bloom-rail-1.0', 'bigcode-openrail-m', 'deepfloyd-if-license', 'fair-noncommercial-research-license', 'apple-amlr', 'apple-ascl', 'h-research', 'intel-research', 'cc', 'bsd', 'gpl', 'unknown', 'other'];
  for (const id of ids) {
    const r = decide(model({ 'README.md': card(`license: ${id}`) }), 'commercial');
    assert.ok(r.expression?.startsWith('LicenseRef-'), `${id} → ${r.expression}`);
    assert.ok(!r.reasons.some((x) => /not a valid SPDX expression/.test(x.text)), id);
    assert.notEqual(r.decision, 'approved', `${id}: no text in the folder, so never approved for commercial use without --users or a verified text`);
  }
  assert.equal(decide(model({ 'README.md': card('license: fair-noncommercial-research-license') }), 'commercial').decision, 'forbidden');
  // a model license named by the card alone is not enough; with its text in the folder it is
  assert.equal(decide(model({ 'README.md': card('license: gemma') }), 'commercial').decision, 'review');
  assert.equal(decide(model({ 'README.md': card('license: gemma'), 'LICENSE.md': text('gemma.txt') }), 'commercial').decision, 'approved');
  // OpenMDW is a permissive license family: the id is enough
  assert.equal(decide(model({ 'README.md': card('license: openmdw-1.0') }), 'commercial').decision, 'approved');
});

test('base_model is recorded as evidence and named in the reasons (lineage is not decided here)', () => {
  const r = decide(model({ 'README.md': card('license: apache-2.0\nbase_model:\n  - meta-llama/Llama-3.1-8B\n  - Qwen/Qwen2.5-7B') }), 'commercial');
  assert.deepEqual(r.evidence.filter((e) => e.kind === 'card-base-model').map((e) => e.value), ['meta-llama/Llama-3.1-8B', 'Qwen/Qwen2.5-7B']);
  assert.ok(r.reasons.some((x) => /derived from meta-llama\/Llama-3\.1-8B/.test(x.text)));
  assert.equal(r.decision, 'approved');
});
