/**
 * The sketch stage: from analysed texts to the sets and signatures matching
 * works on. Only content paragraphs count (boilerplate and fixed quotations
 * are left out), and stock phrases (shingles in more articles than one story
 * is ever copied to) are dropped from every set.
 */
import type { ArticleAnalysis, TextAnalysis } from '../text/analyze.js';
import { SetArena, shingleRun, toSet, unionAll } from './shingle.js';
import { countSets, ShingleCounts } from './counts.js';
import { HashSet32 } from './hash.js';
import { isContent, paragraphCount } from '../text/paragraphs.js';

export interface ParagraphSet {
  /** Index of the paragraph in its article. */
  para: number;
  shingles: Uint32Array;
}

/**
 * An article's paragraph sets packed in one array: the sets back to back, then each set's paragraph, then
 * where each set ends. A sketch held them as an object and a typed-array view per paragraph: at a 100k night
 * with its 60k loaded articles, 1.1M of each, some 150 MB of the main thread's heap through to the outputs.
 */
export class ParagraphSets {
  /** How many sets. */
  readonly length: number;
  /** Where the table (paragraphs, then ends) starts in `packed`. */
  private readonly tableAt: number;

  private constructor(private readonly packed: Uint32Array, length: number) {
    this.length = length;
    this.tableAt = packed.length - 2 * length;
  }

  /** Set q's paragraph (its index in the article). */
  para(q: number): number {
    return this.packed[this.tableAt + q];
  }

  start(q: number): number {
    return q === 0 ? 0 : this.packed[this.tableAt + this.length + q - 1];
  }

  end(q: number): number {
    return this.packed[this.tableAt + this.length + q];
  }

  /** How many shingles set q holds. */
  size(q: number): number {
    return this.end(q) - this.start(q);
  }

  /** Set q's shingles: a view, made on each call. */
  set(q: number): Uint32Array {
    return this.packed.subarray(this.start(q), this.end(q));
  }

  /** All the sets' values, back to back (set q is [start(q), end(q)) of them). */
  values(): Uint32Array {
    return this.packed.subarray(0, this.tableAt);
  }

  paras(): number[] {
    return Array.from({ length: this.length }, (_, q) => this.para(q));
  }

  toArray(): ParagraphSet[] {
    return Array.from({ length: this.length }, (_, q) => ({ para: this.para(q), shingles: this.set(q) }));
  }

  /**
   * These sets packed (from `arena` when given), without the values `drop` holds; a set left empty is left
   * out. One pass: values are written as they are checked.
   */
  static pack(sets: ParagraphSet[], arena?: SetArena, drop?: HashSet32): ParagraphSets {
    let total = 0;
    for (const p of sets) total += p.shingles.length;
    const room = arena ? arena.room(total + 2 * sets.length) : new Uint32Array(total + 2 * sets.length);
    const paras: number[] = [];
    const ends: number[] = [];
    let w = 0;
    for (const p of sets) {
      const from = w;
      const v = p.shingles;
      if (drop && drop.size > 0) {
        for (let i = 0; i < v.length; i++) if (!drop.has(v[i])) room[w++] = v[i];
      } else {
        room.set(v, w);
        w += v.length;
      }
      if (w === from) continue;
      paras.push(p.para);
      ends.push(w);
    }
    const n = paras.length;
    for (let q = 0; q < n; q++) {
      room[w + q] = paras[q];
      room[w + n + q] = ends[q];
    }
    const size = w + 2 * n;
    return new ParagraphSets(arena ? arena.take(size) : room.slice(0, size), n);
  }

  /** The packed array itself (the values, then each set's paragraph and end): what another thread is given. */
  packedArray(): Uint32Array {
    return this.packed;
  }

  /** Sets as `packedArray` gave them (read in place, in another thread say): `length` is their count. */
  static fromPacked(packed: Uint32Array, length: number): ParagraphSets {
    return new ParagraphSets(packed, length);
  }

  /** A copy carved from `arena`. */
  copy(arena: SetArena): ParagraphSets {
    return new ParagraphSets(arena.copy(this.packed), this.length);
  }
}

export interface DocSketch {
  /** Sorted distinct shingle hashes of the article's content. */
  shingles: Uint32Array;
  /** Content paragraphs with their own shingle sets (for alignment and the passage index). */
  paragraphs: ParagraphSets;
}

/** Scratch space for one paragraph's shingle hashes, grown as needed (one per thread). */
let scratch = new Uint32Array(4096);

/** Shingle sets per content paragraph: runs of tokens cut at quotations. */
export function shingleParagraphs(a: TextAnalysis, n: number, arena?: SetArena): ParagraphSet[] {
  const out: ParagraphSet[] = [];
  for (let p = 0; p < paragraphCount(a.paragraphs); p++) {
    if (!isContent(a.paragraphs, p)) continue;
    const end = a.tokenStart[p + 1];
    let runStart = a.tokenStart[p];
    // A run of k tokens gives at most k shingles (one when shorter than n).
    if (scratch.length < end - runStart + 1) scratch = new Uint32Array(2 * (end - runStart + 1));
    let len = 0;
    for (let i = runStart; i <= end; i++) {
      if (i === end || a.quoteMask[i]) {
        len = shingleRun(a.tokenHashes, runStart, i, n, scratch, len);
        runStart = i + 1;
      }
    }
    if (len > 0) out.push({ para: p, shingles: toSet(scratch.subarray(0, len), arena) });
  }
  return out;
}

/** The paragraph sets of content paragraphs: those the rules kept, minus any flagged since (outlet templates). */
export function contentSets(d: { analysis: ArticleAnalysis; paragraphSets: ParagraphSet[] }): ParagraphSet[] {
  return d.paragraphSets.filter((p) => isContent(d.analysis.paragraphs, p.para));
}

/** An article's shingle set: the union of its content paragraphs' sets. */
export function contentShingles(d: { analysis: ArticleAnalysis; paragraphSets: ParagraphSet[] }): Uint32Array {
  return unionAll(contentSets(d).map((p) => p.shingles));
}

/** Stock phrases, and the counts a run with an index stores for later nights. */
export interface FrequentShingles {
  common: HashSet32;
  /**
   * Tonight's counts to add to the index: shingles in two or more of tonight's articles, counted over the
   * `counted` ones. A night's singletons (nine in ten of its distinct shingles) are neither stored nor
   * looked up: a stock phrase recurs within a night, and a shingle in one article of the night cannot
   * make two of tonight's articles look alike.
   */
  stored: ShingleCounts;
}

/**
 * Shingles found in at least `minDocs` articles: tonight's sets where `counted` (all when absent) plus the
 * `prior` counts of earlier nights, asked only for shingles in two or more of tonight's sets. Counting is
 * a radix sort of the night's shingles, in sorted parallel arrays (no Map could hold a large night).
 */
export function frequentShingles(sets: Uint32Array[], minDocs: number, prior?: (hashes: Uint32Array) => ShingleCounts, counted?: Uint8Array, repeats?: ShingleCounts): FrequentShingles {
  // Shingles in two or more of tonight's articles: the only ones looked up, and the only ones stored. A
  // shingle in one of tonight's articles is never a stock phrase (minDocs >= 2, and the index is asked only
  // about repeats), so the singletons are not even kept. (`repeats`: these counts, when the caller has them,
  // counted on several threads.)
  const every = repeats ?? countSets(sets, 2);
  // Tonight's own counts differ from `every` only when some sets are not counted (articles an earlier run
  // already counted); a night of new articles reuses `every`, whose repeats are all the loop below asks about.
  const tonight = counted && counted.includes(0) ? countSets(sets.filter((_, i) => counted[i] === 1)) : every;
  const keys = every.hashes;
  const before = prior ? prior(keys) : new ShingleCounts();
  const common = new HashSet32();
  const storedHashes = new Uint32Array(keys.length);
  const storedCounts = new Uint32Array(keys.length);
  let w = 0;
  let j = 0;
  let k = 0;
  for (let i = 0; i < every.size; i++) {
    const h = every.hashes[i];
    while (j < tonight.size && tonight.hashes[j] < h) j++;
    const c = j < tonight.size && tonight.hashes[j] === h ? tonight.counts[j] : 0;
    while (k < before.size && before.hashes[k] < h) k++;
    const p = k < before.size && before.hashes[k] === h ? before.counts[k] : 0;
    if (c + p >= minDocs) common.add(h);
    if (c > 0) {
      storedHashes[w] = h;
      storedCounts[w++] = c;
    }
  }
  return { common, stored: new ShingleCounts(storedHashes.slice(0, w), storedCounts.slice(0, w)) };
}

/**
 * The set without the stock phrases (the set itself when it has none; else a copy, carved from `arena` when
 * given). One pass: the kept values are written as they are checked, into room that is only taken when
 * something was dropped (or `copyAll` asks for a copy anyway).
 */
export function dropCommon(set: Uint32Array, common: HashSet32, arena?: SetArena, copyAll = false): Uint32Array {
  if (common.size === 0 && !(copyAll && arena)) return set;
  const out = arena ? arena.room(set.length) : dropScratch(set.length);
  let w = 0;
  for (let i = 0; i < set.length; i++) {
    const v = set[i];
    if (!common.has(v)) out[w++] = v;
  }
  if (w === set.length && !(copyAll && arena)) return set;
  return arena ? arena.take(w) : out.slice(0, w);
}

/** Where dropCommon writes when no arena is given (copied out with slice). */
let dropScratchValues = new Uint32Array(1024);
function dropScratch(n: number): Uint32Array {
  if (dropScratchValues.length < n) dropScratchValues = new Uint32Array(2 * n);
  return dropScratchValues;
}

/**
 * Build every article's sketch from its paragraph sets. `commonMinDocs` is the document frequency
 * from which a shingle is a stock phrase; the caller raises it to at least
 * twice the number of outlets, since one story cannot be copied more often.
 */
export function sketchDocuments(
  paraSets: ParagraphSet[][],
  commonMinDocs: number,
  prior?: (hashes: Uint32Array) => ShingleCounts,
  counted?: Uint8Array,
  unions?: Uint32Array[],
  repeats?: ShingleCounts,
): { sketches: DocSketch[]; common: HashSet32; stored: ShingleCounts; docSets: Uint32Array[] } {
  const docSets = unions ?? paraSets.map((ps) => unionAll(ps.map((p) => p.shingles)));
  const { common, stored } = frequentShingles(docSets, commonMinDocs, prior, counted, repeats);
  // The sketches live until the night's outputs are written, all together: one arena for their copies.
  // Sets without stock phrases are copied too, so that nothing of the input sets' buffers stays alive
  // through a view (the caller that lets the input sets go gets all of their memory back).
  // Shared memory, so that verification in the worker threads reads them where they are.
  const arena = new SetArena(1 << 18, true);
  const sketches = docSets.map((set, i) => sketchWith(paraSets[i], common, set, arena));
  return { sketches, common, stored, docSets };
}

/**
 * One article's sketch given the night's stock phrases (the union is passed when already computed). Every
 * set is copied, into `arena` when given, so that the sketch holds nothing of the input sets' buffers.
 */
export function sketchWith(paraSets: ParagraphSet[], common: HashSet32, union = unionAll(paraSets.map((p) => p.shingles)), arena?: SetArena): DocSketch {
  return { shingles: dropCommon(union, common, arena, true), paragraphs: ParagraphSets.pack(paraSets, arena, common) };
}
