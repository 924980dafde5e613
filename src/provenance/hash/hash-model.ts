// hashModel(): the OMS serialization of a model folder or file, with per-file digests and the root digest.
import { resolve } from 'node:path';
import { ModelgateError } from '../../scan/model.ts';
import { DEFAULT_SHARD_SIZE, compareResources, rootDigestOf, type Resource, type Serialization, type SerializationMethod } from './manifest.ts';
import { hashRanges, hashRangeSync, type RangeTask } from './pool.ts';
import { GIT_PATHS, listModelFiles, modelName, normalizeIgnorePath } from './walk.ts';

export interface HashProgress {
  bytesDone: number;
  bytesTotal: number;
}

export interface HashModelOptions {
  serialization?: SerializationMethod;
  /** Shard size in bytes (shards only); default 1,000,000,000 as in `model_signing`. */
  shardSize?: number;
  /** Caller's ignore paths: absolute, relative to the working directory, or relative to the model root. */
  ignorePaths?: readonly string[];
  /** Ignore paths already relative to the model root (e.g. recorded in a signature). */
  modelIgnorePaths?: readonly string[];
  /** Leave out `.git`, `.gitattributes`, `.github`, `.gitignore` (default true, as OMS). */
  ignoreGitPaths?: boolean;
  /** The signature file: left out when it lies inside the model. */
  signaturePath?: string;
  allowSymlinks?: boolean;
  /** Hash only the files this accepts (by model-relative name); others are not listed at all. */
  include?: (name: string) => boolean;
  /** Worker threads (default: CPU count). */
  jobs?: number;
  onProgress?: (p: HashProgress) => void;
}

export interface ModelFileDigest {
  name: string;
  size: number;
  /** Whole-file SHA-256 (files serialization; shards carry per-shard digests instead). */
  sha256?: string;
}

/** The result of `modelgate hash --json` (schemaVersion 1). */
export interface ModelDigest {
  schemaVersion: 1;
  /** The path as given. */
  path: string;
  /** The subject name OMS records: the model's base name. */
  name: string;
  serialization: Serialization;
  files: ModelFileDigest[];
  resources: Resource[];
  rootDigest: string;
  bytes: number;
}

/** Below this many bytes, hashing stays on the calling thread (worker start-up would cost more). */
const INLINE_BYTES = 32 << 20;

/** The model-relative ignore list OMS applies and records for these options (sorted, unique). */
export function resolveIgnorePaths(root: string, opts: HashModelOptions): string[] {
  const set = new Set<string>();
  if (opts.ignoreGitPaths ?? true) GIT_PATHS.forEach((p) => set.add(p));
  const add = (p: string | null): void => {
    if (p) set.add(p);
  };
  if (opts.signaturePath) add(normalizeIgnorePath(root, resolve(opts.signaturePath)));
  for (const p of opts.ignorePaths ?? []) add(normalizeIgnorePath(root, p));
  for (const p of opts.modelIgnorePaths ?? []) add(normalizeIgnorePath(root, resolve(root, p)));
  return [...set].sort();
}

/**
 * Serializes a model exactly as OpenSSF Model Signing does and computes its root digest: the
 * SHA-256 over the raw digests of every resource (file, or shard `path:start:end`) in OMS order.
 */
export async function hashModel(path: string, opts: HashModelOptions = {}): Promise<ModelDigest> {
  const method = opts.serialization ?? 'files';
  if (method !== 'files' && method !== 'shards') throw new ModelgateError('USAGE', `unknown serialization "${String(method)}" (files or shards)`);
  const shardSize = opts.shardSize ?? DEFAULT_SHARD_SIZE;
  if (method === 'shards' && (!Number.isSafeInteger(shardSize) || shardSize < 1)) throw new ModelgateError('USAGE', `shard size must be a positive whole number of bytes, not ${shardSize}`);
  const abs = resolve(path);
  // Ignore paths are relative to the folder; for a single-file model they have nothing to match.
  const ignorePaths = resolveIgnorePaths(abs, opts);
  const files = listModelFiles(abs, { ignorePaths, allowSymlinks: opts.allowSymlinks ?? false, include: opts.include });

  const tasks: RangeTask[] = [];
  const owners: { file: number; name: string }[] = [];
  files.forEach((f, i) => {
    if (method === 'files') {
      tasks.push({ name: f.name, path: f.path, start: 0, end: f.size });
      owners.push({ file: i, name: f.name });
    } else {
      // An empty file has no shard at all (OMS).
      for (let s = 0; s < f.size; s += shardSize) {
        const e = Math.min(s + shardSize, f.size);
        tasks.push({ name: f.name, path: f.path, start: s, end: e });
        owners.push({ file: i, name: `${f.name}:${s}:${e}` });
      }
    }
  });
  const bytesTotal = files.reduce((n, f) => n + f.size, 0);
  let bytesDone = 0;
  const onBytes = opts.onProgress
    ? (n: number): void => {
        bytesDone += n;
        opts.onProgress!({ bytesDone, bytesTotal });
      }
    : undefined;
  const results =
    bytesTotal < INLINE_BYTES || tasks.length === 0
      ? tasks.map((t) => {
          const r = hashRangeSync(t);
          onBytes?.(r.bytes);
          return r;
        })
      : await hashRanges(tasks, { jobs: opts.jobs, onBytes });

  const algorithm = method === 'files' ? 'sha256' : `sha256-sharded-${shardSize}`;
  const resources: Resource[] = owners.map((o, i) => ({ name: o.name, algorithm, digest: results[i]!.digest }));
  resources.sort((a, b) => compareResources(a, b, method === 'shards'));
  const fileDigests: ModelFileDigest[] = files.map((f) => ({ name: f.name, size: f.size }));
  if (method === 'files') owners.forEach((o, i) => (fileDigests[o.file]!.sha256 = results[i]!.digest));
  const serialization: Serialization = { method, hashType: 'sha256', allowSymlinks: opts.allowSymlinks ?? false, ignorePaths };
  if (method === 'shards') serialization.shardSize = shardSize;
  return {
    schemaVersion: 1,
    path,
    name: modelName(abs),
    serialization,
    files: fileDigests,
    resources,
    rootDigest: rootDigestOf(resources.map((r) => r.digest)),
    bytes: bytesTotal,
  };
}

