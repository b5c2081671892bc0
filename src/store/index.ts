/**
 * The persistent index behind nightly runs. Stages talk to this interface
 * only; SqliteStore implements it on one embedded file, and a server-backed
 * store can implement it later without touching the stages.
 */
import type { Article } from '../ingest/index.js';
import type { StoredLine } from '../ingest/validate.js';
import type { ArticleAnalysis } from '../text/analyze.js';
import type { ShingleCounts, ShingleDeltas } from '../sketch/counts.js';
import type { KeyRows } from './keyorder.js';
import type { ParagraphSet } from '../sketch/index.js';

/** A document as kept between nights: what matching, verification and provenance need. */
export interface StoredDoc {
  article: Omit<Article, 'index'>;
  /** The analysis (paragraphs, flags, numbers). */
  analysis: ArticleAnalysis;
  /** Shingle sets of the paragraphs the rules kept; a later night drops those it finds to be templates. */
  paragraphSets: ParagraphSet[];
  storyId?: string | null;
}

/** A night's records in their segment (see appendRecords), in the order given. */
export interface NightRecords {
  /** The segment file. */
  file: string;
  recordAt: Float64Array;
  recordBytes: Uint32Array;
  seconds: number;
  /** Remove the segment (its night will not commit). */
  abandon(): Promise<void>;
}

/** What a night's commit writes of one of tonight's articles besides its record (see appendRecords). */
export interface NightDoc {
  article: Pick<Article, 'id' | 'outlet' | 'time'>;
  analysis: Pick<ArticleAnalysis, 'paragraphs'>;
  textHash: string;
  /** The article's MinHash signature, for cheap estimates before a full load. */
  signature: Uint32Array;
  /** Band keys of the article signature and of its passages (for later nights' lookups). */
  docBands: Uint32Array;
  passageBands: Uint32Array;
  clusterId: string | null;
  storyId: string | null;
}

export interface StoreStats {
  path: string;
  bytes: number;
  documents: number;
  article_bands: number;
  passage_bands: number;
  template_paragraphs: number;
  runs: number;
  oldest: string | null;
  newest: string | null;
}

export class IncompatibleIndexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompatibleIndexError';
  }
}

/**
 * (paragraph hash, outlet, title hash) rows of a night, for later nights' outlet templates: packed, as a
 * 100k-article night has some 700k of them (outlet i is outlets[outlet[i]]).
 */
export interface OutletParagraphRows {
  outlets: string[];
  outlet: Uint32Array;
  hash: Uint32Array;
  title: Uint32Array;
}

export interface IndexStore {
  /** Refuse (IncompatibleIndexError) when the index was built with other signatures; record them on a new index. */
  checkFingerprint(fingerprint: Record<string, unknown>): void;
  /** Stored text hashes of these ids (absent ids are new). */
  textHashes(ids: string[]): Map<string, string>;
  /**
   * Stored articles (not in `exclude`, published within [sinceMs, untilMs] or undated) sharing an article band with
   * tonight's article `t`, with their signatures so the caller can estimate similarity before loading them.
   */
  matchArticleBands(keys: KeyRows, sinceMs: number, untilMs: number, exclude: Set<string>): Array<{ t: number; id: string; signature: Uint32Array }>;
  /** Stored articles sharing a passage band with tonight's article `t` (same window and exclusions). */
  matchPassageBands(keys: KeyRows, sinceMs: number, untilMs: number, exclude: Set<string>): Array<{ t: number; id: string }>;
  /** Ids of stored articles of `outlet` with a content paragraph among `hashes` (a template learned tonight may unlink them). */
  withParagraphs(outlet: string, hashes: number[], exclude: Set<string>): string[];
  /** Story of each of these stored articles (those in none, and absent ids, are left out). */
  storyIdsOf(ids: string[]): Map<string, string>;
  /** Ids of the stored members of the given stories (so a story is always reclustered whole). */
  storyMembers(storyIds: string[], exclude: Set<string>): string[];
  /** Stored articles whole (their lines read too), in the order asked; ids not stored are left out. */
  load(ids: string[]): StoredDoc[];
  /**
   * The same articles in batches of up to `batchRecords`, read in segment order (not the order asked), each
   * batch read when asked for: a caller done with a batch lets its records go before the next is read.
   * Bodies name their line's place in the index (see readLine) instead of holding it.
   */
  loadBatches(ids: string[], batchRecords: number): Generator<StoredDoc[]>;
  /** A stored article's input line (see loadBatches); read into `into` (a view of it) when it has room. */
  readLine(place: StoredLine, into?: Buffer): Buffer;
  /** The same, read on libuv's threads (many reads can be under way while the caller works). */
  readLineAsync(place: StoredLine, into?: Buffer): Promise<Buffer>;
  /** Where these paragraph hashes were seen before, among these outlets: with the title they were seen under (outlet template learning). */
  outletParagraphs(hashes: Uint32Array, outlets: Set<string>): Array<{ outlet: string; hash: number; title: number }>;
  /** Document counts over the indexed articles of these shingles (stock phrases are judged on the whole index). */
  shingleCounts(hashes: Uint32Array): ShingleCounts;
  /** The shingles counted in at least `minCount` indexed articles, ascending (the index's stock phrases, one pass over the counts). */
  shinglesCountedAtLeast(minCount: number): Uint32Array;
  /**
   * Start writing the shingle counts file with a night's changes (+ for articles added or changed, − for the
   * versions they replace), in a worker thread; resolves to its name and the seconds it took. The file is
   * named, and so used, only by the night's commit: known once the night is shingled, it is written while
   * the rest of the night runs.
   */
  mergeShingleCounts(deltas: ShingleDeltas, tag: string): Promise<{ file: string; seconds: number }>;
  /**
   * Start appending a night's records (and their lines) to a new segment, a slice at a time with the event
   * loop let in between, so the caller's other work (waiting on verification's workers) goes on; resolves
   * once all are written and synced. The segment is named, and so used, only by the night's commit. Records
   * are final once a night is analysed and shingled; written here, they are not the start of the commit.
   */
  appendRecords(nightId: string, docs: Iterable<Pick<StoredDoc, 'article' | 'analysis' | 'paragraphSets'>>): Promise<NightRecords>;
  /** Everything a night adds or changes, in one transaction; resolves to the seconds each part took. */
  commitNight(night: {
    /** The night's counts file, from mergeShingleCounts. */
    countsFile: Promise<{ file: string; seconds: number }>;
    /** The night's records, from appendRecords: record i is docs' i-th. */
    records: Promise<NightRecords>;
    nightId: string;
    /** Iterated once, in the order appendRecords was given their records. */
    docs: Iterable<NightDoc>;
    memberships: Array<{ id: string; clusterId: string | null; storyId: string | null }>;
    outletParagraphs: OutletParagraphRows;
    summary: Record<string, unknown>;
  }): Promise<Record<string, number>>;
  /** Earliest night each id was first stored in (absent for new ids). */
  firstNights(ids: string[]): Map<string, string>;
  /** Remove articles published before `olderThanMs`, uncounting their shingles. */
  gc(olderThanMs: number): number;
  stats(): StoreStats;
  close(): void;
}
