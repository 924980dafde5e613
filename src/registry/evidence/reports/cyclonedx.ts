// CycloneDX JSON (1.4–1.6): { bomFormat: "CycloneDX", specVersion, metadata: { tools, component },
// components: [{ bom-ref, name, version, licenses: [{ license: { id | name } } | { expression }],
// components? }], vulnerabilities?: [{ id, ratings: [{ severity }], affects: [{ ref, versions }] }] }.
// metadata.tools is a list in 1.4 and { components: [...] } from 1.5 on.
import { finish, isObject, licenseTally, malformed, normalizeSeverity, RANK, str, type OutsideReport, type VulnFinding, type VulnSeverity } from './model.ts';

export function isCycloneDx(doc: unknown): boolean {
  return isObject(doc) && doc.bomFormat === 'CycloneDX';
}

function firstTool(meta: Record<string, unknown>): { name: string | null; version: string | null } {
  const t = meta.tools;
  const list = Array.isArray(t) ? t : isObject(t) && Array.isArray(t.components) ? t.components : [];
  const first = list.find(isObject) as Record<string, unknown> | undefined;
  return { name: first ? str(first.name) : null, version: first ? str(first.version) : null };
}

function licensesOf(c: Record<string, unknown>): string[] {
  if (!Array.isArray(c.licenses)) return [];
  return (c.licenses as unknown[]).flatMap((l) => {
    if (!isObject(l)) return [];
    if (str(l.expression)) return [l.expression as string];
    if (isObject(l.license)) {
      const v = str(l.license.id) ?? str(l.license.name);
      return v ? [v] : [];
    }
    return [];
  });
}

export function parseCycloneDx(doc: unknown): OutsideReport {
  if (!isObject(doc)) return malformed('cyclonedx', 'document', 'is not an object');
  if (typeof doc.specVersion !== 'string') malformed('cyclonedx', 'specVersion', 'is missing');
  const components: Record<string, unknown>[] = [];
  const walk = (list: unknown, at: string) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) malformed('cyclonedx', at, 'is not a list');
    (list as unknown[]).forEach((c, i) => {
      if (!isObject(c) || typeof c.name !== 'string') malformed('cyclonedx', `${at}[${i}]`, 'has no name');
      components.push(c as Record<string, unknown>);
      walk((c as Record<string, unknown>).components, `${at}[${i}].components`);
    });
  };
  walk(doc.components, 'components');
  const byRef = new Map<string, Record<string, unknown>>();
  for (const c of components) if (typeof c['bom-ref'] === 'string') byRef.set(c['bom-ref'] as string, c);

  const raw: VulnFinding[] = [];
  const vulns = doc.vulnerabilities ?? [];
  if (!Array.isArray(vulns)) malformed('cyclonedx', 'vulnerabilities', 'is not a list');
  (vulns as unknown[]).forEach((v, i) => {
    const at = `vulnerabilities[${i}]`;
    if (!isObject(v)) return malformed('cyclonedx', at, 'is not an object');
    const id = str(v.id) ?? malformed('cyclonedx', at, 'has no id');
    let severity: VulnSeverity = 'unknown';
    for (const r of Array.isArray(v.ratings) ? v.ratings : []) {
      const s = isObject(r) ? normalizeSeverity(r.severity) : 'unknown';
      if (RANK[s] > RANK[severity]) severity = s;
    }
    const affects = Array.isArray(v.affects) ? (v.affects as unknown[]) : [];
    if (!affects.length) malformed('cyclonedx', at, 'affects no component');
    affects.forEach((a, j) => {
      const ref = isObject(a) ? str(a.ref) : null;
      if (!ref) return malformed('cyclonedx', `${at}.affects[${j}]`, 'has no ref');
      const c = byRef.get(ref);
      const fixed = isObject(a) && Array.isArray(a.versions) ? (a.versions as unknown[]).filter((x): x is Record<string, unknown> => isObject(x) && x.status === 'unaffected' && typeof x.version === 'string').map((x) => x.version as string) : [];
      raw.push({ id, severity, package: c ? String(c.name) : ref, version: c ? str(c.version) : null, fixedIn: fixed.length ? fixed.join(', ') : null });
    });
  });

  const meta = isObject(doc.metadata) ? doc.metadata : {};
  const tool = firstTool(meta);
  const mc = isObject(meta.component) ? meta.component : null;
  const target = mc && str(mc.name) ? `${mc.name}${str(mc.version) ? `:${mc.version}` : ''}` : null;
  return { ...finish({ format: 'cyclonedx', tool: tool.name ?? 'unknown', toolVersion: tool.version, target }, raw), components: licenseTally(components.map(licensesOf)) };
}
