// Gate facts built from a real scan report and a license review, then judged by the default policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scan } from '../../src/scan/index.ts';
import { defaultPolicy, evaluateGate, licenseFactsOf, scanFactsOf } from '../../src/policy/index.ts';
import { FIXTURES } from '../helpers/scan.ts';

const D = `sha256:${'e'.repeat(64)}`;
const NOW = '2026-11-29T12:00:00Z';

test('scanFactsOf: per-rule worst severity and count, formats of every input, remote code, errors', async () => {
  const report = await scan([`${FIXTURES}/text/hf_remote_benign`, `${FIXTURES}/real/checkpoint.pt`], { jobs: 1, hash: false });
  const f = scanFactsOf(report, NOW);
  assert.equal(f.remoteCode, true);
  assert.ok(f.findingsByRule['MG-RC-001'], JSON.stringify(f.findingsByRule));
  assert.ok(f.modelFormats.includes('pytorch-zip'), f.modelFormats.join(','));
  assert.equal(f.errors, report.summary.errors);
  const total = Object.values(f.findingsByRule).reduce((n, r) => n + r.count, 0);
  assert.equal(total, report.files.reduce((n, x) => n + x.findings.length, 0));
  assert.equal(f.maxSeverity, report.summary.maxSeverity);
  const d = evaluateGate(defaultPolicy(), { rootDigest: D, scan: f, license: licenseFactsOf({ decision: 'approved', expression: 'MIT' }, NOW) }, { tier: 'medium', env: 'staging', now: NOW });
  const by = Object.fromEntries(d.requirements.map((r) => [r.id, r]));
  assert.equal(by['scan.remote-code'].status, 'fail');
  assert.match(by['scan.formats'].reason, /pytorch-zip/);
  assert.equal(by['scan.formats'].status, 'fail');
  assert.equal(by.license.status, 'pass');
  assert.equal(by.approvals.status, 'missing');
  assert.equal(d.allowed, false);
});
