// HTTP for sources: bounded retries with exponential backoff on 429/5xx/network errors, manual
// redirects (the token goes only to the origin it was given for), resumable downloads (Range)
// into a BlobWriter. The token is never put in an error message, a log line or a file.
import { ModelgateError } from '../../scan/model.ts';
import type { BlobWriter } from '../quarantine/index.ts';

export interface HttpOptions {
  /** Bearer token; sent only to `tokenOrigin`. */
  token?: string;
  tokenOrigin?: string;
  /** Retries after the first attempt (default 5). */
  retries?: number;
  /** First backoff delay in ms (default 500), doubled each retry, capped by `retryMaxMs` (default 30000). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Abort a request when no byte arrived for this long (default 60000 ms). */
  idleTimeoutMs?: number;
  userAgent?: string;
  /** Called before each retry (for a progress line). */
  onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
}

class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** URL without query string or credentials, safe to print. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

function retryAfter(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/** One attempt: follows up to 10 redirects itself; throws RetryableError on 429/5xx/network trouble. */
async function attempt(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }, o: HttpOptions, signal: AbortSignal): Promise<Response> {
  let current = url;
  for (let hop = 0; hop <= 10; hop++) {
    const headers: Record<string, string> = { 'user-agent': o.userAgent ?? 'modelgate', ...(init.headers ?? {}) };
    if (o.token && o.tokenOrigin && new URL(current).origin === o.tokenOrigin) headers.authorization = `Bearer ${o.token}`;
    let res: Response;
    try {
      res = await fetch(current, { method: init.method ?? 'GET', headers, body: init.body, redirect: 'manual', signal });
    } catch (e) {
      throw new RetryableError(`${displayUrl(current)}: ${networkReason(e)}`);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel().catch(() => undefined);
      current = new URL(res.headers.get('location')!, current).toString();
      if (!/^https?:$/.test(new URL(current).protocol)) throw new ModelgateError('HTTP_REDIRECT', `${displayUrl(url)}: redirect to a non-HTTP URL refused`);
      continue;
    }
    if (res.status === 429 || res.status >= 500) {
      await res.body?.cancel().catch(() => undefined);
      throw new RetryableError(`${displayUrl(current)}: HTTP ${res.status}`, retryAfter(res.headers.get('retry-after')));
    }
    return res;
  }
  throw new ModelgateError('HTTP_REDIRECT', `${displayUrl(url)}: more than 10 redirects`);
}

function networkReason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return 'timed out';
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? 'network error';
}

function backoff(o: HttpOptions, n: number, hint?: number): number {
  const base = o.retryBaseMs ?? 500;
  const max = o.retryMaxMs ?? 30_000;
  const exp = Math.min(max, base * 2 ** n);
  return Math.min(max, Math.max(exp, hint ?? 0));
}

function withIdleTimeout(o: HttpOptions): { signal: AbortSignal; poke: () => void; done: () => void } {
  const ac = new AbortController();
  const ms = o.idleTimeoutMs ?? 60_000;
  let t = setTimeout(() => ac.abort(), ms);
  return {
    signal: ac.signal,
    poke: () => {
      clearTimeout(t);
      t = setTimeout(() => ac.abort(), ms);
    },
    done: () => clearTimeout(t),
  };
}

async function retrying<T>(url: string, o: HttpOptions, run: (n: number) => Promise<T>, progressed: () => boolean = () => false): Promise<T> {
  const retries = o.retries ?? 5;
  let n = 0;
  let total = 0;
  for (;;) {
    try {
      return await run(n);
    } catch (e) {
      if (!(e instanceof RetryableError)) throw e;
      // Progress (a resumed download that got further) earns fresh retries, within a hard total bound.
      if (progressed()) n = 0;
      if (n >= retries || total >= retries * 4) throw new ModelgateError('HTTP_RETRIES_EXHAUSTED', `${e.message} (gave up after ${total + 1} attempt${total === 0 ? '' : 's'})`);
      const delay = backoff(o, n, e.retryAfterMs);
      o.onRetry?.({ url: displayUrl(url), attempt: total + 1, delayMs: delay, reason: e.message });
      await sleep(delay);
      n++;
      total++;
    }
  }
}

function httpError(url: string, res: Response): ModelgateError {
  const code = res.status === 401 || res.status === 403 ? 'HTTP_UNAUTHORIZED' : res.status === 404 ? 'HTTP_NOT_FOUND' : 'HTTP_ERROR';
  const hint = res.status === 401 || res.status === 403 ? ' (gated or private repository? set HF_TOKEN or --token-env)' : '';
  return new ModelgateError(code, `${displayUrl(url)}: HTTP ${res.status}${hint}`);
}

/** GET/POST a JSON document with retries. */
export async function requestJson<T>(url: string, o: HttpOptions, init: { method?: string; body?: unknown } = {}): Promise<{ body: T; headers: Headers }> {
  return retrying(url, o, async () => {
    const t = withIdleTimeout(o);
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      let body: string | undefined;
      if (init.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(init.body);
      }
      const res = await attempt(url, { method: init.method, headers, body }, o, t.signal);
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw httpError(url, res);
      }
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        throw new RetryableError(`${displayUrl(url)}: ${networkReason(e)}`);
      }
      try {
        return { body: JSON.parse(text) as T, headers: res.headers };
      } catch {
        throw new ModelgateError('HTTP_BAD_JSON', `${displayUrl(url)}: response is not JSON`);
      }
    } finally {
      t.done();
    }
  });
}

/**
 * Downloads `url` into `writer`, resuming with `Range: bytes=N-` after a cut connection or an earlier
 * run's partial file. Bytes are hashed by the writer as they arrive; the caller commits (verifies).
 */
export async function downloadInto(writer: BlobWriter, url: string, o: HttpOptions, expectedSize: number | undefined, onBytes?: (n: number) => void): Promise<void> {
  let lastOffset = writer.offset;
  const progressed = () => {
    const p = writer.offset > lastOffset;
    lastOffset = writer.offset;
    return p;
  };
  await retrying(
    url,
    o,
    async () => {
      if (expectedSize !== undefined && writer.offset === expectedSize) return; // a previous run got everything
      const t = withIdleTimeout(o);
      try {
        const headers: Record<string, string> = { 'accept-encoding': 'identity' };
        const from = writer.offset;
        if (from > 0) headers.range = `bytes=${from}-`;
        const res = await attempt(url, { headers }, o, t.signal);
        if (from > 0 && res.status === 206) {
          const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
          if (!m || Number(m[1]) !== from) {
            await res.body?.cancel().catch(() => undefined);
            await writer.reset();
            throw new RetryableError(`${displayUrl(url)}: server answered a resume with the wrong range`);
          }
        } else if (res.status === 200) {
          if (from > 0) await writer.reset(); // no Range support: start over
        } else {
          await res.body?.cancel().catch(() => undefined);
          if (res.status === 416) {
            await writer.reset();
            throw new RetryableError(`${displayUrl(url)}: range not satisfiable, restarting`);
          }
          throw httpError(url, res);
        }
        if (!res.body) throw new RetryableError(`${displayUrl(url)}: empty response`);
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            t.poke();
            await writer.write(chunk);
            onBytes?.(chunk.length);
            if (expectedSize !== undefined && writer.offset > expectedSize) break; // longer than listed: commit names it
          }
        } catch (e) {
          if (e instanceof ModelgateError) throw e;
          throw new RetryableError(`${displayUrl(url)}: connection lost after ${writer.offset} bytes (${networkReason(e)})`);
        }
        if (expectedSize !== undefined && writer.offset < expectedSize) throw new RetryableError(`${displayUrl(url)}: response ended after ${writer.offset} of ${expectedSize} bytes`);
      } finally {
        t.done();
      }
    },
    progressed,
  );
}
