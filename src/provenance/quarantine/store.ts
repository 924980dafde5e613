// The content-addressed quarantine store. Layout under the root:
//   blobs/sha256/ab/cdef…            verified file contents, named by SHA-256
//   manifests/sha256/ab/cdef….json   one manifest per fetched version, named by the SHA-256 of its bytes
//   index/git-sha1/ab/cdef…          git blob SHA-1 → SHA-256 (lets a re-fetch skip small files)
//   refs/<sha256 of source id>.json  source + resolved revision → manifest digest (idempotent fetch)
//   tmp/                             partial downloads (`<key>.part`); never read as content
// A blob appears under its final name only by rename() after its digests were checked.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { ModelgateError } from '../../scan/model.ts';
import { SHA1_HEX, SHA256_HEX, gitBlobHeader, sha256Hex } from './digest.ts';
import type { QuarantineManifest } from './manifest.ts';

export const DEFAULT_STORE = '.modelgate/quarantine';

export interface BlobDigests {
  sha256: string;
  gitSha1: string;
  size: number;
}

/** What a file must turn out to be. Every field given is checked; at least one digest is required. */
export interface BlobExpectation {
  sha256?: string;
  gitSha1?: string;
  size?: number;
}

export class ContentStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    for (const d of ['blobs/sha256', 'manifests/sha256', 'index/git-sha1', 'refs', 'tmp']) mkdirSync(join(this.root, d), { recursive: true });
  }

  blobPath(sha256: string): string {
    assertHex(sha256, SHA256_HEX, 'sha256');
    return join(this.root, 'blobs/sha256', sha256.slice(0, 2), sha256.slice(2));
  }

  /** The blob is present with the expected size (content was verified when it was written). */
  hasBlob(sha256: string, size?: number): boolean {
    const p = this.blobPath(sha256);
    try {
      const st = statSync(p);
      return st.isFile() && (size === undefined || st.size === size);
    } catch {
      return false;
    }
  }

  /** SHA-256 of a blob already stored whose git blob SHA-1 is this one, if any. */
  sha256ForGitSha1(gitSha1: string): string | undefined {
    assertHex(gitSha1, SHA1_HEX, 'git sha1');
    const p = join(this.root, 'index/git-sha1', gitSha1.slice(0, 2), gitSha1.slice(2));
    if (!existsSync(p)) return undefined;
    const v = readFileSync(p, 'utf8').trim();
    return SHA256_HEX.test(v) && this.hasBlob(v) ? v : undefined;
  }

  private recordGitSha1(gitSha1: string, sha256: string): void {
    const p = join(this.root, 'index/git-sha1', gitSha1.slice(0, 2), gitSha1.slice(2));
    mkdirSync(dirname(p), { recursive: true });
    atomicWrite(p, `${sha256}\n`);
  }

  /**
   * Starts (or resumes) writing one blob. `key` names the partial file: a later call with the same
   * key continues from the bytes already there (they are re-hashed, never trusted).
   */
  async begin(key: string, expectedSize?: number): Promise<BlobWriter> {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(key)) throw new ModelgateError('STORE_KEY', `invalid partial-download key "${key}"`);
    const lock = join(this.root, 'tmp', `${key}.lock`);
    takeLock(lock, key);
    const w = new BlobWriter(this, join(this.root, 'tmp', `${key}.part`), expectedSize, lock);
    try {
      await w.open();
    } catch (e) {
      rmSync(lock, { force: true });
      throw e;
    }
    return w;
  }

  /** Commits a verified partial file: called by BlobWriter.commit only. */
  adopt(partPath: string, d: BlobDigests): void {
    const final = this.blobPath(d.sha256);
    mkdirSync(dirname(final), { recursive: true });
    if (this.hasBlob(d.sha256, d.size)) rmSync(partPath, { force: true });
    else renameSync(partPath, final);
    this.recordGitSha1(d.gitSha1, d.sha256);
  }

  /** Writes a manifest (canonical bytes: 2-space JSON + newline) and returns `sha256:<hex>`. */
  putManifest(m: QuarantineManifest): { digest: string; path: string; bytes: string } {
    const bytes = `${JSON.stringify(m, null, 2)}\n`;
    const hex = sha256Hex(bytes);
    const p = this.manifestPath(hex);
    mkdirSync(dirname(p), { recursive: true });
    if (!existsSync(p)) atomicWrite(p, bytes);
    return { digest: `sha256:${hex}`, path: p, bytes };
  }

  /** Stores manifest bytes exactly as given (a mirror keeps the quarantine's bytes, so the digest holds). */
  putManifestBytes(bytes: string): { digest: string; path: string } {
    const hex = sha256Hex(bytes);
    const p = this.manifestPath(hex);
    mkdirSync(dirname(p), { recursive: true });
    if (!existsSync(p)) atomicWrite(p, bytes);
    return { digest: `sha256:${hex}`, path: p };
  }

  /** Digests of every manifest in the store. */
  listManifests(): string[] {
    const out: string[] = [];
    const base = join(this.root, 'manifests/sha256');
    for (const d of readdirSync(base).sort()) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      for (const f of readdirSync(join(base, d)).sort()) {
        const m = /^([0-9a-f]{62})\.json$/.exec(f);
        if (m) out.push(`sha256:${d}${m[1]}`);
      }
    }
    return out;
  }

  manifestPath(digestOrHex: string): string {
    const hex = digestOrHex.replace(/^sha256:/, '');
    assertHex(hex, SHA256_HEX, 'manifest digest');
    return join(this.root, 'manifests/sha256', hex.slice(0, 2), `${hex.slice(2)}.json`);
  }

  /** Reads a manifest by digest and checks that its bytes still hash to that digest. */
  getManifest(digest: string): { manifest: QuarantineManifest; digest: string; bytes: string } {
    const hex = digest.replace(/^sha256:/, '');
    const p = this.manifestPath(hex);
    if (!existsSync(p)) throw new ModelgateError('MANIFEST_NOT_FOUND', `no manifest sha256:${hex} in ${this.root}`);
    const bytes = readFileSync(p, 'utf8');
    const got = sha256Hex(bytes);
    if (got !== hex) throw new ModelgateError('DIGEST_MISMATCH', `manifest ${p}: expected sha256 ${hex}, got ${got}`);
    return { manifest: JSON.parse(bytes) as QuarantineManifest, digest: `sha256:${hex}`, bytes };
  }

  private refPath(sourceId: string): string {
    return join(this.root, 'refs', `${sha256Hex(sourceId)}.json`);
  }

  /** The manifest digest recorded for a source identity (e.g. `hf:org/name@<commit>`), if any. */
  getRef(sourceId: string): string | undefined {
    const p = this.refPath(sourceId);
    if (!existsSync(p)) return undefined;
    try {
      const r = JSON.parse(readFileSync(p, 'utf8')) as { source?: string; manifest?: string };
      return r.source === sourceId && typeof r.manifest === 'string' ? r.manifest : undefined;
    } catch {
      return undefined;
    }
  }

  setRef(sourceId: string, manifestDigest: string): void {
    atomicWrite(this.refPath(sourceId), `${JSON.stringify({ source: sourceId, manifest: manifestDigest })}\n`);
  }

  /** Streams a blob and fails at the end if its bytes no longer hash to its name. */
  readBlobVerified(sha256: string, label = sha256): Readable {
    return verifyingStream(createReadStream(this.blobPath(sha256), { highWaterMark: 1 << 20 }), sha256, label);
  }
}

/** One blob being written into tmp/, hashed as it goes. */
export class BlobWriter {
  private fh: FileHandle | undefined;
  private s256!: Hash;
  private s1: Hash | undefined;
  offset = 0;

  constructor(
    private readonly store: ContentStore,
    readonly partPath: string,
    private readonly expectedSize: number | undefined,
    private readonly lockPath: string,
  ) {}

  async open(): Promise<void> {
    this.fh = await open(this.partPath, 'a+');
    this.startHashes();
    const size = (await this.fh.stat()).size;
    if (this.expectedSize !== undefined && size > this.expectedSize) {
      await this.reset();
      return;
    }
    // Resume: re-hash what an earlier attempt left (never trust it; the final check covers it too).
    if (size > 0) {
      for await (const chunk of createReadStream(this.partPath, { highWaterMark: 1 << 20 })) this.hashChunk(chunk as Buffer);
      this.offset = size;
    }
  }

  private startHashes(): void {
    this.s256 = createHash('sha256');
    this.s1 = this.expectedSize === undefined ? undefined : createHash('sha1').update(gitBlobHeader(this.expectedSize));
  }

  private hashChunk(b: Uint8Array): void {
    this.s256.update(b);
    this.s1?.update(b);
  }

  /** Bytes hashed but not yet written: small network chunks are written in batches of up to 1 MiB. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  async write(chunk: Uint8Array): Promise<void> {
    this.hashChunk(chunk);
    this.offset += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= 1 << 20) await this.flush();
  }

  /** Writes batched bytes to the partial file (before a resume point is relied on, a commit or an abort). */
  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const bufs = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.fh!.writev(bufs);
  }

  /** SHA-256 of the bytes written so far (does not end the hash). */
  peekSha256(): string {
    return this.s256.copy().digest('hex');
  }

  /** Throws away what was written (a server answered a Range request with the whole file). */
  async reset(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    await this.fh!.truncate(0);
    this.offset = 0;
    this.startHashes();
  }

  /**
   * Checks size and digests against `expect`; on success the blob gets its final name, on a mismatch
   * the partial file is deleted and a DIGEST_MISMATCH error names the file, the expectation and the fact.
   */
  async commit(expect: BlobExpectation, label: string): Promise<BlobDigests> {
    await this.flush();
    await this.fh!.sync();
    await this.fh!.close();
    this.fh = undefined;
    const sha256 = this.s256.digest('hex');
    let gitSha1: string;
    if (this.s1 && this.offset === this.expectedSize) gitSha1 = this.s1.digest('hex');
    else {
      const h = createHash('sha1').update(gitBlobHeader(this.offset));
      for await (const chunk of createReadStream(this.partPath, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
      gitSha1 = h.digest('hex');
    }
    const problems: string[] = [];
    if (expect.size !== undefined && expect.size !== this.offset) problems.push(`expected size ${expect.size}, got ${this.offset}`);
    if (expect.sha256 !== undefined && expect.sha256.toLowerCase() !== sha256) problems.push(`expected sha256 ${expect.sha256.toLowerCase()}, got ${sha256}`);
    if (expect.gitSha1 !== undefined && expect.gitSha1.toLowerCase() !== gitSha1) problems.push(`expected git blob sha1 ${expect.gitSha1.toLowerCase()}, got ${gitSha1}`);
    if (problems.length) {
      rmSync(this.partPath, { force: true });
      rmSync(this.lockPath, { force: true });
      throw new ModelgateError('DIGEST_MISMATCH', `${label}: ${problems.join('; ')} — refused, nothing kept`);
    }
    const d = { sha256, gitSha1, size: this.offset };
    try {
      this.store.adopt(this.partPath, d);
    } finally {
      rmSync(this.lockPath, { force: true });
    }
    return d;
  }

  /** Stops writing; `keepPartial` leaves tmp/<key>.part for a later resume (never a final blob). */
  async abort(keepPartial: boolean): Promise<void> {
    if (this.fh) {
      // Hashed bytes are written out, so a kept partial holds everything received.
      if (keepPartial) await this.flush().catch(() => undefined);
      await this.fh.close().catch(() => undefined);
      this.fh = undefined;
    }
    if (!keepPartial) rmSync(this.partPath, { force: true });
    rmSync(this.lockPath, { force: true });
  }
}

/**
 * One writer per partial file: a lock file holds the writer's pid. A lock whose process is gone (a
 * killed fetch) is taken over; a live one means another fetch is writing the same file right now.
 */
function takeLock(lock: string, key: string): void {
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(readFileSync(lock, 'utf8').trim());
    let alive = false;
    if (Number.isSafeInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) throw new ModelgateError('STORE_BUSY', `another modelgate process (pid ${pid}) is writing ${key} into this store; try again when it is done`);
    rmSync(lock, { force: true });
  }
  throw new ModelgateError('STORE_BUSY', `cannot lock ${lock}`);
}

function assertHex(v: string, re: RegExp, what: string): void {
  if (!re.test(v)) throw new ModelgateError('BAD_DIGEST', `not a ${what} hex digest: "${v}"`);
}

export function atomicWrite(path: string, data: string): void {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Passes bytes through and emits an error at the end when their SHA-256 is not `sha256`. */
export function verifyingStream(src: Readable, sha256: string, label: string): Readable {
  const h = createHash('sha256');
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const got = h.digest('hex');
      cb(got === sha256 ? null : new ModelgateError('DIGEST_MISMATCH', `${label}: expected sha256 ${sha256}, got ${got}`));
    },
  });
  src.on('error', (e: Error) => t.destroy(e));
  return src.pipe(t);
}
