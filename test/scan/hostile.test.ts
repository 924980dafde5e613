// Hostile inputs (test/fixtures/hostile, made by make_hostile.py): every one ends with a finding and
// status `error` within bounded time and memory — never a crash, a hang, an out-of-memory or a pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { FIXTURES, scanOne } from '../helpers/scan.ts';

const dir = `${FIXTURES}/hostile`;
const files = readdirSync(dir).filter((f) => !/\.(py|md)$/.test(f));

test('hostile fixtures are present', () => {
  assert.ok(files.length >= 16, `only ${files.length} hostile fixtures`);
});

for (const f of files) {
  test(`hostile ${f}: error status with a finding, bounded`, async () => {
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const { report, code } = await scanOne(`${dir}/${f}`);
    const ms = performance.now() - t0;
    const errored = report.files.filter((r) => r.status === 'error');
    assert.ok(errored.length > 0, `no row in error: ${JSON.stringify(report.files.map((r) => [r.path, r.status]))}`);
    for (const r of errored) assert.ok(r.findings.length > 0, `${r.path} is in error without a finding`);
    assert.notEqual(code, 0, 'a hostile input must never pass');
    assert.ok(ms < 10_000, `took ${ms.toFixed(0)} ms`);
    const grown = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.ok(grown < 800, `RSS grew by ${grown.toFixed(0)} MiB`);
  });
}
