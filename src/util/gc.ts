/**
 * A full garbage collection, called where the night has just let go of most of what a stage held, just
 * before the next stage allocates: left to itself, V8 first grows the heap by what the next stage makes,
 * then collects, so the night's peak was the garbage plus the new (night 11 against 1M: 2.95 GB for a few
 * seconds at the outputs' start, 1.94 GB right after the collection).
 *
 * V8 offers the call only under --expose-gc; the flag is set here at load time, and the function taken
 * from a fresh context, where V8 installs it (flags set after start-up reach contexts made afterwards).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  v8.setFlagsFromString('--expose-gc');
  gc = vm.runInNewContext('gc') as (() => void) | undefined;
}

/**
 * Below this much heap and array-buffer memory in use, a collection is skipped: it costs 20-45 ms of the
 * main thread (the 7 dev days stand-alone: two of them, 66 ms of a 5 s run) and cannot lower a peak that
 * matters. At night 11 (100k against 1M), where these collections take hundreds of MB off, heap and
 * buffers hold well over 1 GB at each of them (run.json's stage figures).
 */
export const COLLECT_FROM_BYTES = 256 * 1048576;

export function collectGarbage(): void {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  if (heapUsed + arrayBuffers < COLLECT_FROM_BYTES) return;
  gc?.();
}
