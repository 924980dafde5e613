// The OMS manifest: resources (file or shard digests) in order, and the root digest over them.
import { createHash } from 'node:crypto';
import { comparePaths } from './walk.ts';

export type SerializationMethod = 'files' | 'shards';

/** Default shard size of `model_signing` (bytes). */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;

/** How a model was serialized; mirrors `predicate.serialization` of the OMS statement. */
export interface Serialization {
  method: SerializationMethod;
  hashType: 'sha256';
  allowSymlinks: boolean;
  /** Shards only. */
  shardSize?: number;
  /** Paths relative to the model root that were left out (recorded since OMS v1.1.0). */
  ignorePaths: string[];
}

/** One OMS resource: a whole file (`d0/f00`) or a shard (`d0/f00:0:8`). */
export interface Resource {
  name: string;
  /** `sha256` for files, `sha256-sharded-<size>` for shards. */
  algorithm: string;
  /** Lowercase hex. */
  digest: string;
}

/** Splits `path:start:end` into its parts (a shard name); null for a plain file name. */
export function parseShardName(name: string): { path: string; start: number; end: number } | null {
  const m = /^(.*):(\d+):(\d+)$/s.exec(name);
  return m ? { path: m[1]!, start: Number(m[2]), end: Number(m[3]) } : null;
}

/** OMS order: by path segment-wise, then by shard start and end. */
export function compareResources(a: Resource, b: Resource, shards: boolean): number {
  if (!shards) return comparePaths(a.name, b.name);
  const x = parseShardName(a.name);
  const y = parseShardName(b.name);
  if (!x || !y) return comparePaths(a.name, b.name);
  return comparePaths(x.path, y.path) || x.start - y.start || x.end - y.end;
}

/** SHA-256 over the concatenated raw digests of the resources, in the given order. */
export function rootDigestOf(digests: readonly string[]): string {
  const h = createHash('sha256');
  for (const d of digests) h.update(Buffer.from(d, 'hex'));
  return h.digest('hex');
}

/** The golden-manifest text format of `model_signing`'s tests: `name:hexdigest` per line. */
export function formatManifestLines(resources: readonly Resource[]): string {
  return resources.map((r) => `${r.name}:${r.digest}\n`).join('');
}
