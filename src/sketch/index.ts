/**
 * The sketch stage: from analysed texts to the sets and signatures matching
 * works on. Only content paragraphs count (boilerplate and fixed quotations
 * are left out), and stock phrases (shingles in more articles than one story
 * is ever copied to) are dropped from every set.
 */
import type { ArticleAnalysis, TextAnalysis } from '../text/analyze.js';
import { concatAll, shingleRun, toSet, unionAll } from './shingle.js';
import type { ShingleCounts } from './counts.js';

export interface ParagraphSet {
  /** Index of the paragraph in its article. */
  para: number;
  shingles: Uint32Array;
}

export interface DocSketch {
  /** Sorted distinct shingle hashes of the article's content. */
  shingles: Uint32Array;
  /** Content paragraphs with their own shingle sets (for alignment and the passage index). */
  paragraphs: ParagraphSet[];
}

/** Shingle sets per content paragraph: runs of tokens cut at quotations. */
export function shingleParagraphs(a: TextAnalysis, n: number): ParagraphSet[] {
  const out: ParagraphSet[] = [];
  const buf: number[] = [];
  for (let p = 0; p < a.paragraphs.length; p++) {
    if (a.paragraphs[p].kind !== null) continue;
    buf.length = 0;
    const end = a.tokenStart[p + 1];
    let runStart = a.tokenStart[p];
    for (let i = runStart; i <= end; i++) {
      if (i === end || a.quoteMask[i]) {
        shingleRun(a.tokenHashes, runStart, i, n, buf);
        runStart = i + 1;
      }
    }
    if (buf.length > 0) out.push({ para: p, shingles: toSet(buf) });
  }
  return out;
}

/** The paragraph sets of content paragraphs: those the rules kept, minus any flagged since (outlet templates). */
export function contentSets(d: { analysis: ArticleAnalysis; paragraphSets: ParagraphSet[] }): ParagraphSet[] {
  return d.paragraphSets.filter((p) => d.analysis.paragraphs[p.para].kind === null);
}

/** An article's shingle set: the union of its content paragraphs' sets. */
export function contentShingles(d: { analysis: ArticleAnalysis; paragraphSets: ParagraphSet[] }): Uint32Array {
  return unionAll(contentSets(d).map((p) => p.shingles));
}

/**
 * Shingles found in at least `minDocs` articles: tonight's sets where `counted` (all when absent) plus
 * `prior` counts from earlier nights. Every shingle of every set is judged; counting is one native sort (measured: faster than a table of
 * counters, whose random accesses miss the cache).
 */
export function frequentShingles(sets: Uint32Array[], minDocs: number, prior?: ShingleCounts, counted?: Uint8Array): Set<number> {
  const countedAll = concatAll(counted ? sets.filter((_, i) => counted[i] === 1) : sets).sort();
  const every = counted ? concatAll(sets).sort() : countedAll;
  const out = new Set<number>();
  let i = 0;
  let j = 0;
  while (i < every.length) {
    const h = every[i];
    while (i < every.length && every[i] === h) i++;
    while (j < countedAll.length && countedAll[j] < h) j++;
    let c = 0;
    while (j < countedAll.length && countedAll[j] === h) {
      c++;
      j++;
    }
    if (c + (prior ? prior.get(h) : 0) >= minDocs) out.add(h);
  }
  return out;
}

/** A bitmap over the low 16 bits of a set's members: a shingle whose bit is clear is not in the set. */
const bitmaps = new WeakMap<Set<number>, Uint8Array>();
function bitmapOf(common: Set<number>): Uint8Array {
  let bits = bitmaps.get(common);
  if (!bits) {
    bits = new Uint8Array(8192);
    for (const h of common) bits[(h & 0xffff) >>> 3] |= 1 << (h & 7);
    bitmaps.set(common, bits);
  }
  return bits;
}

/** The set without the stock phrases. Most shingles are not one and stop at the bitmap, before any Set lookup. */
export function dropCommon(set: Uint32Array, common: Set<number>): Uint32Array {
  if (common.size === 0) return set;
  const bits = bitmapOf(common);
  let drop = 0;
  for (let i = 0; i < set.length; i++) {
    const h = set[i];
    if ((bits[(h & 0xffff) >>> 3] & (1 << (h & 7))) !== 0 && common.has(h)) drop++;
  }
  if (drop === 0) return set;
  const out = new Uint32Array(set.length - drop);
  let w = 0;
  for (let i = 0; i < set.length; i++) {
    const h = set[i];
    if ((bits[(h & 0xffff) >>> 3] & (1 << (h & 7))) === 0 || !common.has(h)) out[w++] = h;
  }
  return out;
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
): { sketches: DocSketch[]; common: Set<number>; docSets: Uint32Array[] } {
  const docSets = unions ?? paraSets.map((ps) => unionAll(ps.map((p) => p.shingles)));
  const common = frequentShingles(docSets, commonMinDocs, prior ? prior(unionAll(docSets)) : undefined, counted);
  const sketches = docSets.map((set, i) => sketchWith(paraSets[i], common, set));
  return { sketches, common, docSets };
}

/** One article's sketch given the night's stock phrases (the union is passed when already computed). */
export function sketchWith(paraSets: ParagraphSet[], common: Set<number>, union = unionAll(paraSets.map((p) => p.shingles))): DocSketch {
  return {
    shingles: dropCommon(union, common),
    paragraphs: paraSets.map((p) => ({ para: p.para, shingles: dropCommon(p.shingles, common) })).filter((p) => p.shingles.length > 0),
  };
}
