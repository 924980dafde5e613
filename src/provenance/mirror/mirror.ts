// The internal mirror: a store keyed by digest (same layout as quarantine, in a folder or an
// S3-compatible bucket) that holds only versions that were verified, and whose reads verify again.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ModelgateError } from '../../scan/model.ts';
import { ContentStore, DEFAULT_STORE, verifyingStream, sha256Hex, SHA256_HEX, type QuarantineManifest } from '../quarantine/index.ts';
import { fetchSource, type FetchOptions } from '../sources/index.ts';
import { FolderBackend, type MirrorBackend } from './backend.ts';

export interface MirrorOptions extends FetchOptions {
  /** The mirror: a folder, or a backend (e.g. an S3Backend). */
  to: string | MirrorBackend;
}

export interface MirrorResult {
  manifestDigest: string;
  manifest: QuarantineManifest;
  mirror: string;
  copied: { files: number; bytes: number };
  /** Files already present in the mirror (content-addressed: nothing to copy). */
  present: number;
}

export function mirrorBackend(to: string | MirrorBackend): MirrorBackend {
  if (typeof to !== 'string') return to;
  if (to.startsWith('s3://')) throw new ModelgateError('USAGE', `${to}: build an S3Backend for bucket mirrors (the CLI does this from --s3-endpoint and AWS_* variables)`);
  return new FolderBackend(to);
}

/**
 * Copies a verified version into the mirror. `input` is a manifest digest (`sha256:…`) in the
 * quarantine store, a manifest file, or a source (hf://…, a folder, a file, https://…) that is fetched
 * into quarantine first. Every blob is re-hashed while it is copied.
 */
export async function mirrorVersion(input: string, opts: MirrorOptions): Promise<MirrorResult> {
  const quarantine = new ContentStore(opts.store ?? DEFAULT_STORE);
  const { bytes, digest } = await loadManifest(input, quarantine, opts);
  const manifest = JSON.parse(bytes) as QuarantineManifest;
  const mirror = mirrorBackend(opts.to);
  let files = 0;
  let copied = 0;
  let present = 0;
  const done = new Set<string>();
  for (const f of manifest.files) {
    if (done.has(f.sha256) || (await mirror.hasBlob(f.sha256, f.size))) {
      present++;
      continue;
    }
    if (!quarantine.hasBlob(f.sha256, f.size)) throw new ModelgateError('BLOB_MISSING', `${f.path}: blob sha256 ${f.sha256} is not in the quarantine store ${quarantine.root}`);
    await mirror.putBlob(f.sha256, f.size, f.gitBlobSha1 || undefined, () => createReadStream(quarantine.blobPath(f.sha256), { highWaterMark: 1 << 20 }), `${f.path} (quarantine blob)`);
    done.add(f.sha256);
    files++;
    copied += f.size;
  }
  await mirror.putManifest(digest.slice('sha256:'.length), bytes);
  return { manifestDigest: digest, manifest, mirror: mirror.location, copied: { files, bytes: copied }, present };
}

async function loadManifest(input: string, quarantine: ContentStore, opts: MirrorOptions): Promise<{ bytes: string; digest: string }> {
  const hex = input.replace(/^sha256:/, '');
  if (input.startsWith('sha256:') || (SHA256_HEX.test(hex) && !existsSync(input))) {
    const m = quarantine.getManifest(hex);
    return { bytes: m.bytes, digest: m.digest };
  }
  if (input.endsWith('.json') && existsSync(input) && statSync(input).isFile()) {
    const bytes = readFileSync(input, 'utf8');
    let parsed: QuarantineManifest | undefined;
    try {
      parsed = JSON.parse(bytes) as QuarantineManifest;
    } catch {
      parsed = undefined;
    }
    if (parsed?.kind === 'modelgate.quarantine.manifest') return { bytes, digest: `sha256:${sha256Hex(bytes)}` };
  }
  const r = await fetchSource(input, opts);
  const m = quarantine.getManifest(r.manifestDigest);
  return { bytes: m.bytes, digest: m.digest };
}

async function readManifest(mirror: MirrorBackend, digest: string): Promise<QuarantineManifest> {
  const hex = digest.replace(/^sha256:/, '');
  if (!SHA256_HEX.test(hex)) throw new ModelgateError('USAGE', `"${digest}" is not a manifest digest (sha256:<64 hex>)`);
  const bytes = await mirror.getManifest(hex);
  if (bytes === undefined) throw new ModelgateError('MANIFEST_NOT_FOUND', `no manifest sha256:${hex} in ${mirror.location}`);
  const got = sha256Hex(bytes);
  if (got !== hex) throw new ModelgateError('DIGEST_MISMATCH', `manifest sha256:${hex} in ${mirror.location}: expected sha256 ${hex}, got ${got}`);
  return JSON.parse(bytes) as QuarantineManifest;
}

/**
 * Opens one file of a mirrored version as a stream that re-verifies: it errors (DIGEST_MISMATCH, naming
 * the file) at the end if the bytes do not hash to the manifest's SHA-256, or at once if the size is off.
 */
export async function openMirrored(to: string | MirrorBackend, manifestDigest: string, path: string): Promise<Readable> {
  const mirror = mirrorBackend(to);
  const manifest = await readManifest(mirror, manifestDigest);
  const f = manifest.files.find((x) => x.path === path);
  if (!f) throw new ModelgateError('NOT_FOUND', `${path}: not in version ${manifestDigest}`);
  const blob = await mirror.openBlob(f.sha256);
  if (!blob) throw new ModelgateError('BLOB_MISSING', `${path}: blob sha256 ${f.sha256} is missing from the mirror ${mirror.location}`);
  if (blob.size !== f.size) {
    blob.stream.destroy();
    throw new ModelgateError('DIGEST_MISMATCH', `${path}: expected size ${f.size}, got ${blob.size} (mirror blob ${f.sha256})`);
  }
  return verifyingStream(blob.stream, f.sha256, `${path} (mirror blob)`);
}

export interface MirrorProblem {
  manifest: string;
  path?: string;
  message: string;
}

export interface MirrorVerifyResult {
  mirror: string;
  ok: boolean;
  manifests: number;
  files: number;
  bytes: number;
  problems: MirrorProblem[];
}

/** Re-hashes every manifest and blob of one version (or of all versions) in the mirror. */
export async function verifyMirror(to: string | MirrorBackend, manifestDigest?: string): Promise<MirrorVerifyResult> {
  if (typeof to === 'string' && !to.startsWith('s3://') && !existsSync(to)) throw new ModelgateError('NOT_FOUND', `${to}: no such mirror`);
  const mirror = mirrorBackend(to);
  const digests = manifestDigest ? [manifestDigest.startsWith('sha256:') ? manifestDigest : `sha256:${manifestDigest}`] : await mirror.listManifests();
  const problems: MirrorProblem[] = [];
  const checked = new Map<string, string | null>(); // sha256 → problem (null when fine)
  let files = 0;
  let bytes = 0;
  for (const d of digests) {
    let manifest: QuarantineManifest;
    try {
      manifest = await readManifest(mirror, d);
    } catch (e) {
      if (!(e instanceof ModelgateError) || e.code === 'USAGE') throw e;
      problems.push({ manifest: d, message: e.message });
      continue;
    }
    for (const f of manifest.files) {
      files++;
      bytes += f.size;
      if (!checked.has(f.sha256)) checked.set(f.sha256, await checkBlob(mirror, f.sha256, f.size));
      const p = checked.get(f.sha256);
      if (p) problems.push({ manifest: d, path: f.path, message: `${f.path}: ${p}` });
    }
  }
  return { mirror: mirror.location, ok: problems.length === 0 && digests.length > 0, manifests: digests.length, files, bytes, problems };
}

async function checkBlob(mirror: MirrorBackend, sha256: string, size: number): Promise<string | null> {
  const blob = await mirror.openBlob(sha256);
  if (!blob) return `blob sha256 ${sha256} is missing`;
  const h = createHash('sha256');
  let n = 0;
  for await (const c of blob.stream) {
    h.update(c as Buffer);
    n += (c as Buffer).length;
  }
  const got = h.digest('hex');
  if (n !== size) return `expected size ${size}, got ${n}`;
  if (got !== sha256) return `expected sha256 ${sha256}, got ${got}`;
  return null;
}
