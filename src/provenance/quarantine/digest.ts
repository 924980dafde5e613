// Digests as the Hub and git know them: SHA-256 of the content (LFS `oid`) and the git blob SHA-1
// (`sha1("blob " + size + "\0" + content)`, the tree `oid` of a non-LFS file).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const SHA256_HEX = /^[0-9a-f]{64}$/;
export const SHA1_HEX = /^[0-9a-f]{40}$/;

export function gitBlobHeader(size: number): Buffer {
  return Buffer.from(`blob ${size}\0`, 'latin1');
}

export function gitBlobSha1(content: Uint8Array): string {
  return createHash('sha1').update(gitBlobHeader(content.length)).update(content).digest('hex');
}

/** The Git LFS pointer file for content with this SHA-256 and size (its git blob SHA-1 is the tree `oid` of an LFS file). */
export function lfsPointer(sha256: string, size: number): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 and git blob SHA-1 of a file, in one streaming pass (1 MiB reads). */
export async function digestFile(path: string, size: number): Promise<{ sha256: string; gitSha1: string; size: number }> {
  const s256 = createHash('sha256');
  const s1: Hash = createHash('sha1').update(gitBlobHeader(size));
  let n = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    s256.update(b);
    s1.update(b);
    n += b.length;
  }
  return { sha256: s256.digest('hex'), gitSha1: n === size ? s1.digest('hex') : '', size: n };
}
