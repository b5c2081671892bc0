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
import { intersectionSize, similarity, type Similarity } from '../sketch/shingle.js';

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
 * An article's paragraph sets merged into one list sorted by shingle, each entry with the position of its
 * paragraph in the sketch: aligning two articles is then one merge of two lists, where comparing every
 * pair of paragraphs took a merge per pair (ten paragraphs a side: a hundred merges).
 */
export interface ParagraphIndex {
  hashes: Uint32Array;
  owners: Uint32Array;
}

/** The article as verification reads it; `index` is built on first use and kept with it. */
export interface VerifySide {
  sketch: DocSketch;
  facts: FactView;
  index?: ParagraphIndex;
}

/**
 * Where paragraphIndex merges (one set of buffers per thread, grown as needed): the index built is copied
 * out once, instead of four arrays allocated per article, which had been a third of its time in a worker.
 */
const mergeScratch = { hashes: [new Uint32Array(1024), new Uint32Array(1024)], owners: [new Uint32Array(1024), new Uint32Array(1024)] };
/** Owners of an article with one paragraph set: all 0, read only. */
let zeroOwners = new Uint32Array(1024);

function paragraphIndex(side: VerifySide): ParagraphIndex {
  if (side.index) return side.index;
  const paragraphs = side.sketch.paragraphs;
  const values = paragraphs.values();
  const total = values.length;
  if (paragraphs.length <= 1) {
    // One set is its own index (sorted already), every entry owned by set 0.
    if (zeroOwners.length < total) zeroOwners = new Uint32Array(2 * total);
    side.index = { hashes: values, owners: zeroOwners.subarray(0, total) };
    return side.index;
  }
  if (mergeScratch.hashes[0].length < total) {
    for (const kind of [mergeScratch.hashes, mergeScratch.owners]) for (let k = 0; k < 2; k++) kind[k] = new Uint32Array(2 * total);
  }
  // A bottom-up merge sort whose first runs are the paragraph sets (each sorted already, and back to back in
  // the packed sets): log2(paragraphs) passes, equal shingles kept (one entry per paragraph holding them).
  // The first pass reads the sketch's values where they are (in shared memory, in a worker); they are never
  // written. Passes then go back and forth between the two scratch buffers.
  let hashes: Uint32Array = values;
  let owners = mergeScratch.owners[0];
  let bounds = [0];
  for (let q = 0; q < paragraphs.length; q++) {
    owners.fill(q, paragraphs.start(q), paragraphs.end(q));
    bounds.push(paragraphs.end(q));
  }
  let toHashes: Uint32Array = mergeScratch.hashes[0];
  let toOwners = mergeScratch.owners[1];
  while (bounds.length > 2) {
    const next = [0];
    for (let r = 0; r + 1 < bounds.length; r += 2) {
      const mid = bounds[r + 1];
      const hi = r + 2 < bounds.length ? bounds[r + 2] : mid;
      let i = bounds[r];
      let j = mid;
      let w = i;
      while (i < mid && j < hi) {
        if (hashes[j] < hashes[i]) {
          toHashes[w] = hashes[j];
          toOwners[w++] = owners[j++];
        } else {
          toHashes[w] = hashes[i];
          toOwners[w++] = owners[i++];
        }
      }
      for (; i < mid; i++, w++) {
        toHashes[w] = hashes[i];
        toOwners[w] = owners[i];
      }
      for (; j < hi; j++, w++) {
        toHashes[w] = hashes[j];
        toOwners[w] = owners[j];
      }
      next.push(hi);
    }
    // The buffer just read is the next one written, except the sketch's own values after the first pass.
    const free = hashes === values ? mergeScratch.hashes[1] : hashes;
    hashes = toHashes;
    toHashes = free;
    [owners, toOwners] = [toOwners, owners];
    bounds = next;
  }
  side.index = { hashes: hashes.slice(0, total), owners: owners.slice(0, total) };
  return side.index;
}

/** Paragraph pairs counted in one buffer at most (16 MB); two articles of thousands of short paragraphs each are aligned pair by pair. */
const MAX_PAIR_CELLS = 1 << 22;

/** Shared shingles of every (A paragraph, B paragraph) pair, row by A paragraph, in one reused buffer. */
let pairCounts = new Int32Array(1024);
function sharedByParagraph(a: VerifySide, b: VerifySide): Int32Array {
  const ia = paragraphIndex(a);
  const ib = paragraphIndex(b);
  const cols = b.sketch.paragraphs.length;
  const cells = a.sketch.paragraphs.length * cols;
  if (pairCounts.length < cells) pairCounts = new Int32Array(2 * cells);
  const counts = pairCounts.subarray(0, cells);
  counts.fill(0);
  const ha = ia.hashes;
  const hb = ib.hashes;
  let i = 0;
  let j = 0;
  while (i < ha.length && j < hb.length) {
    const x = ha[i];
    const y = hb[j];
    if (x < y) i++;
    else if (x > y) j++;
    else {
      // A shingle in several paragraphs of a side counts for each pair of them.
      let i2 = i + 1;
      while (i2 < ha.length && ha[i2] === x) i2++;
      let j2 = j + 1;
      while (j2 < hb.length && hb[j2] === x) j2++;
      for (let s = i; s < i2; s++) for (let t = j; t < j2; t++) counts[ia.owners[s] * cols + ib.owners[t]]++;
      i = i2;
      j = j2;
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
