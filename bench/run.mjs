#!/usr/bin/env node
// Times modelgate against the SHA-256 floor on the large inputs written by bench/make_big.py.
//
//   node bench/run.mjs [BENCH_DIR] [--runs=3] [--only=torch_zip_1g.pt,hf_dir] [--timeout=600]
//
// For each input, after a warm-up read (warm page cache, as in perf.md), each command runs
// --runs times in a row and the median wall time is kept:
//   (a) openssl dgst -sha256 FILE...            (a folder: all its files in one call)
//   (b) Node SHA-256 of the same bytes in a child process (readSync into a reused 4 MiB buffer)
//   (c) node bin/modelgate.js scan PATH --format json
//   (d) the same with --no-hash
// Max RSS and CPU times come from /usr/bin/time -v when it exists (apt-get install -y time).
// A missing or failing CLI is recorded (exit code, stderr tail), never fatal.
// Prints a markdown table and writes bench/out/results.json. No dependencies.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'bin', 'modelgate.js');
const OUT_FILE = path.join(ROOT, 'bench', 'out', 'results.json');
const TIME_BIN = '/usr/bin/time';
const MiB = 1 << 20;

// The inputs of make_big.py, in perf.md's order.
const INPUTS = [
  'torch_tiny.pt',
  'torch_zip_1g.pt',
  'torch_legacy_512m.pt',
  'joblib_512m.joblib',
  'hf_dir',
  'pickle_many_small.pkl',
];

// Peer scanners: median wall seconds and exit code, copied from /work/shared/research/perf.md
// (pass 2, 2026-11-29, this machine type: 2-core AMD EPYC VM with SHA-NI, 23 GiB RAM, warm page
// cache, median of 3). picklescan 1.0.5, modelscan 8b8ed4b, fickling 0.1.12 (scan_zip_archive for
// zip inputs, CLI --check-safety otherwise). They cannot be installed here, so these are constants;
// that study's inputs match make_big.py's layout, not its exact bytes. Every input is benign, so
// any non-zero peer exit code is a false alarm or a failure.
const PEERS = {
  source: '/work/shared/research/perf.md, pass 2 (2026-11-29), same machine type',
  'torch_tiny.pt': { picklescan: [0.071, 0, 21], modelscan: [0.206, 0, 52], fickling: [0.131, 1, 19] },
  'torch_zip_1g.pt': { picklescan: [0.082, 0, 22], modelscan: [0.204, 0, 53], fickling: [0.215, 1, 24] },
  'torch_legacy_512m.pt': { picklescan: [0.069, 0, 21], modelscan: [0.174, 0, 52], fickling: [0.163, 1, 21] },
  'joblib_512m.joblib': { picklescan: [0.067, 2, 21], modelscan: [0.185, 3, 53], fickling: [0.135, 1, 19] },
  hf_dir: { picklescan: [0.097, 0, 22], modelscan: [0.247, 0, 53], fickling: [0.307, 1, 27] },
  'pickle_many_small.pkl': { picklescan: [19.9, 0, 2595], modelscan: [20.2, 0, 2621], fickling: [93.5, 1, 3850] },
}; // [median wall s, exit code, max RSS MiB]
const PEER_NAMES = ['picklescan', 'modelscan', 'fickling'];

// Child for (b): the hashing loop perf.md measured (CommonJS, run with `node -e`).
const NODE_SHA256 = `
const fs = require('node:fs');
const crypto = require('node:crypto');
const buf = Buffer.allocUnsafe(4 << 20);
for (const file of process.argv.slice(1)) {
  const fd = fs.openSync(file, 'r');
  const h = crypto.createHash('sha256');
  let n;
  while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  fs.closeSync(fd);
  process.stdout.write(h.digest('hex') + '  ' + file + '\\n');
}`;

function parseArgs(argv) {
  const opts = { dir: '/tmp/modelgate-bench', runs: 3, only: null, timeoutS: 600 };
  for (const a of argv) {
    if (a.startsWith('--runs=')) opts.runs = Math.max(1, Number.parseInt(a.slice(7), 10) || 3);
    else if (a.startsWith('--only=')) opts.only = new Set(a.slice(7).split(',').filter(Boolean));
    else if (a.startsWith('--timeout=')) opts.timeoutS = Math.max(1, Number.parseInt(a.slice(10), 10) || 600);
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node bench/run.mjs [BENCH_DIR] [--runs=3] [--only=a,b] [--timeout=600]\n');
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else opts.dir = path.resolve(a);
  }
  return opts;
}

function listFiles(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return [p];
  return fs
    .readdirSync(p, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((d) => (d.isDirectory() ? listFiles(path.join(p, d.name)) : d.isFile() ? [path.join(p, d.name)] : []));
}

function warm(files) {
  const buf = Buffer.allocUnsafe(4 * MiB);
  for (const f of files) {
    const fd = fs.openSync(f, 'r');
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
    fs.closeSync(fd);
  }
}

function has(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

const HAVE_TIME = fs.existsSync(TIME_BIN);
const HAVE_TIMEOUT = has('timeout');

// Runs one command; returns wall seconds (hrtime around the spawn), exit code and, through
// /usr/bin/time -v, max RSS and CPU. `timeout -s KILL` bounds it (exit 137 when it fires).
function runOnce(cmd, args, timeoutS) {
  let argv = [cmd, ...args];
  if (HAVE_TIMEOUT) argv = ['timeout', '-s', 'KILL', String(timeoutS), ...argv];
  if (HAVE_TIME) argv = [TIME_BIN, '-v', ...argv];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: HAVE_TIMEOUT ? 0 : timeoutS * 1000,
    killSignal: 'SIGKILL',
  });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  let stderr = r.stderr ?? '';
  let rssKiB = null;
  let userS = null;
  let sysS = null;
  if (HAVE_TIME) {
    const cut = stderr.lastIndexOf('\tCommand being timed:');
    const report = cut >= 0 ? stderr.slice(cut) : '';
    if (cut >= 0) stderr = stderr.slice(0, cut).replace(/Command (exited with non-zero status|terminated by signal) \d+\n$/, '');
    const num = (re) => {
      const m = re.exec(report);
      return m ? Number(m[1]) : null;
    };
    rssKiB = num(/Maximum resident set size \(kbytes\): (\d+)/);
    userS = num(/User time \(seconds\): ([\d.]+)/);
    sysS = num(/System time \(seconds\): ([\d.]+)/);
  }
  const rc = r.error ? null : r.status ?? (r.signal ? `signal ${r.signal}` : null);
  return {
    wallS: round(wallS, 4),
    rc,
    timedOut: rc === 137 && HAVE_TIMEOUT ? true : r.error?.code === 'ETIMEDOUT',
    rssKiB,
    userS,
    sysS,
    error: r.error ? String(r.error.message) : undefined,
    stdout: r.stdout ?? '',
    stderrTail: stderr.trim().slice(-600),
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(x, d) {
  return x == null ? null : Math.round(x * 10 ** d) / 10 ** d;
}

// Several runs of one command; keeps per-run figures, the medians, and the stdout of the last run.
function measure(cmd, args, opts) {
  const runs = [];
  let last = null;
  for (let i = 0; i < opts.runs; i++) {
    last = runOnce(cmd, args, opts.timeoutS);
    const { stdout, ...rest } = last;
    runs.push(rest);
  }
  const rss = runs.map((r) => r.rssKiB).filter((x) => x != null);
  return {
    command: [cmd, ...args].map((a) => (a === NODE_SHA256 ? "'<sha256 readSync loop>'" : a)).join(' '),
    medianS: round(median(runs.map((r) => r.wallS)), 4),
    exitCodes: runs.map((r) => r.rc),
    maxRssMiB: rss.length ? round(median(rss) / 1024, 1) : null,
    runs,
    lastStdout: last.stdout,
  };
}

function digests(stdout) {
  // "sha256sum style" (node child) or "SHA2-256(file)= hex" / "SHA256(file)= hex" (openssl)
  const out = new Map();
  for (const line of stdout.split('\n')) {
    let m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (m) out.set(m[2], m[1]);
    m = /^SHA2?-?256\((.+)\)= ([0-9a-f]{64})$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

function scanSummary(stdout) {
  try {
    const report = JSON.parse(stdout);
    return report && typeof report === 'object' ? report.summary ?? null : null;
  } catch {
    return stdout.trim() ? 'stdout is not JSON' : null;
  }
}

function fmtS(s) {
  if (s == null) return 'n/a';
  return s >= 10 ? s.toFixed(1) : s.toFixed(3);
}

function fmtSize(bytes) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.round(bytes / 1e3)} KB`;
}

function fmtRatio(x) {
  if (x == null || !Number.isFinite(x)) return '';
  return x >= 10 ? ` (${Math.round(x)}×)` : ` (${x.toFixed(2)}×)`;
}

function shellInfo(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(opts.dir)) {
    process.stderr.write(`${opts.dir} does not exist; run: /usr/bin/python3 bench/make_big.py ${opts.dir}\n`);
    process.exit(2);
  }
  const cliPresent = fs.existsSync(CLI);
  const host = {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    openssl: shellInfo('openssl', ['version']),
    timeV: HAVE_TIME,
    timeout: HAVE_TIMEOUT,
  };
  process.stderr.write(
    `bench dir ${opts.dir}; ${opts.runs} runs each; CLI ${cliPresent ? 'present' : 'MISSING (recording failures)'}; ` +
      `/usr/bin/time ${HAVE_TIME ? 'yes' : 'no (no RSS)'}\n`,
  );

  const results = [];
  for (const name of INPUTS) {
    if (opts.only && !opts.only.has(name)) continue;
    const p = path.join(opts.dir, name);
    if (!fs.existsSync(p)) {
      process.stderr.write(`skip ${name}: not in ${opts.dir} (run bench/make_big.py)\n`);
      continue;
    }
    const files = listFiles(p);
    const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
    process.stderr.write(`${name} (${fmtSize(bytes)}, ${files.length} file(s)) …`);
    warm(files);
    const loadavg1 = round(os.loadavg()[0], 2);
    const openssl = measure('openssl', ['dgst', '-sha256', ...files], opts);
    const nodeSha = measure(process.execPath, ['-e', NODE_SHA256, ...files], opts);
    const scan = measure(process.execPath, [CLI, 'scan', p, '--format', 'json'], opts);
    const scanNoHash = measure(process.execPath, [CLI, 'scan', p, '--format', 'json', '--no-hash'], opts);

    const a = digests(openssl.lastStdout);
    const b = digests(nodeSha.lastStdout);
    const digestsAgree = files.every((f) => a.get(f) && a.get(f) === b.get(f));
    const scanReportsSha256 = files.every((f) => b.get(f) && scan.lastStdout.includes(b.get(f)));
    const entry = {
      name,
      path: p,
      bytes,
      files: files.length,
      loadavg1,
      digestsAgree,
      scanReportsSha256,
      sha256: Object.fromEntries(files.map((f) => [path.relative(opts.dir, f), b.get(f) ?? null])),
      tools: {},
      peers: PEERS[name] ?? null,
    };
    for (const [key, m] of [['openssl', openssl], ['node_sha256', nodeSha], ['modelgate', scan], ['modelgate_no_hash', scanNoHash]]) {
      const { lastStdout, ...rest } = m;
      if (key.startsWith('modelgate')) rest.summary = scanSummary(lastStdout);
      entry.tools[key] = rest;
    }
    results.push(entry);
    process.stderr.write(
      ` openssl ${fmtS(openssl.medianS)} s, node ${fmtS(nodeSha.medianS)} s, modelgate ${fmtS(scan.medianS)} s rc ${scan.exitCodes.join(',')}` +
        `${digestsAgree ? '' : ' (DIGESTS DISAGREE)'}\n`,
    );
  }

  const doc = {
    schema: 1,
    host,
    settings: { benchDir: opts.dir, runs: opts.runs, timeoutS: opts.timeoutS, warmPageCache: true, cli: path.relative(ROOT, CLI), cliPresent },
    peersSource: PEERS.source,
    inputs: results,
  };
  fs.mkdirSync(path.dirname(OUT_FILE), { recursive: true });
  fs.writeFileSync(OUT_FILE, JSON.stringify(doc, null, 2) + '\n');
  process.stdout.write(renderTable(doc));
  process.stderr.write(`wrote ${path.relative(ROOT, OUT_FILE)}\n`);
}

function renderTable(doc) {
  const lines = [];
  lines.push(
    `${doc.host.date} · ${doc.host.nproc} CPU ${doc.host.cpu} · ${doc.host.memGiB} GiB · node ${doc.host.node} · ${doc.host.openssl ?? 'openssl ?'} · median of ${doc.settings.runs}, warm page cache`,
    '',
    '| file | size | openssl s | node sha256 s | modelgate s (× node) | modelgate --no-hash s | picklescan s | modelscan s | fickling s | modelgate rc | --no-hash rc | RSS MiB (scan / --no-hash) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const failures = [];
  for (const e of doc.inputs) {
    const t = e.tools;
    const node = t.node_sha256.medianS;
    const mg = (m) => (doc.settings.cliPresent ? fmtS(m.medianS) : 'n/a');
    const peer = (n) => (e.peers ? `${fmtS(e.peers[n][0])} rc ${e.peers[n][1]}` : 'n/a');
    const rss = (m) => (m.maxRssMiB == null ? '?' : String(Math.round(m.maxRssMiB)));
    lines.push(
      `| ${e.name} | ${fmtSize(e.bytes)} | ${fmtS(t.openssl.medianS)} | ${fmtS(node)}${fmtRatio(node / t.openssl.medianS)} | ` +
        `${mg(t.modelgate)}${doc.settings.cliPresent ? fmtRatio(t.modelgate.medianS / node) : ''} | ` +
        `${mg(t.modelgate_no_hash)}${doc.settings.cliPresent ? fmtRatio(t.modelgate_no_hash.medianS / node) : ''} | ` +
        `${PEER_NAMES.map(peer).join(' | ')} | ${t.modelgate.exitCodes.join(',')} | ${t.modelgate_no_hash.exitCodes.join(',')} | ` +
        `${rss(t.modelgate)} / ${rss(t.modelgate_no_hash)} |`,
    );
    for (const key of ['modelgate', 'modelgate_no_hash']) {
      const bad = t[key].runs.find((r) => r.rc !== 0 && r.rc !== 1);
      if (bad) failures.push(`- ${e.name} ${key}: rc ${bad.rc}${bad.timedOut ? ' (timeout)' : ''}: ${oneLine(bad.stderrTail || bad.error || '')}`);
    }
    if (!e.digestsAgree) failures.push(`- ${e.name}: openssl and node SHA-256 digests disagree`);
  }
  lines.push(
    '',
    '(×) after node sha256 = ratio to openssl; after modelgate = ratio to node sha256 on the same bytes. ' +
      `Peer columns are constants from ${doc.peersSource}. rc: 0 clean, 1 findings, 2 error.`,
  );
  if (!doc.settings.cliPresent && doc.inputs.length) {
    const r = doc.inputs[0].tools.modelgate.runs[0];
    failures.unshift(`- ${doc.settings.cli} is missing: modelgate columns are n/a (node exits ${r.rc}, MODULE_NOT_FOUND)`);
  }
  if (failures.length) lines.push('', 'Failures (first failing run, stderr tail):', ...failures);
  return lines.join('\n') + '\n';
}

function oneLine(s) {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 240 ? `…${flat.slice(-240)}` : flat;
}

main();
