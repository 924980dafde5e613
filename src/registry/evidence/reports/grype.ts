// Grype `-o json`: { matches: [{ vulnerability: { id, severity, fix: { versions, state } },
// artifact: { name, version, type, purl } }], source: { type, target }, descriptor: { name, version } }.
import { finish, isObject, malformed, normalizeSeverity, str, type OutsideReport, type VulnFinding } from './model.ts';

export function isGrype(doc: unknown): boolean {
  return isObject(doc) && Array.isArray(doc.matches) && (('descriptor' in doc && isObject(doc.descriptor) && doc.descriptor.name === 'grype') || 'source' in doc);
}

function targetOf(source: unknown): string | null {
  if (!isObject(source)) return null;
  const t = source.target;
  if (typeof t === 'string') return t;
  if (isObject(t)) return str(t.userInput) ?? str(t.name) ?? str(t.path);
  return null;
}

export function parseGrype(doc: unknown): OutsideReport {
  if (!isObject(doc) || !Array.isArray(doc.matches)) return malformed('grype', 'matches', 'is not a list');
  const raw: VulnFinding[] = (doc.matches as unknown[]).map((m, i) => {
    const at = `matches[${i}]`;
    if (!isObject(m) || !isObject(m.vulnerability)) return malformed('grype', at, 'has no vulnerability object');
    if (!isObject(m.artifact)) return malformed('grype', at, 'has no artifact object');
    const v = m.vulnerability;
    const id = str(v.id) ?? malformed('grype', `${at}.vulnerability`, 'has no id');
    if (typeof v.severity !== 'string') malformed('grype', `${at}.vulnerability`, 'has no severity');
    const versions = isObject(v.fix) && Array.isArray(v.fix.versions) ? (v.fix.versions as unknown[]).filter((x): x is string => typeof x === 'string' && x !== '') : [];
    return { id, severity: normalizeSeverity(v.severity), package: str(m.artifact.name) ?? malformed('grype', `${at}.artifact`, 'has no name'), version: str(m.artifact.version), fixedIn: versions.length ? versions.join(', ') : null };
  });
  const d = isObject(doc.descriptor) ? doc.descriptor : {};
  return finish({ format: 'grype', tool: str(d.name) ?? 'grype', toolVersion: str(d.version), target: targetOf(doc.source) }, raw);
}
