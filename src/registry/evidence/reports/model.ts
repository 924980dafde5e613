// The one shape every outside report (Trivy, Grype, Syft, CycloneDX) is normalised into.
import { ModelgateError } from '../../../scan/model.ts';

export type ReportFormat = 'trivy' | 'grype' | 'syft' | 'cyclonedx';
export type VulnSeverity = 'critical' | 'high' | 'medium' | 'low' | 'unknown';
export const VULN_SEVERITIES: readonly VulnSeverity[] = ['critical', 'high', 'medium', 'low', 'unknown'];

export interface VulnFinding {
  id: string;
  severity: VulnSeverity;
  package: string;
  version: string | null;
  fixedIn: string | null;
}

export interface ComponentSummary {
  count: number;
  /** Components per license id/expression/name as the document states it. */
  licenses: Record<string, number>;
  /** Components that state no license. */
  unlicensed: number;
}

export interface OutsideReport {
  format: ReportFormat;
  tool: string;
  toolVersion: string | null;
  target: string | null;
  counts: Record<VulnSeverity, number>;
  /** One per (id, package, version), highest severity first, then by id. */
  findings: VulnFinding[];
  /** SBOMs only. */
  components?: ComponentSummary;
}

export const RANK: Record<VulnSeverity, number> = { critical: 4, high: 3, medium: 2, low: 1, unknown: 0 };

/**
 * Tool severities to ours. Grype's "Negligible" and CycloneDX's "info"/"none" are below low and
 * are counted as low, so a limit on low still sees them; anything unrecognised is "unknown".
 */
export function normalizeSeverity(s: unknown): VulnSeverity {
  switch (String(s ?? '').trim().toLowerCase()) {
    case 'critical':
      return 'critical';
    case 'high':
    case 'important':
      return 'high';
    case 'medium':
    case 'moderate':
      return 'medium';
    case 'low':
    case 'negligible':
    case 'info':
    case 'none':
      return 'low';
    default:
      return 'unknown';
  }
}

export function malformed(format: string, where: string, what: string): never {
  throw new ModelgateError('REPORT_MALFORMED', `${format} report: ${where} ${what}`);
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Dedupe by (id, package, version) keeping the highest severity, sort, and count. */
export function finish(base: Omit<OutsideReport, 'counts' | 'findings'>, raw: VulnFinding[]): OutsideReport {
  const byKey = new Map<string, VulnFinding>();
  for (const f of raw) {
    const key = `${f.id}\0${f.package}\0${f.version ?? ''}`;
    const seen = byKey.get(key);
    if (!seen || RANK[f.severity] > RANK[seen.severity]) byKey.set(key, seen && !f.fixedIn ? { ...f, fixedIn: seen.fixedIn } : f);
  }
  const findings = [...byKey.values()].sort((a, b) => RANK[b.severity] - RANK[a.severity] || a.id.localeCompare(b.id) || a.package.localeCompare(b.package));
  const counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const f of findings) counts[f.severity]++;
  return { ...base, counts, findings };
}

export function licenseTally(perComponent: string[][]): ComponentSummary {
  const licenses: Record<string, number> = {};
  let unlicensed = 0;
  for (const ls of perComponent) {
    const uniq = [...new Set(ls)];
    if (!uniq.length) unlicensed++;
    for (const l of uniq) licenses[l] = (licenses[l] ?? 0) + 1;
  }
  const sorted = Object.fromEntries(Object.entries(licenses).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { count: perComponent.length, licenses: sorted, unlicensed };
}
