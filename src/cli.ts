#!/usr/bin/env node
/**
 * The neardup executable: runs the command line (command.ts), on Linux with glibc in a child process whose
 * malloc hands every block of 128 kB or more straight back to the system when it is freed.
 *
 * Why: glibc raises its mmap threshold after the first large block is freed (up to 32 MB), and from then
 * on the night's many short-lived buffers of 1–4 MB (set arenas, read slabs, worker results) are carved
 * from heaps that keep their pages after a free. At a 100k-article night against 1M indexed, resident
 * memory was about 300 MB higher through the night and peaked 180 MB higher. The threshold can only be
 * set before the process starts (MALLOC_MMAP_THRESHOLD_), hence the child. A value already in the
 * environment is left alone and the command runs in this process.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MMAP_THRESHOLD = 'MALLOC_MMAP_THRESHOLD_';

function glibc(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return Boolean(header?.glibcVersionRuntime);
}

if (process.env[MMAP_THRESHOLD] !== undefined || !glibc()) {
  await import('./command.js');
} else {
  const command = fileURLToPath(new URL('./command.js', import.meta.url));
  // --expose-gc: the pipeline collects garbage where a stage has just let go of most of its memory (util/gc.ts).
  const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', command, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [MMAP_THRESHOLD]: String(128 * 1024) },
  });
  // Signals meant for the run (systemd's stop, a terminal's Ctrl-C, kill) go to the child, which releases
  // the index's lock as it ends; this process ends as the child did.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, () => child.kill(s));
  child.on('error', (e) => {
    process.stderr.write(`neardup: failed: could not start ${command}: ${e.message}\n`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const s of signals) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      return;
    }
    process.exitCode = code ?? 1;
  });
}
