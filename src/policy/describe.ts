// Human descriptions of a cell's requirements: one line per requirement (explain) or one short line (matrix).
import type { CellRequirements } from './types.ts';

/** One line per requirement, with the id the gate reports it under. */
export function describeCell(c: CellRequirements): Array<{ id: string; text: string }> {
  const out: Array<{ id: string; text: string }> = [];
  if (c.scan) {
    const w = c.scan.waivableRules.length ? `; waivable per rule: ${c.scan.waivableRules.join(', ')}` : '';
    out.push({ id: 'scan.severity', text: `no scan finding above ${c.scan.maxSeverity}, every file fully scanned${w}` });
    if (c.scan.allowedFormats) out.push({ id: 'scan.formats', text: `model formats only from: ${c.scan.allowedFormats.join(', ')}` });
    if (!c.scan.remoteCode) out.push({ id: 'scan.remote-code', text: 'no remote code (no MG-RC-* finding: auto_map / trust_remote_code)' });
  }
  if (c.license) out.push({ id: 'license', text: `license decision one of: ${c.license.allowed.join(', ')}` });
  if (c.signature?.required) {
    const who = [...c.signature.identities, ...c.signature.keys];
    out.push({ id: 'signature', text: `signature verified against the root digest${who.length ? `, signed by: ${who.join(', ')}` : ' (any signer)'}` });
  }
  for (const e of c.evals) out.push({ id: `eval:${e.suite}`, text: `eval suite "${e.suite}" pass rate ≥ ${e.minPassRate * 100}%${e.digest ? ` (suite digest ${e.digest})` : ''}` });
  const v = c.vulnerabilities;
  if (v && (v.maxCritical !== null || v.maxHigh !== null)) {
    out.push({ id: 'vulnerabilities', text: `container/dependency vulnerabilities: ${[v.maxCritical !== null && `critical ≤ ${v.maxCritical}`, v.maxHigh !== null && `high ≤ ${v.maxHigh}`].filter(Boolean).join(', ')}` });
  }
  const a = c.approvals;
  if (a && (a.quorum > 0 || a.roles.length > 0)) out.push({ id: 'approvals', text: `${a.quorum} approval(s) from distinct people bound to this root digest${a.roles.length ? `, including roles: ${a.roles.join(', ')}` : ''}` });
  return out;
}

/** Notes that apply to every requirement of the cell (evidence age, waivers). */
export function describeCellNotes(c: CellRequirements): string[] {
  const notes = [c.maxEvidenceAge ? `evidence older than ${c.maxEvidenceAge} fails` : 'evidence never goes stale'];
  if (c.waivers) {
    const what = [...c.waivers.requirements, ...(c.scan?.waivableRules.length ? [`scan.severity:{${c.scan.waivableRules.join(',')}}`] : [])];
    notes.push(`waivers: up to ${c.waivers.maxDuration}, granted by ${c.waivers.grantors.length ? c.waivers.grantors.join(' or ') : 'anyone'}, for ${what.length ? what.join(', ') : 'nothing'}`);
  } else notes.push('no waivers');
  return notes;
}

/** A compact one-line summary for the tier × environment matrix. */
export function describeCellShort(c: CellRequirements): string {
  const parts: string[] = [];
  if (c.scan) {
    parts.push(`scan≤${c.scan.maxSeverity}`);
    if (c.scan.allowedFormats) parts.push(`formats=${c.scan.allowedFormats.join('|')}`);
    parts.push(c.scan.remoteCode ? 'remote-code=ok' : 'remote-code=no');
  }
  if (c.license) parts.push(`license=${c.license.allowed.join('|')}`);
  if (c.signature?.required) parts.push('signed');
  if (c.evals.length) parts.push(`evals=${c.evals.map((e) => `${e.suite}≥${e.minPassRate}`).join(',')}`);
  const v = c.vulnerabilities;
  if (v && (v.maxCritical !== null || v.maxHigh !== null)) parts.push(`vulns=${v.maxCritical ?? '∞'}C/${v.maxHigh ?? '∞'}H`);
  const a = c.approvals;
  if (a && (a.quorum > 0 || a.roles.length > 0)) parts.push(`approvals=${a.quorum}${a.roles.length ? `(${a.roles.join(',')})` : ''}`);
  parts.push(c.maxEvidenceAge ? `age≤${c.maxEvidenceAge}` : 'age=any');
  if (c.waivers) parts.push(`waivers≤${c.waivers.maxDuration}`);
  return parts.join(' ');
}
