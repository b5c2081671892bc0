/**
 * Verification: LSH only proposes, this decides. Every candidate pair is
 * measured on its exact shingle sets (Jaccard and containment both ways),
 * its paragraphs are aligned, and the pair becomes a near-duplicate, a
 * partial copy (shared passages) or nothing.
 *
 * A shared template is not a copy: when both sides carry their own numbers
 * that the other lacks (another day's market figures, another fire's
 * casualties), the text they share is the template, and the pair is dropped.
 */
import { isContent, paragraphCount } from '../text/paragraphs.js';
import type { ArticleAnalysis } from '../text/analyze.js';
import type { DocSketch } from '../sketch/index.js';
import { intersectInto, intersectionSize, similarity, type Similarity } from '../sketch/shingle.js';

export interface VerifyOptions {
  jaccard: number;
  containment: number;
  minShingles: number;
  minFactAgreement: number;
  /** Containment-only links: the share of the longer text allowed before the shared part starts. */
  maxLeadShare: number;
  passageMinSimilarity: number;
  passageMinShared: number;
  passagesEnabled: boolean;
}

export interface AlignedPassage {
  aPara: number;
  bPara: number;
  /** Shared shingles of the two paragraphs. */
  shared: number;
  /** Containment of the smaller paragraph in the larger. */
  similarity: number;
}

export type Relation = 'near-duplicate' | 'partial';

/** The relations in a fixed order: their codes in verification's packed verdicts and in provenance's packed edges. */
export const RELATIONS = ['near-duplicate', 'partial'] as const satisfies readonly Relation[];

export interface VerifiedPair {
  a: number;
  b: number;
  relation: Relation;
  jaccard: number;
  containmentAB: number;
  containmentBA: number;
  passages: AlignedPassage[];
}

export interface Rejected {
  /** Why a candidate with real overlap was not linked (for eval and the report). */
  reason: 'template' | 'too-little-shared' | 'below-threshold';
}

/**
 * The article as verification reads it. Its sketch's whole set must be the union of its paragraph sets (as
 * sketchWith makes them): paragraph alignment looks only among the shingles the two whole sets share.
 */
export interface VerifySide {
  sketch: DocSketch;
  facts: FactView;
}

/** Paragraph pairs counted in one buffer at most (16 MB); two articles of thousands of short paragraphs each are aligned pair by pair. */
const MAX_PAIR_CELLS = 1 << 22;

/**
 * Buffers sharedByParagraph reuses from pair to pair (one set per thread, grown as needed): the shared
 * shingles' hash table, and for each side a chain of (paragraph, next) entries per shared shingle.
 */
const scratch = {
  pairCounts: new Int32Array(1024),
  shared: new Uint32Array(1024),
  slotKey: new Uint32Array(2048),
  slotIndex: new Int32Array(2048),
  headA: new Int32Array(1024),
  headB: new Int32Array(1024),
  entryPara: new Int32Array(1024),
  entryNext: new Int32Array(1024),
};

/**
 * For each paragraph set of a side, record which shared shingles it holds: entry e says paragraph
 * entryPara[e] holds shared shingle k, chained from head[k] through entryNext (a shingle repeated in several
 * paragraphs of the side has several entries). Entries are numbered from `firstEntry`; returns the next free one.
 */
function chainParagraphs(sets: DocSketch['paragraphs'], head: Int32Array, firstEntry: number, mask: number): number {
  const { slotKey, slotIndex, entryPara, entryNext } = scratch;
  const values = sets.values();
  let e = firstEntry;
  for (let q = 0; q < sets.length; q++) {
    const end = sets.end(q);
    for (let i = sets.start(q); i < end; i++) {
      const v = values[i];
      // Open addressing on the hash's own low bits (shingle hashes are uniform already).
      let slot = v & mask;
      let k = slotIndex[slot];
      while (k >= 0 && slotKey[slot] !== v) {
        slot = (slot + 1) & mask;
        k = slotIndex[slot];
      }
      if (k < 0) continue;
      entryPara[e] = q;
      entryNext[e] = head[k];
      head[k] = e++;
    }
  }
  return e;
}

/**
 * Shared shingles of every (A paragraph, B paragraph) pair, row by A paragraph, in one reused buffer. The
 * shingles the two articles share (their whole sets are the unions of their paragraph sets) go into a hash
 * table; each paragraph's shingles are looked up in it, and each shared shingle counts once for every pair
 * of paragraphs, one per side, that hold it. Lookups, not merges: sorting each article's paragraph sets into
 * one list to merge had been two fifths of verification's time at a 100k-article night.
 */
function sharedByParagraph(a: VerifySide, b: VerifySide): Int32Array {
  const pa = a.sketch.paragraphs;
  const pb = b.sketch.paragraphs;
  const cols = pb.length;
  const cells = pa.length * cols;
  if (scratch.pairCounts.length < cells) scratch.pairCounts = new Int32Array(2 * cells);
  const counts = scratch.pairCounts.subarray(0, cells);
  counts.fill(0);
  const most = Math.min(a.sketch.shingles.length, b.sketch.shingles.length);
  if (scratch.shared.length < most) scratch.shared = new Uint32Array(2 * most);
  const n = intersectInto(a.sketch.shingles, b.sketch.shingles, scratch.shared);
  if (n === 0) return counts;
  // A table of at least twice as many slots as shared shingles, a power of two.
  let size = 2048;
  while (size < 2 * n) size *= 2;
  if (scratch.slotKey.length < size) {
    scratch.slotKey = new Uint32Array(size);
    scratch.slotIndex = new Int32Array(size);
  }
  const mask = size - 1;
  const { slotKey, slotIndex, shared } = scratch;
  slotIndex.fill(-1, 0, size);
  for (let k = 0; k < n; k++) {
    const v = shared[k];
    let slot = v & mask;
    while (slotIndex[slot] >= 0) slot = (slot + 1) & mask;
    slotKey[slot] = v;
    slotIndex[slot] = k;
  }
  if (scratch.headA.length < n) {
    scratch.headA = new Int32Array(2 * n);
    scratch.headB = new Int32Array(2 * n);
  }
  const entries = pa.values().length + pb.values().length;
  if (scratch.entryPara.length < entries) {
    scratch.entryPara = new Int32Array(2 * entries);
    scratch.entryNext = new Int32Array(2 * entries);
  }
  const { headA, headB, entryPara, entryNext } = scratch;
  headA.fill(-1, 0, n);
  headB.fill(-1, 0, n);
  const firstB = chainParagraphs(pa, headA, 0, mask);
  chainParagraphs(pb, headB, firstB, mask);
  for (let k = 0; k < n; k++) {
    for (let ea = headA[k]; ea >= 0; ea = entryNext[ea]) {
      const row = entryPara[ea] * cols;
      for (let eb = headB[k]; eb >= 0; eb = entryNext[eb]) counts[row + entryPara[eb]]++;
    }
  }
  return counts;
}

/**
 * Align each content paragraph of A with the paragraph of B it shares most
 * with; keep alignments whose smaller side is at least `minSim` contained or
 * that share at least `minShared` shingles.
 * One B paragraph aligns with at most one A paragraph (the best).
 */
export function alignParagraphs(a: VerifySide, b: VerifySide, minSim: number, minShared: number): AlignedPassage[] {
  const pa = a.sketch.paragraphs;
  const pb = b.sketch.paragraphs;
  const cols = pb.length;
  const counts = pa.length * cols <= MAX_PAIR_CELLS ? sharedByParagraph(a, b) : null;
  const best = new Map<number, AlignedPassage>();
  for (let r = 0; r < pa.length; r++) {
    const sizeA = pa.size(r);
    // Every B paragraph is measured exactly: a B paragraph sharing only shingles that another B paragraph
    // also has is still seen.
    let bestQ = -1;
    let bestSim = 0;
    let bestShared = 0;
    for (let q = 0; q < cols; q++) {
      const exact = counts ? counts[r * cols + q] : intersectionSize(pa.set(r), pb.set(q));
      if (exact === 0) continue;
      const sim = exact / Math.min(sizeA, pb.size(q));
      if (sim > bestSim) {
        bestSim = sim;
        bestQ = q;
        bestShared = exact;
      }
    }
    // Aligned when mostly shared, or when a long enough run is shared (one sentence kept from an edited paragraph).
    if (bestQ < 0 || (bestSim < minSim && bestShared < minShared)) continue;
    const bPara = pb.para(bestQ);
    const prev = best.get(bPara);
    if (!prev || bestShared > prev.shared) best.set(bPara, { aPara: pa.para(r), bPara, shared: bestShared, similarity: bestSim });
  }
  return [...best.values()].sort((x, y) => x.aPara - y.aPara || x.bPara - y.bPara);
}

/**
 * What verification reads of an article's analysis: which paragraphs are content (kind null) and each
 * paragraph's number keys. An ArticleAnalysis is one; a worker thread builds one from shared tables.
 */
export type FactView = Pick<ArticleAnalysis, 'numberKeys' | 'numberStart' | 'paragraphs'>;

function numberSet(a: FactView, paras: Iterable<number>): Set<number> {
  const out = new Set<number>();
  for (const p of paras) {
    for (let i = a.numberStart[p]; i < a.numberStart[p + 1]; i++) out.add(a.numberKeys[i]);
  }
  return out;
}

/**
 * Share of the facts (numbers) that agree, when both sides bring at least three
 * numbers of their own; 1 when there is no such conflict. A trimmed copy
 * lacks some numbers on one side only, so it is never penalised.
 */
export function factAgreement(na: Set<number>, nb: Set<number>): number {
  let shared = 0;
  for (const x of na) if (nb.has(x)) shared++;
  const onlyA = na.size - shared;
  const onlyB = nb.size - shared;
  if (onlyA < 3 || onlyB < 3) return 1;
  return shared / Math.min(na.size, nb.size);
}

function contentParas(a: FactView): number[] {
  const out: number[] = [];
  for (let p = 0; p < paragraphCount(a.paragraphs); p++) if (isContent(a.paragraphs, p)) out.push(p);
  return out;
}

/** The first test of a near-duplicate: similar enough by Jaccard or containment. */
function similarEnough(sim: Similarity, sizeA: number, sizeB: number, o: VerifyOptions): boolean {
  const small = Math.min(sizeA, sizeB);
  // Very short texts are only near-duplicates when (almost) identical: a few shared shingles prove nothing.
  return small >= o.minShingles ? sim.jaccard >= o.jaccard || Math.max(sim.containmentAB, sim.containmentBA) >= o.containment : sim.jaccard >= 0.9;
}

/**
 * Whether verifyPair could link two articles with these shingle sets: false when they are neither similar
 * enough for a near-duplicate nor share enough shingles for one aligned passage (a passage's shared
 * shingles are among the articles' shared ones). False is final; true only means "verify them".
 */
export function mayLink(a: Uint32Array, b: Uint32Array, o: VerifyOptions): boolean {
  const sim = similarity(a, b);
  if (sim.intersection === 0) return false;
  return similarEnough(sim, a.length, b.length, o) || (o.passagesEnabled && sim.intersection >= o.passageMinShared);
}

/** Verify articles i and j, given their sketches and facts. */
export function verifyPair(i: number, j: number, a: VerifySide, b: VerifySide, o: VerifyOptions): VerifiedPair | Rejected {
  const sa = a.sketch;
  const sb = b.sketch;
  const fa = a.facts;
  const fb = b.facts;
  const sim = similarity(sa.shingles, sb.shingles);
  if (sim.intersection === 0) return { reason: 'below-threshold' };
  let nearDup = similarEnough(sim, sa.shingles.length, sb.shingles.length, o);
  // Neither a near-duplicate nor able to hold one long enough passage (a passage's shared shingles are among
  // the articles'): the verdict below, without aligning the paragraphs.
  if (!nearDup && sim.intersection < o.passageMinShared) return { reason: o.passagesEnabled ? 'too-little-shared' : 'below-threshold' };
  const passages = alignParagraphs(a, b, o.passageMinSimilarity, o.passageMinShared);
  const longIsA = sa.shingles.length >= sb.shingles.length;
  if (nearDup && (longIsA ? sim.containmentAB : sim.containmentBA) < 0.5) {
    // Most of the longer article is not shared. A trimmed copy keeps the longer one's opening (perhaps with
    // a reworded lead); a short item that reappears after another story in a roundup is a partial copy.
    // So: how much of the longer text comes before its first shared paragraph?
    const long = longIsA ? sa : sb;
    const aligned = new Set(passages.map((p) => (longIsA ? p.aPara : p.bPara)));
    let before = 0;
    let totalLen = 0;
    let seen = false;
    const lp = long.paragraphs;
    for (let q = 0; q < lp.length; q++) {
      const size = lp.size(q);
      if (aligned.has(lp.para(q))) seen = true;
      if (!seen) before += size;
      totalLen += size;
    }
    nearDup = seen && before <= o.maxLeadShare * totalLen;
  }
  const base = { a: i, b: j, jaccard: sim.jaccard, containmentAB: sim.containmentAB, containmentBA: sim.containmentBA, passages };
  // Facts are compared where the texts correspond (the aligned paragraphs): sections only one side carries
  // may hold other numbers legitimately. Without any alignment, the whole texts are compared.
  const agreement = passages.length
    ? factAgreement(numberSet(fa, passages.map((p) => p.aPara)), numberSet(fb, passages.map((p) => p.bPara)))
    : factAgreement(numberSet(fa, contentParas(fa)), numberSet(fb, contentParas(fb)));
  if (nearDup) {
    if (agreement < o.minFactAgreement) return { reason: 'template' };
    return { ...base, relation: 'near-duplicate' };
  }
  if (!o.passagesEnabled) return { reason: 'below-threshold' };
  // One substantial passage is needed: several short formula sentences ("sent a cable of congratulation
  // ... wishing health and happiness") spread over a template do not add up to a copied passage.
  let longest = 0;
  for (const p of passages) longest = Math.max(longest, p.shared);
  if (longest < o.passageMinShared) return { reason: 'too-little-shared' };
  if (agreement < o.minFactAgreement) return { reason: 'template' };
  return { ...base, relation: 'partial' };
}

export function isVerified(r: VerifiedPair | Rejected): r is VerifiedPair {
  return (r as VerifiedPair).relation !== undefined;
}
