// Which files make up a model, and under which names: the OMS walk (ignore rules, symlinks, order).
import { lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ModelgateError } from '../../scan/model.ts';

/** Paths `model_signing` ignores by default (git metadata). */
export const GIT_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;

export interface ModelFile {
  /** POSIX path relative to the model root; `.` when the model is a single file. */
  name: string;
  /** Absolute path to read (a symlink's own path; reading follows it). */
  path: string;
  size: number;
}

export interface WalkOptions {
  /** Ignored paths relative to the model root (POSIX or native separators). */
  ignorePaths?: readonly string[];
  allowSymlinks?: boolean;
  /** Keep only the files this accepts (by model-relative name), e.g. the files a signature names. */
  include?: (name: string) => boolean;
}

/** Splits a relative path into segments; `a//b/./c` → [a, b, c]. */
function segments(p: string): string[] {
  return p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
}

/** Code-point comparison (not locale, not UTF-16 surrogate order). */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Orders POSIX paths as Python orders PurePosixPath: segment by segment. */
export function comparePaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = compareCodePoints(x[i]!, y[i]!);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Makes a caller's ignore path relative to the model root: absolute paths and paths that exist from
 * the working directory inside the model are relativised; anything else is taken as model-relative.
 */
export function normalizeIgnorePath(root: string, p: string): string | null {
  const absRoot = resolve(root);
  let rel: string;
  if (isAbsolute(p)) rel = relative(absRoot, p);
  else {
    const fromCwd = resolve(p);
    const inside = fromCwd.startsWith(absRoot + sep);
    rel = inside && exists(fromCwd) ? relative(absRoot, fromCwd) : p;
  }
  if (rel.startsWith('..') || isAbsolute(rel)) return null; // outside the model: nothing to ignore
  const segs = segments(rel);
  return segs.length ? segs.join('/') : null;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isIgnored(name: string, ignored: readonly string[][]): boolean {
  const segs = name.split('/');
  return ignored.some((ig) => ig.length <= segs.length && ig.every((s, i) => s === segs[i]));
}

/**
 * Lists the files OMS hashes under `root` (a folder or a single file), sorted component-wise.
 * Symlinks are an error unless allowed (then the target's bytes count under the link's name);
 * sockets, FIFOs and devices are always an error; directories contribute nothing themselves.
 */
export function listModelFiles(root: string, opts: WalkOptions = {}): ModelFile[] {
  const abs = resolve(root);
  let st: Stats;
  try {
    st = lstatSync(abs);
  } catch (e) {
    throw new ModelgateError('UNREADABLE', `${root}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const allowSymlinks = opts.allowSymlinks ?? false;
  if (st.isSymbolicLink()) {
    if (!allowSymlinks) throw new ModelgateError('SYMLINK', `${root}: is a symbolic link (pass --allow-symlinks to follow it)`);
    st = statSync(abs);
  }
  if (st.isFile()) return [{ name: '.', path: abs, size: st.size }];
  if (!st.isDirectory()) throw new ModelgateError('SPECIAL_FILE', `${root}: not a regular file or folder`);
  const ignored = (opts.ignorePaths ?? []).map(segments).filter((s) => s.length > 0);
  const out: ModelFile[] = [];
  const visit = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir)) {
      const name = prefix ? `${prefix}/${entry}` : entry;
      if (isIgnored(name, ignored)) continue;
      const full = join(dir, entry);
      let s = lstatSync(full);
      if (opts.include && !s.isDirectory() && !opts.include(name)) continue;
      if (s.isSymbolicLink()) {
        if (!allowSymlinks) throw new ModelgateError('SYMLINK', `${name}: is a symbolic link; OMS refuses symlinks unless allowed (--allow-symlinks)`);
        try {
          s = statSync(full);
        } catch {
          throw new ModelgateError('SYMLINK', `${name}: symbolic link to a missing target`);
        }
        if (s.isDirectory()) {
          // Following links into folders could loop; OMS hashes link targets as files.
          const target = realpathSync(full);
          throw new ModelgateError('SYMLINK', `${name}: symbolic link to a folder (${target}) is not supported`);
        }
      }
      if (s.isDirectory()) visit(full, name);
      else if (s.isFile()) out.push({ name, path: full, size: s.size });
      else throw new ModelgateError('SPECIAL_FILE', `${name}: not a regular file (socket, FIFO or device)`);
    }
  };
  visit(abs, '');
  return out.sort((a, b) => comparePaths(a.name, b.name));
}

/** The subject name OMS records: the folder's or file's base name. */
export function modelName(root: string): string {
  return basename(resolve(root));
}
