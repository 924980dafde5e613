// Text and JSON rendering of a license review, and its exit code.
import type { Decision, LicenseReview } from './types.ts';

/** 0 approved · 1 forbidden · 3 review needed (2 stays for usage errors and unreadable input). */
export function exitCodeForLicense(decision: Decision): number {
  return decision === 'approved' ? 0 : decision === 'forbidden' ? 1 : 3;
}

export function renderLicenseReview(review: LicenseReview, format: 'text' | 'json', color = false): string {
  if (format === 'json') return `${JSON.stringify(review, null, 2)}\n`;
  const paint = (d: Decision, s: string) => (!color ? s : d === 'approved' ? `\x1b[32m${s}\x1b[0m` : d === 'forbidden' ? `\x1b[31m${s}\x1b[0m` : `\x1b[33m${s}\x1b[0m`);
  const lines: string[] = [];
  lines.push(`${review.path}: ${paint(review.decision, review.decision.toUpperCase())} for ${review.use} use${review.users !== null ? ` (${review.users.toLocaleString('en-US')} monthly active users)` : ''}`);
  lines.push(`  license: ${review.expression ?? 'unknown'}`);
  if (review.licenses.length) {
    lines.push('', 'Detected:');
    for (const l of review.licenses) {
      lines.push(`  ${l.spdx} — ${l.name} [${l.category}]`);
      for (const e of l.evidence) {
        const m = e.match ? ` · ${e.match.kind} match of ${e.match.kbFile} (score ${e.match.score})` : '';
        const h = e.sha256 ? ` · sha256 ${e.sha256.slice(0, 16)}… (normalised ${e.normalizedSha256?.slice(0, 16)}…)` : '';
        lines.push(`    ${e.file}: ${e.kind} "${e.value}"${m}${h}`);
      }
    }
  }
  const others = review.evidence.filter((e) => e.sha256 && !review.licenses.some((l) => l.evidence.includes(e)));
  for (const e of others) {
    const m = e.match ? `${e.match.kind} match of ${e.match.kbFile} (score ${e.match.score})` : 'not recognised';
    lines.push(`  ${e.file}: ${e.kind}, ${m}, sha256 ${e.sha256!.slice(0, 16)}…`);
  }
  lines.push('', 'Reasons:');
  for (const r of review.reasons) lines.push(`  ${paint(r.decision, r.decision.padEnd(9))} ${r.text}${r.clause ? ` [${r.clause.section}]` : ''}`);
  if (review.obligations.length) {
    lines.push('', 'Obligations:');
    for (const o of review.obligations) lines.push(`  - (${o.kind}) ${o.text}${o.clause ? ` [${o.license} ${o.clause.section}]` : ` [${o.license}]`}`);
  }
  return `${lines.join('\n')}\n`;
}
