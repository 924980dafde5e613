// Character statistics that tell random credentials from words, placeholders and identifiers.

/** Shannon entropy in bits per character. */
export function shannon(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** How many of lower-case, upper-case, digits and other characters occur. */
export function charClasses(s: string): number {
  return (/[a-z]/.test(s) ? 1 : 0) + (/[A-Z]/.test(s) ? 1 : 0) + (/[0-9]/.test(s) ? 1 : 0) + (/[^A-Za-z0-9]/.test(s) ? 1 : 0);
}

/** Runs like "aaaaaa", "abcdefgh" or "12345678": documentation fillers, not keys. */
export function hasFillerRun(s: string, run = 6): boolean {
  let same = 1;
  let up = 1;
  for (let i = 1; i < s.length; i++) {
    same = s[i] === s[i - 1] ? same + 1 : 1;
    up = s.charCodeAt(i) === s.charCodeAt(i - 1) + 1 ? up + 1 : 1;
    if (same >= run || up >= run + 2) return true;
  }
  return false;
}

/** A provider token's random part: several character classes, high entropy, no filler. */
export function looksRandom(s: string, minEntropy = 3.2): boolean {
  return s.length >= 12 && shannon(s) >= minEntropy && charClasses(s) >= 2 && !hasFillerRun(s) && !/example|sample|dummy|placeholder|your|xxxx|test|fake/i.test(s);
}
