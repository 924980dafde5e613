// SPDX licenses: ids from spdx-license-ids, a compact classification of the common ones (unknown → review),
// and the mapping of Hugging Face `license` ids onto SPDX ids or LicenseRef-*.
import { createRequire } from 'node:module';
import type { KbEntry, LicenseCategory, Obligation } from '../types.ts';

const require = createRequire(import.meta.url);
const SPDX_IDS: readonly string[] = require('spdx-license-ids/index.json');
const SPDX_DEPRECATED: readonly string[] = require('spdx-license-ids/deprecated.json');

const BY_LOWER = new Map<string, string>();
for (const id of [...SPDX_IDS, ...SPDX_DEPRECATED]) BY_LOWER.set(id.toLowerCase(), id);

/** Canonical spelling of an SPDX license id (case-insensitive), or null. */
export function spdxId(text: string): string | null {
  return BY_LOWER.get(text.toLowerCase()) ?? null;
}

export function isDeprecatedSpdx(id: string): boolean {
  return SPDX_DEPRECATED.includes(id);
}

/** Hugging Face ids that are not SPDX ids (or are ambiguous) → SPDX id or LicenseRef. */
const HUB_TO_SPDX: Record<string, string> = {
  'agpl-3.0': 'AGPL-3.0-only',
  'gpl-2.0': 'GPL-2.0-only',
  'gpl-3.0': 'GPL-3.0-only',
  'lgpl-2.1': 'LGPL-2.1-only',
  'lgpl-3.0': 'LGPL-3.0-only',
  'gpl': 'LicenseRef-hf-gpl',
  'lgpl': 'LicenseRef-hf-lgpl',
  'gfdl': 'LicenseRef-hf-gfdl',
  'bsd': 'LicenseRef-hf-bsd',
  'cc': 'LicenseRef-hf-cc',
  'lgpl-lr': 'LGPLLR',
  'odc-by': 'ODC-By-1.0',
  'odbl': 'ODbL-1.0',
  'pddl': 'PDDL-1.0',
  'etalab-2.0': 'etalab-2.0',
  'c-uda': 'C-UDA-1.0',
  'openmdw-1.0': 'LicenseRef-openmdw-1.0',
  'openmdw-1.1': 'LicenseRef-openmdw-1.1',
  'other': 'LicenseRef-hf-other',
  'unknown': 'LicenseRef-hf-unknown',
};

/** Map one Hub `license` id (or an SPDX id in any case) to an SPDX id or a LicenseRef. */
export function hubIdToSpdx(hubId: string, modelRefs: ReadonlyMap<string, string>): string {
  const key = hubId.trim().toLowerCase();
  if (key.startsWith('licenseref-')) return hubId.trim();
  const model = modelRefs.get(key);
  if (model) return model;
  if (HUB_TO_SPDX[key]) return HUB_TO_SPDX[key];
  const spdx = spdxId(key);
  if (spdx) return spdx;
  return `LicenseRef-${key.replace(/[^a-z0-9.-]+/g, '-')}`;
}

/** Patterns in order; the first that matches classifies. */
const CLASSES: ReadonlyArray<[RegExp, LicenseCategory]> = [
  [/^CC-BY-NC(-|$)/i, 'non-commercial'],
  [/^CC-BY-ND-/i, 'no-derivatives'],
  [/^CC-BY-SA-/i, 'strong-copyleft'],
  [/^(CC0-1\.0|Unlicense|PDDL-1\.0|0BSD|CC-PDDC|WTFPL)$/i, 'public-domain'],
  [/^(AGPL|GPL|EUPL|OSL|GFDL|SSPL|CDLA-Sharing|ODbL|LicenseRef-hf-gpl|LicenseRef-hf-gfdl)/i, 'strong-copyleft'],
  [/^(LGPL|MPL|EPL|CDDL|MS-RL|LGPLLR|LicenseRef-hf-lgpl|CPL-1\.0|APSL)/i, 'weak-copyleft'],
  [/^(MIT|MIT-0|Apache-2\.0|Apache-1\.1|BSD-[234]-Clause.*|BSD-3-Clause-Clear|ISC|Zlib|BSL-1\.0|PostgreSQL|NCSA|AFL-3\.0|Artistic-2\.0|ECL-2\.0|CC-BY-[1-4]\.\d|PSF-2\.0|Python-2\.0|X11|OFL-1\.1|CDLA-Permissive-[12]\.0|ODC-By-1\.0|Unicode-DFS-201[56]|Unicode-3\.0|BlueOak-1\.0\.0|UPL-1\.0|MS-PL|LPPL-1\.3c|etalab-2\.0|C-UDA-1\.0|LicenseRef-hf-bsd|LicenseRef-openmdw-1\.[01])$/i, 'permissive'],
];

export function classifySpdx(id: string): LicenseCategory {
  for (const [re, cat] of CLASSES) if (re.test(id)) return cat;
  return 'unknown';
}

type Ob = Omit<Obligation, 'license'>;
const CATEGORY_OBLIGATIONS: Partial<Record<LicenseCategory, Ob[]>> = {
  permissive: [{ kind: 'attribution', text: 'Keep the copyright and license notices (and a NOTICE file where the license has one) in copies you distribute' }],
  'weak-copyleft': [{ kind: 'copyleft', text: 'Modifications of the licensed files must be made available under the same license when distributed; keep notices' }],
  'strong-copyleft': [{ kind: 'copyleft', text: 'Works based on it must be released under the same license with source when distributed (AGPL/OSL: also when offered over a network); keep notices' }],
  'non-commercial': [{ kind: 'field-of-use', text: 'NonCommercial: no use primarily intended for or directed towards commercial advantage; attribution and license link required' }],
  'no-derivatives': [{ kind: 'redistribution', text: 'NoDerivatives: adapted material (e.g. a fine-tuned model) may not be shared; attribution and license link required' }],
};

/** A KB entry for an SPDX id (or a Hub LicenseRef for a generic family). */
export function spdxEntry(id: string): KbEntry {
  const category = classifySpdx(id);
  const known = category !== 'unknown';
  return {
    id,
    spdx: id,
    name: id,
    category,
    hubIds: [],
    commercialUse: category === 'non-commercial' ? false : known ? true : 'unknown',
    researchOnly: false,
    obligations: [...(CATEGORY_OBLIGATIONS[category] ?? [])],
    verified: known && !id.startsWith('LicenseRef-hf-'),
    note: id.startsWith('LicenseRef-hf-') && known ? `The Hub id names a license family without a version: check the LICENSE file` : undefined,
    source: 'spdx-license-ids + modelgate classification table',
  };
}

/** Texts of common open-source licenses recognised by their opening words (full texts are not in the KB). */
export const SPDX_SIGNATURES: ReadonlyArray<[RegExp, string]> = [
  [/^\s*apache license\s+version 2\.0/, 'Apache-2.0'],
  [/permission is hereby granted free of charge to any person obtaining a copy/, 'MIT'],
  [/gnu affero general public license version 3/, 'AGPL-3.0-only'],
  [/gnu lesser general public license version 3/, 'LGPL-3.0-only'],
  [/gnu lesser general public license version 2\.1/, 'LGPL-2.1-only'],
  [/gnu general public license version 3/, 'GPL-3.0-only'],
  [/gnu general public license version 2/, 'GPL-2.0-only'],
  [/mozilla public license version 2\.0/, 'MPL-2.0'],
  [/redistribution and use in source and binary forms with or without modification are permitted.*neither the name of/s, 'BSD-3-Clause'],
  [/redistribution and use in source and binary forms with or without modification are permitted/, 'BSD-2-Clause'],
  [/creative commons attribution noncommercial 4\.0 international/, 'CC-BY-NC-4.0'],
  [/creative commons attribution sharealike 4\.0 international/, 'CC-BY-SA-4.0'],
  [/creative commons attribution 4\.0 international/, 'CC-BY-4.0'],
  [/cc0 1\.0 universal/, 'CC0-1.0'],
  [/this is free and unencumbered software released into the public domain/, 'Unlicense'],
];
