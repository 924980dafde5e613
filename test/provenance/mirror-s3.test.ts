// The S3-compatible mirror backend against a local fake that speaks the S3 REST wire format (path-style
// PutObject, GetObject, HeadObject, ListObjectsV2, SigV4 checked, x-amz-content-sha256 enforced).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fetchSource } from '../../src/provenance/sources/index.ts';
import { mirrorVersion, openMirrored, verifyMirror, S3Backend, signV4, parseS3Uri, blobKey } from '../../src/provenance/mirror/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import { FIXTURES } from '../helpers/scan.ts';
import { runCliAsync } from '../helpers/hub-server.ts';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const CREDS = { accessKeyId: 'AKIDMODELGATETEST', secretAccessKey: 'c2VjcmV0LWZvci10aGUtZmFrZQ' };
const tmp = mkdtempSync(join(tmpdir(), 'mg-s3-'));

// ------------------------------------------------------------------ the fake
const objects = new Map<string, Buffer>(); // "bucket/key" → bytes
const log: { method: string; path: string }[] = [];
let server: Server;
let endpoint = '';

const xmlError = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;

function checkSignature(method: string, rawPath: string, query: URLSearchParams, headers: Record<string, string | string[] | undefined>): string | null {
  const auth = String(headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'AuthorizationHeaderMalformed';
  if (m[1] !== CREDS.accessKeyId) return 'InvalidAccessKeyId';
  const signed = m[4].split(';');
  const extra: Record<string, string> = {};
  for (const h of signed) if (!['host', 'x-amz-content-sha256', 'x-amz-date'].includes(h)) extra[h] = String(headers[h]);
  const again = signV4({
    method,
    host: String(headers.host),
    path: rawPath.split('/').map(decodeURIComponent).join('/'),
    query: Object.fromEntries(query.entries()),
    headers: extra,
    payloadSha256: String(headers['x-amz-content-sha256']),
    amzDate: String(headers['x-amz-date']),
    region: m[3],
    credentials: CREDS,
  });
  return again.authorization === auth ? null : 'SignatureDoesNotMatch';
}

before(async () => {
  server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    log.push({ method: req.method ?? '', path: u.pathname + u.search });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const sigError = checkSignature(req.method ?? '', u.pathname, u.searchParams, req.headers);
    if (sigError) {
      res.writeHead(403, { 'content-type': 'application/xml' });
      return res.end(req.method === 'HEAD' ? undefined : xmlError(sigError, 'The request signature we calculated does not match the signature you provided.'));
    }
    const [, bucket, ...rest] = u.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const id = `${bucket}/${key}`;
    if (req.method === 'PUT') {
      if (req.headers['content-length'] === undefined) {
        res.writeHead(411);
        return res.end(xmlError('MissingContentLength', 'You must provide the Content-Length HTTP header.'));
      }
      const claimed = String(req.headers['x-amz-content-sha256']);
      if (claimed !== 'UNSIGNED-PAYLOAD' && claimed !== sha256(body)) {
        res.writeHead(400, { 'content-type': 'application/xml' });
        return res.end(xmlError('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed."));
      }
      objects.set(id, body);
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
      return res.end();
    }
    if (req.method === 'GET' && key === '' && u.searchParams.get('list-type') === '2') {
      const prefix = u.searchParams.get('prefix') ?? '';
      const keys = [...objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket.length + 1)).sort();
      res.writeHead(200, { 'content-type': 'application/xml' });
      return res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${keys.map((k) => `<Contents><Key>${k}</Key></Contents>`).join('')}</ListBucketResult>`);
    }
    const obj = objects.get(id);
    if (req.method === 'HEAD' || req.method === 'GET') {
      if (!obj) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        return res.end(req.method === 'HEAD' ? undefined : xmlError('NoSuchKey', 'The specified key does not exist.'));
      }
      res.writeHead(200, { 'content-length': String(obj.length), etag: `"${createHash('md5').update(obj).digest('hex')}"`, 'content-type': 'application/octet-stream' });
      return res.end(req.method === 'HEAD' ? undefined : obj);
    }
    res.writeHead(405);
    res.end(xmlError('MethodNotAllowed', 'no'));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
  rmSync(tmp, { recursive: true, force: true });
});

const bucket = (prefix = 'models/', credentials = CREDS) => new S3Backend({ endpoint, region: 'eu-west-1', bucket: 'mirror-bucket', prefix, credentials });

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

// ------------------------------------------------------------------ tests

test('SigV4 matches the AWS documentation examples (GET Object with Range, PUT Object, list with query)', () => {
  const aws = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
  const base = { host: 'examplebucket.s3.amazonaws.com', amzDate: '20130524T000000Z', region: 'us-east-1', credentials: aws };
  const get = signV4({ ...base, method: 'GET', path: '/test.txt', headers: { range: 'bytes=0-9' }, payloadSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
  assert.match(get.authorization, /Credential=AKIAIOSFODNN7EXAMPLE\/20130524\/us-east-1\/s3\/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41$/);
  const put = signV4({ ...base, method: 'PUT', path: '/test$file.text', headers: { date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' }, payloadSha256: sha256('Welcome to Amazon S3.') });
  assert.match(put.authorization, /SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd$/);
  const list = signV4({ ...base, method: 'GET', path: '/', query: { 'max-keys': '2', prefix: 'J' }, payloadSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
  assert.match(list.authorization, /Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/);
});

test('parseS3Uri: bucket and prefix; bad locations refused', () => {
  assert.deepEqual(parseS3Uri('s3://my-bucket/models'), { bucket: 'my-bucket', prefix: 'models/' });
  assert.deepEqual(parseS3Uri('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
  assert.throws(() => parseS3Uri('s3://A_B/x'), (e: unknown) => e instanceof ModelgateError && e.code === 'USAGE');
});

test('a version mirrored into the bucket is stored by digest, verified on read; a second copy uploads nothing', async () => {
  const store = join(tmp, 'q1');
  const f = await fetchSource(`${FIXTURES}/hub/acme/tiny-model`, { store });
  const r = await mirrorVersion(f.manifestDigest, { store, to: bucket() });
  assert.equal(r.copied.files, 5);
  assert.equal(r.mirror, 's3://mirror-bucket/models/');
  for (const file of f.manifest.files) assert.equal(sha256(objects.get(`mirror-bucket/models/${blobKey(file.sha256)}`)!), file.sha256);
  const puts = log.filter((l) => l.method === 'PUT').length;
  const again = await mirrorVersion(f.manifestDigest, { store, to: bucket() });
  assert.equal(again.present, 5);
  assert.equal(log.filter((l) => l.method === 'PUT').length, puts + 1, 'only the manifest is written again');
  const v = await verifyMirror(bucket(), undefined);
  assert.equal(v.ok, true, JSON.stringify(v.problems));
  assert.equal(v.manifests, 1);
  const model = f.manifest.files.find((x) => x.path === 'model.safetensors')!;
  assert.equal(sha256(await readAll(await openMirrored(bucket(), f.manifestDigest, 'model.safetensors'))), model.sha256);
  // Changed bytes in the bucket: named by verify, and a read fails at its end.
  const obj = objects.get(`mirror-bucket/models/${blobKey(model.sha256)}`)!;
  const bad = Buffer.from(obj);
  bad[9] ^= 1;
  objects.set(`mirror-bucket/models/${blobKey(model.sha256)}`, bad);
  const v2 = await verifyMirror(bucket(), f.manifestDigest);
  assert.equal(v2.ok, false);
  assert.equal(v2.problems[0].path, 'model.safetensors');
  await assert.rejects(readAll(await openMirrored(bucket(), f.manifestDigest, 'model.safetensors')), (e: unknown) => e instanceof ModelgateError && e.code === 'DIGEST_MISMATCH' && e.message.startsWith('model.safetensors'));
  objects.set(`mirror-bucket/models/${blobKey(model.sha256)}`, obj);
});

test('bytes that are not the blob are refused and not stored; a wrong secret is refused by the signature check', async () => {
  const want = sha256('the real bytes');
  await assert.rejects(bucket('x/').putBlob(want, 9, undefined, () => Readable.from([Buffer.from('not them!')]), 'f.bin'), (e: unknown) => e instanceof ModelgateError && e.code === 'DIGEST_MISMATCH');
  assert.equal(objects.has(`mirror-bucket/x/${blobKey(want)}`), false);
  await assert.rejects(bucket('x/', { ...CREDS, secretAccessKey: 'wrong' }).getManifest('a'.repeat(64)), (e: unknown) => e instanceof ModelgateError && /SignatureDoesNotMatch/.test(e.message));
});

test('CLI: mirror --to s3://… with --s3-endpoint and AWS_* credentials, then --verify', async () => {
  const store = join(tmp, 'q2');
  const f = await fetchSource(`${FIXTURES}/hub/acme/tiny-model`, { store });
  const env = { AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey, AWS_REGION: 'eu-west-1' };
  const m = await runCliAsync(['mirror', f.manifestDigest, '--store', store, '--to', 's3://mirror-bucket/cli', '--s3-endpoint', endpoint, '--json'], { env });
  assert.equal(m.code, 0, m.stderr);
  assert.equal(JSON.parse(m.stdout).mirror, 's3://mirror-bucket/cli/');
  assert.ok(!m.stdout.includes(CREDS.secretAccessKey) && !m.stderr.includes(CREDS.secretAccessKey));
  const v = await runCliAsync(['mirror', '--verify', '--to', 's3://mirror-bucket/cli', '--s3-endpoint', endpoint], { env });
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const noCreds = await runCliAsync(['mirror', '--verify', '--to', 's3://mirror-bucket/cli', '--s3-endpoint', endpoint], { env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined } });
  assert.equal(noCreds.code, 2);
  assert.match(noCreds.stderr, /AWS_ACCESS_KEY_ID/);
});
