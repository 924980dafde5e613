// The decision for one knowledge-base entry and an intended use, and how decisions combine.
import type { Decision, IntendedUse, KbEntry, Obligation, Reason } from './types.ts';

const RANK: Record<Decision, number> = { approved: 0, review: 1, forbidden: 2 };

export function worst(list: Iterable<Decision>): Decision {
  let d: Decision = 'approved';
  for (const x of list) if (RANK[x] > RANK[d]) d = x;
  return d;
}

export function best(list: Iterable<Decision>): Decision {
  let d: Decision = 'forbidden';
  for (const x of list) if (RANK[x] < RANK[d]) d = x;
  return d;
}

export interface EntryDecision {
  decision: Decision;
  reasons: Reason[];
  obligations: Obligation[];
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Decide one license for one intended use (and the organisation's monthly active users, if known). */
export function decideEntry(entry: KbEntry, use: IntendedUse, users: number | undefined): EntryDecision {
  const reasons: Reason[] = [];
  const r = (decision: Decision, text: string, clause?: Reason['clause']) => reasons.push({ decision, text, license: entry.id, ...(clause ? { clause } : {}) });
  const obligations: Obligation[] = entry.obligations.map((o) => ({ ...o, license: entry.id }));

  switch (entry.category) {
    case 'unknown':
      r('review', `${entry.spdx} is not in the license knowledge base: a person must read its terms`);
      break;
    case 'non-commercial':
    case 'research-only': {
      const what = entry.category === 'research-only' ? 'research / non-commercial use only' : 'NonCommercial';
      const clause = entry.obligations.find((o) => o.kind === 'field-of-use')?.clause;
      if (use === 'research') r('approved', `${entry.name}: ${what}; research use is allowed`, clause);
      else r('forbidden', `${entry.name}: ${what}; ${use === 'internal' ? 'internal business use is a commercial purpose' : 'commercial use'} needs a separate license from the licensor`, clause);
      break;
    }
    case 'no-derivatives':
      if (use === 'commercial') r('review', `${entry.name}: NoDerivatives; a product that shares an adapted (e.g. fine-tuned) model is not allowed`);
      else r('approved', `${entry.name}: NoDerivatives; use without sharing adaptations is allowed`);
      break;
    case 'strong-copyleft':
      if (use === 'commercial') r('review', `${entry.name}: strong copyleft; distributing (or, for AGPL/OSL, serving over a network) triggers source and same-license obligations`);
      else r('approved', `${entry.name}: strong copyleft; obligations apply only when distributing or serving to others`);
      break;
    case 'permissive':
    case 'public-domain':
    case 'weak-copyleft':
      r('approved', `${entry.name}: ${entry.category.replace('-', ' ')} license; ${use} use is allowed`);
      break;
    case 'model-community':
    case 'responsible-ai': {
      if (entry.commercialUse === true || use === 'research') r('approved', `${entry.name}: ${use} use is granted`);
      else r('review', `${entry.name}: commercial use is not established`);
      const t = entry.threshold;
      if (t && t.appliesTo.includes(use)) {
        if (users === undefined) r('review', `${entry.name}: a separate license is required above ${fmt(t.monthlyActiveUsers)} monthly active users; pass --users N to decide`, t.clause);
        else if (users > t.monthlyActiveUsers) r('forbidden', `${entry.name}: ${fmt(users)} monthly active users is above the ${fmt(t.monthlyActiveUsers)} threshold; a license from the licensor is required`, t.clause);
        else r('approved', `${entry.name}: ${fmt(users)} monthly active users is within the ${fmt(t.monthlyActiveUsers)} threshold`, t.clause);
      }
      if (entry.acceptableUse?.mutable) r('approved', `${entry.name}: the acceptable-use policy at ${entry.acceptableUse.url} is incorporated by reference and may change; record the version reviewed`, entry.acceptableUse.clause);
      break;
    }
  }
  if (!entry.verified) {
    const d = worst(reasons.map((x) => x.decision));
    if (d === 'approved') r('review', `${entry.name}: terms are from research notes, not a verified text in the knowledge base`);
  }
  if (entry.note) reasons.push({ decision: 'approved', text: entry.note, license: entry.id });
  return { decision: worst(reasons.map((x) => x.decision)), reasons, obligations };
}
