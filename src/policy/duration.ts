// Durations in policy files: a whole number and one unit (m, h, d, w), e.g. "30d", "12h", "2w".

export const DURATION_PATTERN = '^[1-9][0-9]{0,6}(m|h|d|w)$';
const RE = new RegExp(DURATION_PATTERN);
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a policy duration, or null when the text is not one. */
export function parseDuration(text: string): number | null {
  if (!RE.test(text)) return null;
  return Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1)];
}

/** A short human form of a span of milliseconds ("3d 4h", "45m"). */
export function formatSpan(ms: number): string {
  const neg = ms < 0;
  let m = Math.floor(Math.abs(ms) / 60_000);
  const d = Math.floor(m / 1440);
  m -= d * 1440;
  const h = Math.floor(m / 60);
  m -= h * 60;
  const parts = d > 0 ? [`${d}d`, h > 0 ? `${h}h` : ''] : h > 0 ? [`${h}h`, m > 0 ? `${m}m` : ''] : [`${m}m`];
  return (neg ? '-' : '') + parts.filter(Boolean).join(' ');
}
