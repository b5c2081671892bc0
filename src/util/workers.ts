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

  /** Run `task` over `items`, in chunks across the pool; results come back in input order. */
  async map<T extends TaskName>(task: T, items: TaskInput<T>['items'], shared: TaskInput<T>['shared']): Promise<TaskOutput<T>> {
    const n = items.length;
    if (this.size <= 1 || n < 64) return runTask(task, { items, shared } as TaskInput<T>);
    const chunks = Math.min(this.size, Math.ceil(n / 32));
    const per = Math.ceil(n / chunks);
    const parts = await Promise.all(
      Array.from({ length: chunks }, (_, c) => {
        const slice = items.slice(c * per, Math.min(n, (c + 1) * per));
        const w = this.get(c);
        return new Promise<TaskOutput<T>>((resolve, reject) => {
          const onMessage = (msg: { ok: boolean; result?: TaskOutput<T>; error?: string }): void => {
            w.off('error', onError);
            if (msg.ok) resolve(msg.result as TaskOutput<T>);
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
      }),
    );
    return ([] as unknown[]).concat(...(parts as unknown[][])) as TaskOutput<T>;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.filter(Boolean).map((w) => w.terminate()));
    this.workers = [];
  }
}
