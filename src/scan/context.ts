// The scan context: budgets, the report rows of one top-level input, and how analyzers report.
import { createHash } from 'node:crypto';
import type { ByteSource } from '../formats/source.ts';
import { chunks } from '../formats/source.ts';
import { LimitError } from '../formats/errors.ts';
import type { FileReport, FindingInput, Severity } from './model.ts';
import { getRule } from './rules/index.ts';

export interface ScanLimits {
  /** Archive nesting depth (a zip in a tar in a gzip is depth 3). */
  maxDepth: number;
  /** Members of one archive. */
  maxEntries: number;
  /** Members across every archive of one input. */
  maxTotalEntries: number;
  /** Bytes decompressed into memory for one input, across all its archives. */
  maxDecompressedBytes: number;
  /** Decompressed / compressed size of one stream. */
  maxRatio: number;
  /** Wall-clock budget for one input, milliseconds. */
  timeoutMs: number;
  /** Largest safetensors JSON header accepted (the format's own limit is 100 MB). */
  maxHeaderBytes: number;
  /** Nested pickles (a pickle inside a bytes constant inside a pickle…). */
  maxPickleNesting: number;
}

export const DEFAULT_LIMITS: ScanLimits = {
  maxDepth: 8,
  maxEntries: 100_000,
  maxTotalEntries: 1_000_000,
  maxDecompressedBytes: 4 * 1024 ** 3,
  maxRatio: 200,
  timeoutMs: 10 * 60_000,
  maxHeaderBytes: 100_000_000,
  maxPickleNesting: 4,
};

export interface ScanOptions {
  /** Compute SHA-256 of every file and member (default true: evidence needs digests). */
  hash?: boolean;
  limits?: Partial<ScanLimits>;
  /** Worker threads for parallel files (default: CPU count, at most 8). 0 or 1 scans in this thread. */
  jobs?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface ProgressEvent {
  done: number;
  total: number;
  path: string;
}

export interface Entry {
  /** Display path; archive members are joined with `!`. */
  path: string;
  /** The entry's own name (the member name inside an archive), used only as a hint. */
  name: string;
  source: ByteSource;
  depth: number;
  /** The report row this entry's findings go to. */
  row: FileReport;
}

/** Everything one top-level input produces: its own row first, then a row per archive member. */
export class InputScan {
  readonly rows: FileReport[] = [];
  readonly deadline: number;
  totalEntries = 0;
  decompressed = 0;

  constructor(
    readonly limits: ScanLimits,
    readonly hash: boolean,
  ) {
    this.deadline = Date.now() + limits.timeoutMs;
  }

  newRow(path: string, size: number): FileReport {
    const row: FileReport = { path, format: 'unknown', size, sha256: null, status: 'skipped', findings: [] };
    this.rows.push(row);
    return row;
  }

  report(entry: Entry, f: FindingInput, row: FileReport = entry.row): void {
    const rule = getRule(f.ruleId);
    const severity: Severity = f.severity ?? rule.severity;
    // One finding per (rule, path, message): repeated imports of one gadget do not flood the report.
    const path = f.path ?? entry.path;
    if (row.findings.some((x) => x.ruleId === rule.id && x.path === path && x.message === f.message)) return;
    row.findings.push({ ruleId: rule.id, severity, path, offset: f.offset ?? null, message: f.message, evidence: f.evidence ?? {} });
  }

  checkTime(offset: number | null = null): void {
    if (Date.now() > this.deadline) throw new LimitError('time', `scan of this input exceeded ${this.limits.timeoutMs} ms`, offset);
  }

  countEntries(n: number): void {
    this.totalEntries += n;
    if (this.totalEntries > this.limits.maxTotalEntries) {
      throw new LimitError('entries', `more than ${this.limits.maxTotalEntries} archive members in one input`);
    }
  }

  /** Reserves room for `bytes` of decompressed data; throws when the input's budget is spent. */
  reserveDecompressed(bytes: number): number {
    const room = this.limits.maxDecompressedBytes - this.decompressed;
    if (bytes > room) throw new LimitError('decompressed-bytes', `more than ${this.limits.maxDecompressedBytes} bytes decompressed for one input`);
    return room;
  }
}

export function sha256Of(src: ByteSource): string {
  const h = createHash('sha256');
  for (const c of chunks(src)) h.update(c);
  return h.digest('hex');
}
