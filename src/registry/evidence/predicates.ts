// Builders for predicates from the library's own results, so callers do not hand-assemble them.
import type { EvalPredicate } from '../../evals/index.ts';
import type { GateDecision } from '../../policy/index.ts';
import type { ScanReport, Severity } from '../../scan/model.ts';
import { sha256Hex } from './canonical.ts';
import type { OutsideReport } from './reports/index.ts';

const ORDER: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export interface ScanPredicate {
  scanner: { name: string; version: string };
  summary: ScanReport['summary'];
  files: { path: string; sha256: string | null; format: string; status: string; maxSeverity: Severity | null; findings: number; rules: string[] }[];
  models: ScanReport['models'];
  /** Worst severity and count per rule id, over all files (what a gate checks). */
  findingsByRule: Record<string, { severity: Severity; count: number }>;
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
    findingsByRule: byRule(report),
  };
}

function byRule(report: ScanReport): Record<string, { severity: Severity; count: number }> {
  const out: Record<string, { severity: Severity; count: number }> = {};
  for (const f of report.files)
    for (const x of f.findings) {
      const seen = out[x.ruleId];
      if (!seen) out[x.ruleId] = { severity: x.severity, count: 1 };
      else {
        seen.count++;
        if (ORDER.indexOf(x.severity) < ORDER.indexOf(seen.severity)) seen.severity = x.severity;
      }
    }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
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

export interface TestResultPredicate {
  result: 'PASSED' | 'FAILED';
  configuration: { name: string; digest: { sha256: string } }[];
  url?: string;
  passedTests: string[];
  warnedTests: string[];
  failedTests: string[];
  summary: { suite: string; suiteDigest: string; total: number; passed: number; passRate: number; ci: { low: number; high: number; level: number }; endpoint?: string };
}

/**
 * One in-toto test-result predicate per suite of a `modelgate eval` run (kind "eval"): PASSED when
 * the suite's pass rate reaches the run's minimum; errored cases count as failed.
 */
export function testResultsFromEvalRun(run: Pick<EvalPredicate, 'endpoint' | 'minPassRate' | 'suites'>): TestResultPredicate[] {
  return run.suites.map((s) => {
    const digest = s.digest.replace(/^sha256:/, '');
    return {
      result: s.passRate >= run.minPassRate ? 'PASSED' : 'FAILED',
      configuration: [{ name: `suite:${s.id}@${s.version}`, digest: { sha256: digest } }],
      passedTests: s.cases.filter((c) => c.status === 'pass').map((c) => c.id),
      warnedTests: [],
      failedTests: s.cases.filter((c) => c.status !== 'pass').map((c) => c.id),
      summary: { suite: s.id, suiteDigest: digest, total: s.total, passed: s.passed, passRate: s.passRate, ci: { low: s.ci95[0], high: s.ci95[1], level: 0.95 }, ...(run.endpoint ? { endpoint: run.endpoint } : {}) },
    };
  });
}

export interface GatePredicate {
  environment: string;
  tier: GateDecision['tier'];
  decision: 'pass' | 'fail';
  evaluatedAt: string;
  policyDigest?: string;
  requirements: { id: string; status: string; reason: string; details?: Record<string, unknown> }[];
}

/** A gate decision (policy's evaluateGate) as a "gate" predicate; requirement evidence goes to details. */
export function gatePredicate(d: GateDecision, opts: { policyDigest?: string } = {}): GatePredicate {
  return {
    environment: d.env,
    tier: d.tier,
    decision: d.allowed ? 'pass' : 'fail',
    evaluatedAt: d.at,
    ...(opts.policyDigest ? { policyDigest: opts.policyDigest } : {}),
    requirements: d.requirements.map((r) => ({ id: r.id, status: r.status, reason: r.reason, ...(r.evidence ? { details: r.evidence } : {}) })),
  };
}
