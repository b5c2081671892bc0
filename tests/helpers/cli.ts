import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll } from 'vitest';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
export const SHARED = path.resolve(ROOT, '..', 'shared');

/** Run the built CLI (npm test builds first). */
export function neardup(args: string[], cwd = ROOT, env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  // Tests run stand-alone unless they name an index: parallel test files must not share ./state.
  const standalone = args[0] === 'run' && !args.includes('--state') ? ['--standalone'] : [];
  const r = spawnSync(process.execPath, [CLI, ...args, ...standalone], { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Temporary folders made by this test file, removed when it has finished. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new temporary folder (removed after the test file's last test). */
export function tempDir(prefix = 'neardup-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Run `fn` with a new temporary folder, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = tempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readJsonl<T = Record<string, unknown>>(file: string): T[] {
  const raw = file.endsWith('.gz') ? gunzipSync(readFileSync(file)).toString('utf8') : readFileSync(file, 'utf8');
  return raw.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}
