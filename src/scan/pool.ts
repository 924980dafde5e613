// A small worker-thread pool: one task per worker at a time, results matched by id.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

export type PoolTask =
  | { kind: 'scan'; path: string; display: string; hash: boolean; limits: object }
  | { kind: 'hash'; path: string };

interface Pending {
  task: PoolTask;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

// The worker is a sibling file: worker.js next to the bundle, worker.ts when running from source.
const YOUNG_GEN_MB = 96;
const FROM_SOURCE = import.meta.url.endsWith('.ts');
// In the bundle this code may sit in dist/ or in a shared chunk under dist/chunks/.
const WORKER_URL = FROM_SOURCE
  ? new URL('./worker-dev.mjs', import.meta.url)
  : [new URL('./worker.js', import.meta.url), new URL('../worker.js', import.meta.url)].find((u) => existsSync(u)) ?? new URL('./worker.js', import.meta.url);

export class WorkerPool {
  private idle: Worker[] = [];
  private all: Worker[] = [];
  private queue: Pending[] = [];
  private busy = new Map<Worker, Pending>();

  constructor(size: number) {
    for (let i = 0; i < Math.max(1, size); i++) {
      // A larger young generation halves GC time on pickles of millions of small objects.
      const w = new Worker(WORKER_URL, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GEN_MB } });
      w.on('message', (msg: { ok: boolean; value?: unknown; error?: string }) => {
        const p = this.busy.get(w);
        this.busy.delete(w);
        if (p) (msg.ok ? p.resolve(msg.value) : p.reject(new Error(msg.error)));
        this.idle.push(w);
        this.pump();
      });
      w.on('error', (e) => {
        const p = this.busy.get(w);
        this.busy.delete(w);
        p?.reject(e);
      });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  run<T>(task: PoolTask): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ task, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      this.busy.set(w, p);
      w.postMessage(p.task);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
