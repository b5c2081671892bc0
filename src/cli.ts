#!/usr/bin/env node
/**
 * The neardup command line: parse, call the pipeline, set the exit code.
 * Exit codes: 0 done, 1 failure, 2 bad usage or config (or an incompatible index), 3 another run holds the lock.
 */
// First: a run's workers start loading while this thread loads the modules below (see prestart.ts).
import './util/start-run.js';
import path from 'node:path';
import { existsSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ConfigError, listKeys, loadConfig, type Config } from './config.js';
import { run, packageVersion } from './pipeline.js';
import { Logger, type LogFormat } from './util/log.js';
import { evaluate } from './eval.js';
import { buildHtmlReport } from './report/html.js';
import { acquireLock, LockHeldError } from './store/lock.js';
import { SqliteStore } from './store/sqlite.js';
import { IncompatibleIndexError } from './store/index.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, locked: 3 } as const;

class UsageError extends Error {}

function configFrom(argv: { config?: string; set?: string[] }): Config {
  // The repo's pipeline.config.json is the default when present in the working directory.
  const file = argv.config ?? (existsSync('pipeline.config.json') ? 'pipeline.config.json' : undefined);
  return loadConfig(file, argv.set ?? []);
}

const configKeys = listKeys().map(([k, s]) => `  ${k} (default ${String(s.default)}): ${s.doc}`).join('\n');
/**
 * The config keys' list is shown with `run --help` only: yargs lays out (wraps) the help text of every
 * command it runs, in case it has to be shown, and this list took 0.1 s of each run's start.
 */
const helpAsked = process.argv.includes('--help') || process.argv.includes('-h');

async function main(): Promise<number> {
  let exitCode: number = EXIT.ok;
  const parser = yargs(hideBin(process.argv))
    .scriptName('neardup')
    .usage('$0 <command> [options]\n\nFind syndicated and near-duplicate Arabic news articles, cluster them, trace their origin.')
    .option('config', { type: 'string', describe: 'Config file (JSON); default ./pipeline.config.json when present' })
    .option('set', { type: 'string', array: true, describe: 'Override a config key, e.g. --set verify.jaccard=0.6 (repeatable)' })
    .option('quiet', { type: 'boolean', default: false, describe: 'One summary line per stage, no live progress' })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Log lines as text or one JSON object per event' })
    .command(
      'run',
      'Detect near-duplicates, partial copies and stories in a night of articles and write the outputs',
      (y) =>
        y
          .option('input', { type: 'string', array: true, default: ['input'], describe: 'Input files or folders (.txt, .jsonl, .jsonl.gz; folders recursively)' })
          .option('output', { type: 'string', default: 'output', describe: 'Output folder (created on demand)' })
          .option('state', { type: 'string', describe: 'Folder of the persistent index (default: config state.dir, "state")' })
          .option('standalone', { type: 'boolean', default: false, describe: 'Stand-alone run: do not read or update the persistent index' })
          .epilogue(helpAsked ? `Config keys (set in the config file or with --set):\n${configKeys}` : ''),
      async (argv) => {
        const logger = new Logger(argv.quiet, argv['log-format'] as LogFormat);
        const config = configFrom(argv);
        const useIndex = config.state.enabled && !argv.standalone;
        await run({
          inputs: argv.input,
          outputDir: path.resolve(argv.output),
          state: useIndex ? { dir: path.resolve(argv.state ?? config.state.dir), windowDays: config.state.window_days } : undefined,
          config,
          logger,
          afterOutputs: config.report.html ? async (r, report) => void (await buildHtmlReport(r.outputDir, report)) : undefined,
        });
      },
    )
    .command(
      'eval',
      'Score detection against labelled pairs (JSONL {"a","b","label"}; labels copy, partial, quote, boilerplate, unrelated)',
      (y) =>
        y
          .option('labels', { type: 'string', demandOption: true, describe: 'Labelled pairs (JSONL)' })
          .option('input', { type: 'string', array: true, default: ['../shared/corpora/saudinewsnet'], describe: 'Articles the labels refer to' })
          .option('output', { type: 'string', default: 'output/eval', describe: 'Folder for eval.json (per-pair predictions and figures)' }),
      async (argv) => {
        const logger = new Logger(argv.quiet, argv['log-format'] as LogFormat);
        const config = configFrom(argv);
        await evaluate({ labels: argv.labels, inputs: argv.input, outputDir: path.resolve(argv.output), config, logger });
      },
    )
    .command(
      'report',
      'Rebuild report.html from the JSON outputs of a run, without recomputing anything',
      (y) => y.option('output', { type: 'string', default: 'output', describe: 'The run\'s output folder' }),
      async (argv) => {
        await buildHtmlReport(path.resolve(argv.output));
      },
    )
    .command(
      'gc',
      'Remove indexed articles published more than N days before the newest one, with everything that belongs to them',
      (y) => y.option('keep-days', { type: 'number', demandOption: true, describe: 'Days of history to keep' }).option('state', { type: 'string', describe: 'Index folder (default: config state.dir)' }),
      async (argv) => {
        const config = configFrom(argv);
        if (!Number.isFinite(argv['keep-days']) || argv['keep-days'] < 0) throw new UsageError('--keep-days must be a number of days, 0 or more');
        const dir = path.resolve(argv.state ?? config.state.dir);
        const release = acquireLock(dir);
        let store: SqliteStore | undefined;
        try {
          store = new SqliteStore(dir);
          const newest = store.stats().newest;
          const cutoff = (newest ? Date.parse(newest) : Date.now()) - argv['keep-days'] * 86_400_000;
          const removed = store.gc(cutoff);
          process.stdout.write(`removed ${removed} articles published before ${new Date(cutoff).toISOString()}\n`);
        } finally {
          store?.close();
          release();
        }
      },
    )
    .command(
      'stats',
      "Print the persistent index's size and counts",
      (y) => y.option('state', { type: 'string', describe: 'Index folder (default: config state.dir)' }),
      async (argv) => {
        const config = configFrom(argv);
        const store = new SqliteStore(path.resolve(argv.state ?? config.state.dir));
        try {
          process.stdout.write(JSON.stringify(store.stats(), null, 2) + '\n');
        } finally {
          store.close();
        }
      },
    )
    .demandCommand(1, 'Give a command: run, eval, report, gc or stats (see --help)')
    .strict()
    .version(packageVersion())
    .help()
    .alias('h', 'help')
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    const logger = new Logger(true, 'text');
    if (e instanceof LockHeldError) {
      logger.error(e.message);
      exitCode = EXIT.locked;
    } else if (e instanceof UsageError || e instanceof ConfigError || e instanceof IncompatibleIndexError) {
      logger.error(e.message);
      if (e instanceof UsageError) process.stderr.write('Run neardup --help for usage.\n');
      exitCode = EXIT.usage;
    } else {
      logger.error(`failed: ${(e as Error).stack ?? String(e)}`);
      exitCode = EXIT.failure;
    }
  }
  return exitCode;
}

// If the event loop ever drained before the command finished (a promise that never settles), Node would
// exit with 0 and no outputs; a nightly job must see a failure instead.
let finished = false;
process.on('beforeExit', () => {
  if (finished) return;
  finished = true;
  process.stderr.write('neardup: failed: the run stopped before finishing (nothing left to wait for)\n');
  process.exitCode = EXIT.failure;
});

main().then((code) => {
  finished = true;
  process.exitCode = code;
});
