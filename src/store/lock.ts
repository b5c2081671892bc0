/**
 * One run at a time per state folder. The lock is a file created with O_EXCL
 * holding the owner's pid and host; a lock whose process is gone (a crashed
 * or killed run) is stale and is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class LockHeldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockHeldError';
  }
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock of `dir`; returns a release function. `onStale` is told when a dead run's lock is recovered. */
export function acquireLock(dir: string, onStale?: (info: LockInfo) => void): () => void {
  const file = path.join(dir, 'LOCK');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      const info: LockInfo = { pid: process.pid, host: os.hostname(), started: new Date().toISOString() };
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let info: LockInfo | null = null;
    try {
      info = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    } catch {
      info = null; // half-written by a run killed while taking it: stale
    }
    if (info && info.host === os.hostname() && alive(info.pid)) {
      throw new LockHeldError(`another neardup run (pid ${info.pid}, started ${info.started}) holds the lock on ${dir}; wait for it to finish`);
    }
    if (info && info.host !== os.hostname()) {
      throw new LockHeldError(`the lock on ${dir} belongs to host ${info.host} (pid ${info.pid}); remove ${file} if that run is gone`);
    }
    onStale?.(info ?? { pid: -1, host: os.hostname(), started: 'unknown' });
    rmSync(file, { force: true });
  }
  throw new LockHeldError(`could not take the lock on ${dir}`);
}
