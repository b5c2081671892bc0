/**
 * The pipeline: ingest → analyse (segment, boilerplate, normalize) → learn
 * outlet templates → shingle → sign → LSH candidates (articles and passages)
 * → verify → cluster → provenance → outputs. Each stage is timed and counted
 * for run.json; the stages themselves know nothing of files or terminals.
 */
import path from 'node:path';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { ingest, type Article, type Rejection } from './ingest/index.js';
import { inputBytes } from './ingest/read.js';
import type { StoredLine } from './ingest/validate.js';
import { fieldsOfLine, Spill, SpillReader } from './ingest/spill.js';
import { isCanonicalJsonString, rawStringField } from './ingest/rawjson.js';
import type { ArticleAnalysis } from './text/analyze.js';
import { contentHashes, isContent, paraEnd, paragraphCount, paraHash, paraKind, paraStart, paraTokens, setParaKind, unpackParagraphs, type Paragraphs } from './text/paragraphs.js';
import { TemplateProfile } from './text/boilerplate.js';
import { HashSet32 } from './sketch/hash.js';
import { estimateJaccard, packSets } from './sketch/minhash.js';
import { countSets, countSetsSplit, deltasOf, ShingleCounts } from './sketch/counts.js';
import { SetArena, unionAll } from './sketch/shingle.js';
import { bandKey, candidatePairs, chooseBands, packPair, unpackPair, type BandParams } from './sketch/lsh.js';
import type { IndexStore, NightDoc, NightRecords, OutletParagraphRows, StoredDoc } from './store/index.js';
import { SqliteStore } from './store/sqlite.js';
import { KeyRows } from './store/keyorder.js';
import { acquireLock } from './store/lock.js';
import { contentSets, contentShingles, sketchDocuments, sketchWith, type DocSketch } from './sketch/index.js';
import { WorkerPool, workerCount } from './util/workers.js';
import { fixMallocThreshold, mallocThreshold, setMallocThreshold } from './util/malloc.js';
import { timer } from './util/clock.js';
import { collectGarbage } from './util/gc.js';
import { optimizerBudget, tuneOptimizer } from './util/jit.js';
import { unpackJudged, type AnalyzedText } from './util/tasks.js';
import { verifyAll } from './match/parallel.js';
import { mayLink, type VerifiedPair, type VerifyOptions } from './match/verify.js';
import { clusterWithoutChaining, type Cluster } from './match/cluster.js';
import { clusterProvenance, writeProvenanceJson, orderFacts, PairLookup, originOrder, round, type ClusterProvenance } from './provenance/index.js';
import { appendKeys, writeJson, writeJsonl, writeLines, writeText, type Line, type TextPart } from './report/writers.js';
import { LineBytes } from './report/line-bytes.js';
import { scriptSafe, scriptSafeBytes, type ReportIndex } from './report/html.js';
import { Logger } from './util/log.js';

export interface RunOptions {
  inputs: string[];
  outputDir: string;
  /** The persistent index for nightly runs (absent: a stand-alone run). */
  state?: { dir: string; windowDays: number };
  config: Config;
  logger: Logger;
  /** Called after the JSON outputs are written (with report.json's content); the HTML report hooks in here. */
  afterOutputs?: (result: RunResult, report: ReportIndex) => Promise<void>;
}

/** Full records on demand: tonight's from the night's kept lines, earlier nights' from the loaded documents. */
export class ArticleTexts {
  constructor(
    private readonly articles: Article[],
    private readonly spill: Spill,
    /** Reads earlier nights' lines from the index (articles loaded from one). */
    private readonly index?: Pick<IndexStore, 'readLine' | 'readLineAsync'>,
  ) {}

  fields(i: number): Record<string, unknown> {
    const body = this.articles[i].body;
    if ('fields' in body) return body.fields;
    if ('line' in body) return fieldsOfLine(body.line);
    if ('stored' in body) return fieldsOfLine(this.stored(body.stored, true));
    return this.spill.fields(body.spill);
  }

  /** The record's JSON line as it was read, or null when only its fields are at hand. */
  line(i: number): Buffer | null {
    const body = this.articles[i].body;
    if ('spill' in body) return this.spill.line(body.spill);
    if ('line' in body) return Buffer.from(body.line.buffer, body.line.byteOffset, body.line.byteLength);
    if ('stored' in body) return this.stored(body.stored);
    return null;
  }

  /** Where peekLine reads stored lines (grown as needed): report.json reads back some 60k of them. */
  private scratch = Buffer.alloc(0);

  private stored(place: StoredLine, peek = false): Buffer {
    if (!this.index) throw new Error(`no index to read ${place.file} from`);
    if (!peek) return this.index.readLine(place);
    if (this.scratch.length < place.bytes) this.scratch = Buffer.allocUnsafeSlow(Math.max(place.bytes, 1 << 16));
    return this.index.readLine(place, this.scratch);
  }

  /** The same line for a look that ends before the next call (see Spill.peek), or before `reader`'s next read. */
  peekLine(i: number, reader?: SpillReader): Buffer | null {
    const body = this.articles[i].body;
    if ('spill' in body) return this.spill.peek(body.spill, reader);
    if ('stored' in body) return this.stored(body.stored, true);
    return this.line(i);
  }

  /**
   * The texts of these articles, in this order, as their JSON lines encode them (quotes included) when that is
   * exactly JSON.stringify's encoding, else null: each a view to use before the next is asked for. Earlier
   * nights' lines are read ahead, up to `ahead` at once on libuv's threads, while the caller works on the
   * ones before (report.json reads back some 60k of them; one read at a time, the main thread waited on
   * the disk for each), into `ahead` buffers used in turn.
   */
  async *rawTexts(order: number[], ahead = 64): AsyncGenerator<Uint8Array | null> {
    const reads = new Map<number, Promise<Buffer>>();
    const buffers: Buffer[] = [];
    // Tonight's lines from the spill file are peeked through a read-ahead block of this generator's own: a
    // text it yields stays valid while its consumer awaits, whatever other writers peek meanwhile (the
    // feed, through the spill's own block, had overwritten report.json's texts on nights that spilled).
    const reader = new SpillReader();
    let started = 0;
    try {
      for (let k = 0; k < order.length; k++) {
        // Position k + ahead - 1 takes the buffer of k - 1, which the caller is done with.
        for (; started < order.length && started < k + ahead; started++) {
          const body = this.articles[order[started]].body;
          if (!('stored' in body) || !this.index) continue;
          const slot = started % ahead;
          if (!buffers[slot] || buffers[slot].length < body.stored.bytes) buffers[slot] = Buffer.allocUnsafeSlow(Math.max(body.stored.bytes, 1 << 16));
          const read = this.index.readLineAsync(body.stored, buffers[slot]);
          // Awaited in turn below; one that fails after the caller stopped is not an unhandled rejection.
          read.catch(() => undefined);
          reads.set(started, read);
        }
        const read = reads.get(k);
        reads.delete(k);
        yield rawTextOf(read ? await read : this.peekLine(order[k], reader));
      }
    } finally {
      // Reads still under way write into the buffers: wait for them before the buffers can go.
      await Promise.allSettled(reads.values());
    }
  }

  text(i: number): string {
    const text = this.fields(i).text;
    return typeof text === 'string' ? text : '';
  }

  close(): void {
    this.spill.close();
  }
}

export interface StageStat {
  stage: string;
  seconds: number;
  items: number;
  per_second: number;
  /** Resident memory when the stage ended. */
  rss_mb?: number;
  /** Of which the main thread's JavaScript heap in use, and typed-array buffers (outside that heap). */
  heap_mb?: number;
  heap_total_mb?: number;
  external_mb?: number;
  buffers_mb?: number;
  /** Seconds of the stage's parts (the history's and the index commit's). */
  parts?: Record<string, number>;
}

export interface RunResult {
  articles: Article[];
  analyses: ArticleAnalysis[];
  /** Emptied by `run` once detection is done: neither the outputs nor the commit need them. */
  sketches: DocSketch[];
  rejected: Rejection[];
  pairs: VerifiedPair[];
  nearDuplicateClusters: Cluster[];
  storyClusters: Cluster[];
  /** Of the clusters with one of tonight's articles (the others are committed, not reported). */
  provenance: ClusterProvenance[];
  summary: Record<string, unknown>;
  outputDir: string;
  /** Every article's full fields, read back from the night's spill file (or memory) when an output needs them. */
  texts: ArticleTexts;
  /** Tonight's articles are articles[0, tonight); the rest were loaded from the index. */
  night: {
    tonight: number;
    /** Earlier articles that matched tonight's bands (or a template learned tonight), and those kept with their stories. */
    historyMatched: number;
    historyLoaded: number;
    tonightBands: NightBands;
    tonightParagraphs: OutletParagraphRows;
    tonightSigs: Uint32Array;
    /** Tonight's records, being appended to the night's segment since the shingle stage's end (with an index). */
    records?: Promise<NightRecords>;
    textHashes: string[];
    /** The index's new shingle counts file, being written since the night was shingled (with an index). */
    countsFile?: Promise<{ file: string; seconds: number }>;
  };
}

export function packageVersion(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const p of [path.join(here, '..', 'package.json'), path.join(here, '..', '..', 'package.json')]) {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      /* try the next layout (src/ under ts, dist/src/ once built) */
    }
  }
  return 'unknown';
}

/**
 * MinHash signatures of the sets, back to back (set i's at [i·k, (i+1)·k)), after the signatures `after`
 * (earlier sets' already signed), signed by the pool in packs. Packs are made as workers are free to take
 * them (a few per worker in hand), and each pack's signatures are copied into place as they come: no second
 * copy of all the sets, nor of all the signatures, at once.
 */
async function signAll(pool: WorkerPool, sets: Uint32Array[], permutations: number, seed: number, onProgress?: (done: number, total: number) => void, after: Uint32Array = new Uint32Array(0)): Promise<Uint32Array> {
  const out = new Uint32Array(after.length + sets.length * permutations);
  out.set(after);
  const at = after.length;
  let done = 0;
  const inFlight = new Set<Promise<void>>();
  for (const p of packSets(sets)) {
    const signing = pool.run('sign', [p], { permutations, seed }, [p.data.buffer as ArrayBuffer, p.ends.buffer as ArrayBuffer]).then(([sigs]) => {
      out.set(sigs, at + p.first * permutations);
      done += p.ends.length;
      onProgress?.(done, sets.length);
    });
    inFlight.add(signing);
    // A failed pack fails the call below (awaited there), not as an unhandled rejection meanwhile.
    signing.then(() => inFlight.delete(signing)).catch(() => undefined);
    if (inFlight.size >= 4 * pool.size) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return out;
}

/** Earlier nights, for a run against the persistent index. */
/**
 * countSets(sets, minCount) with the sorting and counting done by the pool's workers, a range of the hash
 * space each (the main thread only splits the values by range): 0.19 s of this thread on the 7 dev days.
 */
async function countOnPool(pool: WorkerPool, sets: Uint32Array[], minCount: number): Promise<ShingleCounts> {
  const parts = pool.size > 1 ? pool.size : 1;
  return countSetsSplit(sets, minCount, parts, (ranges, m) => Promise.all(ranges.map((r) => pool.run('count', [r], { minCount: m }, [r.buffer as ArrayBuffer]).then(([c]) => new ShingleCounts(c.hashes, c.counts)))));
}

export interface HistoryOptions {
  store: IndexStore;
  windowDays: number;
}

/**
 * Tonight's band keys, what later nights look up in the index: article t's are docKeys(t) and
 * passageKeys(t), views into two packed arrays (two arrays of their own for each of 100k articles had been
 * 200k buffers, views and objects held to the commit).
 */
export class NightBands {
  constructor(
    private readonly doc: Uint32Array,
    private readonly docAt: Uint32Array,
    private readonly passage: Uint32Array,
    private readonly passageAt: Uint32Array,
  ) {}

  docKeys(t: number): Uint32Array {
    return this.doc.subarray(this.docAt[t], this.docAt[t + 1]);
  }

  passageKeys(t: number): Uint32Array {
    return this.passage.subarray(this.passageAt[t], this.passageAt[t + 1]);
  }
}

/**
 * The band keys of articles [0, count): an article's from its signature in `docSigs` (none for an empty
 * article), a passage's from its signature in `passageSigs`, passage x belonging to article owner[x] (in
 * article order, as passageSets lists them).
 */
export function nightBands(count: number, hasText: (i: number) => boolean, docSigs: Uint32Array, k: number, docBands: BandParams, owner: number[], passageSigs: Uint32Array, kp: number, passageBands: BandParams): NightBands {
  const docAt = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) docAt[i + 1] = docAt[i] + (hasText(i) ? docBands.bands : 0);
  const doc = new Uint32Array(docAt[count]);
  for (let i = 0; i < count; i++) if (docAt[i + 1] > docAt[i]) for (let b = 0; b < docBands.bands; b++) doc[docAt[i] + b] = bandKey(docSigs, i * k, b, docBands.rows);
  const passageAt = new Uint32Array(count + 1);
  for (const o of owner) if (o < count) passageAt[o + 1] += passageBands.bands;
  for (let i = 0; i < count; i++) passageAt[i + 1] += passageAt[i];
  const passage = new Uint32Array(passageAt[count]);
  let w = 0;
  owner.forEach((o, x) => {
    if (o >= count) return;
    for (let b = 0; b < passageBands.bands; b++) passage[w++] = bandKey(passageSigs, x * kp, b, passageBands.rows);
  });
  return new NightBands(doc, docAt, passage, passageAt);
}

/** A copy of the sketch carved from `arena`. */
function copySketch(s: DocSketch, arena: SetArena): DocSketch {
  return { shingles: arena.copy(s.shingles), paragraphs: s.paragraphs.copy(arena) };
}

/** Rows (paragraph hash, outlet, title hash) of article i's distinct content paragraphs `hashes[i]`, packed. */
function packOutletParagraphs(articles: Article[], analyses: ArticleAnalysis[], hashes: Uint32Array[]): OutletParagraphRows {
  const outlets: string[] = [];
  const outletIndex = new Map<string, number>();
  const rows = hashes.reduce((n, h) => n + h.length, 0);
  const out = { outlets, outlet: new Uint32Array(rows), hash: new Uint32Array(rows), title: new Uint32Array(rows) };
  let w = 0;
  hashes.forEach((hs, i) => {
    const name = articles[i].outlet;
    let o = outletIndex.get(name);
    if (o === undefined) outletIndex.set(name, (o = outlets.push(name) - 1));
    out.outlet.fill(o, w, w + hs.length);
    out.title.fill(analyses[i].titleHash, w, w + hs.length);
    out.hash.set(hs, w);
    w += hs.length;
  });
  return out;
}

/**
 * Earlier articles read, judged and sketched at a time: about 70 MB of records at some 2 kB a record (their
 * lines are kept apart, in the segments' lines files).
 */
const LOAD_BATCH = 32_768;

/**
 * Copies of what loaded articles still need from their records (paragraphs, number keys; the input line too when
 * it was read in view: loadBatches leaves it in the index instead), packed into fresh 4 MB slabs; their
 * paragraph sets (sketched already) are let go. Records are read as views into shared slabs, so one kept
 * article would otherwise keep its whole slab, and the other records in it.
 */
export function detachRecords(docs: StoredDoc[]): void {
  const SLAB = 4 << 20;
  let slab = new ArrayBuffer(0);
  let used = 0;
  // `bytes` bytes at a 4-byte boundary of the current slab (a new one when it is full).
  const take = (bytes: number): number => {
    const room = (bytes + 3) & ~3;
    if (used + room > slab.byteLength) {
      slab = new ArrayBuffer(Math.max(SLAB, room));
      used = 0;
    }
    used += room;
    return used - room;
  };
  for (const d of docs) {
    const body = d.article.body;
    if ('line' in body) {
      const at = take(body.line.length);
      const line = Buffer.from(slab, at, body.line.length);
      line.set(body.line);
      d.article.body = { line };
    }
    const { paragraphs, numberKeys, numberStart } = d.analysis;
    // (take first: it may start a new slab.)
    const parasAt = take(4 * paragraphs.length);
    const paras = new Uint32Array(slab, parasAt, paragraphs.length);
    paras.set(paragraphs);
    const keysAt = take(4 * numberKeys.length);
    const keys = new Uint32Array(slab, keysAt, numberKeys.length);
    keys.set(numberKeys);
    const startsAt = take(4 * numberStart.length);
    const starts = new Int32Array(slab, startsAt, numberStart.length);
    starts.set(numberStart);
    d.analysis = { ...d.analysis, paragraphs: paras, numberKeys: keys, numberStart: starts };
    d.paragraphSets = [];
  }
}

/** The whole detection, without writing anything: used by `run` and by `eval`. */
export async function detect(inputs: string[], cfg: Config, logger: Logger, history?: HistoryOptions): Promise<Omit<RunResult, 'outputDir'>> {
  const stages: StageStat[] = [];
  const stage = (name: string, seconds: number, items: number, message: string, parts?: Record<string, number>): void => {
    const mem = process.memoryUsage();
    const mb = (bytes: number): number => Math.round(bytes / 1048576);
    stages.push({ stage: name, seconds: round(seconds), items, per_second: seconds > 0 ? Math.round(items / seconds) : items, rss_mb: mb(mem.rss), heap_mb: mb(mem.heapUsed), heap_total_mb: mb(mem.heapTotal), external_mb: mb(mem.external), buffers_mb: mb(mem.arrayBuffers), ...(parts ? { parts } : {}) });
    logger.stage(name, `${message} in ${seconds.toFixed(2)}s`);
  };
  const total = timer();

  // Ingest and analysis together: the main thread reads and cuts lines; batches of raw lines go to the
  // workers, which parse, validate and analyse them (paragraphs, tokens, rule-based boilerplate, quotations,
  // credits, shingles) while the rest is still being read.
  let t = timer();
  const pool = new WorkerPool(workerCount(cfg.workers));
  const aopts = { normalize: cfg.normalize, maxParagraphChars: cfg.segment.max_paragraph_chars, boilerplateRules: cfg.boilerplate.rules };
  const analyzeShared = { options: aopts, seed: cfg.seed, shingleSize: cfg.shingle.size };
  let analyzed = 0;
  const progress = <T>(n: number, r: T): T => {
    analyzed += n;
    logger.progress('analyze', analyzed, analyzed);
    return r;
  };
  // Content hashes tell an update from a re-run; only a run with an index needs them.
  const limits = { minArabicShare: cfg.ingest.min_arabic_share, maxRecordBytes: cfg.ingest.max_record_bytes, contentHash: history !== undefined };
  const spill = new Spill(cfg.ingest.in_memory_mb * 1_048_576);
  try {
    const ing = await ingest<AnalyzedText>(
      inputs,
      { ...limits, maxFileBytes: cfg.ingest.max_file_bytes, fileConcurrency: cfg.ingest.file_concurrency, maxInFlight: 4 * pool.size },
      {
        // Workers parse, validate, analyse and shingle each batch of lines; the main thread only reads.
        lines: (batch) => pool.run('ingest', [batch], { ...analyzeShared, limits }, [batch.bytes.buffer as ArrayBuffer, batch.ends.buffer as ArrayBuffer]).then((r) => progress(batch.ends.length, unpackJudged(r[0]))),
        extraFor: (v) => pool.run('analyze', [{ title: v.article.title, text: v.text }], analyzeShared).then((r) => progress(1, r[0])),
      },
      spill,
      (d, n) => logger.progress('ingest', d, n),
    );
    const { articles, rejected } = ing;
    stage('ingest+analyze', t(), ing.read, `${ing.files} files, ${ing.read} records read: ${articles.length} accepted and analysed, ${rejected.length} rejected (${pool.size} workers)`);
    // The workers stay for the signatures: starting new ones costs more than signing.
    const results = ing.extras;
    const analyses: ArticleAnalysis[] = results.map((r) => r.analysis);

    // Learn outlet templates, then flag them.
    t = timer();
    const profile = new TemplateProfile();
    // Earlier nights' paragraphs count toward the templates of tonight's outlets. A decision reads only the rows
    // of its own paragraph, so only the rows of paragraphs asked about are read (tonight's here, the loaded
    // articles' later), each hash once.
    const tonightOutlets = new Set(articles.map((a) => a.outlet));
    let askedHashes = new HashSet32();
    const learnFromHistory = (paragraphLists: Iterable<ArticleAnalysis['paragraphs']>): void => {
      if (!history) return;
      const fresh: number[] = [];
      for (const ps of paragraphLists) {
        for (let p = 0; p < paragraphCount(ps); p++) {
          const h = paraHash(ps, p);
          if (!isContent(ps, p) || askedHashes.has(h)) continue;
          askedHashes.add(h);
          fresh.push(h);
        }
      }
      for (const r of history.store.outletParagraphs(Uint32Array.from(fresh), tonightOutlets)) profile.addParagraph(r.outlet, r.title, r.hash);
    };
    learnFromHistory(analyses.map((a) => a.paragraphs));
    // What the index keeps for later nights' templates (nothing to keep without one): each article's distinct
    // content paragraphs, with its outlet and title.
    const distinctHashes: Uint32Array[] = [];
    for (let i = 0; i < articles.length; i++) {
      const a = analyses[i];
      const hashes = contentHashes(a.paragraphs);
      profile.add(articles[i].outlet, a.titleHash, hashes);
      if (history) distinctHashes.push(Uint32Array.from(new Set(hashes)));
    }
    const tonightParagraphs = packOutletParagraphs(articles, analyses, distinctHashes);
    distinctHashes.length = 0;
    const boilerplateCounts: Record<string, number> = {};
    let paragraphsTotal = 0;
    // Paragraphs of outlet templates are flagged (tonight's articles here, loaded ones as they are read).
    const flagTemplates = (outlet: string, ps: Paragraphs): void => {
      for (let p = 0; p < paragraphCount(ps); p++) {
        if (isContent(ps, p) && profile.isTemplate(outlet, paraHash(ps, p), paraTokens(ps, p), cfg.boilerplate.outlet_template_min_count, cfg.boilerplate.cross_outlet_min_count, cfg.passages.min_tokens)) setParaKind(ps, p, 'template');
      }
    };
    for (let i = 0; i < articles.length; i++) {
      const ps = analyses[i].paragraphs;
      flagTemplates(articles[i].outlet, ps);
      for (let p = 0; p < paragraphCount(ps); p++) {
        paragraphsTotal++;
        const kind = paraKind(ps, p);
        if (kind !== null) boilerplateCounts[kind] = (boilerplateCounts[kind] ?? 0) + 1;
      }
    }
    const boilerplateTotal = Object.values(boilerplateCounts).reduce((x, y) => x + y, 0);
    stage('boilerplate', t(), paragraphsTotal, `${boilerplateTotal} of ${paragraphsTotal} paragraphs flagged`);

    // Shingle; stock phrases are shingles in more articles than one story is copied to.
    t = timer();
    const outlets = new Set(articles.map((a) => a.outlet)).size;
    const commonMinDocs = Math.max(cfg.passages.common_shingle_min_docs, 2 * outlets);
    // The workers shingled every paragraph the rules kept; drop those that turned out to be outlet templates.
    const paraSets = results.map((r) => r.paragraphSets);
    const unions = results.map((r) => r.shingles);
    const unionArena = new SetArena();
    for (let i = 0; i < results.length; i++) {
      const content = contentSets(results[i]);
      if (content.length === paraSets[i].length) continue;
      paraSets[i] = content;
      unions[i] = unionAll(content.map((p) => p.shingles), unionArena);
    }
    results.length = 0;
    // With the index, stock phrases are counted over every indexed article plus tonight's new or changed ones
    // (an article already indexed unchanged is counted once, so a re-run judges exactly as the first run did).
    const textHashes = history ? articles.map((a) => a.contentHash as string) : [];
    const prior = history ? (hashes: Uint32Array): ShingleCounts => history.store.shingleCounts(hashes) : undefined;
    const known = history ? history.store.textHashes(articles.map((a) => a.id)) : new Map<string, string>();
    const counted = history ? Uint8Array.from(articles, (a, i) => (known.get(a.id) === textHashes[i] ? 0 : 1)) : undefined;
    // The sketches copy every set, those without stock phrases too: a batch's buffer of input sets would
    // otherwise stay alive as long as one of its sets is viewed (at 100k with an index, tonight's
    // sets had taken 534 MB of buffers to verification for 275 MB of sets). The input sets go once
    // sketched, or, with an index, once written to tonight's records (below).
    const { sketches, common, stored } = sketchDocuments(paraSets, commonMinDocs, prior, counted, unions, await countOnPool(pool, unions, 2));
    // This function's locals live until it returns (it awaits): drop the sets the sketches replaced. The
    // index stores tonight's sets as they were before stock phrases were dropped, so a run with one keeps them.
    unions.length = 0;
    if (!history) paraSets.length = 0;
    // The index's new counts file (tonight's counts in, the replaced versions of changed articles out) is
    // known now: a worker writes it while the night goes on (a 380 MB file at 1M indexed: about 2 s in that worker,
    // which had been part of the commit at the night's end).
    let countsFile: Promise<{ file: string; seconds: number }> | undefined;
    if (history) {
      const replaced = articles.filter((a, i) => (counted as Uint8Array)[i] === 1 && known.has(a.id)).map((a) => a.id);
      countsFile = history.store.mergeShingleCounts(deltasOf(stored, countSets(history.store.load(replaced).map(contentShingles))), nightIdOf(inputs));
      // Its failure is reported where the commit awaits it (not as an unhandled rejection meanwhile).
      countsFile.catch(() => undefined);
    }
    // Tonight's records are final (analysed, judged, shingled): they go to the night's segment now, a slice at
    // a time while the workers sign, instead of holding up the commit at the night's end. Their paragraph
    // sets (kept for the records) go once all are copied into the segment's write chunks (the writes to disk
    // and their fsync go on behind): 150 MB at 100k, which had stayed through the history's load and the
    // passages' index, where the night peaks.
    const tonightCount = articles.length;
    const texts = new ArticleTexts(articles, spill, history?.store);
    let records: Promise<NightRecords> | undefined;
    let recordsGiven: Promise<unknown> = Promise.resolve();
    if (history) {
      let allGiven = (): void => undefined;
      const given = new Promise<void>((resolve) => (allGiven = resolve));
      const tonightRecords = function* (): Generator<Pick<StoredDoc, 'article' | 'analysis' | 'paragraphSets'>> {
        for (let i = 0; i < tonightCount; i++) {
          const { index: _index, contentHash: _hash, ...meta } = articles[i];
          void _index;
          void _hash;
          // The line as read: the index keeps the bytes, not a parsed and re-serialized object. A peek is
          // enough: the store copies each record into its segment before it asks for the next one.
          const line = texts.peekLine(i);
          yield { article: { ...meta, body: line ? { line } : { fields: texts.fields(i) } }, analysis: analyses[i], paragraphSets: paraSets[i] };
        }
        paraSets.length = 0;
        allGiven();
      };
      records = history.store.appendRecords(nightIdOf(inputs), tonightRecords());
      // Its failure is reported where the commit awaits it (not as an unhandled rejection meanwhile).
      records.catch(() => undefined);
      // All records given, or the writing stopped before (it failed).
      recordsGiven = Promise.race([given, records.catch(() => undefined)]);
    }
    stage('shingle', t(), articles.length, `${sketches.reduce((s, x) => s + x.shingles.length, 0)} shingles, ${common.size} stock phrases dropped`);

    // Sign the articles and their passages.
    t = timer();
    const signing = signAll(pool, sketches.map((s) => s.shingles), cfg.minhash.permutations, cfg.seed, (d, n) => logger.progress('signatures', d, n));
    // The bands are chosen (some 40 ms of numeric integration) while the workers sign.
    const k = cfg.minhash.permutations;
    const docBands: BandParams = chooseBands(cfg.lsh.threshold, k, cfg.lsh.false_positive_weight, cfg.lsh.false_negative_weight);
    const passageBands: BandParams = chooseBands(cfg.passages.threshold, cfg.passages.permutations, cfg.lsh.false_positive_weight, cfg.lsh.false_negative_weight);
    let docSigs = await signing;
    // Candidate pairs of articles from their signatures (all the night's: tonight's and any loaded earlier).
    const articleCandidates = (sigs: Uint32Array): Float64Array =>
      candidatePairs(sigs, articles.length, k, docBands, cfg.lsh.max_bucket_size, Uint8Array.from(sketches, (s) => (s.shingles.length === 0 ? 1 : 0)));
    const passageSeed = (cfg.seed ^ 0x70617373) >>> 0;
    const passageSets = (from: number, to: number): { owner: number[]; sets: Uint32Array[] } => {
      const owner: number[] = [];
      const sets: Uint32Array[] = [];
      for (let i = from; i < to; i++) {
        const ps = sketches[i].paragraphs;
        for (let q = 0; q < ps.length; q++) {
          if (paraTokens(analyses[i].paragraphs, ps.para(q)) < cfg.passages.min_tokens) continue;
          owner.push(i);
          sets.push(ps.set(q));
        }
      }
      return { owner, sets };
    };
    const tonightPassages = cfg.passages.enabled ? passageSets(0, tonightCount) : { owner: [], sets: [] };
    const passageSigning = cfg.passages.enabled ? signAll(pool, tonightPassages.sets, cfg.passages.permutations, passageSeed) : Promise.resolve(new Uint32Array(0));
    // Without an index the articles' LSH needs nothing more: it runs here, while the workers sign the passages
    // (with one, it waits for the earlier articles; see the lsh stage).
    let articleLsh: { candidates: Float64Array; seconds: number } | undefined;
    if (!history) {
      passageSigning.catch(() => undefined);
      const tl = timer();
      articleLsh = { candidates: articleCandidates(docSigs), seconds: tl() };
    }
    let passageSigs = await passageSigning;
    // The records' last slices, before the history loads (its end and the passages' index are the night's
    // peak): the main thread's work there would otherwise leave them a slice now and then, and the input
    // sets they hold alive to the verification.
    await recordsGiven;
    stage('signatures', t(), articles.length, `${articles.length} article signatures of ${k} permutations, ${tonightPassages.sets.length} passage signatures of ${cfg.passages.permutations}`);
    // Signed: the passage index needs their owners and signatures only (600k views of a 100k night let go).
    tonightPassages.sets.length = 0;
    // Band keys of tonight's articles and passages: what later nights look up in the index.
    const tonightBands = nightBands(history ? tonightCount : 0, (i) => sketches[i].shingles.length > 0, docSigs, k, docBands, tonightPassages.owner, passageSigs, cfg.passages.permutations, passageBands);

    const vopts: VerifyOptions = {
      jaccard: cfg.verify.jaccard,
      containment: cfg.verify.containment,
      minShingles: cfg.verify.min_shingles,
      minFactAgreement: cfg.verify.min_fact_agreement,
      maxLeadShare: cfg.verify.max_unshared_lead,
      passageMinSimilarity: cfg.passages.min_similarity,
      passageMinShared: cfg.passages.min_shared_shingles,
      passagesEnabled: cfg.passages.enabled,
    };

    // Earlier nights: stored articles that share a band with tonight, within the window, and the rest of their stories.
    let historyLoaded = 0;
    let historyMatched = 0;
    // Seconds of the history stage's parts (run.json).
    const historyParts = { match: 0, load: 0, stock_phrases: 0, sign: 0 };
    if (history) {
      t = timer();
      const tonightIds = new Set(articles.map((a) => a.id));
      // The window around tonight's dates (a loop, not Math.min(...): a night can hold 100k articles).
      let first = Infinity;
      let last = -Infinity;
      for (const a of articles) {
        if (Number.isNaN(a.time)) continue;
        first = Math.min(first, a.time);
        last = Math.max(last, a.time);
      }
      const day = 86_400_000;
      const since = (Number.isFinite(first) ? first : Date.now()) - history.windowDays * day;
      const until = (Number.isFinite(last) ? last : Date.now()) + history.windowDays * day;
      // Article-band matches are checked against the stored signature first: with few rows per band, chance
      // collisions are common, and an estimate costs far less than loading and verifying the article.
      // (band key, tonight's article) rows, typed: a large night has millions (some 128 MB in all at 100k,
      // passed without a local name, so that they go once matched: this function's locals live to its end).
      const bandRows = (kind: 'docKeys' | 'passageKeys'): KeyRows => {
        const rows = new KeyRows();
        for (let t = 0; t < tonightCount; t++) for (const key of tonightBands[kind](t)) rows.push(key, t);
        return rows;
      };
      const minEstimate = cfg.lsh.threshold / 2;
      const matchedSet = new Set<string>();
      for (const m of history.store.matchArticleBands(bandRows('docKeys'), since, until, tonightIds)) {
        if (estimateJaccard(m.signature, docSigs.subarray(m.t * k, (m.t + 1) * k)) >= minEstimate) matchedSet.add(m.id);
      }
      // Passage bands, whose few rows collide often: a stored article found only through them is kept below
      // only if it could link to a tonight's article that shares the band.
      const byPassage = history.store.matchPassageBands(bandRows('passageKeys'), since, until, tonightIds);
      const otherwise = new Set(matchedSet);
      for (const m of byPassage) matchedSet.add(m.id);
      // Articles that shared a paragraph which only tonight turned out to be an outlet template: their links may go.
      const newTemplates = new Map<string, number[]>();
      for (let i = 0; i < tonightCount; i++) {
        const ps = analyses[i].paragraphs;
        for (let p = 0; p < paragraphCount(ps); p++) {
          if (paraKind(ps, p) !== 'template') continue;
          const list = newTemplates.get(articles[i].outlet) ?? [];
          list.push(paraHash(ps, p));
          newTemplates.set(articles[i].outlet, list);
        }
      }
      for (const [outlet, hashes] of newTemplates) {
        for (const id of history.store.withParagraphs(outlet, hashes, tonightIds)) {
          matchedSet.add(id);
          otherwise.add(id);
        }
      }
      const matched = [...matchedSet].sort(cmp);
      historyParts.match = round(t());

      // Earlier articles are judged by tonight's knowledge: templates learned since, and stock phrases (tonight's,
      // and the shingles the index counts often enough, read in one pass over its counts: under 120k at 1M
      // indexed; one set for all, as dropping only removes what an article has). Their sketches
      // are carved from one shared arena, as tonight's: verification in the workers reads them there (no copy
      // into shared memory later), and no set gets a backing store of its own (allocating one per set cost
      // ~15 s for 190k articles and their 1.3M paragraph sets).
      const t0 = t();
      const historyCommon = new HashSet32(common);
      for (const h of history.store.shinglesCountedAtLeast(commonMinDocs)) historyCommon.add(h);
      historyParts.stock_phrases += t() - t0;
      const loadedSketchArena = new SetArena(1 << 18, true);
      const sketchLoaded = (docs: StoredDoc[], into: SetArena): DocSketch[] => {
        const t0 = t();
        learnFromHistory(docs.map((d) => d.analysis.paragraphs));
        for (const d of docs) flagTemplates(d.article.outlet, d.analysis.paragraphs);
        const t1 = t();
        historyParts.load += t1 - t0;
        const arena = new SetArena();
        const out = docs.map((d) => {
          const sets = contentSets(d);
          return sketchWith(sets, historyCommon, unionAll(sets.map((p) => p.shingles), arena), into);
        });
        historyParts.stock_phrases += t() - t1;
        return out;
      };
      // Read, judged and sketched a batch at a time, each batch's records let go before the next is read: a
      // night loads some 100k earlier articles, whose records (1.3 GB at 1M indexed) were all held at once.
      // With `keep`, a batch is sketched apart and only the articles it keeps stay (their sketches moved to the
      // shared arena); the rest go with their batch. Without it, every article stays, sketched in place.
      const loadSketched = (ids: string[], keep?: (d: StoredDoc, sketch: DocSketch) => boolean): Array<{ d: StoredDoc; sketch: DocSketch }> => {
        const out: Array<{ d: StoredDoc; sketch: DocSketch }> = [];
        const batches = history.store.loadBatches(ids, LOAD_BATCH);
        for (;;) {
          const t0 = t();
          const next = batches.next();
          historyParts.load += t() - t0;
          if (next.done) break;
          const batchSketches = sketchLoaded(next.value, keep ? new SetArena() : loadedSketchArena);
          const kept: StoredDoc[] = [];
          next.value.forEach((d, i) => {
            if (keep && !keep(d, batchSketches[i])) return;
            kept.push(d);
            out.push({ d, sketch: keep ? copySketch(batchSketches[i], loadedSketchArena) : batchSketches[i] });
          });
          detachRecords(kept);
        }
        return out;
      };
      // Found only through a passage band: kept when it could link to a tonight's article under that band
      // (the same test verification starts with, on the same sets), or when its story is kept. Most of these
      // collisions are short paragraphs sharing a few shingles; without this, a night loaded about twice the
      // articles it links to, with their stories. They are read first, each batch judged as it is read, so that
      // only the kept are held (night 11 of the scale run: peak 2.92 -> 2.81 GB, outputs byte-identical).
      const sharedBands = new Map<string, number[]>();
      for (const m of byPassage) {
        if (otherwise.has(m.id)) continue;
        const list = sharedBands.get(m.id);
        if (list) list.push(m.t);
        else sharedBands.set(m.id, [m.t]);
      }
      byPassage.length = 0;
      const byPassageOnly = matched.filter((id) => sharedBands.has(id));
      const linked = loadSketched(byPassageOnly, (d, sketch) => (sharedBands.get(d.article.id) as number[]).some((x) => mayLink(sketches[x].shingles, sketch.shingles, vopts)));
      sharedBands.clear();
      // Then the rest, once: the other matched articles and every member of the kept ones' stories (a passage
      // match not kept above is read again when its story is kept).
      const linkedIds = new Set(linked.map((x) => x.d.article.id));
      const byArticleBand = matched.filter((id) => otherwise.has(id));
      const stories = new Set(history.store.storyIdsOf(byArticleBand).values());
      for (const { d } of linked) if (d.storyId) stories.add(d.storyId);
      const members = history.store.storyMembers([...stories].sort(cmp), new Set([...tonightIds, ...linkedIds]));
      const rest = [...new Set([...byArticleBand, ...members])].sort(cmp);
      otherwise.clear();
      collectGarbage();
      const loaded = [...linked, ...loadSketched(rest)].sort((x, y) => cmp(x.d.article.id, y.d.article.id));
      linked.length = 0;
      for (const { d, sketch } of loaded) {
        articles.push({ ...d.article, index: articles.length });
        analyses.push(d.analysis);
        sketches.push(sketch);
      }
      historyParts.load = round(historyParts.load);
      historyParts.stock_phrases = round(historyParts.stock_phrases);
      historyLoaded = loaded.length;
      historyMatched = matched.length;
      docSigs = await signAll(pool, sketches.slice(tonightCount).map((x) => x.shingles), k, cfg.seed, undefined, docSigs);
      historyParts.sign = round(t() - historyParts.match - historyParts.load - historyParts.stock_phrases);
      stage('history', t(), historyLoaded, `${matched.length} earlier articles matched, ${historyLoaded} kept with their stories (window ${history.windowDays} days)`, historyParts);
    }

    profile.clear();
    askedHashes = new HashSet32();

    t = timer();
    // The loaded articles' passages go to the workers to be signed first, while the articles' LSH runs here.
    const hist = cfg.passages.enabled ? passageSets(tonightCount, articles.length) : { owner: [], sets: [] };
    const histSigning = hist.sets.length ? signAll(pool, hist.sets, cfg.passages.permutations, passageSeed, undefined, passageSigs) : undefined;
    // (Awaited in the passages stage; a failure meanwhile is not an unhandled rejection.)
    histSigning?.catch(() => undefined);
    const docCandidates = articleLsh?.candidates ?? articleCandidates(docSigs);
    // From here on only tonight's signatures are needed (the commit stores them): the loaded articles' go
    // (copied out only when there are loaded articles' to let go).
    const tonightSigs = docSigs.length > tonightCount * k ? docSigs.slice(0, tonightCount * k) : docSigs;
    docSigs = new Uint32Array(0);
    const candidateKeys = new Set<number>(docCandidates);
    // (Without an index, the seconds the articles' LSH took beside the passages' signing.)
    stage('lsh', articleLsh?.seconds ?? t(), articles.length, `b=${docBands.bands} r=${docBands.rows}: ${docCandidates.length} article candidates`);

    // Passage index: paragraphs long enough to be a passage, signed and banded on their own.
    let passageCandidateCount = 0;
    if (cfg.passages.enabled) {
      t = timer();
      const owner = tonightPassages.owner.concat(hist.owner);
      tonightPassages.owner.length = 0;
      hist.owner.length = 0;
      if (histSigning) passageSigs = await histSigning;
      hist.sets.length = 0;
      const sigs = passageSigs;
      const pc = candidatePairs(sigs, owner.length, cfg.passages.permutations, passageBands, cfg.lsh.max_bucket_size, undefined, (x, y) => owner[x] === owner[y]);
      for (const packed of pc) {
        const [x, y] = unpackPair(packed);
        candidateKeys.add(packPair(owner[x], owner[y]));
      }
      passageCandidateCount = pc.length;
      passageSigs = new Uint32Array(0);
      stage('passages', t(), owner.length, `${owner.length} passages indexed, b=${passageBands.bands} r=${passageBands.rows}: ${pc.length} passage candidates`);
    }

    // Verify every candidate exactly.
    t = timer();
    // Pairs of two earlier articles are verified again (the loaded set is small): their stories are reclustered whole.
    const candidates = Float64Array.from(candidateKeys).sort();
    candidateKeys.clear();
    // The LSH and passage stages' garbage goes now: while the workers verify, this thread allocates too little
    // for V8 to collect, and the garbage (some 450 MB at 100k) stayed through verification's first 10 s.
    collectGarbage();
    const { pairs, rejectedReasons } = await verifyAll(pool, candidates, sketches, analyses, vopts, (d, n) => logger.progress('verify', d, n));
    // Their heaps hold what they were sent: end them before the memory-hungry stages (the finally below
    // waits for them to be gone).
    void pool.close();
    const nearCount = pairs.filter((p) => p.relation === 'near-duplicate').length;
    stage('verify', t(), candidates.length, `${candidates.length} candidates: ${nearCount} near-duplicate, ${pairs.length - nearCount} partial`);

    // Cluster, without chaining.
    t = timer();
    const facts = orderFacts(articles, analyses, sketches, ing.outlets);
    const storyOrder = originOrder(articles, facts);
    // Near-duplicate canonical: earliest, ties to the most complete text (agency and credit do not enter).
    const plainFacts = { ...facts, isAgency: new Uint8Array(articles.length), credited: new Int32Array(articles.length) };
    const canonicalOrder = originOrder(articles, plainFacts);
    const nearEdges = pairs.filter((p) => p.relation === 'near-duplicate').map((p): [number, number] => [p.a, p.b]);
    const nearDuplicateClusters = clusterWithoutChaining(articles.length, nearEdges, canonicalOrder);
    const storyClusters = clusterWithoutChaining(articles.length, pairs.map((p): [number, number] => [p.a, p.b]), storyOrder);
    stage('cluster', t(), pairs.length, `${nearDuplicateClusters.length} near-duplicate clusters, ${storyClusters.length} stories`);

    // Provenance, of the clusters the outputs show: those with one of tonight's articles. A cluster of earlier
    // articles only (their stories reclustered whole) is committed, not reported: a quarter of a night's
    // clusters at 1M indexed, whose tracing took as long and whose spans were held to the end for nothing.
    t = timer();
    const byKey = new PairLookup(pairs);
    const hasTonight = (c: Cluster): boolean => hasTonightMember(c, tonightCount);
    const provenance: ClusterProvenance[] = [
      ...nearDuplicateClusters.filter(hasTonight).map((c) => clusterProvenance(nearDuplicateId(articles, c), 'near-duplicate', c, articles, analyses, sketches, byKey, plainFacts)),
      ...storyClusters.filter(hasTonight).map((c) => clusterProvenance(storyId(articles, c), 'story', c, articles, analyses, sketches, byKey, facts)),
    ];
    stage('provenance', t(), provenance.length, `${provenance.length} clusters traced`);

    const summary = {
      neardup_version: packageVersion(),
      node_version: process.version,
      // glibc's mmap threshold in force and who set it (see util/malloc.ts): without it a large night peaks
      // some 30% higher. null when none is.
      malloc_mmap_threshold: mallocThreshold(),
      // V8's interrupt budget when the run set it (a night that is not large; see util/jit.ts), else null.
      v8_interrupt_budget: optimizerBudget(),
      seed: cfg.seed,
      lsh: { bands: docBands.bands, rows: docBands.rows, threshold: cfg.lsh.threshold, false_positive_area: round(docBands.falsePositive), false_negative_area: round(docBands.falseNegative) },
      passage_lsh: cfg.passages.enabled ? { bands: passageBands.bands, rows: passageBands.rows, threshold: cfg.passages.threshold } : null,
      counts: {
        files: ing.files,
        read: ing.read,
        accepted: tonightCount,
        earlier_articles_loaded: historyLoaded,
        rejected: rejected.length,
        blank_lines: ing.blankLines,
        paragraphs: paragraphsTotal,
        boilerplate_paragraphs: boilerplateCounts,
        stock_phrase_shingles: common.size,
        stock_phrase_min_docs: commonMinDocs,
        article_candidates: docCandidates.length,
        passage_candidates: passageCandidateCount,
        candidates_verified: candidates.length,
        candidates_not_linked: rejectedReasons,
        near_duplicate_pairs: nearCount,
        partial_pairs: pairs.length - nearCount,
        near_duplicate_clusters: nearDuplicateClusters.length,
        story_clusters: storyClusters.length,
        articles_in_near_duplicate_clusters: nearDuplicateClusters.reduce((s, c) => s + c.members.length, 0),
      },
      stages,
      // Records that waited on disk (past ingest.in_memory_mb) instead of in memory.
      spilled_records: spill.records,
      detect_seconds: round(total()),
      config: cfg,
    };
    const night = { tonight: tonightCount, historyMatched, historyLoaded, tonightBands, tonightParagraphs, tonightSigs, textHashes, countsFile, records };
    return { articles, analyses, sketches, rejected, pairs, nearDuplicateClusters, storyClusters, provenance, summary, night, texts };
  } catch (e) {
    spill.close();
    throw e;
  } finally {
    await pool.close();
  }
}

/** Whether one of the cluster's members is tonight's (articles [0, tonight)): the clusters the outputs show. */
function hasTonightMember(c: Cluster, tonight: number): boolean {
  return c.members.some((m) => m < tonight);
}

export function nearDuplicateId(articles: Article[], c: Cluster): string {
  return `nd:${articles[c.canonical].id}`;
}

export function storyId(articles: Article[], c: Cluster): string {
  return `story:${articles[c.canonical].id}`;
}

/**
 * A pair as written to pairs.jsonl: ids ordered a < b, passages as offsets into each original text. The
 * definition of the line: the pipeline writes pairLine, which the tests hold byte for byte to
 * JSON.stringify of this record.
 */
export function pairRecord(p: VerifiedPair, articles: Article[], analyses: ArticleAnalysis[]): Record<string, unknown> {
  const swap = articles[p.a].id > articles[p.b].id;
  const [x, y] = swap ? [p.b, p.a] : [p.a, p.b];
  const passages = p.passages.map((q) => {
    const [pa, pb] = swap ? [q.bPara, q.aPara] : [q.aPara, q.bPara];
    const A = analyses[x].paragraphs;
    const B = analyses[y].paragraphs;
    return { a_start: paraStart(A, pa), a_end: paraEnd(A, pa), b_start: paraStart(B, pb), b_end: paraEnd(B, pb), similarity: round(q.similarity), shared_shingles: q.shared };
  });
  passages.sort((m, n) => m.a_start - n.a_start || m.b_start - n.b_start);
  return {
    a: articles[x].id,
    b: articles[y].id,
    relation: p.relation,
    jaccard: round(p.jaccard),
    containment_ab: round(swap ? p.containmentBA : p.containmentAB),
    containment_ba: round(swap ? p.containmentAB : p.containmentBA),
    passages,
  };
}

/** Where pairLine sorts a pair's passages: (a_start, a_end, b_start, b_end) per passage, and their order. */
let passageScratch = new Float64Array(64);
let passageOrder = new Uint32Array(16);

/**
 * pairs.jsonl's line for a pair: JSON.stringify(pairRecord(...)) + '\n', byte for byte, written into `out`
 * (returned as its view) without the record's objects or strings.
 */
export function pairLine(p: VerifiedPair, articles: Article[], analyses: ArticleAnalysis[], out: LineBytes): Uint8Array {
  const swap = articles[p.a].id > articles[p.b].id;
  const x = swap ? p.b : p.a;
  const y = swap ? p.a : p.b;
  const A = analyses[x].paragraphs;
  const B = analyses[y].paragraphs;
  const n = p.passages.length;
  if (passageOrder.length < n) {
    passageOrder = new Uint32Array(2 * n);
    passageScratch = new Float64Array(4 * 2 * n);
  }
  for (let k = 0; k < n; k++) {
    const q = p.passages[k];
    const pa = swap ? q.bPara : q.aPara;
    const pb = swap ? q.aPara : q.bPara;
    passageScratch[4 * k] = paraStart(A, pa);
    passageScratch[4 * k + 1] = paraEnd(A, pa);
    passageScratch[4 * k + 2] = paraStart(B, pb);
    passageScratch[4 * k + 3] = paraEnd(B, pb);
    // pairRecord's order: by a_start, then b_start, ties in passage order (an insertion sort is stable).
    let at = k;
    while (at > 0) {
      const prev = passageOrder[at - 1];
      const d = passageScratch[4 * prev] - passageScratch[4 * k] || passageScratch[4 * prev + 2] - passageScratch[4 * k + 2];
      if (d <= 0) break;
      passageOrder[at] = prev;
      at--;
    }
    passageOrder[at] = k;
  }
  const [cAB, cBA] = swap ? [p.containmentBA, p.containmentAB] : [p.containmentAB, p.containmentBA];
  out.reset().ascii('{"a":').string(articles[x].id).ascii(',"b":').string(articles[y].id);
  out.ascii(',"relation":').string(p.relation).ascii(',"jaccard":').share(p.jaccard);
  out.ascii(',"containment_ab":').share(cAB).ascii(',"containment_ba":').share(cBA).ascii(',"passages":[');
  for (let r = 0; r < n; r++) {
    const k = passageOrder[r];
    const q = p.passages[k];
    const s = 4 * k;
    out.ascii(r ? ',{"a_start":' : '{"a_start":').number(passageScratch[s]).ascii(',"a_end":').number(passageScratch[s + 1]);
    out.ascii(',"b_start":').number(passageScratch[s + 2]).ascii(',"b_end":').number(passageScratch[s + 3]);
    out.ascii(',"similarity":').share(q.similarity).ascii(',"shared_shingles":').number(q.shared).ascii('}');
  }
  return out.ascii(']}\n').view();
}

/** What signatures depend on: an index built with other values cannot be matched against. */
export function signatureFingerprint(cfg: Config): Record<string, unknown> {
  return {
    // 2: documents keep paragraph shingle sets instead of token arrays. 3: band and paragraph tables
    // clustered by key, an article's keys kept with it. 4: articles' records in segment files.
    index_format: 4,
    seed: cfg.seed,
    shingle_size: cfg.shingle.size,
    permutations: cfg.minhash.permutations,
    passage_permutations: cfg.passages.permutations,
    lsh: [cfg.lsh.threshold, cfg.lsh.false_positive_weight, cfg.lsh.false_negative_weight],
    passage_lsh: cfg.passages.threshold,
    normalize: cfg.normalize,
  };
}

/** A night is named by its input paths, so re-running the same files is the same night. */
export function nightIdOf(inputs: string[]): string {
  return createHash('sha256').update(JSON.stringify(inputs.map((p) => path.resolve(p)).sort())).digest('hex').slice(0, 16);
}

/**
 * A night whose input holds about this many bytes of records or more (some 35k articles of news) fixes glibc's
 * mmap threshold before it is read, instead of at the resident-memory mark (see util/malloc.ts), and keeps
 * V8's default optimization budget (see util/jit.ts). The 7 dev days count 48 MB; night 11 of the synthetic
 * corpus, 713 MB.
 */
const LARGE_NIGHT_BYTES = 128 * 1048576;

export async function run(opts: RunOptions): Promise<RunResult> {
  const { config: cfg, logger } = opts;
  const wall = timer();
  // The command line set it as it started; a program that calls run() gets it here (see util/malloc.ts). A
  // large night fixes it before it reads anything; a smaller one has V8 optimize less eagerly (util/jit.ts).
  setMallocThreshold();
  if ((await inputBytes(opts.inputs)) > LARGE_NIGHT_BYTES) fixMallocThreshold();
  else tuneOptimizer();
  let store: IndexStore | undefined;
  let release: (() => void) | undefined;
  if (opts.state) {
    mkdirSync(opts.state.dir, { recursive: true });
    release = acquireLock(opts.state.dir, (info) => logger.info(`recovered a stale lock left by pid ${info.pid} (started ${info.started})`, { event_kind: 'stale-lock', pid: info.pid }));
  }
  try {
    if (opts.state) {
      store = new SqliteStore(opts.state.dir);
      store.checkFingerprint(signatureFingerprint(cfg));
    }
    return await runNight(opts, wall, store);
  } finally {
    store?.close();
    release?.();
  }
}

async function runNight(opts: RunOptions, wall: () => number, store: IndexStore | undefined): Promise<RunResult> {
  const full = await detect(opts.inputs, opts.config, opts.logger, store && opts.state ? { store, windowDays: opts.state.windowDays } : undefined);
  try {
    return await writeNight(opts, wall, store, full);
  } finally {
    full.texts.close();
  }
}

async function writeNight(opts: RunOptions, wall: () => number, store: IndexStore | undefined, full: Omit<RunResult, 'outputDir'>): Promise<RunResult> {
  const { config: cfg, logger, outputDir } = opts;
  // Let the sketches go (at 1M indexed, some 0.4 GB of sets and their objects) before the commit's worker
  // and the writers add their own memory.
  full.sketches.length = 0;
  collectGarbage();
  const tonight = full.night.tonight;
  const isTonight = (i: number): boolean => i < tonight;
  // Outputs are about tonight: its pairs, the clusters it created or grew, its own articles in the feed.
  const keep = (c: Cluster): boolean => hasTonightMember(c, tonight);
  const res = {
    ...full,
    pairs: full.pairs.filter((p) => isTonight(p.a) || isTonight(p.b)),
    nearDuplicateClusters: full.nearDuplicateClusters.filter(keep),
    storyClusters: full.storyClusters.filter(keep),
  };
  // (detect traced only the clusters kept here.)
  const nightId = nightIdOf(opts.inputs);
  const firstNight = store ? store.firstNights(full.articles.map((a) => a.id)) : new Map<string, string>();
  const statusOf = (c: Cluster): string => (c.members.every((m) => (firstNight.get(full.articles[m].id) ?? nightId) === nightId) ? 'new' : 'grown');
  if (store) {
    // The report shows which clusters are tonight's and which earlier ones grew.
    const statusById = new Map<string, string>();
    for (const c of res.nearDuplicateClusters) statusById.set(nearDuplicateId(full.articles, c), statusOf(c));
    for (const c of res.storyClusters) statusById.set(storyId(full.articles, c), statusOf(c));
    res.provenance = res.provenance.map((p) => ({ ...p, status: statusById.get(p.cluster_id) }));
  }
  const { articles, analyses, pairs, nearDuplicateClusters, storyClusters } = res;

  const summary = res.summary as Record<string, unknown> & { stages: StageStat[]; counts: Record<string, unknown> };
  const clusterRow = (c: Cluster, kind: 'near-duplicate' | 'story'): Record<string, unknown> => ({
    cluster_id: kind === 'story' ? storyId(articles, c) : nearDuplicateId(articles, c),
    kind,
    canonical: articles[c.canonical].id,
    members: c.members.map((m) => articles[m].id),
    outlets: [...new Set(c.members.map((m) => articles[m].outlet))].sort(cmp),
    ...(store ? { status: statusOf(c) } : {}),
  });
  const clusterRows = [...nearDuplicateClusters.map((c) => clusterRow(c, 'near-duplicate')), ...storyClusters.map((c) => clusterRow(c, 'story'))];
  let committed = '';
  // Commit the night: tonight's articles (new or changed) with what later nights need, and the cluster and
  // story of every article reclustered tonight, in one transaction. Records are appended to the night's
  // segment here; the rest is written by a worker thread while this one writes the outputs below.
  let committing: Promise<Record<string, number>> | undefined;
  if (store) {
    const known = store.textHashes(articles.slice(0, tonight).map((a) => a.id));
    const ndOf = new Map<number, string>();
    for (const c of full.nearDuplicateClusters) for (const m of c.members) ndOf.set(m, nearDuplicateId(full.articles, c));
    const stOf = new Map<number, string>();
    for (const c of full.storyClusters) for (const m of c.members) stOf.set(m, storyId(full.articles, c));
    let added = 0;
    let changed = 0;
    for (let i = 0; i < tonight; i++) {
      const before = known.get(full.articles[i].id);
      if (before === undefined) added++;
      else if (before !== full.night.textHashes[i]) changed++;
    }
    // What the commit writes of each of tonight's articles besides its record (in the segment already).
    const docs = function* (): Generator<NightDoc> {
      for (let i = 0; i < tonight; i++) {
        yield {
          article: full.articles[i],
          analysis: full.analyses[i],
          textHash: full.night.textHashes[i],
          signature: full.night.tonightSigs.subarray(i * cfg.minhash.permutations, (i + 1) * cfg.minhash.permutations),
          docBands: full.night.tonightBands.docKeys(i),
          passageBands: full.night.tonightBands.passageKeys(i),
          clusterId: ndOf.get(i) ?? null,
          storyId: stOf.get(i) ?? null,
        };
      }
    };
    const memberships = full.articles.slice(tonight).map((a) => ({ id: a.id, clusterId: ndOf.get(a.index) ?? null, storyId: stOf.get(a.index) ?? null }));
    const nightCounts = {
      night_id: nightId,
      added,
      updated: changed,
      unchanged: tonight - added - changed,
      earlier_articles_matched: full.night.historyMatched,
      earlier_articles_kept: full.night.historyLoaded,
      clusters_new: clusterRows.filter((r) => r.status === 'new').length,
      clusters_grown: clusterRows.filter((r) => r.status === 'grown').length,
    };
    summary.index = { path: opts.state?.dir, window_days: opts.state?.windowDays, ...nightCounts };
    const missing = (what: string): Promise<never> => Promise.reject(new Error(`no ${what} was started for the night (detect ran without the index)`));
    committing = store.commitNight({ countsFile: full.night.countsFile ?? missing('counts file'), records: full.night.records ?? missing('segment'), nightId, docs: docs(), memberships, outletParagraphs: full.night.tonightParagraphs, summary: { ...nightCounts, inputs: opts.inputs, config: cfg } });
    // Its failure is reported where it is awaited, after the writes (not as an unhandled rejection meanwhile).
    committing.catch(() => undefined);
    committed = `${added} added, ${changed} updated, ${tonight - added - changed} unchanged; ${nightCounts.clusters_new} new clusters, ${nightCounts.clusters_grown} grown`;
  }

  const t = timer();
  // Plain code-unit order, not locale order: the same on every machine. Pairs are sorted by their ids and
  // turned into lines one at a time as they are written.
  // By the articles' ranks in id order (ids are distinct): a numeric key per pair, no strings compared per pair.
  const rank = new Float64Array(articles.length);
  Uint32Array.from(articles, (_, i) => i)
    .sort((x, y) => cmp(articles[x].id, articles[y].id))
    .forEach((i, r) => (rank[i] = r));
  const pairKeys = Float64Array.from(pairs, (p) => Math.min(rank[p.a], rank[p.b]) * 2 ** 26 + Math.max(rank[p.a], rank[p.b]));
  const pairOrder = Uint32Array.from(pairs, (_, i) => i).sort((m, n) => pairKeys[m] - pairKeys[n]);
  const pairLines = function* (): Generator<Uint8Array> {
    // One line's bytes at a time, in one reused buffer (writeLines copies each before asking for the next).
    const line = new LineBytes();
    for (const i of pairOrder) yield pairLine(pairs[i], articles, analyses, line);
  };
  // Deduplicated feed: canonicals and singletons, in input order, each once.
  const clusterOf = new Map<number, Cluster>();
  for (const c of nearDuplicateClusters) for (const m of c.members) clusterOf.set(m, c);
  const storyOf = new Map<number, Cluster>();
  for (const c of storyClusters) for (const m of c.members) storyOf.set(m, c);
  // Each record is its input line as read, with the three keys appended (no parsing and re-serializing);
  // a line that already has one of those keys is parsed and written with the new values in their place.
  const dedupLines = function* (): Generator<Line> {
    for (const a of articles.slice(0, tonight)) {
      const c = clusterOf.get(a.index);
      if (c && c.canonical !== a.index) continue;
      const s = storyOf.get(a.index);
      const keys = {
        cluster_id: c ? nearDuplicateId(articles, c) : null,
        duplicates: c ? c.members.filter((m) => m !== a.index).map((m) => articles[m].id) : [],
        story_id: s ? storyId(articles, s) : null,
      };
      // writeLines copies the line's parts before it asks for the next line, so a peek is enough.
      const line = res.texts.peekLine(a.index);
      yield (line && appendKeys(line, keys)) ?? JSON.stringify({ ...res.texts.fields(a.index), ...keys }) + '\n';
    }
  };
  // The writes run together: gzip works on libuv's threads while the main thread serializes the rest. The
  // feed starts first, so compressing it, the longest part, is under way from the start.
  const dedupWrite = writeLines(path.join(outputDir, 'dedup.jsonl.gz'), dedupLines(), true);
  const writes: Array<Promise<unknown>> = [writeLines(path.join(outputDir, 'pairs.jsonl'), pairLines())];

  writes.push(writeJsonl(path.join(outputDir, 'clusters.jsonl'), clusterRows));

  writes.push(writeJsonl(path.join(outputDir, 'rejected.jsonl'), res.rejected));
  // report.json is written piece by piece (article texts read back one at a time); the HTML report embeds the
  // file as written. It is written with
  // <, > and & as \u escapes (still the same JSON), so the page can embed it without another copy.
  const report = reportJson(res);
  writes.push(writeText(path.join(outputDir, 'report.json'), report.parts()));
  let dedupCount: number;
  try {
    await Promise.all(writes);
    dedupCount = await dedupWrite;
  } catch (e) {
    // The commit's worker still writes the index: the run (and its lock) ends only when it is done.
    await committing?.catch(() => undefined);
    throw e;
  }
  const writeSeconds = t();

  summary.stages.push({ stage: 'write', seconds: round(writeSeconds), items: pairs.length + clusterRows.length + dedupCount, per_second: 0 });
  summary.counts.dedup_articles = dedupCount;
  logger.stage('write', `pairs.jsonl, clusters.jsonl, dedup.jsonl.gz (${dedupCount} articles), rejected.jsonl, report.json in ${writeSeconds.toFixed(2)}s`);
  const result: RunResult = { ...res, outputDir };
  if (committing) {
    // Its seconds overlap the write stage's: the commit's worker ran beside it.
    const parts = await committing;
    summary.stages.push({ stage: 'index', seconds: parts.total, items: tonight, per_second: 0, parts });
    logger.stage('index', `${committed} in ${parts.total.toFixed(2)}s`);
  }
  summary.inputs = opts.inputs;
  // run.json first (the report reads the run's seed and bands from it), completed below.
  await writeJson(path.join(outputDir, 'run.json'), summary);
  if (opts.afterOutputs) {
    const th = timer();
    await opts.afterOutputs(result, report.index);
    summary.stages.push({ stage: 'html', seconds: round(th()), items: res.provenance.length, per_second: 0 });
  }
  const wallSeconds = wall();
  summary.wall_seconds = round(wallSeconds);
  summary.docs_per_second = Math.round(tonight / wallSeconds);
  summary.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  await writeJson(path.join(outputDir, 'run.json'), summary);
  logger.stage('done', `${tonight} articles (${summary.docs_per_second} docs/s), peak RSS ${summary.peak_rss_mb} MB; b=${(summary.lsh as { bands: number }).bands} r=${(summary.lsh as { rows: number }).rows}, seed ${cfg.seed}`);
  return result;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The text as a JSON line encodes it (quotes included), when that is exactly JSON.stringify's encoding; else null. */
function rawTextOf(line: Buffer | null): Uint8Array | null {
  const raw = line && rawStringField(line, 'text');
  return raw && isCanonicalJsonString(raw) ? raw : null;
}

/**
 * report.json: per-cluster provenance plus what the HTML report needs to show the night, as the parts of
 * one JSON text (the articles with their texts are serialized one at a time, never all at once), each
 * escaped for embedding in the HTML page (scriptSafe: still the same JSON).
 */
export function reportJson(res: Omit<RunResult, 'outputDir'>): { parts: () => AsyncGenerator<TextPart>; index: ReportIndex } {
  const { articles, analyses, provenance } = res;
  const inCluster = new Set<number>();
  for (const c of res.storyClusters) for (const m of c.members) inCluster.add(m);
  for (const c of res.nearDuplicateClusters) for (const m of c.members) inCluster.add(m);
  const members = [...inCluster].sort((x, y) => x - y);
  // Parts go out as pieces written one after the other (see TextPart), not joined: a joined string is
  // copied whole once more when it is written, and at a 100k-article night those copies were gigabytes.
  const parts = async function* (): AsyncGenerator<TextPart> {
    yield `{"summary":${scriptSafe(JSON.stringify({ ...(res.summary.counts as Record<string, unknown>) }))},"clusters":[`;
    // Each cluster and each article's fields written as bytes (writeProvenanceJson, LineBytes): the same
    // JSON, escaped the same way, without building their objects and strings. A view is used before the
    // next part is asked for.
    const bytes = new LineBytes();
    const tailBytes = new LineBytes();
    for (let c = 0; c < provenance.length; c++) {
      writeProvenanceJson(provenance[c], bytes.reset(), scriptSafe);
      yield [c ? ',' : '', bytes.view()];
    }
    yield '],"articles":[';
    // Articles that belong to a cluster, with paragraph offsets and flags, so the report can show them side by side.
    const texts = res.texts.rawTexts(members);
    for (let k = 0; k < members.length; k++) {
      const i = members[k];
      const { value: raw } = await texts.next();
      const a = articles[i];
      // The text goes out as its input line encoded it when that is what JSON.stringify would write: no
      // decoding, parsing and re-encoding of every clustered article's text.
      if (raw) {
        // JSON.stringify({ id, outlet, url, published_at, title, text, paragraphs, credits, agencies }).
        bytes.reset().ascii('{"id":').string(a.id, scriptSafe).ascii(',"outlet":').string(a.outlet, scriptSafe).ascii(',"url":').string(a.url, scriptSafe);
        bytes.ascii(',"published_at":').stringOrNull(a.published_at, scriptSafe).ascii(',"title":').string(a.title, scriptSafe).ascii(',"text":');
        const ps = analyses[i].paragraphs;
        tailBytes.reset().ascii(',"paragraphs":[');
        for (let p = 0; p < paragraphCount(ps); p++) {
          const kind = paraKind(ps, p);
          tailBytes.ascii(p ? ',{"start":' : '{"start":').number(paraStart(ps, p)).ascii(',"end":').number(paraEnd(ps, p));
          tailBytes.ascii(',"boilerplate":').stringOrNull(kind, scriptSafe).ascii('}');
        }
        tailBytes.ascii('],"credits":').strings(analyses[i].credits, scriptSafe).ascii(',"agencies":').strings(analyses[i].agencies, scriptSafe).ascii('}');
        yield [k ? ',' : '', bytes.view(), scriptSafeBytes(raw), tailBytes.view()];
      } else {
        const head = { id: a.id, outlet: a.outlet, url: a.url, published_at: a.published_at, title: a.title };
        const tail = { paragraphs: unpackParagraphs(analyses[i].paragraphs).map((p) => ({ start: p.start, end: p.end, boilerplate: p.kind })), credits: analyses[i].credits, agencies: analyses[i].agencies };
        yield [k ? ',' : '', scriptSafe(JSON.stringify({ ...head, text: res.texts.text(i), ...tail }))];
      }
    }
    await texts.return(undefined);
    yield ']}\n';
  };
  return { parts, index: { clusters: provenance, titles: new Map(members.map((i) => [articles[i].id, articles[i].title])), written: true } };
}
