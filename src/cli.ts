#!/usr/bin/env node
/**
 * The neardup command line: parse, call the pipeline, set the exit code.
 * Exit codes: 0 done, 1 failure, 2 bad usage or config.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ConfigError, listKeys, loadConfig, type Config } from './config.js';
import { run, packageVersion } from './pipeline.js';
import { Logger, type LogFormat } from './util/log.js';
import { evaluate } from './eval.js';
import { buildHtmlReport } from './report/html.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

class UsageError extends Error {}

function configFrom(argv: { config?: string; set?: string[] }): Config {
  // The repo's pipeline.config.json is the default when present in the working directory.
  const file = argv.config ?? (existsSync('pipeline.config.json') ? 'pipeline.config.json' : undefined);
  return loadConfig(file, argv.set ?? []);
}

const configKeys = listKeys().map(([k, s]) => `  ${k} (default ${String(s.default)}): ${s.doc}`).join('\n');

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
          .epilogue(`Config keys (set in the config file or with --set):\n${configKeys}`),
      async (argv) => {
        const logger = new Logger(argv.quiet, argv['log-format'] as LogFormat);
        const config = configFrom(argv);
        await run({
          inputs: argv.input,
          outputDir: path.resolve(argv.output),
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
    .demandCommand(1, 'Give a command: run, eval or report (see --help)')
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
    if (e instanceof UsageError || e instanceof ConfigError) {
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

main().then((code) => {
  process.exitCode = code;
});
