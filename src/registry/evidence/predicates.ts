// Builders for predicates from the library's own results, so callers do not hand-assemble them.
import type { ScanReport, Severity } from '../../scan/model.ts';
import { sha256Hex } from './canonical.ts';
import type { OutsideReport } from './reports/index.ts';

const ORDER: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export interface ScanPredicate {
  scanner: { name: string; version: string };
  summary: ScanReport['summary'];
  files: { path: string; sha256: string | null; format: string; status: string; maxSeverity: Severity | null; findings: number; rules: string[] }[];
  models: ScanReport['models'];
}

/** Summary, per-file maximum severity and rule ids, and the models[] inventory of a scan report. */
export function scanPredicate(report: ScanReport): ScanPredicate {
  return {
    scanner: { name: report.tool.name, version: report.tool.version },
    summary: report.summary,
    files: report.files.map((f) => ({
      path: f.path,
      sha256: f.sha256,
      format: f.format,
      status: f.status,
      maxSeverity: ORDER.find((s) => f.findings.some((x) => x.severity === s)) ?? null,
      findings: f.findings.length,
      rules: [...new Set(f.findings.map((x) => x.ruleId))].sort(),
    })),
    models: report.models,
  };
}

export interface OutsideReportPredicate extends OutsideReport {
  /** What the report describes, e.g. "container" or "dependencies" (free text). */
  scope?: string;
  /** The original file: its SHA-256 and size, so the raw report can be matched later. */
  source: { sha256: string; bytes: number; name?: string };
}

export function outsideReportPredicate(report: OutsideReport, raw: string | Uint8Array, opts: { scope?: string; name?: string } = {}): OutsideReportPredicate {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  return { ...report, ...(opts.scope ? { scope: opts.scope } : {}), source: { sha256: sha256Hex(bytes), bytes: bytes.length, ...(opts.name ? { name: opts.name } : {}) } };
}
