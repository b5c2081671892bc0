/**
 * `npm run bench:scale -- --input DIR [--state DIR] [--html-last]`: night after night against a growing
 * index, as the nightly job runs them: one input file a night, in name order (gen:scale writes one file per
 * day). Prints, per night, the index size it ran against, its time and peak RSS, so the cost of a night can
 * be read against the size of the history.
 *
 *   npm run gen:scale -- --docs 1100000 --days 11 --out /data/scale
 *   npm run bench:scale -- --input /data/scale --state /data/scale-state --html-last
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue } from './args.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
const input = path.resolve(root, argValue(args, 'input', 'output/scale'));
const state = path.resolve(root, argValue(args, 'state', path.join(os.tmpdir(), `neardup-scale-state-${process.pid}`)));
const htmlLast = args.includes('--html-last');
const cli = path.join(root, 'dist', 'src', 'cli.js');

function main(): void {
  if (!existsSync(input)) throw new Error(`${input} not found: build it with npm run gen:scale`);
  const files = readdirSync(input).filter((f) => f.endsWith('.jsonl.gz') || f.endsWith('.jsonl')).sort();
  mkdirSync(state, { recursive: true });
  console.log(`bench:scale: ${files.length} nights from ${input}, index in ${state}, ${os.cpus().length} cores, node ${process.version}`);
  console.log('| night | articles | indexed before | earlier loaded | seconds | docs/s | peak RSS MB | index MB after |');
  console.log('|---|---|---|---|---|---|---|---|');
  let indexed = 0;
  files.forEach((f, n) => {
    const out = path.join(state, 'out', path.basename(f).replace(/\.jsonl(\.gz)?$/, ''));
    const html = htmlLast && n === files.length - 1;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, 'run', '--input', path.join(input, f), '--output', out, '--state', state, '--quiet', '--set', `report.html=${html}`], {
      encoding: 'utf8',
      cwd: root,
      // As the README's systemd unit and cron line run it: glibc returns freed blocks of 128 kB or more.
      env: { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env },
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`night ${f} failed (exit ${r.status}): ${r.stderr}`);
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    // The database, the segment files that hold the articles' records and the shingle counts file.
    const folderBytes = (dir: string): number => (existsSync(dir) ? readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0) : 0);
    const indexMb = (statSync(path.join(state, 'index.sqlite')).size + folderBytes(path.join(state, 'segments')) + folderBytes(path.join(state, 'counts'))) / 1048576;
    const articles = run.counts.accepted as number;
    console.log(`| ${f}${html ? ' (+ HTML)' : ''} | ${articles} | ${indexed} | ${run.counts.earlier_articles_loaded} | ${seconds.toFixed(1)} | ${Math.round(articles / seconds)} | ${run.peak_rss_mb} | ${Math.round(indexMb)} |`);
    indexed += run.index?.added ?? articles;
  });
}

try {
  main();
} catch (e) {
  console.error(`bench:scale: ${(e as Error).message}`);
  process.exitCode = 1;
}
