/**
 * The ingest stage: find input files, read them with bounded concurrency
 * (p-limit), validate every record, and reject duplicates. Files are read in
 * parallel but merged in sorted file order, so the result is deterministic.
 */
import { promises as fsp } from 'node:fs';
import pLimit from 'p-limit';
import { discoverFiles, readFile, type RawRecord, type Rejection } from './read.js';
import { validateRecord, type Article } from './validate.js';

export type { Article } from './validate.js';
export type { Rejection } from './read.js';

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

export interface IngestResult {
  outlets: OutletRegistry;
  articles: Article[];
  rejected: Rejection[];
  files: number;
  read: number;
  blankLines: number;
}

/**
 * Read, validate and de-duplicate every record. Files are read `fileConcurrency` at a time, but records
 * are judged in sorted file order, so the result is deterministic; accepted articles are handed to
 * `onArticle` as soon as every earlier record has been judged, so analysis can start while reading goes on.
 */
export async function ingest(
  paths: string[],
  opts: IngestOptions,
  onFile?: (done: number, total: number) => void,
  onArticle?: (article: Article) => void,
): Promise<IngestResult> {
  const { files, registries, rejected } = await discoverFiles(paths);
  const outlets = await readRegistries(registries, rejected);
  const limit = pLimit(opts.fileConcurrency);
  const limits = { maxRecordBytes: opts.maxRecordBytes, maxFileBytes: opts.maxFileBytes };
  const articles: Article[] = [];
  const seen = new Map<string, string>();
  let read = rejected.length;
  let done = 0;
  let blankLines = 0;

  const judge = (item: { record?: RawRecord; rejection?: Rejection }): void => {
    read++;
    if (item.rejection) {
      rejected.push(item.rejection);
      return;
    }
    const raw = item.record as RawRecord;
    const { article, rejection } = validateRecord(raw, opts);
    if (rejection) {
      rejected.push(rejection);
      return;
    }
    const a = article as Omit<Article, 'index'>;
    const first = seen.get(a.id);
    if (first) {
      rejected.push({ file: raw.file, line: raw.line, id: a.id, reason: `duplicate id (first seen at ${first})` });
      return;
    }
    seen.set(a.id, `${raw.file}:${raw.line}`);
    const accepted = { ...a, index: articles.length };
    articles.push(accepted);
    onArticle?.(accepted);
  };

  // Each file's items wait in its own slot until every earlier file has been judged.
  const slots = files.map(() => ({ items: [] as Array<{ record?: RawRecord; rejection?: Rejection }>, finished: false }));
  let head = 0;
  const drain = (): void => {
    while (head < slots.length) {
      const slot = slots[head];
      for (const item of slot.items) judge(item);
      slot.items = [];
      if (!slot.finished) return;
      head++;
    }
  };
  await Promise.all(
    files.map((file, f) =>
      limit(async () => {
        const slot = slots[f];
        for await (const item of readFile(file, limits)) {
          if (item.kind === 'record') slot.items.push({ record: item.record });
          else if (item.kind === 'reject') slot.items.push({ rejection: item.rejection });
          else blankLines++;
          if (f === head && slot.items.length >= 64) drain();
        }
        slot.finished = true;
        drain();
        onFile?.(++done, files.length);
      }),
    ),
  );
  return { outlets, articles, rejected, files: files.length, read, blankLines };
}
