// The internal mirror: a store keyed by digest (same layout as quarantine) that holds only versions
// that were verified, and whose reads verify again.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ModelgateError } from '../../scan/model.ts';
import { ContentStore, DEFAULT_STORE, verifyingStream, sha256Hex, SHA256_HEX, type QuarantineManifest } from '../quarantine/index.ts';
import { fetchSource, type FetchOptions } from '../sources/index.ts';

export interface MirrorOptions extends FetchOptions {
  /** The mirror folder. */
  to: string;
}

export interface MirrorResult {
  manifestDigest: string;
  manifest: QuarantineManifest;
  mirror: string;
  copied: { files: number; bytes: number };
  /** Files already present in the mirror (content-addressed: nothing to copy). */
  present: number;
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
  const mirror = new ContentStore(opts.to);
  let files = 0;
  let copied = 0;
  let present = 0;
  for (const f of manifest.files) {
    if (mirror.hasBlob(f.sha256, f.size)) {
      present++;
      continue;
    }
    if (!quarantine.hasBlob(f.sha256, f.size)) throw new ModelgateError('BLOB_MISSING', `${f.path}: blob sha256 ${f.sha256} is not in the quarantine store ${quarantine.root}`);
    const w = await mirror.begin(`sha256-${f.sha256}`, f.size);
    await w.reset(); // a copy starts from the verified source, not from a stale partial
    try {
      for await (const chunk of createReadStream(quarantine.blobPath(f.sha256), { highWaterMark: 1 << 20 })) await w.write(chunk as Buffer);
    } catch (e) {
      await w.abort(false);
      throw e;
    }
    await w.commit({ sha256: f.sha256, size: f.size, gitSha1: f.gitBlobSha1 || undefined }, `${f.path} (quarantine blob)`);
    files++;
    copied += f.size;
  }
  const put = mirror.putManifestBytes(bytes);
  if (put.digest !== digest) throw new ModelgateError('DIGEST_MISMATCH', `manifest: expected ${digest}, got ${put.digest}`);
  return { manifestDigest: digest, manifest, mirror: mirror.root, copied: { files, bytes: copied }, present };
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

/**
 * Opens one file of a mirrored version as a stream that re-verifies: it errors (DIGEST_MISMATCH, naming
 * the file) at the end if the bytes do not hash to the manifest's SHA-256, or at once if the size is off.
 */
export function openMirrored(mirrorDir: string, manifestDigest: string, path: string): Readable {
  const mirror = new ContentStore(mirrorDir);
  const { manifest } = mirror.getManifest(manifestDigest);
  const f = manifest.files.find((x) => x.path === path);
  if (!f) throw new ModelgateError('NOT_FOUND', `${path}: not in version ${manifestDigest}`);
  if (!mirror.hasBlob(f.sha256)) throw new ModelgateError('BLOB_MISSING', `${path}: blob sha256 ${f.sha256} is missing from the mirror ${mirror.root}`);
  const size = statSync(mirror.blobPath(f.sha256)).size;
  if (size !== f.size) throw new ModelgateError('DIGEST_MISMATCH', `${path}: expected size ${f.size}, got ${size} (mirror blob ${f.sha256})`);
  return verifyingStream(createReadStream(mirror.blobPath(f.sha256), { highWaterMark: 1 << 20 }), f.sha256, `${path} (mirror blob)`);
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
export async function verifyMirror(mirrorDir: string, manifestDigest?: string): Promise<MirrorVerifyResult> {
  if (!existsSync(mirrorDir)) throw new ModelgateError('NOT_FOUND', `${mirrorDir}: no such mirror`);
  const mirror = new ContentStore(mirrorDir);
  const digests = manifestDigest ? [manifestDigest.startsWith('sha256:') ? manifestDigest : `sha256:${manifestDigest}`] : mirror.listManifests();
  const problems: MirrorProblem[] = [];
  const checked = new Map<string, string | null>(); // sha256 → problem (null when fine)
  let files = 0;
  let bytes = 0;
  for (const d of digests) {
    let manifest: QuarantineManifest;
    try {
      manifest = mirror.getManifest(d).manifest;
    } catch (e) {
      problems.push({ manifest: d, message: (e as Error).message });
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
  return { mirror: mirror.root, ok: problems.length === 0 && digests.length > 0, manifests: digests.length, files, bytes, problems };
}

async function checkBlob(store: ContentStore, sha256: string, size: number): Promise<string | null> {
  const p = store.blobPath(sha256);
  if (!existsSync(p)) return `blob sha256 ${sha256} is missing`;
  const h = createHash('sha256');
  let n = 0;
  for await (const c of createReadStream(p, { highWaterMark: 1 << 20 })) {
    h.update(c as Buffer);
    n += (c as Buffer).length;
  }
  const got = h.digest('hex');
  if (n !== size) return `expected size ${size}, got ${n}`;
  if (got !== sha256) return `expected sha256 ${sha256}, got ${got}`;
  return null;
}
