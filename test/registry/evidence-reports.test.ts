import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectReportFormat, makeEvidence, outsideReportPredicate, parseEvidence, parseOutsideReport } from '../../src/registry/evidence/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';

const F = join(import.meta.dirname, '..', 'fixtures', 'evidence');
const read = (name: string) => readFileSync(join(F, name), 'utf8');
const TARGET = 'registry.example.com/serving/llm-server:1.4.2';
const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof ModelgateError && e.code === c && (!re || re.test(e.message));

test('Trivy JSON: vulnerabilities of every result, duplicates merged, secrets not counted', () => {
  const r = parseOutsideReport(read('trivy-image.json'));
  assert.equal(r.format, 'trivy');
  assert.equal(r.tool, 'trivy');
  assert.equal(r.toolVersion, '0.57.1');
  assert.equal(r.target, TARGET);
  assert.deepEqual(r.counts, { critical: 2, high: 2, medium: 4, low: 3, unknown: 1 });
  assert.equal(r.findings.length, 12);
  assert.deepEqual(r.findings[0], { id: 'CVE-2023-45853', severity: 'critical', package: 'zlib1g', version: '1:1.2.13.dfsg-1', fixedIn: null });
  assert.deepEqual(r.findings.find((f) => f.id === 'CVE-2024-3651'), { id: 'CVE-2024-3651', severity: 'medium', package: 'idna', version: '3.6', fixedIn: '3.7' });
  assert.equal(r.components, undefined);
});

test('Trivy before SchemaVersion 2: a bare list of results', () => {
  const legacy = [{ Target: 'app/package-lock.json', Vulnerabilities: [{ VulnerabilityID: 'CVE-2018-16487', PkgName: 'lodash', InstalledVersion: '4.17.4', FixedVersion: '>=4.17.11', Severity: 'HIGH' }] }, { Target: 'composer.lock', Vulnerabilities: null }];
  const r = parseOutsideReport(JSON.stringify(legacy));
  assert.equal(r.format, 'trivy');
  assert.deepEqual(r.counts, { critical: 0, high: 1, medium: 0, low: 0, unknown: 0 });
  assert.equal(r.toolVersion, null);
});

test('Grype JSON: matches, Negligible counted as low, fix versions, duplicates merged', () => {
  const r = parseOutsideReport(read('grype-image.json'));
  assert.equal(r.format, 'grype');
  assert.equal(r.tool, 'grype');
  assert.equal(r.toolVersion, '0.82.2');
  assert.equal(r.target, TARGET);
  assert.deepEqual(r.counts, { critical: 1, high: 3, medium: 3, low: 2, unknown: 1 });
  assert.equal(r.findings.length, 10);
  assert.deepEqual(r.findings.find((f) => f.package === 'transformers'), { id: 'GHSA-v68g-wm8c-6x7j', severity: 'high', package: 'transformers', version: '4.35.0', fixedIn: '4.36.0' });
  assert.equal(r.findings.find((f) => f.package === 'zlib1g')!.fixedIn, null);
});

test('Syft JSON: components and licenses, no vulnerabilities', () => {
  const r = parseOutsideReport(read('syft-image.json'));
  assert.equal(r.format, 'syft');
  assert.equal(r.toolVersion, '1.16.0');
  assert.equal(r.target, TARGET);
  assert.deepEqual(r.counts, { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 });
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.components, { count: 6, licenses: { 'Apache-2.0': 2, 'BSD-3-Clause': 1, 'GPL-2': 1, 'LGPL-2.1': 1, Zlib: 1 }, unlicensed: 1 });
  // Older Syft schemas list licenses as strings.
  const old = { artifacts: [{ name: 'a', version: '1', licenses: ['MIT'] }, { name: 'b', version: '2', licenses: [] }], descriptor: { name: 'syft', version: '0.80.0' }, source: { type: 'directory', target: '/app' } };
  assert.deepEqual(parseOutsideReport(old).components, { count: 2, licenses: { MIT: 1 }, unlicensed: 1 });
});

test('CycloneDX JSON: nested components, licenses, vulnerabilities with the highest rating', () => {
  const r = parseOutsideReport(read('cyclonedx-image.json'));
  assert.equal(r.format, 'cyclonedx');
  assert.equal(r.tool, 'trivy');
  assert.equal(r.toolVersion, '0.57.1');
  assert.equal(r.target, TARGET);
  assert.deepEqual(r.components, { count: 6, licenses: { 'Apache-2.0': 1, 'BSD-3-Clause': 1, 'GPL-2': 1, 'LGPL-2.1': 1, Zlib: 1 }, unlicensed: 2 });
  assert.deepEqual(r.counts, { critical: 1, high: 1, medium: 2, low: 1, unknown: 1 });
  assert.deepEqual(r.findings.find((f) => f.id === 'CVE-2024-35195'), { id: 'CVE-2024-35195', severity: 'medium', package: 'requests', version: '2.31.0', fixedIn: '2.32.0' });
  assert.equal(r.findings.find((f) => f.id === 'CVE-2023-45853')!.severity, 'critical');
  // CycloneDX 1.4 lists tools as an array.
  const v14 = { bomFormat: 'CycloneDX', specVersion: '1.4', metadata: { tools: [{ vendor: 'anchore', name: 'syft', version: '0.90.0' }] }, components: [{ type: 'library', name: 'x', version: '1' }] };
  const r14 = parseOutsideReport(JSON.stringify(v14));
  assert.deepEqual([r14.tool, r14.toolVersion, r14.components!.count, r14.components!.unlicensed], ['syft', '0.90.0', 1, 1]);
});

test('format detection by content, and unknown formats refused clearly', () => {
  assert.equal(detectReportFormat(JSON.parse(read('trivy-image.json'))), 'trivy');
  assert.equal(detectReportFormat(JSON.parse(read('grype-image.json'))), 'grype');
  assert.equal(detectReportFormat(JSON.parse(read('syft-image.json'))), 'syft');
  assert.equal(detectReportFormat(JSON.parse(read('cyclonedx-image.json'))), 'cyclonedx');
  assert.equal(detectReportFormat({ hello: 'world' }), null);
  assert.throws(() => parseOutsideReport(read('spdx-image.json')), code('REPORT_UNKNOWN_FORMAT', /SPDX documents are not supported/));
  assert.throws(() => parseOutsideReport('{"runs": [], "version": "2.1.0"}'), code('REPORT_UNKNOWN_FORMAT', /unrecognised report: a JSON object with keys runs, version; expected Trivy JSON/));
  assert.throws(() => parseOutsideReport('<?xml version="1.0"?><bom/>'), code('REPORT_UNKNOWN_FORMAT', /XML\? export JSON instead/));
  assert.throws(() => parseOutsideReport('42'), code('REPORT_UNKNOWN_FORMAT', /a JSON number/));
  assert.throws(() => parseOutsideReport(read('grype-image.json'), { expect: 'trivy' }), code('REPORT_UNKNOWN_FORMAT', /expected a trivy report, found grype/));
});

test('malformed reports of a known format name the place', () => {
  const trivy = JSON.parse(read('trivy-image.json'));
  delete trivy.Results[1].Vulnerabilities[2].Severity;
  assert.throws(() => parseOutsideReport(trivy), code('REPORT_MALFORMED', /^trivy report: Results\[1\]\.Vulnerabilities\[2\] has no Severity$/));
  const grype = JSON.parse(read('grype-image.json'));
  delete grype.matches[3].artifact;
  assert.throws(() => parseOutsideReport(grype), code('REPORT_MALFORMED', /grype report: matches\[3\] has no artifact object/));
  const cdx = JSON.parse(read('cyclonedx-image.json'));
  cdx.components[3].components = { not: 'a list' };
  assert.throws(() => parseOutsideReport(cdx), code('REPORT_MALFORMED', /components\[3\]\.components is not a list/));
  const syft = JSON.parse(read('syft-image.json'));
  syft.artifacts[0].licenses = 'MIT';
  assert.throws(() => parseOutsideReport(syft), code('REPORT_MALFORMED', /artifacts\[0\]\.licenses is not a list/));
});

test('an outside report becomes evidence bound to the model, with the raw file digest', () => {
  const raw = read('grype-image.json');
  const p = outsideReportPredicate(parseOutsideReport(raw), raw, { scope: 'container', name: 'grype-image.json' });
  assert.equal(p.source.bytes, Buffer.byteLength(raw));
  assert.match(p.source.sha256, /^[0-9a-f]{64}$/);
  const ev = makeEvidence('outside-report', 'c'.repeat(64), p);
  const back = parseEvidence(JSON.stringify(ev.envelope));
  assert.equal(back.kind, 'outside-report');
  assert.deepEqual((back.statement.predicate as { counts: unknown }).counts, { critical: 1, high: 3, medium: 3, low: 2, unknown: 1 });
});
