// A local stand-in for the Hugging Face Hub (node:http on 127.0.0.1, random port) serving the Hub's API
// shapes from a folder on disk: revision info, recursive tree listing (paginated with a Link header),
// paths-info, and resolve downloads with Range. LFS files (*.safetensors) redirect to a second server
// on another port (another origin, like the Hub's CDN). Faults can be injected: an error status once,
// a body cut mid-way once, a tampered file.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface HubRequest {
  server: 'api' | 'cdn';
  method: string;
  url: string;
  authorization?: string;
  range?: string;
}

export interface HubServerOptions {
  /** Folder holding ORG/NAME/ repositories. */
  root: string;
  /** Files (repo-relative) stored as LFS. Default: *.safetensors. */
  isLfs?: (path: string) => boolean;
  /** Tree page size (Link-header pagination); default: everything on one page. */
  pageSize?: number;
  /** Answer the first request whose path contains `match` with `status` (once each). */
  failOnce?: { match: string; status: number; retryAfter?: string }[];
  /** Answer every request whose path contains this with 503. */
  failAlways?: string;
  /** Repo-relative file paths whose first download is cut after half the body. */
  cutOnce?: string[];
  /** Repo-relative file paths whose first download sends half the body and then hangs; `onStall` is told. */
  stallOnce?: string[];
  onStall?: (path: string) => void;
  /** Repo-relative file paths served with one byte changed (the listing keeps the true digests). */
  tamper?: string[];
  /** When set, API and resolve requests without `Authorization: Bearer <token>` get 401. */
  requireToken?: string;
}

export interface HubServer {
  url: string;
  cdnUrl: string;
  requests: HubRequest[];
  commitOf(repo: string): string;
  close(): Promise<void>;
}

interface RepoFile {
  path: string;
  content: Buffer;
  lfs: boolean;
  sha256: string;
  gitOid: string;
}

const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

function loadRepo(dir: string, isLfs: (p: string) => boolean): RepoFile[] {
  const out: RepoFile[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else {
        const path = relative(dir, abs).split(sep).join('/');
        const content = readFileSync(abs);
        const sha256 = createHash('sha256').update(content).digest('hex');
        const lfs = isLfs(path);
        const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.length}\n`);
        out.push({ path, content, lfs, sha256, gitOid: gitSha1(lfs ? pointer : content) });
      }
    }
  };
  walk(dir);
  return out;
}

export async function startHubServer(opts: HubServerOptions): Promise<HubServer> {
  const isLfs = opts.isLfs ?? ((p: string) => p.endsWith('.safetensors'));
  const requests: HubRequest[] = [];
  const failOnce = [...(opts.failOnce ?? [])];
  const cut = new Set(opts.cutOnce ?? []);
  const tamper = new Set(opts.tamper ?? []);
  const stall = new Set(opts.stallOnce ?? []);
  const repos = new Map<string, RepoFile[]>();
  const commitOf = (repo: string) => createHash('sha1').update(`commit of ${repo}`).digest('hex');
  const repo = (name: string) => {
    if (!repos.has(name)) {
      try {
        repos.set(name, loadRepo(join(opts.root, name), isLfs));
      } catch {
        return undefined;
      }
    }
    return repos.get(name);
  };
  const revToCommit = (name: string, rev: string) => {
    const c = commitOf(name);
    return rev === 'main' || rev === 'v1.0' || rev === 'refs/pr/1' || rev === c ? c : undefined;
  };
  for (const org of readdirSync(opts.root)) {
    if (statSync(join(opts.root, org)).isDirectory()) for (const name of readdirSync(join(opts.root, org))) repo(`${org}/${name}`);
  }
  let cdnUrl = '';

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const serveContent = (req: IncomingMessage, res: ServerResponse, f: RepoFile, commit: string) => {
    let body = f.content;
    if (tamper.has(f.path)) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0x01;
    }
    const headers: Record<string, string> = { 'accept-ranges': 'bytes', 'x-repo-commit': commit, etag: `"${f.lfs ? f.sha256 : f.gitOid}"`, 'content-type': 'application/octet-stream' };
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    let status = 200;
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        res.end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    const slice = body.subarray(start);
    headers['content-length'] = String(slice.length);
    res.writeHead(status, headers);
    if (cut.has(f.path)) {
      cut.delete(f.path);
      res.write(slice.subarray(0, slice.length >> 1), () => res.socket?.destroy());
      return;
    }
    if (stall.has(f.path)) {
      stall.delete(f.path);
      res.write(slice.subarray(0, slice.length >> 1), () => opts.onStall?.(f.path));
      return; // never ends; closed with the server
    }
    res.end(slice);
  };

  const fault = (path: string, res: ServerResponse): boolean => {
    if (opts.failAlways && path.includes(opts.failAlways)) {
      json(res, 503, { error: 'unavailable' });
      return true;
    }
    const i = failOnce.findIndex((f) => path.includes(f.match));
    if (i >= 0) {
      const f = failOnce.splice(i, 1)[0];
      json(res, f.status, { error: 'try again' }, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
      return true;
    }
    return false;
  };

  const entry = (f: RepoFile) => (f.lfs ? { type: 'file', oid: f.gitOid, size: f.content.length, path: f.path, lfs: { oid: f.sha256, size: f.content.length, pointerSize: 130 } } : { type: 'file', oid: f.gitOid, size: f.content.length, path: f.path });

  const api = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push({ server: 'api', method: req.method ?? 'GET', url: u.pathname + u.search, authorization: req.headers.authorization, range: req.headers.range });
    if (fault(u.pathname, res)) return;
    if (opts.requireToken && req.headers.authorization !== `Bearer ${opts.requireToken}`) return json(res, 401, { error: 'Invalid credentials in Authorization header' });
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree|paths-info)\/([^/]+)$/.exec(u.pathname);
    if (m) {
      const files = repo(m[1]);
      const rev = decodeURIComponent(m[3]);
      const commit = files && revToCommit(m[1], rev);
      if (!files) return json(res, 404, { error: 'Repository not found' });
      if (!commit) return json(res, 404, { error: `Invalid rev id: ${rev}` });
      if (m[2] === 'revision') return json(res, 200, { _id: 'x', id: m[1], modelId: m[1], sha: commit, private: false, gated: false, siblings: files.map((f) => ({ rfilename: f.path })) });
      if (m[2] === 'paths-info') {
        let raw = '';
        for await (const c of req) raw += c;
        const want = new Set((JSON.parse(raw || '{}') as { paths?: string[] }).paths ?? []);
        return json(res, 200, files.filter((f) => want.has(f.path)).map(entry));
      }
      const dirs = [...new Set(files.flatMap((f) => f.path.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))))].map((p) => ({ type: 'directory', oid: createHash('sha1').update(p).digest('hex'), size: 0, path: p }));
      const all = [...dirs, ...files.map(entry)];
      const size = opts.pageSize ?? all.length;
      const cursor = Number(u.searchParams.get('cursor') ?? '0');
      const page = all.slice(cursor, cursor + size);
      const headers: Record<string, string> = {};
      if (cursor + size < all.length) {
        const next = new URL(u.pathname + u.search, `http://${req.headers.host}`);
        next.searchParams.set('cursor', String(cursor + size));
        headers.link = `<${next.toString()}>; rel="next"`;
      }
      return json(res, 200, page, headers);
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname);
    if (m) {
      const files = repo(m[1]);
      const commit = files && revToCommit(m[1], decodeURIComponent(m[2]));
      const path = m[3].split('/').map(decodeURIComponent).join('/');
      const f = files?.find((x) => x.path === path);
      if (!f || !commit) return json(res, 404, { error: 'Entry not found' });
      if (f.lfs) {
        res.writeHead(302, { location: `${cdnUrl}/repos/${f.sha256}?name=${encodeURIComponent(path)}`, 'x-repo-commit': commit, 'x-linked-etag': `"${f.sha256}"`, 'x-linked-size': String(f.content.length) });
        return res.end();
      }
      return serveContent(req, res, f, commit);
    }
    json(res, 404, { error: 'not found' });
  };

  const cdn = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push({ server: 'cdn', method: req.method ?? 'GET', url: u.pathname + u.search, authorization: req.headers.authorization, range: req.headers.range });
    if (fault(u.pathname + u.search, res)) return;
    const m = /^\/repos\/([0-9a-f]{64})$/.exec(u.pathname);
    for (const files of repos.values()) {
      const f = m && files.find((x) => x.sha256 === m[1]);
      if (f) return serveContent(req, res, f, '');
    }
    json(res, 404, { error: 'no such object' });
  };

  const listen = (s: Server) => new Promise<string>((ok) => s.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
  const apiServer = createServer((req, res) => void api(req, res).catch((e) => json(res, 500, { error: String(e) })));
  const cdnServer = createServer(cdn);
  const url = await listen(apiServer);
  cdnUrl = await listen(cdnServer);
  const close = (s: Server) => new Promise<void>((ok) => {
    s.closeAllConnections();
    s.close(() => ok());
  });
  return { url, cdnUrl, requests, commitOf, close: async () => void (await Promise.all([close(apiServer), close(cdnServer)])) };
}

/** Runs the built CLI without blocking this process (the test server must keep answering). */
export async function runCliAsync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const cli = fileURLToPath(new URL('../../bin/modelgate.js', import.meta.url));
  return new Promise((ok, fail) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...opts.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const p = spawn(process.execPath, [cli, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', fail);
    p.on('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}
