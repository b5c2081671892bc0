/**
 * IndexStore on SQLite (better-sqlite3): one file, WAL journal, every night
 * committed in one transaction, so a run killed at any moment leaves the
 * index as it was before the night or with the whole night in it.
 * Each article's record (the article with its line, its analysis and paragraph
 * sets, in the binary layout of record.ts) lives in a segment file
 * beside the database (see segments.ts); the docs table says where. The
 * segment's articles' band keys, sorted, are in a band file beside it
 * (band-files.ts) for the next nights' lookups.
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { KeyRows } from './keyorder.js';
import { matchRun, readBandRun, writeBandFile, type BandKind } from './band-files.js';
import { IncompatibleIndexError, type IndexStore, type NightRecords, type OutletParagraphRows, type StoredDoc, type StoreStats } from './index.js';
import type { StoredLine } from '../ingest/validate.js';
import { SegmentFiles, segmentOrder, type SegmentWriter } from './segments.js';
import { decodeKeys, decodeRecord, encodeKeys, prepareRecord, type DocRecord } from './record.js';
import { CountsFiles } from './counts-file.js';
import { countSets, deltasOf, ShingleCounts, type ShingleDeltas } from '../sketch/counts.js';
import { contentShingles } from '../sketch/index.js';
import { contentHashes } from '../text/paragraphs.js';
import { concatAll, SetArena, toSet } from '../sketch/shingle.js';
import { timer, toMilliseconds } from '../util/clock.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
  n INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  outlet TEXT NOT NULL,
  time REAL,
  text_hash TEXT NOT NULL,
  first_night TEXT NOT NULL,
  cluster_id TEXT,
  story_id TEXT,
  segment INTEGER NOT NULL,
  record_at INTEGER NOT NULL,
  record_bytes INTEGER NOT NULL,
  signature BLOB NOT NULL,
  band_keys BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_story ON docs(story_id);
CREATE INDEX IF NOT EXISTS docs_time ON docs(time);
CREATE INDEX IF NOT EXISTS docs_segment ON docs(segment);
-- The segment files that hold the articles' records (in the segments folder beside this file), each with its
-- band file; t_min and t_max bound its articles' dates when all are dated (else NULL: always looked in).
CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, file TEXT NOT NULL UNIQUE, t_min REAL, t_max REAL);
-- Paragraph rows are clustered by hash: a night inserts them in hash order, and no index by n is kept
-- (an article's own keys, in docs.band_keys, say which rows to delete when it is replaced or collected).
CREATE TABLE IF NOT EXISTS doc_paragraphs (hash INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (hash, n)) WITHOUT ROWID;
-- Keyed by paragraph first: a night asks for the rows of its own paragraphs, not for whole outlets.
CREATE TABLE IF NOT EXISTS outlet_paragraphs (hash INTEGER NOT NULL, outlet TEXT NOT NULL, title INTEGER NOT NULL, PRIMARY KEY (hash, outlet, title)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY, night TEXT NOT NULL, finished TEXT NOT NULL, summary TEXT NOT NULL);
`;

/**
 * An article's own band and paragraph keys (distinct). Its paragraph rows are deleted by them when it is
 * replaced or collected; its band rows need no deleting (they are valid only in its current segment's file).
 */
interface BandKeys {
  doc: Uint32Array;
  passage: Uint32Array;
  paragraphs: Uint32Array;
}

/**
 * The rows of a statement joining `json_each(?)` (its first parameter) with a table, for each of `keys`
 * (distinct, sorted: the probes then walk the table's B-tree in order), in batches of 50,000. One query per
 * key costs far more in calls than the probes themselves; a temporary table of millions of keys cost more
 * to fill than the probes.
 */
function* joinEach<T>(q: Database.Statement, keys: Uint32Array | readonly string[], ...params: unknown[]): Generator<T> {
  const BATCH = 50_000;
  for (let i = 0; i < keys.length; i += BATCH) {
    const part = keys instanceof Uint32Array ? Array.from(keys.subarray(i, i + BATCH)) : keys.slice(i, i + BATCH);
    yield* q.iterate(JSON.stringify(part), ...params) as Iterable<T>;
  }
}

/** Rows a multi-row INSERT takes at once (see insertMany). */
const ROWS_PER_INSERT = 500;

/** The keys of `a` that `b` does not have, per table. */
function keysNotIn(a: BandKeys, b: BandKeys): BandKeys {
  const minus = (x: Uint32Array, y: Uint32Array): Uint32Array => {
    const ys = new Set(y);
    return x.filter((v) => !ys.has(v));
  };
  return { doc: minus(a.doc, b.doc), passage: minus(a.passage, b.passage), paragraphs: minus(a.paragraphs, b.paragraphs) };
}

/** Article i's distinct keys from a prepared night. */
function keysOf(night: PreparedNight, i: number): BandKeys {
  // Nearly always distinct already: a sorted copy says so (a Set per list cost ~4 s of a 100k night's commit);
  // lists with repeats keep their first occurrences, in order.
  const distinct = (from: number, to: number): Uint32Array => {
    const keys = night.keys.subarray(from, to);
    const sorted = keys.slice().sort();
    for (let k = 1; k < sorted.length; k++) if (sorted[k] === sorted[k - 1]) return Uint32Array.from(new Set(keys));
    return keys.slice();
  };
  const [d, p, q] = [night.keyEnds[3 * i], night.keyEnds[3 * i + 1], night.keyEnds[3 * i + 2]];
  return { doc: distinct(i === 0 ? 0 : night.keyEnds[3 * i - 1], d), passage: distinct(d, p), paragraphs: distinct(p, q) };
}

/** What a night's commit writes besides its records (appended to `segmentFile` already), as the worker gets it. */
export interface PreparedNight {
  nightId: string;
  segmentFile: string;
  ids: string[];
  outlets: string[];
  /** Per article (NaN: undated). */
  times: Float64Array;
  textHashes: string[];
  clusterIds: Array<string | null>;
  storyIds: Array<string | null>;
  recordAt: Float64Array;
  recordBytes: Uint32Array;
  /** The articles' signatures back to back, `permutations` each. */
  signatures: Uint32Array;
  permutations: number;
  /** Each article's article band, passage band and paragraph keys, back to back (see keysOf). */
  keys: Uint32Array;
  /** Where each article's keys end: three ends an article (article bands, passage bands, paragraphs). */
  keyEnds: Uint32Array;
  memberships: Array<{ id: string; clusterId: string | null; storyId: string | null }>;
  outletParagraphs: OutletParagraphRows;
  /** The night's counts file, written already (see mergeShingleCounts): the transaction names it. */
  countsFile: string;
  /** JSON of the run's summary (the runs table). */
  summary: string;
}

export interface CommitResult {
  seconds: Record<string, number>;
  /** The counts file the transaction named. */
  countsFile: string;
}

/**
 * Run a task of commit-worker.js in a worker thread: applyNight on its own connection to the index in `dir`,
 * or a counts file's merge in its counts folder. The arrays in `moved` go there, not copied.
 */
function inWorker<T>(dir: string, task: 'counts' | 'night', message: unknown, moved: ArrayBuffer[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./commit-worker.js', import.meta.url), { workerData: { dir, task } });
    worker.postMessage(message, moved);
    let settled = false;
    worker.once('message', (msg: { ok: true; result: T } | { ok: false; error: string }) => {
      settled = true;
      if (msg.ok) resolve(msg.result);
      else reject(new Error(msg.error));
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the index ${task === 'night' ? "commit's" : "counts'"} worker stopped (exit code ${code}) before it was done`));
    });
  });
}

/** The distinct buffers of these arrays (each built for the worker: nothing else shares them). */
function buffersOf(arrays: ArrayBufferView[]): ArrayBuffer[] {
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

/** Where a stored article's record lies. */
interface RecordPlace {
  file: string;
  at: number;
  bytes: number;
  storyId: string | null;
}

export class SqliteStore implements IndexStore {
  private db: Database.Database;
  readonly file: string;
  private readonly segments: SegmentFiles;
  /** Shingle document counts: the file the meta table names (none before the first night). */
  private readonly counts: CountsFiles;
  private countsFile: string | null;

  /**
   * `cacheMb`: SQLite's page cache. A night's reads are batched probes that the OS page cache serves about as
   * well, so the run's own connection keeps a small one (128 MB cost some 250 MB of resident memory on a
   * 100k night); the commit's connection, which rewrites pages all over the tables, keeps more.
   */
  constructor(dir: string, cacheMb = 16) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'index.sqlite');
    this.db = new Database(this.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`cache_size = ${-1024 * cacheMb}`);
    // An index from before segment files (format 3 and older) keeps records in docs' columns: refused here,
    // before the schema below would fail on it with a less helpful message.
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('docs')").pluck().all() as string[];
    if (columns.length > 0 && !columns.includes('segment')) {
      this.db.close();
      throw new IncompatibleIndexError(`the index at ${this.file} was written by an earlier version of neardup (articles stored inside the database) and cannot be read by this one; rebuild it in a new --state folder`);
    }
    this.rekeyOutletParagraphs();
    this.db.exec(SCHEMA);
    this.segments = new SegmentFiles(path.join(dir, 'segments'));
    this.moveBandsToFiles();
    this.counts = new CountsFiles(path.join(dir, 'counts'));
    this.countsFile = (this.db.prepare("SELECT value FROM meta WHERE key = 'counts_file'").pluck().get() as string | undefined) ?? null;
  }

  /**
   * Indexes written before this version key outlet_paragraphs by outlet first, so a night read each of its
   * outlets' rows whole (7.7M rows at 1M articles). Rewritten once, keyed by paragraph hash.
   */
  private rekeyOutletParagraphs(): void {
    const sql = this.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'outlet_paragraphs'").pluck().get() as string | undefined;
    if (!sql || !/PRIMARY KEY \(outlet, hash, title\)/.test(sql)) return;
    this.db.transaction(() => {
      this.db.exec('ALTER TABLE outlet_paragraphs RENAME TO outlet_paragraphs_by_outlet');
      this.db.exec(SCHEMA);
      this.db.exec('INSERT INTO outlet_paragraphs (hash, outlet, title) SELECT hash, outlet, title FROM outlet_paragraphs_by_outlet ORDER BY hash, outlet, title');
      this.db.exec('DROP TABLE outlet_paragraphs_by_outlet');
    })();
  }

  /**
   * Indexes written before band files keep band rows in two SQLite tables (and segments without dates):
   * their rows are written once into each segment's band file, then the tables go. Killed midway, the
   * tables are still there and the next open does it again.
   */
  private moveBandsToFiles(): void {
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('segments')").pluck().all() as string[];
    if (!columns.includes('t_min')) this.db.exec('ALTER TABLE segments ADD COLUMN t_min REAL; ALTER TABLE segments ADD COLUMN t_max REAL;');
    const tables = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('doc_bands', 'passage_bands')").pluck().all() as string[];
    if (tables.length === 0) return;
    // Each article's segment, by row; then each table read once, in its own order.
    const segmentOf = new Map<number, number>();
    for (const [n, segment] of this.db.prepare('SELECT n, segment FROM docs').raw().iterate() as Iterable<[number, number]>) segmentOf.set(n, segment);
    const rows = new Map<number, { doc: KeyRows; passage: KeyRows }>();
    for (const segment of this.db.prepare('SELECT id FROM segments').pluck().all() as number[]) rows.set(segment, { doc: new KeyRows(), passage: new KeyRows() });
    for (const [table, kind] of [['doc_bands', 'doc'], ['passage_bands', 'passage']] as const) {
      if (!tables.includes(table)) continue;
      for (const [key, n] of this.db.prepare(`SELECT key, n FROM ${table}`).raw().iterate() as Iterable<[number, number]>) {
        const segment = segmentOf.get(n);
        if (segment !== undefined) rows.get(segment)?.[kind].push(key, n);
      }
    }
    for (const [segment, r] of rows) {
      const file = this.db.prepare('SELECT file FROM segments WHERE id = ?').pluck().get(segment) as string;
      writeBandFile(this.segments.bandFile(file), r.doc, r.passage);
    }
    this.db.transaction(() => {
      for (const table of tables) this.db.exec(`DROP TABLE ${table}`);
    })();
  }

  /** An article's record, from its segment. */
  private record(r: { file: string; record_at: number; record_bytes: number }): DocRecord {
    return decodeRecord(this.segments.read(r.file, r.record_at, r.record_bytes), { file: r.file, at: r.record_at });
  }

  /** Remove segment files no row names: a night killed before its commit, segments whose articles all went. */
  private sweepSegments(): void {
    this.segments.sweep(new Set(this.db.prepare('SELECT file FROM segments').pluck().all() as string[]));
  }

  /** Forget segments no article is in any more (their files go once the transaction has committed). */
  private dropEmptySegments(): void {
    this.db.prepare('DELETE FROM segments WHERE NOT EXISTS (SELECT 1 FROM docs WHERE docs.segment = segments.id)').run();
  }

  checkFingerprint(fingerprint: Record<string, unknown>): void {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get('fingerprint') as { value: string } | undefined;
    const wanted = JSON.stringify(fingerprint);
    if (!row) {
      this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('fingerprint', wanted);
      return;
    }
    if (row.value === wanted) return;
    const had = JSON.parse(row.value) as Record<string, unknown>;
    const diffs = Object.keys({ ...had, ...fingerprint })
      .filter((k) => JSON.stringify(had[k]) !== JSON.stringify(fingerprint[k]))
      .map((k) => `${k}: index has ${JSON.stringify(had[k])}, this run ${JSON.stringify(fingerprint[k])}`);
    throw new IncompatibleIndexError(`the index at ${this.file} was built with other signatures and cannot be mixed with this run (${diffs.join('; ')}); use the same settings or another --state folder`);
  }

  /** One text column of the stored articles, by id (absent ids are left out). */
  private columnById(column: 'text_hash' | 'first_night' | 'story_id', ids: string[]): Map<string, string> {
    const out = new Map<string, string>();
    const q = this.db.prepare(`SELECT d.id, d.${column} FROM json_each(?) j JOIN docs d ON d.id = j.value`).raw();
    for (const [id, v] of joinEach<[string, string | null]>(q, ids)) if (v !== null) out.set(id, v);
    return out;
  }

  storyIdsOf(ids: string[]): Map<string, string> {
    return this.columnById('story_id', ids);
  }

  textHashes(ids: string[]): Map<string, string> {
    return this.columnById('text_hash', ids);
  }

  firstNights(ids: string[]): Map<string, string> {
    return this.columnById('first_night', ids);
  }

  matchArticleBands(keys: KeyRows, sinceMs: number, untilMs: number, exclude: Set<string>): Array<{ t: number; id: string; signature: Uint32Array }> {
    return this.matchBands('doc', keys, sinceMs, untilMs, exclude, true) as Array<{ t: number; id: string; signature: Uint32Array }>;
  }

  matchPassageBands(keys: KeyRows, sinceMs: number, untilMs: number, exclude: Set<string>): Array<{ t: number; id: string }> {
    return this.matchBands('passage', keys, sinceMs, untilMs, exclude, false);
  }

  /** (tonight's article, stored article) pairs under a shared key of one kind, each once, in article order. */
  private matchBands(kind: BandKind, keys: KeyRows, sinceMs: number, untilMs: number, exclude: Set<string>, withSignature: boolean): Array<{ t: number; id: string; signature?: Uint32Array }> {
    // Tonight's distinct keys, in key order, are merged with the band files of the window; each stored row
    // found is paired with tonight's articles under that key. The stored articles are then read once each.
    // First tonight's (key, article) rows, fully sorted by key: packed in one double each (key < 2^32, and
    // article < 2^21, the limit of a night everywhere pairs are packed).
    if (!this.anyInWindow(sinceMs, untilMs)) return [];
    const { keys: byRange, values: articles } = keys.rows();
    if (articles.some((a) => a >= 2 ** 21)) throw new Error(`a night of more than ${2 ** 21} articles is more than the index lookups support`);
    const packed = new Float64Array(byRange.length);
    for (let i = 0; i < packed.length; i++) packed[i] = byRange[i] * 2 ** 21 + articles[i];
    packed.sort();
    const k = new Uint32Array(packed.length);
    const t = new Uint32Array(packed.length);
    for (let i = 0; i < packed.length; i++) {
      k[i] = Math.floor(packed[i] / 2 ** 21);
      t[i] = packed[i] - k[i] * 2 ** 21;
    }
    // Tonight's distinct keys, and where each one's run of articles starts in k.
    const distinct = new Uint32Array(k.length);
    const start = new Uint32Array(k.length + 1);
    let d = 0;
    for (let i = 0; i < k.length; i++) {
      if (i > 0 && k[i] === k[i - 1]) continue;
      distinct[d] = k[i];
      start[d++] = i;
    }
    start[d] = k.length;
    const found = this.rowsWithKeys(kind, distinct.subarray(0, d), sinceMs, untilMs);
    const { keys: at, values: rows } = found.rows.rows();
    const docs = this.docsInWindow(rows, sinceMs, untilMs, exclude, withSignature);
    // (tonight's article, stored row) pairs, each packed in one double (t < 2^21 and n < 2^32 fit exactly),
    // then sorted and taken once each: no Set of millions of pairs, no sort of objects by their ids.
    let pairs = new Float64Array(1 << 16);
    let count = 0;
    for (let f = 0, r = 0; f < found.files.length; f++) {
      for (; r < found.files[f].end; r++) {
        // A row is valid in the file of its article's current segment only.
        if (docs.get(rows[r])?.segment !== found.files[f].segment) continue;
        for (let i = start[at[r]]; i < start[at[r] + 1]; i++) {
          if (count === pairs.length) {
            const grown = new Float64Array(pairs.length * 2);
            grown.set(pairs);
            pairs = grown;
          }
          pairs[count++] = t[i] * 2 ** 32 + rows[r];
        }
      }
    }
    const sorted = pairs.subarray(0, count).sort();
    const out: Array<{ t: number; id: string; signature?: Uint32Array }> = [];
    for (let i = 0; i < sorted.length; i++) {
      if (i > 0 && sorted[i] === sorted[i - 1]) continue;
      const article = Math.floor(sorted[i] / 2 ** 32);
      const d = docs.get(sorted[i] - article * 2 ** 32) as { id: string; signature?: Uint32Array };
      out.push(withSignature ? { t: article, id: d.id, signature: d.signature as Uint32Array } : { t: article, id: d.id });
    }
    return out;
  }

  /**
   * Band rows of one kind under any of `keys` (sorted, distinct), from the band files of segments whose
   * articles' dates reach into [sinceMs, untilMs], one merge per file: (index into keys, article row) pairs,
   * file after file, with where each file's rows end.
   */
  private rowsWithKeys(kind: BandKind, keys: Uint32Array, sinceMs: number, untilMs: number): { rows: KeyRows; files: Array<{ segment: number; end: number }> } {
    const rows = new KeyRows();
    const files: Array<{ segment: number; end: number }> = [];
    const segments = this.db.prepare('SELECT id, file FROM segments WHERE t_min IS NULL OR t_max IS NULL OR (t_max >= ? AND t_min <= ?) ORDER BY id').raw().all(sinceMs, untilMs) as Array<[number, string]>;
    for (const [segment, file] of segments) {
      matchRun(readBandRun(this.segments.bandFile(file), kind), keys, (i, row) => rows.push(i, row));
      files.push({ segment, end: rows.length });
    }
    return { rows, files };
  }

  /**
   * Whether any stored article can be in the window (dated inside it, or undated). When none can, tonight's
   * keys need no lookup at all: a first night, or one far from the others, skips millions of probes.
   */
  private anyInWindow(sinceMs: number, untilMs: number): boolean {
    const r = this.db.prepare('SELECT EXISTS (SELECT 1 FROM docs WHERE time IS NULL OR time BETWEEN ? AND ?) AS x').get(sinceMs, untilMs) as { x: number };
    return r.x === 1;
  }

  /**
   * Stored articles by row, those published within [sinceMs, untilMs] (or undated) and not excluded: id, and
   * signature when asked. Probed in batches (one query a row cost 15 s of a 100k night against 1M: millions
   * of rows share a band with tonight by chance).
   */
  private docsInWindow(ns: Uint32Array, sinceMs: number, untilMs: number, exclude: Set<string>, withSignature: boolean): Map<number, { id: string; segment: number; signature?: Uint32Array }> {
    const q = this.db
      .prepare(`SELECT d.n, d.id, d.segment${withSignature ? ', d.signature' : ''} FROM json_each(?) j JOIN docs d ON d.n = j.value WHERE d.time IS NULL OR d.time BETWEEN ? AND ?`)
      .raw();
    const out = new Map<number, { id: string; segment: number; signature?: Uint32Array }>();
    for (const [n, id, segment, sig] of joinEach<[number, string, number, Buffer?]>(q, toSet(ns), sinceMs, untilMs)) {
      if (exclude.has(id)) continue;
      out.set(n, { id, segment, signature: sig ? new Uint32Array(sig.buffer.slice(sig.byteOffset, sig.byteOffset + sig.byteLength)) : undefined });
    }
    return out;
  }

  withParagraphs(outlet: string, hashes: number[], exclude: Set<string>): string[] {
    const q = this.db.prepare('SELECT d.id FROM doc_paragraphs p JOIN docs d ON d.n = p.n WHERE p.hash = ? AND d.outlet = ?');
    const out = new Set<string>();
    for (const h of new Set(hashes)) for (const r of q.all(h, outlet) as Array<{ id: string }>) if (!exclude.has(r.id)) out.add(r.id);
    return [...out].sort();
  }

  storyMembers(storyIds: string[], exclude: Set<string>): string[] {
    // Probed in batches, as docsInWindow (one query a story took ~1.3 s of a night against 1M).
    const q = this.db.prepare('SELECT d.id FROM json_each(?) j JOIN docs d ON d.story_id = j.value').pluck();
    const out = new Set<string>();
    for (const id of joinEach<string>(q, [...new Set(storyIds)].sort())) if (!exclude.has(id)) out.add(id);
    return [...out].sort();
  }

  /** Where each stored record of `ids` is, in the order of `ids` (absent ids left out). */
  private placesOf(ids: string[]): RecordPlace[] {
    // Asked in batches: one query per id cost more in calls than in lookups.
    const q = this.db.prepare('SELECT d.id, s.file, d.record_at, d.record_bytes, d.story_id FROM json_each(?) j JOIN docs d ON d.id = j.value JOIN segments s ON s.id = d.segment').raw();
    const where = new Map<string, RecordPlace>();
    for (const [id, file, at, bytes, storyId] of joinEach<[string, string, number, number, string | null]>(q, ids)) where.set(id, { file, at, bytes, storyId });
    const found: RecordPlace[] = [];
    for (const id of ids) {
      const f = where.get(id);
      if (f) found.push(f);
    }
    return found;
  }

  load(ids: string[]): StoredDoc[] {
    const found = this.placesOf(ids);
    const bytes = this.segments.readMany(found);
    return found.map((f, i) => {
      const doc = decodeRecord(bytes[i], f);
      // Whole: the line read too.
      const body = doc.article.body;
      if ('stored' in body) doc.article.body = { line: this.readLine(body.stored) };
      return { ...doc, storyId: f.storyId };
    });
  }

  *loadBatches(ids: string[], batchRecords: number): Generator<StoredDoc[]> {
    const found = this.placesOf(ids).sort(segmentOrder);
    for (let from = 0; from < found.length; from += batchRecords) {
      const batch = found.slice(from, from + batchRecords);
      const bytes = this.segments.readMany(batch);
      // The batch's paragraphs in one arena (the caller copies what it keeps: see detachRecords).
      const arena = new SetArena();
      yield batch.map((f, i) => ({ ...decodeRecord(bytes[i], f, arena), storyId: f.storyId }));
    }
  }

  readLineAsync(place: StoredLine, into?: Buffer): Promise<Buffer> {
    return this.segments.readAsync(place.file, place.at, place.bytes, into);
  }

  readLine(place: StoredLine, into?: Buffer): Buffer {
    return this.segments.read(place.file, place.at, place.bytes, into);
  }

  shingleCounts(hashes: Uint32Array): ShingleCounts {
    return this.counts.lookup(this.countsFile, toSet(hashes));
  }

  shinglesCountedAtLeast(minCount: number): Uint32Array {
    return this.counts.atLeast(this.countsFile, minCount);
  }

  /** Write the counts with these changes to a new file and name it in the meta table (within the caller's transaction); returns its name. */
  private applyShingleDeltas(deltas: ShingleDeltas, tag: string): string {
    const name = this.counts.merge(this.countsFile, deltas, tag);
    this.nameCounts(name);
    return name;
  }

  /** Name the counts file in use in the meta table (within the caller's transaction). */
  private nameCounts(name: string): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('counts_file', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(name);
  }

  mergeShingleCounts(deltas: ShingleDeltas, tag: string): Promise<{ file: string; seconds: number }> {
    // Files no commit named (a night that stopped before its commit) go first: the new one is not named yet either.
    this.counts.sweep(this.countsFile);
    return inWorker(this.counts.dir, 'counts', { countsFile: this.countsFile, deltas, tag }, buffersOf([deltas.hashes, deltas.deltas]));
  }

  /** After a transaction that named `name`: the file in use from now on; the others go. */
  private useCounts(name: string): void {
    this.countsFile = name;
    this.counts.sweep(name);
  }

  outletParagraphs(hashes: Uint32Array, outlets: Set<string>): Array<{ outlet: string; hash: number; title: number }> {
    const q = this.db.prepare('SELECT o.hash, o.outlet, o.title FROM json_each(?) j JOIN outlet_paragraphs o ON o.hash = j.value').raw();
    const out: Array<{ outlet: string; hash: number; title: number }> = [];
    for (const [hash, outlet, title] of joinEach<[number, string, number]>(q, toSet(hashes))) if (outlets.has(outlet)) out.push({ outlet, hash, title });
    return out;
  }

  /**
   * Insert `count` rows of `width` values each, 500 to a statement: a third of the time of one statement per
   * row, which is most of what a row costs here. `sql` gets the VALUES list; `fill` writes row i's values
   * into `args` from `at`.
   */
  private insertMany(sql: (values: string) => string, width: number, count: number, fill: (i: number, args: unknown[], at: number) => void): void {
    const PER = ROWS_PER_INSERT;
    const tuple = `(${Array(width).fill('?').join(', ')})`;
    const many = this.prepared(sql(Array(PER).fill(tuple).join(', ')));
    const one = this.prepared(sql(tuple));
    const args: unknown[] = new Array<unknown>(width * PER);
    let i = 0;
    for (; i + PER <= count; i += PER) {
      for (let j = 0; j < PER; j++) fill(i + j, args, width * j);
      many.run(args);
    }
    const last: unknown[] = new Array<unknown>(width);
    for (; i < count; i++) {
      fill(i, last, 0);
      one.run(last);
    }
  }

  /** Insert (a[i], b[i]) rows (see insertMany). */
  private insertPairs(sql: (values: string) => string, a: ArrayLike<number>, b: ArrayLike<number>): void {
    this.insertMany(sql, 2, a.length, (i, args, at) => {
      args[at] = a[i];
      args[at + 1] = b[i];
    });
  }

  /** (key, article row) pairs of the paragraph table, in key order. */
  private insertRows(table: 'doc_paragraphs', keyColumn: 'hash', rows: KeyRows): void {
    const { keys, values } = rows.ordered();
    this.insertPairs((v) => `INSERT OR IGNORE INTO ${table} (${keyColumn}, n) VALUES ${v}`, keys, values);
  }

  async appendRecords(nightId: string, docs: Iterable<DocRecord>): Promise<NightRecords> {
    const elapsed = timer();
    // Segments no commit named (a night that stopped before its commit) go first: the new one is not named yet either.
    this.sweepSegments();
    const writer: SegmentWriter = this.segments.create(nightId);
    const recordAt: number[] = [];
    const recordBytes: number[] = [];
    try {
      let n = 0;
      for (const d of docs) {
        // The line goes to the segment's lines file, the rest to the segment (see segments.ts).
        const body = d.article.body;
        const lineAt = 'line' in body ? writer.appendLine(body.line) : undefined;
        const record = prepareRecord({ article: d.article, analysis: d.analysis, paragraphSets: d.paragraphSets }, { lineAt });
        recordAt.push(writer.appendRecord(record));
        recordBytes.push(record.length);
        // The event loop in between slices: the caller's other work goes on (the night's other stages run
        // meanwhile: slices short enough that the workers they feed are not kept waiting).
        if (++n % 256 === 0) {
          await writer.drain();
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      await writer.finish();
    } catch (e) {
      await writer.abandon();
      throw e;
    }
    return {
      file: path.basename(writer.file),
      recordAt: Float64Array.from(recordAt),
      recordBytes: Uint32Array.from(recordBytes),
      seconds: toMilliseconds(elapsed()),
      abandon: () => writer.abandon(),
    };
  }

  /**
   * Tonight's records are in their segment already (appendRecords); everything else — article rows, band
   * file, paragraph rows, the counts file's name — is written by a worker thread with its own connection,
   * in one transaction, while the caller goes on (writing the night's outputs). The segment and the counts
   * file are named by that transaction, so the index never names a partial one.
   */
  async commitNight(night: Parameters<IndexStore['commitNight']>[0]): Promise<Record<string, number>> {
    const seconds: Record<string, number> = {};
    const elapsed = timer();
    const since = (): number => toMilliseconds(elapsed());
    // (Segments and counts files are swept when the night's are started, by appendRecords and mergeShingleCounts.)
    const records = await night.records;
    let result: CommitResult;
    try {
      seconds.records = records.seconds;
      const prepared = this.prepareNight(night, records);
      seconds.prepare = since();
      const counts = await night.countsFile;
      prepared.countsFile = counts.file;
      seconds.shingle_counts = counts.seconds;
      result = await inWorker<CommitResult>(path.dirname(this.file), 'night', prepared, buffersOf([prepared.times, prepared.recordAt, prepared.recordBytes, prepared.signatures, prepared.keys, prepared.keyEnds]));
    } catch (e) {
      await records.abandon();
      throw e;
    }
    Object.assign(seconds, result.seconds);
    this.sweepSegments();
    this.useCounts(result.countsFile);
    seconds.total = since();
    return seconds;
  }

  /** Gather what the commit writes besides the records, packed. */
  private prepareNight(night: Parameters<IndexStore['commitNight']>[0], records: NightRecords): PreparedNight {
    const ids: string[] = [];
    const outlets: string[] = [];
    const times: number[] = [];
    const textHashes: string[] = [];
    const clusterIds: Array<string | null> = [];
    const storyIds: Array<string | null> = [];
    const signatures: Uint32Array[] = [];
    const keys: Uint32Array[] = [];
    const keyEnds: number[] = [];
    let keyCount = 0;
    const addKeys = (k: Uint32Array): void => {
      keys.push(k);
      keyCount += k.length;
      keyEnds.push(keyCount);
    };
    for (const d of night.docs) {
      ids.push(d.article.id);
      outlets.push(d.article.outlet);
      times.push(d.article.time);
      textHashes.push(d.textHash);
      clusterIds.push(d.clusterId);
      storyIds.push(d.storyId);
      signatures.push(d.signature);
      addKeys(d.docBands);
      addKeys(d.passageBands);
      addKeys(Uint32Array.from(contentHashes(d.analysis.paragraphs)));
    }
    if (ids.length !== records.recordAt.length) throw new Error(`the night's commit got ${ids.length} articles for ${records.recordAt.length} records`);
    return {
      nightId: night.nightId,
      segmentFile: records.file,
      ids,
      outlets,
      times: Float64Array.from(times),
      textHashes,
      clusterIds,
      storyIds,
      // Copies: they move to the worker (records keeps its own).
      recordAt: records.recordAt.slice(),
      recordBytes: records.recordBytes.slice(),
      signatures: concatAll(signatures),
      permutations: signatures.length ? signatures[0].length : 0,
      keys: concatAll(keys),
      keyEnds: Uint32Array.from(keyEnds),
      memberships: night.memberships,
      outletParagraphs: night.outletParagraphs,
      countsFile: '',
      summary: JSON.stringify(night.summary),
    };
  }

  /**
   * The night's rows, in one transaction on this connection (the worker's): its segment named, its articles
   * upserted, its band file written, paragraph and template rows, memberships, shingle counts.
   */
  applyNight(night: PreparedNight): CommitResult {
    // Seconds per part of the commit, for run.json: where a large night's commit time goes.
    const seconds: Record<string, number> = {};
    let elapsed = timer();
    const lap = (part: string): void => {
      seconds[part] = toMilliseconds(elapsed());
      elapsed = timer();
    };
    const upsert = this.db.prepare(
      `INSERT INTO docs (id, outlet, time, text_hash, first_night, cluster_id, story_id, segment, record_at, record_bytes, signature, band_keys)
       VALUES (@id, @outlet, @time, @text_hash, @night, @cluster_id, @story_id, @segment, @record_at, @record_bytes, @signature, @band_keys)
       ON CONFLICT(id) DO UPDATE SET outlet = excluded.outlet, time = excluded.time, text_hash = excluded.text_hash,
         cluster_id = excluded.cluster_id, story_id = excluded.story_id, segment = excluded.segment,
         record_at = excluded.record_at, record_bytes = excluded.record_bytes, signature = excluded.signature, band_keys = excluded.band_keys`,
    );
    // New articles (most of a night) are inserted 500 to a statement, each with its row id given: the next
    // after the largest, as SQLite would give it. Re-sent ones, found first in one batched probe, are upserted.
    // (13 values a row, gathered in newRows and written a statement's worth at a time.)
    const COLUMNS = 13;
    const newRows: unknown[] = [];
    const flushNew = (): void => {
      this.insertMany((v) => `INSERT INTO docs (n, id, outlet, time, text_hash, first_night, cluster_id, story_id, segment, record_at, record_bytes, signature, band_keys) VALUES ${v}`, COLUMNS, newRows.length / COLUMNS, (i, args, at) => {
        for (let c = 0; c < COLUMNS; c++) args[at + c] = newRows[COLUMNS * i + c];
      });
      newRows.length = 0;
    };
    const existing = new Map<string, { n: number; band_keys: Buffer }>();
    const probe = this.db.prepare('SELECT d.id, d.n, d.band_keys FROM json_each(?) j JOIN docs d ON d.id = j.value').raw();
    const member = this.db.prepare('UPDATE docs SET cluster_id = ?, story_id = ? WHERE id = ?');
    const run = this.db.prepare('INSERT INTO runs (night, finished, summary) VALUES (?, ?, ?)');
    let countsFile = '';
    this.db.transaction(() => {
      const segment = Number(this.db.prepare('INSERT INTO segments (file) VALUES (?)').run(night.segmentFile).lastInsertRowid);
      // Band rows go to the segment's band file, paragraph rows to their table in key order: gathered first.
      // Sized for every key tonight's articles have (distinct ones are fewer): no doubling of millions of rows.
      let docKeys = 0;
      let passageKeys = 0;
      for (let i = 0; i < night.ids.length; i++) {
        docKeys += night.keyEnds[3 * i] - (i === 0 ? 0 : night.keyEnds[3 * i - 1]);
        passageKeys += night.keyEnds[3 * i + 1] - night.keyEnds[3 * i];
      }
      const docBands = new KeyRows(docKeys);
      const passageBands = new KeyRows(passageKeys);
      const paragraphs = new KeyRows();
      // The segment's articles' dates (band files outside a night's window are not read).
      let tMin = Infinity;
      let tMax = -Infinity;
      for (const [id, n, bandKeys] of joinEach<[string, number, Buffer]>(probe, night.ids)) existing.set(id, { n, band_keys: bandKeys });
      let nextN = (this.db.prepare('SELECT COALESCE(MAX(n), 0) FROM docs').pluck().get() as number) + 1;
      for (let i = 0; i < night.ids.length; i++) {
        const old = existing.get(night.ids[i]);
        const keys = keysOf(night, i);
        // A re-sent article keeps the paragraph rows it still has: only those of paragraphs it lost go, only
        // new ones are added. (Deleting and re-adding all of them made a re-run of a 100k night spend minutes
        // on single-row deletes, for rows it put back unchanged.) Its band rows all go to tonight's file.
        let added = keys;
        if (old) {
          const oldKeys = decodeKeys(old.band_keys);
          this.deleteParagraphRows(old.n, keysNotIn(oldKeys, keys).paragraphs);
          added = keysNotIn(keys, oldKeys);
        }
        const time = night.times[i];
        tMin = Math.min(tMin, Number.isNaN(time) ? -Infinity : time);
        tMax = Math.max(tMax, Number.isNaN(time) ? Infinity : time);
        const signature = night.signatures.subarray(i * night.permutations, (i + 1) * night.permutations);
        const row = {
          id: night.ids[i],
          outlet: night.outlets[i],
          time: Number.isNaN(time) ? null : time,
          text_hash: night.textHashes[i],
          night: night.nightId,
          cluster_id: night.clusterIds[i],
          story_id: night.storyIds[i],
          segment,
          record_at: night.recordAt[i],
          record_bytes: night.recordBytes[i],
          signature: Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength),
          band_keys: encodeKeys(keys),
        };
        // n is the row id: a re-sent article keeps its row, a new one gets the next.
        let n: number;
        if (old) {
          upsert.run(row);
          n = old.n;
        } else {
          n = nextN++;
          newRows.push(n, row.id, row.outlet, row.time, row.text_hash, row.night, row.cluster_id, row.story_id, row.segment, row.record_at, row.record_bytes, row.signature, row.band_keys);
          if (newRows.length >= COLUMNS * ROWS_PER_INSERT) flushNew();
        }
        for (const k of keys.doc) docBands.push(k, n);
        for (const k of keys.passage) passageBands.push(k, n);
        for (const h of added.paragraphs) paragraphs.push(h, n);
      }
      flushNew();
      lap('documents');
      writeBandFile(this.segments.bandFile(night.segmentFile), docBands, passageBands);
      const dated = Number.isFinite(tMin) && Number.isFinite(tMax);
      this.db.prepare('UPDATE segments SET t_min = ?, t_max = ? WHERE id = ?').run(dated ? tMin : null, dated ? tMax : null, segment);
      lap('band_file');
      this.insertRows('doc_paragraphs', 'hash', paragraphs);
      lap('paragraphs');
      // Earlier articles reclustered tonight: most keep their cluster and story, and only the rows that
      // change are updated (one update a row cost ~3 s for 60k of them against 1M).
      const current = new Map<string, [string | null, string | null]>();
      const probeMembers = this.db.prepare('SELECT d.id, d.cluster_id, d.story_id FROM json_each(?) j JOIN docs d ON d.id = j.value').raw();
      for (const [id, clusterId, storyId] of joinEach<[string, string | null, string | null]>(probeMembers, night.memberships.map((m) => m.id))) current.set(id, [clusterId, storyId]);
      for (const m of night.memberships) {
        const was = current.get(m.id);
        if (was && was[0] === m.clusterId && was[1] === m.storyId) continue;
        member.run(m.clusterId, m.storyId, m.id);
      }
      // In key order: the table is keyed by hash.
      const op = night.outletParagraphs;
      const byHash = Uint32Array.from(op.hash, (_, i) => i).sort((x, y) => op.hash[x] - op.hash[y] || x - y);
      this.insertMany((v) => `INSERT OR IGNORE INTO outlet_paragraphs (hash, outlet, title) VALUES ${v}`, 3, byHash.length, (k, args, at) => {
        const i = byHash[k];
        args[at] = op.hash[i];
        args[at + 1] = op.outlets[op.outlet[i]];
        args[at + 2] = op.title[i];
      });
      this.nameCounts(night.countsFile);
      countsFile = night.countsFile;
      lap('outlet_paragraphs');
      run.run(night.nightId, new Date().toISOString(), night.summary);
      // A re-run or re-sent articles can leave an earlier segment with no article in it.
      this.dropEmptySegments();
    })();
    lap('transaction_commit');
    return { seconds, countsFile };
  }

  private readonly statements = new Map<string, Database.Statement>();
  /** A statement prepared once per store. */
  private prepared(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /** Delete an article's paragraph rows, by their hashes (the table is keyed by hash, then n). */
  private deleteParagraphRows(n: number, hashes: Uint32Array): void {
    const del = this.prepared('DELETE FROM doc_paragraphs WHERE hash = ? AND n = ?');
    for (const h of hashes) del.run(h, n);
  }

  gc(olderThanMs: number): number {
    let countsFile: string | null = null;
    const removed = this.db.transaction(() => {
      const old = this.db
        .prepare('SELECT d.n, d.band_keys, s.file, d.record_at, d.record_bytes FROM docs d JOIN segments s ON s.id = d.segment WHERE d.time IS NOT NULL AND d.time < ?')
        .all(olderThanMs) as Array<{ n: number; band_keys: Buffer; file: string; record_at: number; record_bytes: number }>;
      const del = this.db.prepare('DELETE FROM docs WHERE n = ?');
      const sets: Uint32Array[] = [];
      for (const r of old) {
        sets.push(contentShingles(this.record(r)));
        this.deleteParagraphRows(r.n, decodeKeys(r.band_keys).paragraphs);
        del.run(r.n);
      }
      countsFile = this.applyShingleDeltas(deltasOf(new ShingleCounts(), countSets(sets)), 'gc');
      this.dropEmptySegments();
      return old.length;
    })();
    this.sweepSegments();
    if (countsFile) this.useCounts(countsFile);
    return removed;
  }

  stats(): StoreStats {
    const one = (sql: string): number => (this.db.prepare(sql).get() as { c: number }).c;
    const range = this.db.prepare('SELECT MIN(time) lo, MAX(time) hi FROM docs').get() as { lo: number | null; hi: number | null };
    this.db.pragma('wal_checkpoint(PASSIVE)');
    let bytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        bytes += statSync(f).size;
      } catch {
        /* no WAL file */
      }
    }
    bytes += this.segments.bytes() + this.counts.bytes(this.countsFile);
    // Live band rows: each article's own keys (its segment's band file has them; rows left in older files by
    // articles that moved on are not counted).
    let articleBands = 0;
    let passageBands = 0;
    for (const keys of this.db.prepare('SELECT band_keys FROM docs').pluck().iterate() as Iterable<Buffer>) {
      articleBands += keys.readUInt32LE(0);
      passageBands += keys.readUInt32LE(4);
    }
    return {
      path: this.file,
      bytes,
      documents: one('SELECT COUNT(*) c FROM docs'),
      article_bands: articleBands,
      passage_bands: passageBands,
      template_paragraphs: one('SELECT COUNT(*) c FROM outlet_paragraphs'),
      runs: one('SELECT COUNT(*) c FROM runs'),
      oldest: range.lo === null ? null : new Date(range.lo).toISOString(),
      newest: range.hi === null ? null : new Date(range.hi).toISOString(),
    };
  }

  close(): void {
    this.db.close();
    this.segments.close();
  }
}
