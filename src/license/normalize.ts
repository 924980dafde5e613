// License text normalisation and similarity: tolerant to whitespace, case, punctuation, markdown and
// quote styles; sensitive to words and numbers (a changed "700 million" must not disappear).
import { createHash } from 'node:crypto';

/** Lower-cased word tokens; version numbers such as "3.1" stay one token. */
export function licenseTokens(text: string): string[] {
  const t = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\\_/g, '_') // markdown escapes
    .replace(/[\u2018\u2019\u201c\u201d\u00ab\u00bb]/g, ' ');
  return t.match(/[\p{L}\p{N}]+(?:\.\p{N}+)*/gu) ?? [];
}

/** The normalised form that is hashed: tokens joined by one space. */
export function normalizeLicenseText(text: string): string {
  return licenseTokens(text).join(' ');
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const SHINGLE = 3;

/** Word 3-shingles as a set (order-aware but insensitive to repetition). */
export function shingles(tokens: readonly string[]): Set<string> {
  const out = new Set<string>();
  if (tokens.length < SHINGLE) {
    if (tokens.length) out.add(tokens.join(' '));
    return out;
  }
  for (let i = 0; i + SHINGLE <= tokens.length; i++) out.add(`${tokens[i]} ${tokens[i + 1]} ${tokens[i + 2]}`);
  return out;
}

export interface Similarity {
  /** |A∩B| / |A∪B| */
  jaccard: number;
  /** |A∩B| / |B|: how much of the reference text the candidate contains. */
  containment: number;
}

export function similarity(candidate: Set<string>, reference: Set<string>): Similarity {
  let inter = 0;
  const [small, large] = candidate.size <= reference.size ? [candidate, reference] : [reference, candidate];
  for (const s of small) if (large.has(s)) inter++;
  const union = candidate.size + reference.size - inter;
  return { jaccard: union ? inter / union : 0, containment: reference.size ? inter / reference.size : 0 };
}

/** Words of `text` that the reference lacks and vice versa (a short, readable diff; bounded). */
export function wordDiff(text: readonly string[], reference: readonly string[], limit = 12): { added: string[]; removed: string[] } {
  const count = (list: readonly string[]) => {
    const m = new Map<string, number>();
    for (const w of list) m.set(w, (m.get(w) ?? 0) + 1);
    return m;
  };
  const a = count(text);
  const b = count(reference);
  const added: string[] = [];
  const removed: string[] = [];
  for (const [w, n] of a) if (n > (b.get(w) ?? 0) && added.length < limit) added.push(w);
  for (const [w, n] of b) if (n > (a.get(w) ?? 0) && removed.length < limit) removed.push(w);
  return { added, removed };
}
