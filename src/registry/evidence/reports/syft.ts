// Syft `-o json`: { artifacts: [{ name, version, type, purl, licenses }], source: { name, version,
// type, metadata }, descriptor: { name: "syft", version }, schema: { version, url } }. `licenses`
// is a list of strings in older schemas and of { value, spdxExpression, type } in newer ones.
import { finish, isObject, licenseTally, malformed, str, type OutsideReport } from './model.ts';

export function isSyft(doc: unknown): boolean {
  if (!isObject(doc) || !Array.isArray(doc.artifacts)) return false;
  const d = doc.descriptor;
  const s = doc.schema;
  return (isObject(d) && d.name === 'syft') || (isObject(s) && typeof s.url === 'string' && s.url.includes('syft'));
}

function licensesOf(a: Record<string, unknown>, at: string): string[] {
  const ls = a.licenses ?? [];
  if (!Array.isArray(ls)) return malformed('syft', `${at}.licenses`, 'is not a list');
  return ls.flatMap((l) => {
    if (typeof l === 'string') return l ? [l] : [];
    if (isObject(l)) {
      const v = str(l.spdxExpression) ?? str(l.value);
      return v ? [v] : [];
    }
    return [];
  });
}

export function parseSyft(doc: unknown): OutsideReport {
  if (!isObject(doc) || !Array.isArray(doc.artifacts)) return malformed('syft', 'artifacts', 'is not a list');
  const per = (doc.artifacts as unknown[]).map((a, i) => {
    if (!isObject(a) || typeof a.name !== 'string') return malformed('syft', `artifacts[${i}]`, 'has no name');
    return licensesOf(a, `artifacts[${i}]`);
  });
  const d = isObject(doc.descriptor) ? doc.descriptor : {};
  const src = isObject(doc.source) ? doc.source : {};
  const meta = isObject(src.metadata) ? src.metadata : {};
  const target = str(meta.userInput) ?? (str(src.name) ? `${src.name}${str(src.version) ? `:${src.version}` : ''}` : null);
  return { ...finish({ format: 'syft', tool: str(d.name) ?? 'syft', toolVersion: str(d.version), target }, []), components: licenseTally(per) };
}
