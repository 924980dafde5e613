// 7z archives, listed and extracted by 7-Zip itself (7z-wasm) inside its in-memory filesystem: the
// archive, the listing and the extracted files never touch the real disk. The listing is checked against
// the budgets before anything is extracted; 7z headers declare every size and 7-Zip writes exactly those,
// so the declared total is the extracted total.
import { FormatError, LimitError } from '../errors.ts';
import { checkBudgets, parseListing, type SevenZipEntry, type SevenZipLimits } from './listing.ts';
import { collectFiles, QUIET, run7z, runError, withJob, type SevenZipModule } from './runtime.ts';

export type { SevenZipEntry, SevenZipLimits } from './listing.ts';

const MAGIC = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];

export function looksLike7z(head: Uint8Array): boolean {
  if (head.length < MAGIC.length) return false;
  return MAGIC.every((b, i) => head[i] === b);
}

export interface SevenZipMember {
  /**
   * Path inside the archive, '/'-separated, as 7-Zip extracted it: 7-Zip drops '..' components and leading
   * slashes, so a hostile declared name shows here made safe; list7z gives the names as declared.
   */
  name: string;
  size: number;
  data: Uint8Array;
}

function requireSignature(input: Uint8Array): void {
  if (!looksLike7z(input)) throw new FormatError('NOT_7Z', '7z: missing 7z signature', 0);
}

function listIn(sz: SevenZipModule, job: string, input: Uint8Array, maxEntries = Infinity): SevenZipEntry[] {
  const r = run7z(sz, ['l', '-slt', '-ba', ...QUIET, `${job}/in.7z`], maxEntries);
  if (r.code !== 0) throw runError('cannot list archive', r, input);
  return parseListing(r.out);
}

/** The entries a 7z archive declares, without extracting anything. */
export async function list7z(input: Uint8Array): Promise<SevenZipEntry[]> {
  requireSignature(input);
  return withJob(input, (sz, job) => listIn(sz, job, input));
}

/**
 * Every regular file in a 7z archive (directories and links are not members). Throws LimitError
 * ('7z-entries' | '7z-bytes') from the listing, before extracting, or ('decoder-memory') when 7-Zip cannot
 * allocate what the archive's coders ask for; FormatError ('NOT_7Z' | 'CORRUPT_ARCHIVE' | 'ENCRYPTED') for
 * a non-7z, corrupt, truncated or encrypted archive, and ('UNSAFE_LINK') for a symbolic link pointing
 * outside the archive, which 7-Zip refuses to extract.
 */
export async function extract7z(input: Uint8Array, limits: SevenZipLimits): Promise<SevenZipMember[]> {
  requireSignature(input);
  return withJob(input, (sz, job) => {
    const entries = listIn(sz, job, input, limits.maxEntries);
    checkBudgets(entries, limits);
    const locked = entries.find((e) => e.encrypted);
    if (locked) throw new FormatError('ENCRYPTED', `7z: entry ${JSON.stringify(locked.name)} is encrypted`);

    const outDir = `${job}/out`;
    sz.FS.mkdir(outDir);
    const r = run7z(sz, ['x', ...QUIET, '-bso0', `-o${outDir}`, `${job}/in.7z`]);
    if (r.code !== 0) throw runError('extraction failed', r, input);

    const files: Array<{ name: string; path: string }> = [];
    collectFiles(sz, outDir, '', files);
    // Belt and braces: what was written must match what was declared and checked.
    if (files.length > limits.maxEntries) {
      throw new LimitError('7z-entries', `7z extracted ${files.length} files, limit ${limits.maxEntries}`);
    }
    const order = new Map(entries.map((e, i) => [e.name, i]));
    files.sort((a, b) => (order.get(a.name) ?? Infinity) - (order.get(b.name) ?? Infinity));
    const members: SevenZipMember[] = [];
    let total = 0;
    for (const f of files) {
      const data = sz.FS.readFile(f.path);
      sz.FS.unlink(f.path);
      total += data.length;
      if (total > limits.maxTotalBytes) {
        throw new LimitError('7z-bytes', `7z extracted more than ${limits.maxTotalBytes} bytes`);
      }
      members.push({ name: f.name, size: data.length, data });
    }
    return members;
  });
}
