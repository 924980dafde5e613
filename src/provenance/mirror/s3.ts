// An S3-compatible bucket as a mirror (path-style URLs: {endpoint}/{bucket}/{key}), speaking the S3 REST
// wire format with AWS Signature Version 4: PutObject, GetObject, HeadObject, ListObjectsV2.
// PutObject signs `x-amz-content-sha256: <blob sha256>`, so the service itself refuses a body whose
// SHA-256 differs (XAmzContentSHA256Mismatch); the copy is also re-hashed on our side.
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { ModelgateError } from '../../scan/model.ts';
import { blobKey, manifestKey, type MirrorBackend } from './backend.ts';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Config {
  /** `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000` (MinIO), … */
  endpoint: string;
  region: string;
  bucket: string;
  /** Key prefix inside the bucket (`models/` or empty). */
  prefix: string;
  credentials: S3Credentials;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 encoding as SigV4 wants it (unreserved characters kept; `/` kept in paths). */
export function uriEncode(s: string, keepSlash: boolean): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export interface SignInput {
  method: string;
  host: string;
  /** Path, not yet encoded (`/bucket/key`). */
  path: string;
  query?: Record<string, string>;
  /** Extra headers to sign (lower-case names), e.g. range, x-amz-security-token. */
  headers?: Record<string, string>;
  payloadSha256: string;
  /** `YYYYMMDDTHHMMSSZ` */
  amzDate: string;
  region: string;
  credentials: S3Credentials;
}

/** AWS Signature Version 4 for S3; returns every header to send (host included). */
export function signV4(i: SignInput): Record<string, string> {
  const headers: Record<string, string> = { host: i.host, 'x-amz-content-sha256': i.payloadSha256, 'x-amz-date': i.amzDate, ...(i.headers ?? {}) };
  if (i.credentials.sessionToken) headers['x-amz-security-token'] = i.credentials.sessionToken;
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const canonicalHeaders = names.map((h) => `${h}:${String(headers[h]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const query = Object.entries(i.query ?? {})
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [i.method, uriEncode(i.path, true), query, canonicalHeaders, signedHeaders, i.payloadSha256].join('\n');
  const day = i.amzDate.slice(0, 8);
  const scope = `${day}/${i.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', i.amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${i.credentials.secretAccessKey}`, day), i.region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${i.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

function amzNow(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Parses `s3://bucket[/prefix]`. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!m) throw new ModelgateError('USAGE', `"${uri}" is not an S3 location; write s3://BUCKET[/PREFIX]`);
  let prefix = m[2] ?? '';
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { bucket: m[1], prefix };
}

export class S3Backend implements MirrorBackend {
  readonly location: string;
  private readonly url: URL;

  constructor(private readonly cfg: S3Config) {
    this.url = new URL(cfg.endpoint);
    if (!/^https?:$/.test(this.url.protocol)) throw new ModelgateError('USAGE', `S3 endpoint must be http(s): ${cfg.endpoint}`);
    this.location = `s3://${cfg.bucket}/${cfg.prefix}`;
  }

  private send(method: string, key: string | null, opts: { query?: Record<string, string>; payloadSha256?: string; body?: Readable; size?: number } = {}): Promise<IncomingMessage> {
    const path = `${this.url.pathname.replace(/\/+$/, '')}/${this.cfg.bucket}${key === null ? '' : `/${this.cfg.prefix}${key}`}`;
    const extra: Record<string, string> = {};
    if (opts.size !== undefined) extra['content-length'] = String(opts.size);
    const headers = signV4({ method, host: this.url.host, path, query: opts.query, headers: extra, payloadSha256: opts.payloadSha256 ?? EMPTY_SHA256, amzDate: amzNow(), region: this.cfg.region, credentials: this.cfg.credentials });
    const qs = Object.entries(opts.query ?? {}).map(([k, v]) => `${uriEncode(k, false)}=${uriEncode(v, false)}`).join('&');
    const req = (this.url.protocol === 'https:' ? httpsRequest : httpRequest)({ method, host: this.url.hostname, port: this.url.port || undefined, path: uriEncode(path, true) + (qs ? `?${qs}` : ''), headers });
    return new Promise((ok, fail) => {
      req.on('response', ok);
      req.on('error', (e) => fail(new ModelgateError('S3_ERROR', `${this.location}${key ?? ''}: ${method} failed: ${e.message}`)));
      if (opts.body) {
        opts.body.on('error', (e) => {
          req.destroy();
          fail(e);
        });
        opts.body.pipe(req);
      } else req.end();
    });
  }

  private async fail(res: IncomingMessage, what: string): Promise<never> {
    let body = '';
    for await (const c of res) body += c;
    const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? `HTTP ${res.statusCode}`;
    const msg = /<Message>([^<]+)<\/Message>/.exec(body)?.[1];
    throw new ModelgateError(code === 'XAmzContentSHA256Mismatch' ? 'DIGEST_MISMATCH' : 'S3_ERROR', `${what}: S3 ${code}${msg ? ` (${msg})` : ''}`);
  }

  async hasBlob(sha256: string, size: number): Promise<boolean> {
    const res = await this.send('HEAD', blobKey(sha256));
    res.resume();
    if (res.statusCode === 404) return false;
    if (res.statusCode !== 200) return this.fail(res, `${this.location}${blobKey(sha256)}`);
    return Number(res.headers['content-length']) === size;
  }

  async putBlob(sha256: string, size: number, _gitSha1: string | undefined, body: () => Readable, label: string): Promise<void> {
    // Our own check too: the upload is cut before its end if the bytes are not the expected ones.
    const h = createHash('sha256');
    let n = 0;
    const check = new Transform({
      transform(chunk: Buffer, _e, cb) {
        h.update(chunk);
        n += chunk.length;
        cb(null, chunk);
      },
      flush(cb) {
        const got = h.digest('hex');
        cb(got === sha256 && n === size ? null : new ModelgateError('DIGEST_MISMATCH', `${label}: expected sha256 ${sha256} (${size} bytes), got ${got} (${n} bytes)`));
      },
    });
    const src = body();
    src.on('error', (e) => check.destroy(e));
    const res = await this.send('PUT', blobKey(sha256), { payloadSha256: sha256, body: src.pipe(check), size });
    if (res.statusCode !== 200) return this.fail(res, label);
    res.resume();
  }

  async openBlob(sha256: string): Promise<{ size: number; stream: Readable } | undefined> {
    const res = await this.send('GET', blobKey(sha256));
    if (res.statusCode === 404) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) return this.fail(res, `${this.location}${blobKey(sha256)}`);
    return { size: Number(res.headers['content-length']), stream: res };
  }

  async putManifest(hex: string, bytes: string): Promise<void> {
    const buf = Buffer.from(bytes, 'utf8');
    const { Readable } = await import('node:stream');
    const res = await this.send('PUT', manifestKey(hex), { payloadSha256: hex, body: Readable.from([buf]), size: buf.length });
    if (res.statusCode !== 200) return this.fail(res, `${this.location}${manifestKey(hex)}`);
    res.resume();
  }

  async getManifest(hex: string): Promise<string | undefined> {
    const res = await this.send('GET', manifestKey(hex));
    if (res.statusCode === 404) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) return this.fail(res, `${this.location}${manifestKey(hex)}`);
    let s = '';
    res.setEncoding('utf8');
    for await (const c of res) s += c;
    return s;
  }

  async listManifests(): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const query: Record<string, string> = { 'list-type': '2', prefix: `${this.cfg.prefix}manifests/sha256/` };
      if (token) query['continuation-token'] = token;
      const res = await this.send('GET', null, { query });
      if (res.statusCode !== 200) return this.fail(res, `${this.location}manifests/`);
      let xml = '';
      for await (const c of res) xml += c;
      for (const m of xml.matchAll(/<Key>[^<]*manifests\/sha256\/([0-9a-f]{2})\/([0-9a-f]{62})\.json<\/Key>/g)) out.push(`sha256:${m[1]}${m[2]}`);
      if (!/<IsTruncated>true<\/IsTruncated>/.test(xml)) break;
      token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(xml)?.[1];
      if (!token) break;
    }
    return out.sort();
  }
}
