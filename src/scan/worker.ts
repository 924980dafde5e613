// Worker-thread entry: scans or hashes one file per message.
import { parentPort } from 'node:worker_threads';
import { scanFile } from './walker.ts';
import { hashFile } from './hash.ts';
import type { PoolTask } from './pool.ts';

parentPort!.on('message', async (task: PoolTask) => {
  try {
    const value = task.kind === 'hash' ? hashFile(task.path) : await scanFile(task.path, task.display, { hash: task.hash, limits: task.limits });
    parentPort!.postMessage({ ok: true, value });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error)?.stack ?? String(e) });
  }
});
