/**
 * Worker threads started with the process. Each worker spends some 0.1 s loading and evaluating its
 * modules before it can take a batch. Started from the command line's first import, they do so while the
 * main thread evaluates its own modules and parses the command (an ES module graph is evaluated only once
 * all of it is loaded, so this is that early, not earlier): a one-article run took 0.46-0.48 s instead of
 * 0.49-0.54 s. The pool takes them as it needs workers; it ends those it will not use.
 */
import os from 'node:os';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';

const spare: Worker[] = [];
/** The listeners that drop a spare that fails before a pool takes it (removed when one does). */
const dropOf = new Map<Worker, () => void>();

/**
 * Workers optimize their hot code on their own thread, not on V8's background threads. A worker has its own
 * V8 isolate, which reads this flag when it starts (the main thread's, started already, keeps compiling in the
 * background). With one busy worker per core, the background compiles of both workers' code (the analysis
 * is compiled in each) ran beside them on the same cores: half the dev corpus's analysis took a worker 1.0 s
 * alone and 1.4-1.5 s with another worker beside it; compiling inline, 1.3 s either way. The 7 dev days
 * stand-alone: 4.85-5.17 -> 4.63-4.95 s, ingest 2.15-2.37 -> 2.00-2.10 s, alternated. It changes when code
 * gets optimized, never what it computes.
 */
let compileInline = false;

/** A new worker thread (the task runner of worker.ts). It does not keep the process alive while idle. */
export function newWorker(): Worker {
  if (!compileInline) {
    v8.setFlagsFromString('--no-concurrent-recompilation');
    compileInline = true;
  }
  const w = new Worker(new URL('./worker.js', import.meta.url));
  w.unref();
  return w;
}

/** The number of workers `workers = 0` (the default) means: one per core. */
export function coreCount(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** Start `count` workers now, for a pool created later. */
export function prestartWorkers(count: number): void {
  for (let i = 0; i < count; i++) {
    const w = newWorker();
    // One that fails before a pool takes it is dropped (the pool starts another): it never gets a batch.
    const drop = (): void => {
      const at = spare.indexOf(w);
      if (at >= 0) spare.splice(at, 1);
    };
    w.once('error', drop);
    w.once('exit', drop);
    dropOf.set(w, drop);
    spare.push(w);
  }
}

/** A started worker if one is waiting, else a new one. */
export function takeWorker(): Worker {
  const w = spare.shift();
  if (!w) return newWorker();
  // From here the pool listens: a failure of its own workers must not be swallowed by a spare's listener.
  const drop = dropOf.get(w) as () => void;
  w.off('error', drop);
  w.off('exit', drop);
  dropOf.delete(w);
  return w;
}

/** End the started workers no pool took (a pool smaller than what was started, or one that runs in-process). */
export function endSpareWorkers(keep = 0): void {
  for (const w of spare.splice(keep)) {
    dropOf.delete(w);
    void w.terminate();
  }
}
