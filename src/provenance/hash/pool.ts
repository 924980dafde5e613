// Hashes byte ranges of files on worker threads with ≥ 1 MiB reads (4 MiB: Node's sweet spot).
// The worker is inline source (node built-ins only), so it runs the same from the TypeScript
// sources, from the esbuild bundle (no extra entry point) and from the library.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ModelgateError } from '../../scan/model.ts';

export const READ_SIZE = 4 << 20;
const PROGRESS_EVERY = 64 << 20;

/** One unit of work: `[start, end)` of a file; `end` null = to end of file. */
export interface RangeTask {
  name: string;
  path: string;
  start: number;
  end: number | null;
}

export interface RangeResult {
  digest: string;
  bytes: number;
}

type Reply = { id: number; ok: true; digest: string; bytes: number } | { id: number; ok: false; error: string } | { id: number; progress: number };

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const CHUNK = ${READ_SIZE};
const EVERY = ${PROGRESS_EVERY};
const buf = Buffer.allocUnsafe(CHUNK);
parentPort.on('message', (t) => {
  let fd = -1;
  try {
    fd = fs.openSync(t.path, 'r');
    const h = createHash('sha256');
    let pos = t.start, sent = 0;
    const end = t.end === null ? Infinity : t.end;
    while (pos < end) {
      const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
      if (n <= 0) break;
      h.update(n === CHUNK ? buf : buf.subarray(0, n));
      pos += n; sent += n;
      if (sent >= EVERY) { parentPort.postMessage({ id: t.id, progress: sent }); sent = 0; }
    }
    if (t.end !== null && pos < t.end) throw new Error(t.name + ': file shrank while hashing (ended at byte ' + pos + ', expected ' + t.end + ')');
    if (sent) parentPort.postMessage({ id: t.id, progress: sent });
    parentPort.postMessage({ id: t.id, ok: true, digest: h.digest('hex'), bytes: pos - t.start });
  } catch (e) {
    parentPort.postMessage({ id: t.id, ok: false, error: e && e.message ? e.message : String(e) });
  } finally { if (fd >= 0) fs.closeSync(fd); }
});`;

/** Same work as the worker, on the calling thread (small models: no worker start-up cost). */
export function hashRangeSync(t: RangeTask): RangeResult {
  const fd = openSync(t.path, 'r');
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(READ_SIZE);
    let pos = t.start;
    const end = t.end ?? Infinity;
    while (pos < end) {
      const n = readSync(fd, buf, 0, Math.min(READ_SIZE, end - pos), pos);
      if (n <= 0) break;
      h.update(n === READ_SIZE ? buf : buf.subarray(0, n));
      pos += n;
    }
    if (t.end !== null && pos < t.end) throw new ModelgateError('UNREADABLE', `${t.name}: file shrank while hashing (ended at byte ${pos}, expected ${t.end})`);
    return { digest: h.digest('hex'), bytes: pos - t.start };
  } finally {
    closeSync(fd);
  }
}

export interface RunOptions {
  jobs?: number;
  /** Called with bytes hashed since the last call. */
  onBytes?: (n: number) => void;
}

/** Runs every task; results in task order. Largest tasks start first so the tail is short. */
export async function hashRanges(tasks: RangeTask[], opts: RunOptions = {}): Promise<RangeResult[]> {
  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), tasks.length));
  const results = new Array<RangeResult>(tasks.length);
  const order = tasks.map((_, i) => i);
  const sizeOf = (t: RangeTask): number => (t.end ?? Number.MAX_SAFE_INTEGER) - t.start;
  order.sort((a, b) => sizeOf(tasks[b]!) - sizeOf(tasks[a]!));
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolveAll, rejectAll) => {
      let next = 0;
      let done = 0;
      let failed = false;
      if (tasks.length === 0) return resolveAll();
      const fail = (e: Error): void => {
        if (!failed) {
          failed = true;
          rejectAll(e);
        }
      };
      const feed = (w: Worker): void => {
        if (failed || next >= order.length) return;
        const id = order[next++]!;
        w.postMessage({ id, ...tasks[id] });
      };
      for (let i = 0; i < jobs; i++) {
        const w = new Worker(WORKER_SOURCE, { eval: true });
        workers.push(w);
        w.on('message', (m: Reply) => {
          if ('progress' in m) return opts.onBytes?.(m.progress);
          if (!m.ok) return fail(new ModelgateError('UNREADABLE', m.error));
          results[m.id] = { digest: m.digest, bytes: m.bytes };
          if (++done === tasks.length) resolveAll();
          else feed(w);
        });
        w.on('error', fail);
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
