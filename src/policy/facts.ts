// Building gate facts from the reports the product already makes, so the registry and tests assemble
// them one way.
import { maxSeverity, severityRank, type ScanReport, type Severity } from '../scan/index.ts';
import type { LicenseReview } from '../license/index.ts';
import type { GateFacts, Timestamp } from './types.ts';

/** The scan facts of a report: worst severity and count per rule, the model formats of every input,
 * remote code (any MG-RC-* finding) and the files that could not be scanned. */
export function scanFactsOf(report: ScanReport, at: Timestamp): NonNullable<GateFacts['scan']> {
  const byRule: Record<string, { severity: Severity; count: number }> = {};
  for (const f of report.files) {
    for (const x of f.findings) {
      const cur = byRule[x.ruleId];
      if (!cur) byRule[x.ruleId] = { severity: x.severity, count: 1 };
      else {
        cur.count++;
        if (severityRank(x.severity) > severityRank(cur.severity)) cur.severity = x.severity;
      }
    }
  }
  const formats = [...new Set(report.models.flatMap((m) => m.modelFormats))].sort();
  return {
    maxSeverity: maxSeverity(Object.values(byRule).map((r) => r.severity)) ?? report.summary.maxSeverity,
    findingsByRule: byRule,
    modelFormats: formats,
    remoteCode: Object.keys(byRule).some((r) => r.startsWith('MG-RC-')),
    errors: report.summary.errors,
    at,
  };
}

export function licenseFactsOf(review: Pick<LicenseReview, 'decision' | 'expression'>, at: Timestamp): NonNullable<GateFacts['license']> {
  return { decision: review.decision, expression: review.expression ?? undefined, at };
}
