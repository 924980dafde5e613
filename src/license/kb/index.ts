// The knowledge base: model license entries, SPDX entries on demand, and the canonical texts to match.
import type { KbEntry } from '../types.ts';
import { MODEL_LICENSES, AUP_TEXTS } from './models.ts';
import { spdxEntry, hubIdToSpdx, spdxId, classifySpdx, SPDX_SIGNATURES } from './spdx.ts';
import { KB_TEXTS, type KbText } from './texts.generated.ts';
import { licenseTokens, normalizeLicenseText, sha256Hex, shingles } from '../normalize.ts';

export { MODEL_LICENSES, AUP_TEXTS, SPDX_SIGNATURES, spdxId, classifySpdx };

const BY_SPDX = new Map<string, KbEntry>(MODEL_LICENSES.map((e) => [e.spdx.toLowerCase(), e]));
const BY_ID = new Map<string, KbEntry>(MODEL_LICENSES.map((e) => [e.id.toLowerCase(), e]));
/** Hub `license` id → LicenseRef of a model license. */
const HUB_REFS = new Map<string, string>();
/** `license_name` → model entry. */
const BY_NAME = new Map<string, KbEntry>();
for (const e of MODEL_LICENSES) {
  for (const h of e.hubIds) HUB_REFS.set(h.toLowerCase(), e.spdx);
  for (const n of [e.id, ...(e.licenseNames ?? [])]) BY_NAME.set(n.toLowerCase(), e);
}

/** SPDX id or LicenseRef for a Hub `license` value. */
export function spdxForHubId(hubId: string): string {
  return hubIdToSpdx(hubId, HUB_REFS);
}

/** The KB entry for an SPDX id / LicenseRef (model entries first, then SPDX classification). */
export function entryForSpdx(id: string): KbEntry {
  const model = BY_SPDX.get(id.toLowerCase());
  if (model) return model;
  return spdxEntry(spdxId(id) ?? id);
}

/** The KB entry for a card's `license_name` (with `license: other`), or null. */
export function entryForLicenseName(name: string): KbEntry | null {
  const key = name.trim().toLowerCase();
  return BY_NAME.get(key) ?? BY_NAME.get(key.replace(/[\s_]+/g, '-')) ?? null;
}

export function entryById(id: string): KbEntry | undefined {
  return BY_ID.get(id.toLowerCase()) ?? (spdxId(id) ? spdxEntry(spdxId(id)!) : undefined);
}

export interface KbTextIndex {
  file: string;
  /** KB entry id the text belongs to. */
  entry: string;
  role: 'license' | 'acceptable-use';
  sha256: string;
  normalizedSha256: string;
  tokens: string[];
  shingles: Set<string>;
}

let index: KbTextIndex[] | null = null;

/** Canonical texts with their fingerprints (built once, on first use). */
export function kbTextIndex(): KbTextIndex[] {
  if (index) return index;
  const owner = new Map<string, { entry: string; role: KbTextIndex['role'] }>();
  for (const e of MODEL_LICENSES) if (e.textFile) owner.set(e.textFile, { entry: e.id, role: 'license' });
  for (const a of AUP_TEXTS) owner.set(a.file, { entry: a.license, role: 'acceptable-use' });
  index = KB_TEXTS.flatMap((t: KbText) => {
    const o = owner.get(t.file);
    if (!o) return [];
    const tokens = licenseTokens(t.text);
    return [{ file: t.file, entry: o.entry, role: o.role, sha256: t.sha256, normalizedSha256: sha256Hex(tokens.join(' ')), tokens, shingles: shingles(tokens) }];
  });
  return index;
}

export { normalizeLicenseText };
