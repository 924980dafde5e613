// Where a mirror keeps blobs and manifests: a folder (the quarantine layout) or an S3-compatible bucket.
// Keys are the same in both: blobs/sha256/ab/cdef…, manifests/sha256/ab/cdef….json.
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ContentStore } from '../quarantine/index.ts';

export interface MirrorBackend {
  /** Where the mirror is, for messages (`/srv/mirror`, `s3://bucket/prefix/`). */
  readonly location: string;
  /** The blob exists with this size. */
  hasBlob(sha256: string, size: number): Promise<boolean>;
  /**
   * Stores a blob. `body` yields the bytes; implementations must refuse bytes whose SHA-256 is not
   * `sha256` (the folder re-hashes; S3 checks the signed `x-amz-content-sha256`).
   */
  putBlob(sha256: string, size: number, gitSha1: string | undefined, body: () => Readable, label: string): Promise<void>;
  /** The blob's stored size and bytes (not yet verified: callers wrap it in a verifying stream). */
  openBlob(sha256: string): Promise<{ size: number; stream: Readable } | undefined>;
  putManifest(hex: string, bytes: string): Promise<void>;
  getManifest(hex: string): Promise<string | undefined>;
  listManifests(): Promise<string[]>;
}

export const blobKey = (sha256: string) => `blobs/sha256/${sha256.slice(0, 2)}/${sha256.slice(2)}`;
export const manifestKey = (hex: string) => `manifests/sha256/${hex.slice(0, 2)}/${hex.slice(2)}.json`;

export class FolderBackend implements MirrorBackend {
  readonly store: ContentStore;
  readonly location: string;

  constructor(dir: string) {
    this.store = new ContentStore(dir);
    this.location = this.store.root;
  }

  async hasBlob(sha256: string, size: number): Promise<boolean> {
    return this.store.hasBlob(sha256, size);
  }

  async putBlob(sha256: string, size: number, gitSha1: string | undefined, body: () => Readable, label: string): Promise<void> {
    const w = await this.store.begin(`sha256-${sha256}`, size);
    await w.reset(); // a copy starts from the verified source, not from a stale partial
    try {
      for await (const chunk of body()) await w.write(chunk as Buffer);
    } catch (e) {
      await w.abort(false);
      throw e;
    }
    await w.commit({ sha256, size, gitSha1 }, label);
  }

  async openBlob(sha256: string): Promise<{ size: number; stream: Readable } | undefined> {
    const p = this.store.blobPath(sha256);
    if (!existsSync(p)) return undefined;
    return { size: statSync(p).size, stream: createReadStream(p, { highWaterMark: 1 << 20 }) };
  }

  async putManifest(_hex: string, bytes: string): Promise<void> {
    this.store.putManifestBytes(bytes);
  }

  async getManifest(hex: string): Promise<string | undefined> {
    const p = this.store.manifestPath(hex);
    if (!existsSync(p)) return undefined;
    const { readFileSync } = await import('node:fs');
    return readFileSync(p, 'utf8');
  }

  async listManifests(): Promise<string[]> {
    return this.store.listManifests();
  }
}
