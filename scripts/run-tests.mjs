// Runs every test/**/*.test.ts with node's test runner (through tsx) and ends with one line
// "N passed, N failed". Node 20 does not discover .ts files itself, so they are listed here, and an
// empty list is an error rather than a green run of nothing.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
};
walk('test');
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...selected], {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
  env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  maxBuffer: 256 << 20,
});
process.stdout.write(r.stdout);
const num = (label) => Number((r.stdout.match(new RegExp(`^ℹ ${label} (\\d+)$`, 'm')) ?? [])[1] ?? NaN);
const passed = num('pass');
const failed = num('fail');
if (Number.isNaN(passed) || passed + failed === 0) {
  console.log('0 passed, 1 failed');
  console.error('run-tests: the test runner reported no results');
  process.exit(1);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);
