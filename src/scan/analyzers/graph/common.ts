// Shared by the graph-format analyzers: failing closed under a format's own rule, capping findings per
// rule, and judging path strings found inside models.
import { FormatError } from '../../../formats/errors.ts';
import type { Entry, InputScan } from '../../context.ts';

/** Findings of one rule per file beyond which the rest are summarised in one line. */
const MAX_PER_RULE = 20;

/** Reports a parse failure under the format's own rule and marks the row as not fully inspected. */
export async function failClosed(entry: Entry, input: InputScan, ruleId: string, what: string, run: () => void): Promise<void> {
  try {
    run();
  } catch (e) {
    if (!(e instanceof FormatError)) throw e; // LimitError and bugs: the walker reports them
    entry.row.status = 'error';
    input.report(entry, { ruleId, offset: e.offset, message: `Could not read this ${what}: ${e.message}; the rest of the file was not inspected.`, evidence: { code: e.code } });
  }
}

/** Counts findings per rule and reports the overflow once. */
export class Capped {
  private counts = new Map<string, number>();
  constructor(
    readonly entry: Entry,
    readonly input: InputScan,
  ) {}
  report(f: Parameters<InputScan['report']>[1]): void {
    const n = (this.counts.get(f.ruleId) ?? 0) + 1;
    this.counts.set(f.ruleId, n);
    if (n <= MAX_PER_RULE) this.input.report(this.entry, f);
  }
  finish(): void {
    for (const [ruleId, n] of this.counts) {
      if (n > MAX_PER_RULE) this.input.report(this.entry, { ruleId, message: `${n - MAX_PER_RULE} more findings of this rule in this file were not listed.`, evidence: { total: n } });
    }
  }
}

export function clip(s: string, n = 160): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** A path string that leaves the folder it is relative to, or why it is odd; null when it is a plain relative path. */
export function pathProblem(p: string): { problem: string; escapes: boolean } | null {
  if (p.includes('\0')) return { problem: 'contains a NUL byte', escapes: true };
  if (/^[A-Za-z]:/.test(p)) return { problem: 'is a Windows drive path', escapes: true };
  if (/^[\\/]{2}/.test(p)) return { problem: 'is a UNC / network path', escapes: true };
  if (/^[\\/]/.test(p)) return { problem: 'is absolute', escapes: true };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return { problem: 'is a URL (a remote or other-filesystem path)', escapes: false };
  let depth = 0;
  let dotdot = false;
  for (const part of p.split(/[\\/]+/)) {
    if (part === '..') {
      dotdot = true;
      if (--depth < 0) return { problem: 'climbs out of the folder with ".."', escapes: true };
    } else if (part !== '.' && part !== '') depth++;
  }
  return dotdot ? { problem: 'contains ".." (it stays inside the folder, but loaders refuse it)', escapes: false } : null;
}

