// Match a license text against the knowledge base's canonical texts.
import { kbTextIndex, SPDX_SIGNATURES, MODEL_LICENSES } from './kb/index.ts';
import { licenseTokens, sha256Hex, shingles, similarity, wordDiff } from './normalize.ts';
import type { TextMatch } from './types.ts';

/** Jaccard at or above this is a "near" match of the best-scoring KB text (siblings like Llama 3.1/3.2 score ~0.94). */
export const NEAR_THRESHOLD = 0.8;
/** A file holding ≥ this share of a KB text's shingles (plus more) "contains" it. */
export const CONTAINS_THRESHOLD = 0.98;

export interface TextFingerprint {
  sha256: string;
  normalizedSha256: string;
  tokens: string[];
}

export function fingerprint(raw: Uint8Array | string): TextFingerprint {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  const tokens = licenseTokens(text);
  return { sha256: sha256Hex(raw), normalizedSha256: sha256Hex(tokens.join(' ')), tokens };
}

const round = (n: number) => Math.round(n * 10000) / 10000;

/** Best KB match for a text, or null when nothing is close enough. */
export function matchLicenseText(fp: TextFingerprint): TextMatch | null {
  if (fp.tokens.length === 0) return null;
  const sh = shingles(fp.tokens);
  const scored = kbTextIndex()
    .map((t) => ({ t, s: similarity(sh, t.shingles) }))
    .sort((a, b) => b.s.jaccard - a.s.jaccard);
  const [best, second] = scored;
  const runnerUp = (x: (typeof scored)[number] | undefined) => (x ? { kbFile: x.t.file, score: round(x.s.jaccard) } : undefined);
  if (best) {
    if (best.t.normalizedSha256 === fp.normalizedSha256) {
      return { entry: best.t.entry, kbFile: best.t.file, kind: 'exact', score: round(best.s.jaccard), containment: round(best.s.containment), runnerUp: runnerUp(second) };
    }
    // A KB text held (almost) in full wins over a merely similar one: an edited text still contains most of
    // its own shingles, and a file with a license plus more (an appended policy) contains it entirely.
    const held = scored
      .filter((x) => x.s.containment >= CONTAINS_THRESHOLD)
      .sort((a, b) => (a.t.role === b.t.role ? 0 : a.t.role === 'license' ? -1 : 1) || b.s.containment - a.s.containment || b.s.jaccard - a.s.jaccard);
    const top = held[0];
    if (top) {
      const also = held.slice(1).filter((x) => x.t.role === 'license' && x.t.entry !== top.t.entry).map((x) => x.t.entry);
      const next = scored.find((x) => x !== top);
      return {
        entry: top.t.entry,
        kbFile: top.t.file,
        kind: top.s.jaccard >= NEAR_THRESHOLD ? 'near' : 'contains',
        score: round(top.s.jaccard),
        containment: round(top.s.containment),
        runnerUp: runnerUp(next),
        ...(also.length ? { alsoContains: [...new Set(also)] } : {}),
        diff: wordDiff(fp.tokens, top.t.tokens),
      };
    }
    if (best.s.jaccard >= NEAR_THRESHOLD) {
      return { entry: best.t.entry, kbFile: best.t.file, kind: 'near', score: round(best.s.jaccard), containment: round(best.s.containment), runnerUp: runnerUp(second), diff: wordDiff(fp.tokens, best.t.tokens) };
    }
  }
  const normalized = fp.tokens.join(' ');
  const head = fp.tokens.slice(0, 400).join(' ');
  for (const [re, id] of SPDX_SIGNATURES) {
    if (re.test(id === 'Apache-2.0' ? normalized : head)) return { entry: id, kbFile: '(signature)', kind: 'signature', score: 1, containment: 1 };
  }
  return null;
}

/** Attribution notices that name a model license ("Llama 3.1 is licensed under …"), normalised. */
const NOTICES: ReadonlyArray<{ entry: string; notice: string }> = MODEL_LICENSES.flatMap((e) =>
  e.obligations.flatMap((o) => {
    const m = o.kind === 'attribution' ? /"([^"]+ is (?:licensed|provided) under [^"]+)"/.exec(o.text) : null;
    return m ? [{ entry: e.id, notice: licenseTokens(m[1]).join(' ') }] : [];
  }),
);

/** A NOTICE file's attribution line naming a KB license, or null. */
export function matchNotice(fp: TextFingerprint): TextMatch | null {
  const text = fp.tokens.join(' ');
  const hit = NOTICES.filter((n) => text.includes(n.notice)).sort((a, b) => b.notice.length - a.notice.length)[0];
  return hit ? { entry: hit.entry, kbFile: '(notice)', kind: 'signature', score: 1, containment: 1 } : null;
}
