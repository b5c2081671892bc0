/**
 * glibc's mmap threshold, set for this process at its start. By default glibc raises the threshold each
 * time a large block is freed; from then on the night's many short-lived 1-4 MB buffers come from heaps
 * that keep their pages, and a 100k night against 1M indexed peaked some 700 MB higher (2,528 against
 * 1,813 MB, night 11). Setting it fixes the threshold and turns that adjustment off. The environment
 * variable MALLOC_MMAP_THRESHOLD_ does the same, but only when it is there as the process starts; this
 * calls mallopt through a small native helper (native/malloc.c, built by `npm ci`), so a run gets it
 * however it was started. A threshold in the environment is left as it is.
 */
import { createRequire } from 'node:module';

/** Blocks from 128 kB up are mapped on their own and go back to the system when freed. */
export const MMAP_THRESHOLD = 131072;

/**
 * What run.json records: the threshold in force and who set it (null: glibc's dynamic default). A value
 * from the environment is recorded as glibc reads it only when it is a plain number of bytes; otherwise
 * `bytes` is null and `setting` holds it as given.
 */
export interface MallocThreshold {
  bytes: number | null;
  source: 'environment' | 'neardup';
  setting?: string;
}

let applied: MallocThreshold | null | undefined;

/**
 * Set the threshold once (later calls say what the first did). A MALLOC_MMAP_THRESHOLD_ in the environment,
 * whatever its value, is left to glibc. Without glibc or the helper: null.
 */
export function setMallocThreshold(): MallocThreshold | null {
  if (applied !== undefined) return applied;
  const fromEnv = fromEnvironment();
  if (fromEnv) return (applied = fromEnv);
  applied = null;
  const require = createRequire(import.meta.url);
  // From dist/src/util (the build) or src/util (tests on the sources): the helper is at the package root.
  for (const file of ['../../../build/Release/neardup_malloc.node', '../../build/Release/neardup_malloc.node']) {
    try {
      const helper = require(file) as { setMmapThreshold(bytes: number): boolean };
      if (helper.setMmapThreshold(MMAP_THRESHOLD)) applied = { bytes: MMAP_THRESHOLD, source: 'neardup' };
      break;
    } catch {
      /* not built here, or not this path: the next one */
    }
  }
  return applied;
}

/** What is in force, without setting anything: the environment's value, or what setMallocThreshold did (null before it ran). */
export function mallocThreshold(): MallocThreshold | null {
  return applied !== undefined ? applied : fromEnvironment();
}

/** The environment's MALLOC_MMAP_THRESHOLD_, as run.json records it; null when there is none. */
function fromEnvironment(): MallocThreshold | null {
  const value = process.env.MALLOC_MMAP_THRESHOLD_;
  if (value === undefined || value === '') return null;
  return /^\d+$/.test(value) ? { bytes: Number(value), source: 'environment' } : { bytes: null, source: 'environment', setting: value };
}
