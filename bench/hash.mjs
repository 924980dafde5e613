// Hashing throughput of `modelgate hash` as a ratio to `openssl dgst -sha256` on the same bytes.
//   node scripts/build.mjs && node bench/hash.mjs [/tmp/modelgate-bench] [--runs=3]
// Scenario 1: one big file (one core). Scenario 2: two files at once (two worker threads), compared
// with openssl hashing them one after the other (one core) and two openssl processes in parallel.
// The page cache is warmed first; figures are MB/s (10^6 bytes/s), best of N runs, wall clock
// including modelgate's start-up.
import { spawnSync, spawn } from 'node:child_process';
import { linkSync, mkdirSync, rmSync, statSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--')) ?? '/tmp/modelgate-bench';
const runs = Number((args.find((a) => a.startsWith('--runs=')) ?? '--runs=3').slice(7));
const CLI = fileURLToPath(new URL('../bin/modelgate.js', import.meta.url));
const ONE = join(dir, 'torch_zip_1g.pt');
const TWO = [join(dir, 'torch_legacy_512m.pt'), join(dir, 'joblib_512m.joblib')];
for (const f of [ONE, ...TWO]) if (!existsSync(f)) throw new Error(`missing ${f} (see bench/README.md: make_big.py)`);

const size = (files) => files.reduce((n, f) => n + statSync(f).size, 0);
const warm = (files) => files.forEach((f) => readFileSync(f).length);

function time(cmd, argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function timeParallel(cmds) {
  const t = process.hrtime.bigint();
  await Promise.all(cmds.map(([cmd, argv]) => new Promise((res, rej) => spawn(cmd, argv, { stdio: 'ignore' }).on('exit', (c) => (c === 0 ? res() : rej(new Error(`${cmd} exit ${c}`)))))));
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function best(fn) {
  let b = Infinity;
  for (let i = 0; i < runs; i++) b = Math.min(b, await fn());
  return b;
}

// Scenario 2 needs a folder holding just the two files: hard links, no copy.
const pair = join(dir, '.hash-pair');
rmSync(pair, { recursive: true, force: true });
mkdirSync(pair);
TWO.forEach((f, i) => linkSync(f, join(pair, `f${i}`)));

warm([ONE, ...TWO]);
const mb = (bytes, secs) => bytes / 1e6 / secs;
const rows = [];
const oneBytes = size([ONE]);
const osslOne = await best(() => time('openssl', ['dgst', '-sha256', ONE]));
const mgOne = await best(() => time(process.execPath, [CLI, 'hash', ONE, '--json']));
rows.push(['one file, 1.07 GB', mb(oneBytes, osslOne), mb(oneBytes, mgOne), null]);
const twoBytes = size(TWO);
const osslSeq = await best(() => time('openssl', ['dgst', '-sha256', ...TWO]));
const osslPar = await best(() => timeParallel(TWO.map((f) => ['openssl', ['dgst', '-sha256', f]])));
const mgTwo = await best(() => time(process.execPath, [CLI, 'hash', pair, '--json', '--jobs', '2']));
rows.push(['two files, 1.07 GB total', mb(twoBytes, osslSeq), mb(twoBytes, mgTwo), mb(twoBytes, osslPar)]);
rmSync(pair, { recursive: true, force: true });

console.log('| scenario | openssl, 1 core (MB/s) | modelgate hash (MB/s) | ratio to openssl 1 core | openssl ×2 processes (MB/s) | ratio to openssl ×2 |');
console.log('|---|---|---|---|---|---|');
for (const [name, o, m, p] of rows) {
  console.log(`| ${name} | ${o.toFixed(0)} | ${m.toFixed(0)} | ${(m / o).toFixed(2)} | ${p ? p.toFixed(0) : '—'} | ${p ? (m / p).toFixed(2) : '—'} |`);
}
