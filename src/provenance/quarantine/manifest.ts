// The manifest of one fetched version: where it came from, which revision, and every file with its
// size and both digests. It is stored content-addressed; its SHA-256 names the version in quarantine.

export const MANIFEST_SCHEMA_VERSION = 1;

export type SourceRecord =
  | { type: 'hf'; uri: string; endpoint: string; repo: string; requestedRevision: string; resolvedCommit: string; floating: boolean }
  | { type: 'local-folder'; uri: string; path: string }
  | { type: 'local-file'; uri: string; path: string; archive: boolean }
  | { type: 'https'; uri: string; url: string; expectedSha256: string };

export interface ManifestFile {
  /** POSIX path inside the version (`sub/tokenizer_config.json`). */
  path: string;
  size: number;
  /** SHA-256 of the content (for Hub LFS files this equals `lfs.oid`). */
  sha256: string;
  /** git blob SHA-1 of the content: `sha1("blob " + size + "\0" + content)`. */
  gitBlobSha1: string;
  /** Hub listings only: the file is stored with Git LFS (the tree `oid` is then the pointer's SHA-1). */
  lfs?: boolean;
  /** Hub listings only: the tree `oid` as listed. */
  gitOid?: string;
}

export interface QuarantineManifest {
  schemaVersion: number;
  kind: 'modelgate.quarantine.manifest';
  source: SourceRecord;
  /** The resolved commit for Hub sources; null for others. */
  resolvedCommit: string | null;
  fetchedAt: string;
  files: ManifestFile[];
  totals: { files: number; bytes: number };
}

export function buildManifest(source: SourceRecord, files: ManifestFile[], fetchedAt = new Date()): QuarantineManifest {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    kind: 'modelgate.quarantine.manifest',
    source,
    resolvedCommit: source.type === 'hf' ? source.resolvedCommit : null,
    fetchedAt: fetchedAt.toISOString(),
    files: sorted,
    totals: { files: sorted.length, bytes: sorted.reduce((n, f) => n + f.size, 0) },
  };
}
