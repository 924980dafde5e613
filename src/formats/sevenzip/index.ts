// 7z archives, listed and extracted by 7-Zip itself (7z-wasm) inside its in-memory filesystem: the
// archive, the listing and the extracted files never touch the real disk. The listing is checked against
// the budgets before anything is extracted; 7z headers declare every size and 7-Zip writes exactly those,
// so the declared total is the extracted total.
import sevenZipPackage, { type SevenZipModule } from '7z-wasm';
import { FormatError, LimitError } from '../errors.ts';

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

export interface SevenZipLimits {
  maxEntries: number;
  maxTotalBytes: number;
}

/** One entry of 7-Zip's technical listing (`l -slt`). */
export interface SevenZipEntry {
  name: string;
  size: number;
  isDir: boolean;
  encrypted: boolean;
  method: string;
}

// ---- the WASM instance --------------------------------------------------------------------------------

/** What one 7-Zip run printed. A listing stops once it names more entries than `maxPaths`. */
interface Console {
  out: string[];
  err: string[];
  paths: number;
  maxPaths: number;
}

// The package is CommonJS; its `default` property is the factory itself (typed that way, unlike the import).
const SevenZip = sevenZipPackage.default;

let instance: Promise<SevenZipModule> | null = null;
let captured: Console = { out: [], err: [], paths: 0, maxPaths: Infinity };
let jobs = 0;

function module7z(): Promise<SevenZipModule> {
  if (instance) return instance;
  const created = SevenZip({
    print: (line: string) => {
      if (line.startsWith('Path = ') && ++captured.paths > captured.maxPaths) {
        // Unwinds 7-Zip mid-listing (run7z then drops the instance): a header naming millions of entries
        // must not become millions of strings here.
        throw new LimitError('7z-entries', `7z declares more than ${captured.maxPaths} entries`);
      }
      captured.out.push(line);
    },
    printErr: (line: string) => void captured.err.push(line),
    // 7-Zip asks on stdin for passwords and overwrite decisions; the default reads the process's stdin
    // synchronously. Answer every question with end-of-input.
    stdin: () => null as unknown as number,
  });
  instance = created;
  created.catch(() => {
    if (instance === created) instance = null;
  });
  return created;
}

interface Run {
  code: number;
  out: string[];
  err: string[];
}

/**
 * Runs 7-Zip with `args`; returns its exit code and what it printed. The WASM runtime sets
 * process.exitCode to 7-Zip's exit code as a side effect, which would leak into our own exit status.
 */
function run7z(sz: SevenZipModule, args: string[], maxPaths = Infinity): Run {
  const session: Console = { out: [], err: [], paths: 0, maxPaths };
  captured = session;
  const saved = process.exitCode;
  let code: unknown;
  try {
    code = sz.callMain(args);
  } catch (err) {
    // Anything thrown through the runtime (our LimitError from print, or a C++ exception 7-Zip's WASM
    // build lets escape, e.g. on a wrong password) leaves 7-Zip mid-call: start a fresh instance next time.
    instance = null;
    if (err instanceof LimitError) throw err;
    const what = err instanceof Error ? err.message : `uncaught 7-Zip exception ${String(err)}`;
    return { code: -1, out: session.out, err: [...session.err, what] };
  } finally {
    process.exitCode = saved;
    captured = { out: [], err: [], paths: 0, maxPaths: Infinity };
  }
  return { code: typeof code === 'number' ? code : 0, out: session.out, err: session.err };
}

// Switches for every call: no progress or banner output, answer yes, a dummy password so 7-Zip never
// prompts for one, and the 7z handler only (no guessing of other formats).
const QUIET = ['-bd', '-bsp0', '-y', '-pmodelgate-no-password', '-t7z'];

/** A failed 7-Zip run as our error: memory it could not get is a limit, a password it lacks is encryption. */
function runError(what: string, r: Run, input: Uint8Array): Error {
  const text = errorText(r);
  if (/can't allocate required memory/i.test(text)) {
    return new LimitError('decoder-memory', `7z: ${what}: the archive needs more decoder memory than 7-Zip can allocate (${text})`);
  }
  if (/dangerous link path/i.test(text)) {
    return new FormatError('UNSAFE_LINK', `7z: ${what}: the archive holds a link pointing outside it (${text})`);
  }
  if (/wrong password|encrypted/i.test(text) || headerIsEncrypted(input)) {
    return new FormatError('ENCRYPTED', `7z: ${what}: the archive is encrypted (${text})`);
  }
  return new FormatError('CORRUPT_ARCHIVE', `7z: ${what}: ${text}`);
}

const AES_CODER = [0x06, 0xf1, 0x07, 0x01];
const K_ENCODED_HEADER = 0x17;

/**
 * Whether the archive's header is itself encrypted (7z -mhe=on): the start header points to an "encoded
 * header" whose coders include 7zAES. 7-Zip's WASM build fails on these without a message.
 */
function headerIsEncrypted(input: Uint8Array): boolean {
  if (input.length < 32) return false;
  const dv = new DataView(input.buffer, input.byteOffset, input.length);
  const start = 32 + Number(dv.getBigUint64(12, true));
  const size = Number(dv.getBigUint64(20, true));
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size) || start + size > input.length || size < 1) return false;
  if (input[start] !== K_ENCODED_HEADER) return false;
  const header = input.subarray(start, start + Math.min(size, 4096));
  for (let i = 0; i + AES_CODER.length <= header.length; i++) {
    if (AES_CODER.every((b, j) => header[i + j] === b)) return true;
  }
  return false;
}

function errorText(r: Run): string {
  const lines = [...r.err, ...r.out].map((l) => l.trim()).filter((l) => l && !/^(ERRORS?:|WARNINGS?:)$/.test(l));
  return lines.join('; ').slice(0, 500) || 'no message';
}

// ---- listing --------------------------------------------------------------------------------------------

function parseListing(lines: string[]): SevenZipEntry[] {
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

function checkBudgets(entries: SevenZipEntry[], limits: SevenZipLimits): void {
  if (entries.length > limits.maxEntries) {
    throw new LimitError('7z-entries', `7z declares ${entries.length} entries, limit ${limits.maxEntries}`);
  }
  let total = 0;
  for (const e of entries) total += e.size;
  if (total > limits.maxTotalBytes) {
    throw new LimitError('7z-bytes', `7z declares ${total} bytes of content, limit ${limits.maxTotalBytes}`);
  }
}

// ---- MEMFS helpers --------------------------------------------------------------------------------------

function removeTree(sz: SevenZipModule, path: string): void {
  const FS = sz.FS;
  let st;
  try {
    st = FS.lstat(path);
  } catch {
    return;
  }
  if (FS.isDir(st.mode)) {
    for (const name of FS.readdir(path)) if (name !== '.' && name !== '..') removeTree(sz, `${path}/${name}`);
    FS.rmdir(path);
  } else {
    FS.unlink(path);
  }
}

/** Regular files under `dir`, depth-first; links and special files are skipped, never followed. */
function collectFiles(sz: SevenZipModule, dir: string, prefix: string, into: Array<{ name: string; path: string }>): void {
  const FS = sz.FS;
  for (const name of FS.readdir(dir)) {
    if (name === '.' || name === '..') continue;
    const path = `${dir}/${name}`;
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = FS.lstat(path);
    if (FS.isDir(st.mode)) collectFiles(sz, path, rel, into);
    else if (FS.isFile(st.mode)) into.push({ name: rel, path });
  }
}

// ---- the door -------------------------------------------------------------------------------------------

async function withJob<T>(input: Uint8Array, fn: (sz: SevenZipModule, job: string) => T): Promise<T> {
  if (!looksLike7z(input)) throw new FormatError('NOT_7Z', '7z: missing 7z signature', 0);
  const sz = await module7z();
  const job = `/modelgate-7z-${++jobs}`;
  try {
    sz.FS.mkdir(job);
    sz.FS.writeFile(`${job}/in.7z`, input);
    return fn(sz, job);
  } finally {
    try {
      removeTree(sz, job);
    } catch {
      instance = null;
    }
  }
}

function listIn(sz: SevenZipModule, job: string, input: Uint8Array, maxEntries = Infinity): SevenZipEntry[] {
  const r = run7z(sz, ['l', '-slt', '-ba', ...QUIET, `${job}/in.7z`], maxEntries);
  if (r.code !== 0) throw runError('cannot list archive', r, input);
  return parseListing(r.out);
}

/** The entries a 7z archive declares, without extracting anything. */
export async function list7z(input: Uint8Array): Promise<SevenZipEntry[]> {
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
