/**
 * A small executor for the CPU-heavy stages: run a named task on a batch of
 * items in a worker thread, each worker taking the next queued batch when it
 * is free, results returned per batch. `run` queues one batch at a time,
 * so a stage can start on the first records while the rest are still being
 * read (callers pack their items into batches: see signAll in the pipeline). Tasks are pure functions of their input, so the results are identical
 * whatever the number of workers (1 = in-process).
 */
import type { Worker } from 'node:worker_threads';
import { coreCount, endSpareWorkers, takeWorker } from './prestart.js';
import { runTask, type TaskName, type TaskInput, type TaskOutput } from './tasks.js';

export function workerCount(configured: number): number {
  return configured > 0 ? configured : coreCount();
}

interface Job {
  message: { task: TaskName; input: TaskInput<TaskName> };
  transfer: ArrayBuffer[];
  resolve: (result: unknown) => void;
  reject: (e: Error) => void;
}

export class WorkerPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: Job[] = [];
  /** Workers being terminated. */
  private ending: Array<Promise<number>> = [];

  constructor(readonly size: number) {
    // Workers started with the process beyond what this pool runs (none in-process) are not needed.
    endSpareWorkers(size > 1 ? size : 0);
  }

  private spawn(): Worker {
    const w = takeWorker();
    this.workers.push(w);
    return w;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop() ?? (this.workers.length < this.size ? this.spawn() : undefined);
      if (!w) return;
      const job = this.queue.shift() as Job;
      const onMessage = (msg: { ok: boolean; result?: unknown; error?: string }): void => {
        w.off('error', onError);
        w.off('exit', onExit);
        this.idle.push(w);
        if (msg.ok) job.resolve(msg.result);
        else job.reject(new Error(`worker task ${job.message.task} failed: ${msg.error}`));
        this.dispatch();
      };
      const onError = (e: Error): void => {
        w.off('message', onMessage);
        w.off('exit', onExit);
        // A worker that failed is gone: the queue goes on with a new one (or the others), so no batch
        // waits forever for a dead thread.
        this.workers = this.workers.filter((x) => x !== w);
        void w.terminate();
        job.reject(e);
        this.dispatch();
      };
      // A worker that ends without an answer (killed, or exited) fails its batch like an error would.
      const onExit = (code: number): void => {
        w.off('error', onError);
        onError(new Error(`worker thread exited with code ${code} during task ${job.message.task}`));
      };
      w.once('message', onMessage);
      w.once('error', onError);
      w.once('exit', onExit);
      w.postMessage(job.message, job.transfer);
    }
  }

  /**
   * Queue one batch; it runs on the next free worker (or in-process with one worker). Buffers in
   * `transfer` move to the worker instead of being copied (they are unusable here afterwards).
   */
  run<T extends TaskName>(task: T, items: TaskInput<T>['items'], shared: TaskInput<T>['shared'], transfer: ArrayBuffer[] = []): Promise<TaskOutput<T>> {
    if (this.size <= 1) return runTask(task, { items, shared } as TaskInput<T>);
    return new Promise<TaskOutput<T>>((resolve, reject) => {
      this.queue.push({ message: { task, input: { items, shared } as TaskInput<TaskName> }, transfer, resolve: resolve as (r: unknown) => void, reject });
      this.dispatch();
    });
  }

  /**
   * End the workers: their heaps still hold the inputs they were sent. The pool can be used again (new
   * workers start). The promise settles when every worker ended so far, by this call or an earlier one, is gone.
   */
  async close(): Promise<void> {
    // Workers started with the process that this pool never needed (a small night) go too.
    endSpareWorkers();
    const all = this.workers;
    this.workers = [];
    this.idle = [];
    for (const job of this.queue.splice(0)) job.reject(new Error('worker pool closed'));
    this.ending.push(...all.map((w) => w.terminate()));
    await Promise.all(this.ending);
  }
}
