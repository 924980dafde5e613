// `scan()`: the library entry point behind `modelgate scan`. Expands folders, scans files in parallel on
// worker threads (hashing large files on a second thread while they are parsed), and builds the report.
import { closeSync, lstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, normalize } from 'node:path';
import { DEFAULT_LIMITS, type ScanOptions } from './context.ts';
import { ModelgateError, SEVERITIES, maxSeverity, severityRank, type FileReport, type ModelInventory, type ScanReport, type Severity } from './model.ts';
import { hashFile } from './hash.ts';
import { scanFile } from './walker.ts';
import { WorkerPool } from './pool.ts';
import { VERSION } from '../version.ts';

interface InputFile {
  path: string;
  display: string;
  size: number;
}

/** Files at or above this size are hashed as a task of their own, in parallel with their scan. */
const PARALLEL_HASH_BYTES = 32 << 20;

// torch.save's legacy format opens with a pickled magic number; the rest of such a file is raw tensors.
const LEGACY_TORCH_HEAD = Buffer.from('80028a0a6cfc9c46f9206aa850192e', 'hex');

function readHead(path: string, n: number): Buffer {
  const head = Buffer.alloc(n);
  const fd = openSync(path, 'r');
  try {
    return head.subarray(0, readSync(fd, head, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** A large file that is one pickle stream from the start: parsing, not reading, dominates its scan. */
function isParseHeavy(f: InputFile): boolean {
  if (f.size < PARALLEL_HASH_BYTES) return false;
  const head = readHead(f.path, 16);
  if (head[0] !== 0x80 || head.subarray(0, LEGACY_TORCH_HEAD.length).equals(LEGACY_TORCH_HEAD)) return false;
  // joblib streams are mostly raw arrays that the walker skips: cheap to parse on this thread.
  return !readHead(f.path, 64 << 10).includes('NumpyArrayWrapper');
}

export async function scan(paths: string[], options: ScanOptions = {}): Promise<ScanReport> {
  if (paths.length === 0) throw new ModelgateError('USAGE', 'no path to scan');
  const files = paths.flatMap((p) => expand(p));
  const hash = options.hash ?? true;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const totalBytes = files.reduce((a, f) => a + f.size, 0);
  const jobs = Math.max(1, Math.min(options.jobs ?? Math.min(availableParallelism(), 8), 64));
  const results: FileReport[][] = new Array(files.length);
  let done = 0;
  const finish = (i: number, rows: FileReport[], digest: string | null) => {
    if (hash && rows[0]) rows[0].sha256 = digest;
    results[i] = rows;
    done++;
    options.onProgress?.({ done, total: files.length, path: files[i].display });
  };

  if (files.length === 1) {
    // One file: hash on this thread; parse here too, unless the file is a large raw pickle, which a
    // worker with a larger young generation parses while this thread hashes.
    const f = files[0];
    const pool = jobs > 1 && isParseHeavy(f) ? new WorkerPool(1) : null;
    try {
      const scanning = pool ? pool.run<FileReport[]>({ kind: 'scan', path: f.path, display: f.display, hash, limits }) : null;
      const digest = hash ? hashFile(f.path) : null;
      finish(0, scanning ? await scanning : await scanFile(f.path, f.display, { hash, limits }), digest);
    } finally {
      await pool?.close();
    }
    return buildReport(results.flat(), paths);
  }

  // Several files: scans and hashes of large files are independent tasks on a pool of workers. Without
  // hashing, weight files scan in milliseconds each, so workers (~40 ms to start) pay off only for
  // parse-heavy pickles or many files.
  const useWorkers = jobs > 1 && (hash ? totalBytes >= PARALLEL_HASH_BYTES || files.length > 16 : files.length > 64 || files.some(isParseHeavy));
  const pool = useWorkers ? new WorkerPool(Math.min(jobs, files.length)) : null;
  try {
    await Promise.all(
      files.map(async (f, i) => {
        const [rows, digest] = await Promise.all([
          pool ? pool.run<FileReport[]>({ kind: 'scan', path: f.path, display: f.display, hash, limits }) : scanFile(f.path, f.display, { hash, limits }),
          !hash ? null : pool && f.size >= PARALLEL_HASH_BYTES ? pool.run<string>({ kind: 'hash', path: f.path }) : null,
        ]);
        finish(i, rows, hash ? (digest ?? hashFile(f.path)) : null);
      }),
    );
  } finally {
    await pool?.close();
  }
  return buildReport(results.flat(), paths);
}

// Formats that are data or documents rather than model artifacts; everything else counts as a model format.
const NON_MODEL_FORMATS = new Set(['json', 'yaml', 'python', 'notebook', 'jinja', 'markdown', 'text', 'binary', 'empty', 'unknown', 'zip', 'tar', '7z', 'gzip', 'bzip2', 'xz', 'lzma', 'lz4', 'zlib']);

export function inventoryOf(path: string, files: FileReport[]): ModelInventory {
  const formats: Record<string, number> = {};
  for (const f of files) if (f.status !== 'skipped') formats[f.format] = (formats[f.format] ?? 0) + 1;
  return { path, formats, modelFormats: Object.keys(formats).filter((k) => !NON_MODEL_FORMATS.has(k)).sort() };
}

export function buildReport(files: FileReport[], inputs: string[] = []): ScanReport {
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
    models: inputs.map((p) => {
      const base = normalize(p).replace(/(.)\/+$/, '$1');
      const inside = (f: FileReport) => {
        const q = normalize(f.path);
        return q === base || q.startsWith(`${base}/`) || q.startsWith(`${base}!`) || base === '.';
      };
      return inventoryOf(p, files.filter(inside));
    }),
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
