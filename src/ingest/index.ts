/**
 * The ingest stage: find input files, read them with bounded concurrency
 * (p-limit), validate every record, and reject duplicates. Files are read in
 * parallel but merged in sorted file order, so the result is deterministic.
 */
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

export interface IngestResult {
  articles: Article[];
  rejected: Rejection[];
  files: number;
  read: number;
  blankLines: number;
}

export async function ingest(paths: string[], opts: IngestOptions, onFile?: (done: number, total: number) => void): Promise<IngestResult> {
  const { files, rejected } = await discoverFiles(paths);
  const limit = pLimit(opts.fileConcurrency);
  const limits = { maxRecordBytes: opts.maxRecordBytes, maxFileBytes: opts.maxFileBytes };
  let done = 0;
  let blankLines = 0;
  // Each file's items are kept in its own slot; slots are merged in file order below.
  const perFile = await Promise.all(
    files.map((file) =>
      limit(async () => {
        const items: Array<{ record?: RawRecord; rejection?: Rejection }> = [];
        for await (const item of readFile(file, limits)) {
          if (item.kind === 'record') items.push({ record: item.record });
          else if (item.kind === 'reject') items.push({ rejection: item.rejection });
          else blankLines++;
        }
        onFile?.(++done, files.length);
        return items;
      }),
    ),
  );
  const articles: Article[] = [];
  const seen = new Map<string, string>();
  let read = rejected.length;
  for (const items of perFile) {
    for (const item of items) {
      read++;
      if (item.rejection) {
        rejected.push(item.rejection);
        continue;
      }
      const raw = item.record as RawRecord;
      const { article, rejection } = validateRecord(raw, opts);
      if (rejection) {
        rejected.push(rejection);
        continue;
      }
      const a = article as Omit<Article, 'index'>;
      const first = seen.get(a.id);
      if (first) {
        rejected.push({ file: raw.file, line: raw.line, id: a.id, reason: `duplicate id (first seen at ${first})` });
        continue;
      }
      seen.set(a.id, `${raw.file}:${raw.line}`);
      articles.push({ ...a, index: articles.length });
    }
  }
  return { articles, rejected, files: files.length, read, blankLines };
}
