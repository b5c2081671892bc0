/**
 * glibc's mmap threshold, fixed by this process once the run is large. By default glibc raises the threshold
 * each time a large block is freed; from then on the night's many short-lived 1-4 MB buffers come from heaps
 * that keep their pages, and a 100k night against 1M indexed peaked some 700 MB higher (2,528 against 1,813
 * MB, night 11). Fixing it turns that adjustment off, but every block of 128 kB or more is then mapped
 * afresh and its pages faulted in: on the 7 dev days (a 420-450 MB run) that was 100k more page faults, 0.34 s
 * more system time and 0.37 s more wall, for nothing, as such a run never holds much. So the threshold is fixed only when
 * the process's resident memory passes FIX_ABOVE_RSS_MB (checked every 0.1 s, and at once), or when the run
 * knows before it reads that its night is large (fixMallocThreshold): a night that reaches the mark only
 * after gigabytes of churn under the dynamic threshold keeps what glibc's heaps took meanwhile (night 11
 * fixed at 512 MB: 1,895 MB at its peak, against 1,743-1,822 fixed from the start). The environment
 * variable MALLOC_MMAP_THRESHOLD_ fixes it from the start instead, and is then left as it is. mallopt is
 * called through a small native helper (native/malloc.c, built by `npm ci`), so a run gets it however it
 * was started.
 */
import { createRequire } from 'node:module';

/** Blocks from 128 kB up are mapped on their own and go back to the system when freed. */
export const MMAP_THRESHOLD = 131072;
/** Resident memory from which the threshold is fixed. */
export const FIX_ABOVE_RSS_MB = 512;

/**
 * What run.json records: the threshold in force and who set it. `bytes` null with source "neardup": glibc's
 * dynamic default so far, to be fixed once resident memory passes `above_rss_mb` (when it was, `fixed_at_rss_mb`
 * says at how much). A value from the environment is recorded as glibc reads it only when it is a plain number
 * of bytes; otherwise `bytes` is null and `setting` holds it as given. Null: no glibc, or no helper.
 */
export interface MallocThreshold {
  bytes: number | null;
  source: 'environment' | 'neardup';
  setting?: string;
  above_rss_mb?: number;
  fixed_at_rss_mb?: number;
}

let applied: MallocThreshold | null | undefined;
/** Fixes the threshold now, while it is still glibc's dynamic one (set by setMallocThreshold). */
let fixNow: (() => void) | undefined;

/**
 * Arrange for the threshold once (later calls say what the first did): fixed now if resident memory is past
 * `aboveMb` already, else as soon as it passes it. A MALLOC_MMAP_THRESHOLD_ in the environment, whatever its
 * value, is left to glibc. Without glibc or the helper: null.
 */
export function setMallocThreshold(aboveMb = FIX_ABOVE_RSS_MB): MallocThreshold | null {
  if (applied !== undefined) return applied;
  const fromEnv = fromEnvironment();
  if (fromEnv) return (applied = fromEnv);
  applied = null;
  const require = createRequire(import.meta.url);
  // From dist/src/util (the build) or src/util (tests on the sources): the helper is at the package root.
  let helper: { setMmapThreshold(bytes: number): boolean } | undefined;
  for (const file of ['../../../build/Release/neardup_malloc.node', '../../build/Release/neardup_malloc.node']) {
    try {
      helper = require(file) as { setMmapThreshold(bytes: number): boolean };
      break;
    } catch {
      /* not built here, or not this path: the next one */
    }
  }
  // Any mallopt(M_MMAP_THRESHOLD) call fixes the threshold, so the helper is called only when it is time;
  // where it then says glibc did not take it (another libc), the record becomes null.
  if (!helper) return applied;
  const record: MallocThreshold = { bytes: null, source: 'neardup', above_rss_mb: aboveMb };
  applied = record;
  let timer: NodeJS.Timeout | undefined;
  const fix = (rss: number): void => {
    if (timer) clearInterval(timer);
    fixNow = undefined;
    if ((helper as { setMmapThreshold(bytes: number): boolean }).setMmapThreshold(MMAP_THRESHOLD)) {
      record.bytes = MMAP_THRESHOLD;
      record.fixed_at_rss_mb = Math.round(rss / 1048576);
    } else applied = null;
  };
  const rss = process.memoryUsage.rss();
  if (rss >= aboveMb * 1048576) fix(rss);
  else {
    fixNow = () => fix(process.memoryUsage.rss());
    timer = setInterval(() => {
      const now = process.memoryUsage.rss();
      if (now >= aboveMb * 1048576) fix(now);
    }, 100);
    // It never keeps the process alive.
    timer.unref();
  }
  return applied;
}

/** Fix the threshold now rather than at the resident-memory mark (a run that knows its night is large). */
export function fixMallocThreshold(): MallocThreshold | null {
  fixNow?.();
  return mallocThreshold();
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
