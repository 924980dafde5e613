// The Hugging Face Hub as a source: resolve a revision to a commit, list files at that commit with
// sizes and digests, download each file by commit. Shapes (huggingface/huggingface.js list-files.ts,
// paths-info.ts; huggingface_hub HfApi):
//   GET  /api/models/{repo}/revision/{rev}                      → { sha, siblings: [{rfilename}] , … }
//   GET  /api/models/{repo}/tree/{commit}?recursive=true        → [{ type, path, size, oid, lfs?: { oid, size, pointerSize } }]
//                                                                 paginated with a `Link: <…>; rel="next"` header
//   POST /api/models/{repo}/paths-info/{commit} {paths, expand} → same entry shape for chosen paths
//   GET  /{repo}/resolve/{commit}/{path}                        → the content (LFS files redirect to a CDN)
// `oid` is the git blob SHA-1; for LFS files it is the pointer's, and `lfs.oid` is the content's SHA-256.
import { ModelgateError } from '../../scan/model.ts';
import { SHA1_HEX, SHA256_HEX } from '../quarantine/index.ts';
import { requestJson, type HttpOptions } from './http.ts';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
export const COMMIT_RE = /^[0-9a-f]{40}$/;

export interface HfRef {
  repo: string;
  /** As written after `@`; `main` when absent. */
  revision: string;
  /** The revision was written explicitly. */
  explicit: boolean;
}

export interface HubFileEntry {
  path: string;
  size: number;
  /** git blob SHA-1 as listed (of the LFS pointer for LFS files). */
  oid: string;
  lfs?: { oid: string; size: number; pointerSize?: number };
}

const REPO_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** Parses `hf://ORG/NAME[@REV]` (REV may contain `/`, e.g. `refs/pr/1`). */
export function parseHfUri(uri: string): HfRef {
  const rest = uri.slice('hf://'.length);
  const at = rest.indexOf('@');
  const repo = at < 0 ? rest : rest.slice(0, at);
  const revision = at < 0 ? 'main' : rest.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => REPO_PART.test(p) && !p.includes('..'))) {
    throw new ModelgateError('USAGE', `"${uri}" is not a Hub model reference; write hf://ORG/NAME@COMMIT (a 40-hex commit)`);
  }
  if (at >= 0 && (revision === '' || /[\s\0]/.test(revision) || revision.includes('..'))) throw new ModelgateError('USAGE', `"${uri}": invalid revision "${revision}"`);
  return { repo, revision, explicit: at >= 0 };
}

export class HubClient {
  readonly endpoint: string;

  constructor(
    endpoint: string,
    private readonly http: HttpOptions,
  ) {
    let u: URL;
    try {
      u = new URL(endpoint);
    } catch {
      throw new ModelgateError('USAGE', `--endpoint "${endpoint}" is not a URL`);
    }
    if (!/^https?:$/.test(u.protocol)) throw new ModelgateError('USAGE', `--endpoint must be http(s), not "${u.protocol}"`);
    this.endpoint = u.origin + u.pathname.replace(/\/+$/, '');
  }

  private api(repo: string, tail: string): string {
    return `${this.endpoint}/api/models/${repo}/${tail}`;
  }

  /** The commit a revision (branch, tag or commit) points at now. */
  async resolveRevision(repo: string, revision: string): Promise<string> {
    const { body } = await requestJson<{ sha?: unknown }>(this.api(repo, `revision/${encodeURIComponent(revision)}`), this.http);
    const sha = typeof body?.sha === 'string' ? body.sha.toLowerCase() : '';
    if (!COMMIT_RE.test(sha)) throw new ModelgateError('HUB_BAD_RESPONSE', `${repo}@${revision}: the Hub returned no commit sha`);
    return sha;
  }

  /** Every file at a commit (recursive, all pages). */
  async listFiles(repo: string, commit: string): Promise<HubFileEntry[]> {
    const out: HubFileEntry[] = [];
    let url: string | undefined = this.api(repo, `tree/${commit}?recursive=true&expand=false`);
    for (let page = 0; url && page < 10_000; page++) {
      const res: { body: unknown; headers: Headers } = await requestJson<unknown>(url, this.http);
      if (!Array.isArray(res.body)) throw new ModelgateError('HUB_BAD_RESPONSE', `${repo}@${commit}: tree listing is not a list`);
      for (const e of res.body) {
        if ((e as { type?: unknown }).type === 'file') out.push(checkEntry(e, repo));
      }
      url = nextLink(res.headers.get('link'), url);
    }
    return out;
  }

  /** Entries for chosen paths (`POST paths-info`). */
  async pathsInfo(repo: string, commit: string, paths: string[]): Promise<HubFileEntry[]> {
    const { body } = await requestJson<unknown>(this.api(repo, `paths-info/${commit}`), this.http, { method: 'POST', body: { paths, expand: false } });
    if (!Array.isArray(body)) throw new ModelgateError('HUB_BAD_RESPONSE', `${repo}@${commit}: paths-info is not a list`);
    return body.filter((e) => (e as { type?: unknown }).type === 'file').map((e) => checkEntry(e, repo));
  }

  resolveUrl(repo: string, commit: string, path: string): string {
    return `${this.endpoint}/${repo}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
  }
}

/** Validates one listed entry; a path that could escape a folder is refused. */
function checkEntry(e: unknown, repo: string): HubFileEntry {
  const x = e as { path?: unknown; size?: unknown; oid?: unknown; lfs?: { oid?: unknown; size?: unknown; pointerSize?: unknown } | null };
  const path = typeof x.path === 'string' ? x.path : '';
  if (!safeRelativePath(path)) throw new ModelgateError('HUB_BAD_RESPONSE', `${repo}: unsafe file path in listing: ${JSON.stringify(path)}`);
  const size = Number(x.size);
  const oid = typeof x.oid === 'string' ? x.oid.toLowerCase() : '';
  if (!Number.isSafeInteger(size) || size < 0 || !SHA1_HEX.test(oid)) throw new ModelgateError('HUB_BAD_RESPONSE', `${repo}: ${path}: listing lacks a size or git oid`);
  const entry: HubFileEntry = { path, size, oid };
  if (x.lfs) {
    const lo = typeof x.lfs.oid === 'string' ? x.lfs.oid.toLowerCase() : '';
    const ls = Number(x.lfs.size);
    if (!SHA256_HEX.test(lo) || !Number.isSafeInteger(ls) || ls < 0) throw new ModelgateError('HUB_BAD_RESPONSE', `${repo}: ${path}: LFS entry lacks a sha256 or size`);
    entry.lfs = { oid: lo, size: ls, pointerSize: typeof x.lfs.pointerSize === 'number' ? x.lfs.pointerSize : undefined };
    entry.size = ls;
  }
  return entry;
}

export function safeRelativePath(p: string): boolean {
  if (!p || p.length > 4096 || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

function nextLink(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) {
      const next = new URL(m[1], base);
      if (next.origin !== new URL(base).origin) throw new ModelgateError('HUB_BAD_RESPONSE', 'tree listing pagination points to another host');
      return next.toString();
    }
  }
  return undefined;
}
