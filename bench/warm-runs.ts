/**
 * The stand-alone run four times in one process, on one thread (`workers = 1` runs every task in-process),
 * so that by the last run nearly all of the pipeline's code is compiled: what is left is the pipeline's own
 * work, without the process's start or V8's compiling. `npm run bench` runs it and prints the figures beside
 * the cold runs.
 *
 *   node dist/bench/warm-runs.js --input DIR [--runs N]
 *
 * Prints one JSON line per run: {"run", "wall", "cpu"} in seconds (cpu: user + system of every thread).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { run } from '../src/pipeline.js';
import { buildHtmlReport } from '../src/report/html.js';
import { Logger } from '../src/util/log.js';
import { argValue } from './args.js';

const args = process.argv.slice(2);
const input = path.resolve(argValue(args, 'input', '../shared/corpora/saudinewsnet'));
const runs = Number(argValue(args, 'runs', '4'));
// The repo's config when run from its folder, as the command line does (see cli.ts).
const config = loadConfig(existsSync('pipeline.config.json') ? 'pipeline.config.json' : undefined, ['workers=1']);

for (let k = 1; k <= runs; k++) {
  const outputDir = mkdtempSync(path.join(os.tmpdir(), 'neardup-warm-'));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run({ inputs: [input], outputDir, config, logger: new Logger(true, 'text'), afterOutputs: async (r, report) => void (await buildHtmlReport(r.outputDir, report)) });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  rmSync(outputDir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ run: k, wall: +wall.toFixed(3), cpu: +((cpu.user + cpu.system) / 1e6).toFixed(3) }) + '\n');
}
