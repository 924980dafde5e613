// reviewLicense(): detect → resolve through the knowledge base → decide for the intended use.
import { VERSION } from '../version.ts';
import { ModelgateError } from '../scan/model.ts';
import { entryById, entryForSpdx } from './kb/index.ts';
import { detectLicenses, spdxLeaves, type SpdxNode } from './detect.ts';
import { best, decideEntry, worst, type EntryDecision } from './decide.ts';
import { INTENDED_USES, type Decision, type DetectedLicense, type IntendedUse, type KbEntry, type LicenseReview, type Obligation, type Reason, type ReviewOptions } from './types.ts';

export function parseIntendedUse(text: string): IntendedUse {
  const t = text.toLowerCase();
  if ((INTENDED_USES as readonly string[]).includes(t)) return t as IntendedUse;
  throw new ModelgateError('USAGE', `unknown intended use "${text}" (expected one of: ${INTENDED_USES.join(', ')})`);
}

/** Review the license terms of a model folder (or a card / license file) for an intended use. */
export function reviewLicense(path: string, opts: ReviewOptions): LicenseReview {
  const use = parseIntendedUse(opts.use);
  if (opts.users !== undefined && !(Number.isSafeInteger(opts.users) && opts.users >= 0)) throw new ModelgateError('USAGE', `users must be a whole number ≥ 0, not ${opts.users}`);
  const det = detectLicenses(path);
  const reasons: Reason[] = [];
  const licenses = new Map<string, DetectedLicense>();
  const entries = new Map<string, KbEntry>();

  const note = (entry: KbEntry, ev: DetectedLicense['evidence'][number]) => {
    let d = licenses.get(entry.spdx);
    if (!d) {
      d = { entry: entry.category === 'unknown' ? null : entry.id, spdx: entry.spdx, name: entry.name, category: entry.category, evidence: [] };
      licenses.set(entry.spdx, d);
      entries.set(entry.spdx, entry);
    }
    d.evidence.push(ev);
  };

  // 1. The card.
  const cardLeaves = det.cardAst ? spdxLeaves(det.cardAst) : [];
  for (const leaf of cardLeaves) {
    const entry = entryForSpdx(leaf);
    for (const ev of det.evidence) if (ev.kind === 'card-license' || ev.kind === 'card-license-name') note(entry, ev);
  }
  // A broken card or an unusable license field needs a person; a card that simply has no license field
  // leaves the decision to the files.
  if (det.cardProblem) reasons.push({ decision: det.card || /not valid YAML/.test(det.cardProblem) ? 'review' : 'approved', text: det.cardProblem });
  if (det.card?.license.some((l) => l.toLowerCase() === 'other') && !det.card.licenseName) {
    reasons.push({ decision: 'review', text: 'the card says `license: other` without `license_name`: the terms are in a file or link that must be identified' });
  }

  for (const b of det.card?.baseModels ?? []) {
    reasons.push({ decision: 'approved', text: `derived from ${b}: the base model's license also binds this model (review it too; not checked here)` });
  }
  if (det.linkMissing) reasons.push({ decision: 'review', text: `the card's license_link points to ${det.linkMissing}, which is not in the folder: the linked terms were not read` });

  // 2. Files (and a license text in the gated-access prompt).
  const fileLicenses = new Set<string>();
  const aupOf = new Set<string>();
  for (const ev of det.evidence) {
    if (ev.kind === 'card-gated' && !ev.match) continue;
    if (ev.kind !== 'license-file' && ev.kind !== 'notice-file' && ev.kind !== 'use-policy-file' && ev.kind !== 'card-gated') continue;
    const m = ev.match;
    const where = ev.kind === 'card-gated' ? `${ev.file} extra_gated_prompt` : ev.file;
    if (!m) {
      if (ev.kind === 'license-file') reasons.push({ decision: 'review', text: `${ev.file} is not a license text the knowledge base knows (sha256 ${ev.sha256?.slice(0, 16)}…): a person must read it` });
      else if (ev.kind === 'use-policy-file') reasons.push({ decision: 'review', text: `${ev.file} is not an acceptable-use policy the knowledge base knows: a person must read it` });
      continue;
    }
    const entry = entryById(m.entry) ?? entryForSpdx(m.entry);
    const isAup = m.kbFile.includes('use-policy');
    if (isAup) aupOf.add(entry.spdx);
    else {
      note(entry, ev);
      fileLicenses.add(entry.spdx);
    }
    for (const id of m.alsoContains ?? []) {
      const other = entryById(id);
      if (!other) continue;
      note(other, ev);
      fileLicenses.add(other.spdx);
    }
    if (m.kind === 'near' || m.kind === 'contains') {
      const diff = m.diff && (m.diff.added.length || m.diff.removed.length) ? ` (words added: ${m.diff.added.join(' ') || '—'}; removed: ${m.diff.removed.join(' ') || '—'})` : '';
      reasons.push({
        decision: 'review',
        license: entry.id,
        text: m.kind === 'near'
          ? `${where} matches ${m.kbFile} with edits (similarity ${m.score}): the terms may differ from the knowledge base${diff}`
          : `${where} contains ${m.kbFile} plus other text (similarity ${m.score}): read the additions${diff}`,
      });
    }
  }

  // 3. Card vs files.
  const cardSet = new Set(cardLeaves.map((l) => entryForSpdx(l).spdx));
  if (det.cardAst) {
    for (const f of fileLicenses) {
      if (!cardSet.has(f)) reasons.push({ decision: 'review', text: `conflict: the card says ${det.cardExpression} but a file holds ${f}; both sets of terms are applied until a person resolves it`, license: entries.get(f)?.id });
    }
  }
  for (const a of aupOf) {
    if ((cardSet.size || fileLicenses.size) && !cardSet.has(a) && !fileLicenses.has(a)) reasons.push({ decision: 'review', text: `conflict: the acceptable-use policy in the folder belongs to ${a}, which is not the model's license` });
  }

  // A custom model license named only by the card: its terms are versioned and change (Gemma moved to
  // Apache-2.0 for Gemma 4), so without the text in the folder a person confirms which terms apply.
  for (const leaf of cardLeaves) {
    const e = entryForSpdx(leaf);
    if (!e.spdx.startsWith('LicenseRef-') || e.category === 'unknown' || !e.textFile) continue;
    const textSeen = licenses.get(e.spdx)?.evidence.some((ev) => ev.match && ev.match.kind !== 'signature' && (ev.kind === 'license-file' || ev.kind === 'card-gated'));
    if (!textSeen) reasons.push({ decision: 'review', license: e.id, text: `the card names ${e.name} but no license text in the folder confirms it: check that the model ships under that version of the terms` });
  }

  // 4. The expression to decide: the card's, AND every file license the card does not name.
  let ast: SpdxNode | null = det.cardAst;
  for (const f of fileLicenses) if (!cardSet.has(f)) ast = ast ? { left: ast, conjunction: 'and', right: { license: f } } : { license: f };
  const obligations: Obligation[] = [];
  let decision: Decision;
  if (!ast) {
    reasons.push({ decision: 'review', text: det.card ? 'no license could be determined from the card or the files' : 'no model card license and no license file found: the terms are unknown' });
    decision = 'review';
  } else {
    const evald = evaluate(ast, use, opts.users);
    reasons.push(...evald.reasons);
    obligations.push(...evald.obligations);
    decision = evald.decision;
  }
  decision = worst([decision, ...reasons.map((r) => r.decision)]);

  return {
    schemaVersion: 1,
    tool: { name: 'modelgate', version: VERSION },
    path,
    use,
    users: opts.users ?? null,
    decision,
    expression: ast ? render(ast) : null,
    licenses: [...licenses.values()],
    reasons: dedupe(reasons, (r) => `${r.decision}|${r.text}`),
    obligations: dedupe(obligations, (o) => `${o.license}|${o.kind}|${o.text}`),
    evidence: det.evidence,
  };
}

/** AND: every part applies (worst decision, all obligations); OR: the best option is chosen. */
function evaluate(node: SpdxNode, use: IntendedUse, users: number | undefined): EntryDecision {
  if ('license' in node) return decideEntry(entryForSpdx(node.license), use, users);
  const l = evaluate(node.left, use, users);
  const r = evaluate(node.right, use, users);
  if (node.conjunction === 'and') return { decision: worst([l.decision, r.decision]), reasons: [...l.reasons, ...r.reasons], obligations: [...l.obligations, ...r.obligations] };
  const pick = best([l.decision, r.decision]) === l.decision ? l : r;
  const other = pick === l ? r : l;
  return {
    decision: pick.decision,
    reasons: [...pick.reasons, { decision: 'approved', text: `chose ${render(pick === l ? node.left : node.right)} over ${render(pick === l ? node.right : node.left)} (${other.decision}) in an OR expression` }],
    obligations: pick.obligations,
  };
}

function render(node: SpdxNode): string {
  if ('license' in node) return `${node.license}${node.plus ? '+' : ''}${node.exception ? ` WITH ${node.exception}` : ''}`;
  const side = (n: SpdxNode) => ('license' in n || n.conjunction === node.conjunction ? render(n) : `(${render(n)})`);
  return `${side(node.left)} ${node.conjunction.toUpperCase()} ${side(node.right)}`;
}

function dedupe<T>(list: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  return list.filter((x) => {
    const k = key(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
