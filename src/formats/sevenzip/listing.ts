// 7-Zip's technical listing (`7z l -slt`), parsed, and the budgets checked against what it declares.
import { FormatError, LimitError } from '../errors.ts';

/** One entry of 7-Zip's technical listing (`l -slt`). */
export interface SevenZipEntry {
  name: string;
  size: number;
  isDir: boolean;
  encrypted: boolean;
  method: string;
}

export interface SevenZipLimits {
  maxEntries: number;
  maxTotalBytes: number;
}

/** Entries from `l -slt -ba` output: blocks of "Key = value" lines separated by blank lines. */
export function parseListing(lines: string[]): SevenZipEntry[] {
  const entries: SevenZipEntry[] = [];
  let cur: Map<string, string> | null = null;
  const flush = () => {
    if (!cur || !cur.has('Path')) return;
    const sizeText = cur.get('Size') ?? '';
    const attrs = cur.get('Attributes') ?? '';
    const isDir = cur.get('Folder') === '+' || attrs.startsWith('D');
    const size = sizeText === '' ? (isDir ? 0 : NaN) : Number(sizeText);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new FormatError('CORRUPT_ARCHIVE', `7z: entry ${JSON.stringify(cur.get('Path'))} has no valid size`);
    }
    entries.push({
      name: cur.get('Path') ?? '',
      size,
      isDir,
      encrypted: cur.get('Encrypted') === '+',
      method: cur.get('Method') ?? '',
    });
    cur = null;
  };
  for (const raw of lines.join('\n').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') {
      flush();
      continue;
    }
    const eq = line.indexOf(' = ');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    // A new "Path" always begins a new entry, blank line or not.
    if (key === 'Path' && cur?.has('Path')) flush();
    cur ??= new Map();
    cur.set(key, line.slice(eq + 3));
  }
  flush();
  return entries;
}

export function checkBudgets(entries: SevenZipEntry[], limits: SevenZipLimits): void {
  if (entries.length > limits.maxEntries) {
    throw new LimitError('7z-entries', `7z declares ${entries.length} entries, limit ${limits.maxEntries}`);
  }
  let total = 0;
  for (const e of entries) total += e.size;
  if (total > limits.maxTotalBytes) {
    throw new LimitError('7z-bytes', `7z declares ${total} bytes of content, limit ${limits.maxTotalBytes}`);
  }
}
