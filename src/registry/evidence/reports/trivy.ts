// Trivy `--format json`: { SchemaVersion: 2, ArtifactName, Results: [{ Target, Vulnerabilities: [{
// VulnerabilityID, PkgName, InstalledVersion, FixedVersion, Severity }] }] }. Trivy before
// SchemaVersion 2 wrote the Results array at the top level; both are read. Secrets,
// misconfigurations and licenses in Results are not vulnerabilities and are not counted.
import { finish, isObject, malformed, normalizeSeverity, str, type OutsideReport, type VulnFinding } from './model.ts';

export function isTrivy(doc: unknown): boolean {
  if (Array.isArray(doc)) return doc.length > 0 && doc.every((r) => isObject(r) && 'Target' in r);
  return isObject(doc) && typeof doc.SchemaVersion === 'number' && ('Results' in doc || 'ArtifactName' in doc);
}

export function parseTrivy(doc: unknown): OutsideReport {
  const results = Array.isArray(doc) ? doc : isObject(doc) ? (doc.Results ?? []) : malformed('trivy', 'document', 'is not an object');
  if (!Array.isArray(results)) malformed('trivy', 'Results', 'is not a list');
  const raw: VulnFinding[] = [];
  (results as unknown[]).forEach((r, i) => {
    if (!isObject(r)) malformed('trivy', `Results[${i}]`, 'is not an object');
    const vulns = r.Vulnerabilities ?? [];
    if (!Array.isArray(vulns)) malformed('trivy', `Results[${i}].Vulnerabilities`, 'is not a list');
    (vulns as unknown[]).forEach((v, j) => {
      const at = `Results[${i}].Vulnerabilities[${j}]`;
      if (!isObject(v)) malformed('trivy', at, 'is not an object');
      const id = str(v.VulnerabilityID) ?? malformed('trivy', at, 'has no VulnerabilityID');
      if (typeof v.Severity !== 'string') malformed('trivy', at, 'has no Severity');
      raw.push({ id, severity: normalizeSeverity(v.Severity), package: str(v.PkgName) ?? str(v.PkgID) ?? malformed('trivy', at, 'has no PkgName'), version: str(v.InstalledVersion), fixedIn: str(v.FixedVersion) });
    });
  });
  const top = isObject(doc) ? doc : {};
  const trivy = isObject(top.Trivy) ? top.Trivy : {};
  return finish({ format: 'trivy', tool: 'trivy', toolVersion: str(trivy.Version), target: str(top.ArtifactName) }, raw);
}
