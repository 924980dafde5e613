// fetchSource(): bring one version of a model into the quarantine store, verifying every byte.
//   hf://ORG/NAME@COMMIT   Hub: pinned commit (floating branches/tags only with allowFloating)
//   ./folder               local folder, copied file by file
//   ./model.tar.gz         local file or archive, copied as one file (never extracted)
//   https://…              one file, only with an expected SHA-256
import { createReadStream, lstatSync, readdirSync, openSync, readSync, closeSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ModelgateError } from '../../scan/model.ts';
import { ContentStore, DEFAULT_STORE, buildManifest, SHA256_HEX, type BlobExpectation, type ManifestFile, type QuarantineManifest, type SourceRecord } from '../quarantine/index.ts';
import { downloadInto, displayUrl, type HttpOptions } from './http.ts';
import { COMMIT_RE, DEFAULT_HF_ENDPOINT, HubClient, parseHfUri, safeRelativePath, type HubFileEntry } from './hf.ts';

export interface FetchProgress {
  path: string;
  fileBytes: number;
  fileSize: number | undefined;
  filesDone: number;
  filesTotal: number;
}

export interface FetchOptions {
  /** Quarantine store folder (default `.modelgate/quarantine` under the working directory). */
  store?: string;
  /** Accept a branch or tag for hf:// and record the commit it resolved to. */
  allowFloating?: boolean;
  /** Hub base URL (default https://huggingface.co). */
  endpoint?: string;
  /** Hub token (the CLI reads it from HF_TOKEN or --token-env); sent to the endpoint's origin only. */
  token?: string;
  /** Expected SHA-256 for https:// sources (required there). */
  sha256?: string;
  /** Parallel downloads (default 4). */
  concurrency?: number;
  http?: Omit<HttpOptions, 'token' | 'tokenOrigin'>;
  onProgress?: (p: FetchProgress) => void;
  now?: () => Date;
}

export interface FetchResult {
  manifest: QuarantineManifest;
  /** `sha256:<hex>` of the stored manifest bytes. */
  manifestDigest: string;
  manifestPath: string;
  store: string;
  /** An identical version was already in the store; nothing was written. */
  reused: boolean;
  /** Blobs this call added to the store (downloaded or copied); 0 when everything was already there. */
  downloaded: { files: number; bytes: number };
}

export type SourceKind = 'hf' | 'https' | 'local';

export function sourceKind(spec: string): SourceKind {
  if (spec.startsWith('hf://')) return 'hf';
  if (spec.startsWith('https://') || spec.startsWith('http://')) return 'https';
  return 'local';
}

export async function fetchSource(spec: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const store = new ContentStore(opts.store ?? DEFAULT_STORE);
  const kind = sourceKind(spec);
  if (kind === 'hf') return fetchHub(spec, store, opts);
  if (kind === 'https') return fetchHttps(spec, store, opts);
  return fetchLocal(spec, store, opts);
}

// ---------------------------------------------------------------- Hub

export interface HubListing {
  repo: string;
  requestedRevision: string;
  resolvedCommit: string;
  floating: boolean;
  files: { path: string; size: number; gitOid: string; lfs: { sha256: string; size: number } | null }[];
}

/** What `fetch` would download: the files at the resolved commit with sizes and digests, nothing written. */
export async function listHubFiles(spec: string, opts: Pick<FetchOptions, 'allowFloating' | 'endpoint' | 'token' | 'http'> = {}): Promise<HubListing> {
  const { ref, client, commit, pinned } = await resolveHub(spec, opts);
  const entries = await client.listFiles(ref.repo, commit);
  return {
    repo: ref.repo,
    requestedRevision: ref.revision,
    resolvedCommit: commit,
    floating: !pinned,
    files: entries.map((e) => ({ path: e.path, size: e.size, gitOid: e.oid, lfs: e.lfs ? { sha256: e.lfs.oid, size: e.lfs.size } : null })).sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
}

async function resolveHub(spec: string, opts: Pick<FetchOptions, 'allowFloating' | 'endpoint' | 'token' | 'http'>) {
  const ref = parseHfUri(spec);
  const pinned = COMMIT_RE.test(ref.revision.toLowerCase());
  if (!pinned && !opts.allowFloating) {
    throw new ModelgateError(
      'FLOATING_REVISION',
      `${spec}: "${ref.revision}" is a branch or tag, not a commit; pin a 40-hex commit (hf://${ref.repo}@<commit>) or pass --allow-floating to record the commit it resolves to now`,
    );
  }
  const endpoint = opts.endpoint ?? DEFAULT_HF_ENDPOINT;
  const client = new HubClient(endpoint, httpOptions(opts, endpoint));
  const commit = await client.resolveRevision(ref.repo, ref.revision);
  if (pinned && commit !== ref.revision.toLowerCase()) {
    throw new ModelgateError('HUB_BAD_RESPONSE', `${spec}: the Hub resolved commit ${ref.revision} to ${commit}`);
  }
  return { ref, client, commit, pinned, endpoint };
}

async function fetchHub(spec: string, store: ContentStore, opts: FetchOptions): Promise<FetchResult> {
  const { ref, client, commit, pinned, endpoint } = await resolveHub(spec, opts);
  const sourceId = `hf:${client.endpoint}/${ref.repo}@${commit}`;
  const reuse = reusable(store, sourceId);
  if (reuse) return reuse;

  const entries = await client.listFiles(ref.repo, commit);
  const files: ManifestFile[] = new Array(entries.length);
  const todo: { entry: HubFileEntry; index: number[] }[] = [];
  const byKey = new Map<string, { entry: HubFileEntry; index: number[] }>();
  entries.forEach((e, i) => {
    const known = e.lfs ? (store.hasBlob(e.lfs.oid, e.size) ? e.lfs.oid : undefined) : store.sha256ForGitSha1(e.oid);
    if (known) {
      files[i] = hubFile(e, known, e.lfs ? undefined : e.oid);
      return;
    }
    const key = e.lfs ? `sha256-${e.lfs.oid}` : `gitsha1-${e.oid}`;
    const job = byKey.get(key);
    if (job) job.index.push(i);
    else {
      const j = { entry: e, index: [i] };
      byKey.set(key, j);
      todo.push(j);
    }
  });
  let downloadedBytes = 0;
  let done = 0;
  await pool(todo, opts.concurrency ?? 4, async (job) => {
    const e = job.entry;
    const key = e.lfs ? `sha256-${e.lfs.oid}` : `gitsha1-${e.oid}`;
    const expect: BlobExpectation = e.lfs ? { sha256: e.lfs.oid, size: e.size } : { gitSha1: e.oid, size: e.size };
    const writer = await store.begin(key, e.size);
    let fileBytes = writer.offset;
    try {
      await downloadInto(writer, client.resolveUrl(ref.repo, commit, e.path), httpOptions(opts, endpoint), e.size, (n) => {
        fileBytes += n;
        downloadedBytes += n;
        opts.onProgress?.({ path: e.path, fileBytes, fileSize: e.size, filesDone: done, filesTotal: todo.length });
      });
    } catch (err) {
      await writer.abort(true); // a cut download stays in tmp/ for a later resume, never as a blob
      throw err;
    }
    const d = await writer.commit(expect, `${spec}: ${e.path}`);
    done++;
    for (const i of job.index) files[i] = hubFile(entries[i], d.sha256, d.gitSha1);
  });
  // An LFS file's content git blob SHA-1 is not listed (its `oid` is the pointer's): for blobs that were
  // already in the store it is computed from the stored, verified bytes.
  for (const f of files) {
    if (f.lfs && !f.gitBlobSha1) f.gitBlobSha1 = await gitSha1OfBlob(store, f.sha256, f.size);
  }
  const source: SourceRecord = { type: 'hf', uri: `hf://${ref.repo}@${commit}`, endpoint: client.endpoint, repo: ref.repo, requestedRevision: ref.revision, resolvedCommit: commit, floating: !pinned };
  return finish(store, sourceId, source, files, opts, { files: todo.length, bytes: downloadedBytes });
}

function hubFile(e: HubFileEntry, sha256: string, gitBlobSha1: string | undefined): ManifestFile {
  return { path: e.path, size: e.size, sha256, gitBlobSha1: gitBlobSha1 ?? '', lfs: Boolean(e.lfs), gitOid: e.oid };
}

async function gitSha1OfBlob(store: ContentStore, sha256: string, size: number): Promise<string> {
  const { createHash } = await import('node:crypto');
  const h = createHash('sha1').update(`blob ${size}\0`);
  for await (const c of createReadStream(store.blobPath(sha256), { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

function httpOptions(opts: Pick<FetchOptions, 'token' | 'http'>, endpoint: string): HttpOptions {
  let origin: string | undefined;
  try {
    origin = new URL(endpoint).origin;
  } catch {
    origin = undefined;
  }
  return { ...(opts.http ?? {}), token: opts.token || undefined, tokenOrigin: origin };
}

// ---------------------------------------------------------------- https

async function fetchHttps(url: string, store: ContentStore, opts: FetchOptions): Promise<FetchResult> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ModelgateError('USAGE', `"${url}" is not a URL`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && /^(127\.0\.0\.1|localhost|\[::1\])$/.test(u.hostname))) {
    throw new ModelgateError('USAGE', `${displayUrl(url)}: only https:// URLs are fetched (plain http only from this machine)`);
  }
  const want = (opts.sha256 ?? '').toLowerCase().replace(/^sha256:/, '');
  if (!SHA256_HEX.test(want)) throw new ModelgateError('USAGE', `${displayUrl(url)}: a URL source needs its expected digest: --sha256 <64 hex>`);
  const name = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() ?? '') || 'download';
  const path = safeRelativePath(name) ? name : 'download';
  const sourceId = `https:${url}#sha256=${want}`;
  const reuse = reusable(store, sourceId);
  if (reuse) return reuse;
  let bytes = 0;
  let files = 0;
  if (!store.hasBlob(want)) {
    const writer = await store.begin(`sha256-${want}`);
    let fileBytes = writer.offset;
    try {
      await downloadInto(writer, url, { ...(opts.http ?? {}) }, undefined, (n) => {
        fileBytes += n;
        bytes += n;
        opts.onProgress?.({ path, fileBytes, fileSize: undefined, filesDone: 0, filesTotal: 1 });
      });
    } catch (err) {
      await writer.abort(true);
      throw err;
    }
    await writer.commit({ sha256: want }, `${displayUrl(url)}`);
    files = 1;
  }
  const size = lstatSync(store.blobPath(want)).size;
  const file: ManifestFile = { path, size, sha256: want, gitBlobSha1: await gitSha1OfBlob(store, want, size) };
  return finish(store, sourceId, { type: 'https', uri: displayUrl(url), url: displayUrl(url), expectedSha256: want }, [file], opts, { files, bytes });
}

// ---------------------------------------------------------------- local

async function fetchLocal(spec: string, store: ContentStore, opts: FetchOptions): Promise<FetchResult> {
  const root = resolve(spec);
  let st;
  try {
    st = lstatSync(root);
  } catch {
    throw new ModelgateError('NOT_FOUND', `${spec}: no such file or folder`);
  }
  if (st.isSymbolicLink()) throw new ModelgateError('SOURCE_SYMLINK', `${spec}: is a symbolic link; give the real path`);
  const list: { abs: string; rel: string; size: number }[] = [];
  let source: SourceRecord;
  if (st.isDirectory()) {
    walk(root, root, store.root, list);
    source = { type: 'local-folder', uri: root, path: root };
  } else if (st.isFile()) {
    list.push({ abs: root, rel: basename(root), size: st.size });
    source = { type: 'local-file', uri: root, path: root, archive: looksLikeArchive(root) };
  } else throw new ModelgateError('SOURCE_TYPE', `${spec}: not a regular file or folder`);
  const files: ManifestFile[] = [];
  let done = 0;
  const added = { files: 0, bytes: 0 };
  const known = new Set<string>();
  for (const f of list) {
    const writer = await store.begin(`local-${randomBytes(8).toString('hex')}`, f.size);
    try {
      let fileBytes = 0;
      for await (const chunk of createReadStream(f.abs, { highWaterMark: 1 << 20 })) {
        await writer.write(chunk as Buffer);
        fileBytes += (chunk as Buffer).length;
        opts.onProgress?.({ path: f.rel, fileBytes, fileSize: f.size, filesDone: done, filesTotal: list.length });
      }
    } catch (err) {
      await writer.abort(false);
      throw new ModelgateError('READ_ERROR', `${f.abs}: ${(err as Error).message}`);
    }
    // The size seen when listing must hold: a file that changed while copied is refused.
    const digestNow = writer.peekSha256();
    if (store.hasBlob(digestNow, f.size)) known.add(digestNow);
    const d = await writer.commit({ size: f.size }, f.abs);
    if (!known.has(d.sha256)) {
      added.files++;
      added.bytes += d.size;
    }
    files.push({ path: f.rel, size: d.size, sha256: d.sha256, gitBlobSha1: d.gitSha1 });
    done++;
  }
  return finish(store, `local:${root}`, source, files, opts, added);
}

function walk(dir: string, root: string, storeRoot: string, out: { abs: string; rel: string; size: number }[]): void {
  for (const name of readdirSync(dir).sort()) {
    const abs = join(dir, name);
    if (name === '.git' || abs === storeRoot || storeRoot.startsWith(abs + sep) && name === '.modelgate') continue;
    const st = lstatSync(abs);
    const rel = relative(root, abs).split(sep).join('/');
    if (st.isSymbolicLink()) throw new ModelgateError('SOURCE_SYMLINK', `${abs}: symbolic links are not copied into quarantine (they can point anywhere); replace it with the file`);
    if (st.isDirectory()) walk(abs, root, storeRoot, out);
    else if (st.isFile()) out.push({ abs, rel, size: st.size });
    else throw new ModelgateError('SOURCE_TYPE', `${abs}: not a regular file`);
  }
}

function looksLikeArchive(path: string): boolean {
  const b = Buffer.alloc(264);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, b, 0, b.length, 0);
  } finally {
    closeSync(fd);
  }
  const h = b.subarray(0, n);
  const starts = (sig: number[]) => sig.every((v, i) => h[i] === v);
  return (
    starts([0x50, 0x4b, 0x03, 0x04]) || starts([0x50, 0x4b, 0x05, 0x06]) || starts([0x1f, 0x8b]) || starts([0x42, 0x5a, 0x68]) ||
    starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || starts([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) || starts([0x28, 0xb5, 0x2f, 0xfd]) ||
    (n >= 262 && h.subarray(257, 262).toString('latin1') === 'ustar')
  );
}

// ---------------------------------------------------------------- shared

/** A version already fetched under this source identity whose blobs are all present. */
function reusable(store: ContentStore, sourceId: string): FetchResult | undefined {
  const digest = store.getRef(sourceId);
  if (!digest) return undefined;
  try {
    const m = store.getManifest(digest);
    if (!m.manifest.files.every((f) => store.hasBlob(f.sha256, f.size))) return undefined;
    return { manifest: m.manifest, manifestDigest: m.digest, manifestPath: store.manifestPath(m.digest), store: store.root, reused: true, downloaded: { files: 0, bytes: 0 } };
  } catch {
    return undefined;
  }
}

function finish(store: ContentStore, sourceId: string, source: SourceRecord, files: ManifestFile[], opts: FetchOptions, downloaded: { files: number; bytes: number }): FetchResult {
  // Same source and the same files as the recorded version: that version, unchanged (idempotent).
  const prior = reusable(store, sourceId);
  const candidate = buildManifest(source, files, (opts.now ?? (() => new Date()))());
  if (prior && sameFiles(prior.manifest.files, candidate.files)) return { ...prior, downloaded };
  const put = store.putManifest(candidate);
  store.setRef(sourceId, put.digest);
  return { manifest: candidate, manifestDigest: put.digest, manifestPath: put.path, store: store.root, reused: false, downloaded };
}

function sameFiles(a: ManifestFile[], b: ManifestFile[]): boolean {
  return a.length === b.length && a.every((f, i) => f.path === b[i].path && f.sha256 === b[i].sha256 && f.size === b[i].size);
}

async function pool<T>(items: T[], n: number, run: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const workers = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++];
      try {
        await run(item);
      } catch (e) {
        failed ??= e;
      }
    }
  });
  await Promise.all(workers);
  if (failed !== undefined) throw failed;
}
