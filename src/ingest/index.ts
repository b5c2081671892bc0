/**
 * The ingest stage: find input files, read them with bounded concurrency
 * (p-limit), validate every record, and reject duplicates. Files are read in
 * parallel but merged in sorted file order, so the result is deterministic.
 */
import { promises as fsp } from 'node:fs';
import pLimit from 'p-limit';
import { createHash } from 'node:crypto';
import { discoverFiles, parseLines, readFile, type LineBatch, type Rejection } from './read.js';
import type { Spill, SpillRef } from './spill.js';
import { validateRecord, type Article, type Validated, type ValidationLimits } from './validate.js';

export type { Article } from './validate.js';
export type { LineBatch, Rejection } from './read.js';

export interface IngestOptions {
  minArabicShare: number;
  maxRecordBytes: number;
  maxFileBytes: number;
  fileConcurrency: number;
}

/** Outlet metadata: the names credit lines use for it, and whether it is a wire agency. */
export interface OutletInfo {
  name?: string;
  short_names?: string[];
  kind?: string;
}
export type OutletRegistry = Map<string, OutletInfo>;

async function readRegistries(files: string[], rejected: Rejection[]): Promise<OutletRegistry> {
  const reg: OutletRegistry = new Map();
  for (const file of files) {
    try {
      const v = JSON.parse(await fsp.readFile(file, 'utf8')) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected an object of outlet id -> {name, short_names, kind}');
      for (const [id, info] of Object.entries(v)) {
        if (typeof info !== 'object' || info === null) throw new Error(`outlet "${id}": expected an object`);
        const o = info as Record<string, unknown>;
        reg.set(id, {
          name: typeof o.name === 'string' ? o.name : undefined,
          short_names: Array.isArray(o.short_names) ? o.short_names.filter((x): x is string => typeof x === 'string') : undefined,
          kind: typeof o.kind === 'string' ? o.kind : undefined,
        });
      }
    } catch (e) {
      rejected.push({ file, line: null, id: null, reason: `outlet registry not usable: ${(e as Error).message}` });
    }
  }
  return reg;
}

export interface IngestResult<T> {
  outlets: OutletRegistry;
  articles: Article[];
  /** What `judge` / `extraFor` computed for each accepted article (e.g. its analysis), in the same order. */
  extras: T[];
  rejected: Rejection[];
  files: number;
  read: number;
  blankLines: number;
}

/** A line or record after parsing and validation, with whatever the judge computes alongside. */
export type Judged<T> = { kind: 'blank' } | { kind: 'reject'; rejection: Rejection } | { kind: 'valid'; article: Omit<Article, 'index'>; extra: T };

export interface Judges<T> {
  /** Parse and validate a batch of JSONL lines (in a worker, say), item by item in line order. */
  lines: (batch: LineBatch) => Promise<Array<Judged<T>>>;
  /** The extra of a record validated here (a .txt record). */
  extraFor: (valid: Validated) => Promise<T>;
}

/** sha256 of a record's fields as JSON: its content identity between nights. */
export function contentHashOf(fields: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/**
 * A valid article as it is kept: pointing at its line among the night's kept bytes; hashed when asked.
 * Built field by field (a rest-and-spread copy of the article was a tenth of a worker's validation).
 */
function placed(v: Validated, ref: SpillRef, contentHash: boolean): Omit<Article, 'index'> {
  const a = v.article;
  const article: Omit<Article, 'index'> = { id: a.id, outlet: a.outlet, url: a.url, published_at: a.published_at, time: a.time, dayPrecision: a.dayPrecision, title: a.title, source: a.source, body: { spill: ref } };
  if (contentHash) article.contentHash = contentHashOf(a.body.fields);
  return article;
}

/**
 * The article with its place in the night, built field by field in the order `placed` gives them (the index's
 * records keep that order). A spread of an article received from a worker gave each copy a hidden class of
 * its own: 100k of them in a 100k night, some 35 MB.
 */
function withIndex(a: Omit<Article, 'index'>, index: number): Article {
  const out = { id: a.id, outlet: a.outlet, url: a.url, published_at: a.published_at, time: a.time, dayPrecision: a.dayPrecision, title: a.title, source: a.source, body: a.body } as Article;
  if (a.contentHash !== undefined) out.contentHash = a.contentHash;
  out.index = index;
  return out;
}

/**
 * Parse, validate and judge a batch of lines in this thread. A valid article leaves its fields behind: its
 * body points at its line among the night's kept bytes, where the main thread put the batch before sending it.
 */
export function judgeLines<T>(batch: LineBatch, opts: ValidationLimits & { contentHash: boolean }, extraFor: (valid: Validated) => T): Array<Judged<T>> {
  return parseLines(batch, opts.maxRecordBytes).map(({ start, end, ...item }): Judged<T> => {
    if (item.kind !== 'record') return item;
    // The fields stay in the line's bytes: validation need not copy them.
    const { valid, rejection } = validateRecord(item.record, opts, false);
    if (!valid) return { kind: 'reject', rejection: rejection as Rejection };
    return { kind: 'valid', article: placed(valid, { offset: batch.spillOffset + start, length: end - start }, opts.contentHash), extra: extraFor(valid) };
  });
}

/**
 * Read every input file and judge every record. Files are read `fileConcurrency` at a time; each batch
 * of lines is kept (see Spill) and goes to `judges.lines` as soon as it is read (the workers parse, validate
 * and analyse while reading goes on). Duplicate ids are then rejected in sorted file order, so the result is
 * deterministic: the first occurrence wins.
 */
export async function ingest<T>(paths: string[], opts: IngestOptions & { contentHash: boolean; maxInFlight: number }, judges: Judges<T>, spill: Spill, onFile?: (done: number, total: number) => void): Promise<IngestResult<T>> {
  const { files, registries, rejected } = await discoverFiles(paths);
  const outlets = await readRegistries(registries, rejected);
  const limit = pLimit(opts.fileConcurrency);
  const limits = { maxRecordBytes: opts.maxRecordBytes, maxFileBytes: opts.maxFileBytes };
  let done = 0;
  const inFlight: Array<Promise<unknown>> = [];
  // Each file's judged units, in reading order; awaited in file order below.
  const perFile = await Promise.all(
    files.map((file) =>
      limit(async () => {
        const units: Array<Promise<Array<Judged<T>>>> = [];
        for await (const unit of readFile(file, limits)) {
          if (unit.kind === 'lines') {
            // Which batches stay in memory may depend on the order concurrent files are read in; the outputs
            // do not: a record read back from the spill file is the same record.
            unit.batch.spillOffset = spill.append(unit.batch.bytes, unit.batch.ends.length);
            units.push(judges.lines(unit.batch));
          } else if (unit.kind === 'record') {
            const { valid, rejection } = validateRecord(unit.record, opts);
            if (!valid) units.push(Promise.resolve([{ kind: 'reject', rejection: rejection as Rejection }]));
            else {
              const line = Buffer.from(JSON.stringify(valid.article.body.fields) + '\n');
              const article = placed(valid, { offset: spill.append(line, 1), length: line.length - 1 }, opts.contentHash);
              units.push(judges.extraFor(valid).then((extra) => [{ kind: 'valid', article, extra }]));
            }
          } else units.push(Promise.resolve([unit]));
          // Until awaited in order below, a failed batch must not surface as an unhandled rejection.
          const last = units[units.length - 1];
          last.catch(() => undefined);
          // Backpressure: reading waits while the judges have enough batches in hand, so the night's raw
          // bytes do not pile up in the queue when reading outpaces analysis.
          inFlight.push(last);
          while (inFlight.length > opts.maxInFlight) await (inFlight.shift() as Promise<unknown>).catch(() => undefined);
        }
        onFile?.(++done, files.length);
        return units;
      }),
    ),
  );
  const articles: Article[] = [];
  const extras: T[] = [];
  const seen = new Map<string, string>();
  let read = rejected.length;
  let blankLines = 0;
  for (const units of perFile) {
    for (const unit of units) {
      for (const item of await unit) {
        if (item.kind === 'blank') {
          blankLines++;
          continue;
        }
        read++;
        if (item.kind === 'reject') {
          rejected.push(item.rejection);
          continue;
        }
        const a = item.article;
        const first = seen.get(a.id);
        if (first) {
          rejected.push({ file: a.source.file, line: a.source.line, id: a.id, reason: `duplicate id (first seen at ${first})` });
          continue;
        }
        seen.set(a.id, `${a.source.file}:${a.source.line}`);
        articles.push(withIndex(a, articles.length));
        extras.push(item.extra);
      }
    }
  }
  return { outlets, articles, extras, rejected, files: files.length, read, blankLines };
}
