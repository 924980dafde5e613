// The 7-Zip WASM runtime: one lazily created instance, reused; runs of 7-Zip with their console captured;
// and the in-memory filesystem (MEMFS) work folders. Nothing here touches the real disk.
import sevenZipPackage, { type SevenZipModule } from '7z-wasm';
import { FormatError, LimitError } from '../errors.ts';

export type { SevenZipModule };

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

export interface Run {
  code: number;
  out: string[];
  err: string[];
}

/**
 * Runs 7-Zip with `args`; returns its exit code and what it printed. The WASM runtime sets
 * process.exitCode to 7-Zip's exit code as a side effect, which would leak into our own exit status.
 */
export function run7z(sz: SevenZipModule, args: string[], maxPaths = Infinity): Run {
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
export const QUIET = ['-bd', '-bsp0', '-y', '-pmodelgate-no-password', '-t7z'];

/** A failed 7-Zip run as our error: memory it could not get is a limit, a password it lacks is encryption. */
export function runError(what: string, r: Run, input: Uint8Array): Error {
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
export function collectFiles(sz: SevenZipModule, dir: string, prefix: string, into: Array<{ name: string; path: string }>): void {
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

/** Runs `fn` with the archive written into a fresh MEMFS folder, which is removed afterwards. */
export async function withJob<T>(input: Uint8Array, fn: (sz: SevenZipModule, job: string) => T): Promise<T> {
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
