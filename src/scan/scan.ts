// `scan()`: the library entry point behind `modelgate scan`. Expands folders, scans files in parallel on
// worker threads (hashing large files on a second thread while they are parsed), and builds the report.
import { readdirSync, lstatSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, type ScanOptions } from './context.ts';
import { ModelgateError, SEVERITIES, maxSeverity, severityRank, type FileReport, type ScanReport, type Severity } from './model.ts';
import { hashFile } from './hash.ts';
import { scanFile } from './walker.ts';
import { WorkerPool } from './pool.ts';
import { VERSION } from '../version.ts';

interface InputFile {
  path: string;
  display: string;
  size: number;
}

/** Files at or above this size are hashed on their own thread while another parses them. */
const PARALLEL_HASH_BYTES = 32 << 20;

export async function scan(paths: string[], options: ScanOptions = {}): Promise<ScanReport> {
  if (paths.length === 0) throw new ModelgateError('USAGE', 'no path to scan');
  const files = paths.flatMap((p) => expand(p));
  const hash = options.hash ?? true;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const totalBytes = files.reduce((a, f) => a + f.size, 0);
  const jobs = Math.max(1, Math.min(options.jobs ?? Math.min(availableParallelism(), 8), 64));
  // Workers pay ~40 ms to start: worth it for several files or one large one (parsed with a larger
  // young generation, and hashed on a second thread at the same time).
  const wantWorkers = jobs > 1 && (files.length > 1 || totalBytes >= PARALLEL_HASH_BYTES);
  const pool = wantWorkers ? new WorkerPool(Math.min(jobs, files.length * 2)) : null;

  const results: FileReport[][] = new Array(files.length);
  let done = 0;
  try {
    await Promise.all(
      files.map(async (f, i) => {
        const hashInWorker = pool !== null && hash && (files.length > 1 || f.size >= PARALLEL_HASH_BYTES);
        const [rows, digest] = await Promise.all([
          pool ? pool.run<FileReport[]>({ kind: 'scan', path: f.path, display: f.display, hash, limits }) : scanFile(f.path, f.display, { hash, limits }),
          !hash ? null : hashInWorker ? pool!.run<string>({ kind: 'hash', path: f.path }) : null,
        ]);
        if (hash && rows[0]) rows[0].sha256 = digest ?? hashFile(f.path);
        results[i] = rows;
        done++;
        options.onProgress?.({ done, total: files.length, path: f.display });
      }),
    );
  } finally {
    await pool?.close();
  }
  return buildReport(results.flat());
}

export function buildReport(files: FileReport[]): ScanReport {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of files) for (const x of f.findings) bySeverity[x.severity]++;
  return {
    schemaVersion: 1,
    tool: { name: 'modelgate', version: VERSION },
    summary: {
      files: files.length,
      scanned: files.filter((f) => f.status === 'scanned').length,
      skipped: files.filter((f) => f.status === 'skipped').length,
      errors: files.filter((f) => f.status === 'error').length,
      maxSeverity: maxSeverity(files.flatMap((f) => f.findings.map((x) => x.severity))),
      bySeverity,
    },
    files,
  };
}

/** 1 when a finding is at or above the threshold (this wins), 2 when a file ended in error, else 0. */
export function exitCodeFor(report: ScanReport, failOn: Severity): 0 | 1 | 2 {
  const worst = report.summary.maxSeverity;
  if (worst !== null && severityRank(worst) >= severityRank(failOn)) return 1;
  if (report.summary.errors > 0) return 2;
  return 0;
}

function expand(p: string): InputFile[] {
  let st;
  try {
    st = statSync(p);
  } catch {
    throw new ModelgateError('NOT_FOUND', `${p}: no such file or folder`);
  }
  if (st.isFile()) return [{ path: p, display: p, size: st.size }];
  if (!st.isDirectory()) throw new ModelgateError('NOT_A_FILE', `${p}: not a regular file or folder`);
  const out: InputFile[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const l = lstatSync(full);
      if (l.isSymbolicLink()) continue; // never follow links out of the model folder
      if (l.isDirectory()) {
        if (name === '.git') continue;
        visit(full);
      } else if (l.isFile()) out.push({ path: full, display: full, size: l.size });
    }
  };
  visit(p);
  return out;
}
