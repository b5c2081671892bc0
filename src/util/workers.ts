/**
 * A small executor for the CPU-heavy stages: split an ordered list into
 * contiguous chunks, run a named task on each chunk in a worker thread, and
 * join the results in order. Stages stay pure functions of their input, so
 * the results are identical whatever the number of workers (1 = in-process).
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { runTask, type TaskName, type TaskInput, type TaskOutput } from './tasks.js';

export function workerCount(configured: number): number {
  return configured > 0 ? configured : Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

export class WorkerPool {
  private workers: Worker[] = [];

  constructor(readonly size: number) {}

  private get(i: number): Worker {
    if (!this.workers[i]) {
      const w = new Worker(new URL('./worker.js', import.meta.url));
      w.unref();
      this.workers[i] = w;
    }
    return this.workers[i];
  }

  /**
   * Run `task` over `items` in chunks of at most `chunkSize`, each worker taking the next chunk when it is
   * free; results come back in input order. Small chunks keep each worker's memory to a chunk's worth.
   */
  async map<T extends TaskName>(
    task: T,
    items: TaskInput<T>['items'],
    shared: TaskInput<T>['shared'],
    onProgress?: (done: number, total: number) => void,
    chunkSize = 512,
  ): Promise<TaskOutput<T>> {
    const n = items.length;
    let done = 0;
    if (this.size <= 1 || n < 64) return runTask(task, { items, shared } as TaskInput<T>);
    const chunks = Math.ceil(n / chunkSize);
    const results: unknown[][] = new Array(chunks);
    let next = 0;
    const runOn = async (w: Worker): Promise<void> => {
      while (next < chunks) {
        const c = next++;
        const slice = items.slice(c * chunkSize, Math.min(n, (c + 1) * chunkSize));
        results[c] = await new Promise<unknown[]>((resolve, reject) => {
          const onMessage = (msg: { ok: boolean; result?: unknown[]; error?: string }): void => {
            w.off('error', onError);
            done += slice.length;
            onProgress?.(done, n);
            if (msg.ok) resolve(msg.result as unknown[]);
            else reject(new Error(`worker task ${task} failed: ${msg.error}`));
          };
          const onError = (e: Error): void => {
            w.off('message', onMessage);
            reject(e);
          };
          w.once('message', onMessage);
          w.once('error', onError);
          w.postMessage({ task, input: { items: slice, shared } });
        });
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.size, chunks) }, (_, i) => runOn(this.get(i))));
    } finally {
      // Workers end with each map: their heaps still hold the inputs they were sent.
      await this.close();
    }
    return ([] as unknown[]).concat(...results) as TaskOutput<T>;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.filter(Boolean).map((w) => w.terminate()));
    this.workers = [];
  }
}
