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
import type { ArticleAnalysis } from '../text/analyze.js';
import type { DocSketch } from '../sketch/index.js';
import { intersectionSize, similarity } from '../sketch/shingle.js';

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
 * Align each content paragraph of A with the paragraph of B it shares most
 * with; keep alignments whose smaller side is at least `minSim` contained or
 * that share at least `minShared` shingles.
 * One B paragraph aligns with at most one A paragraph (the best).
 */
export function alignParagraphs(sa: DocSketch, sb: DocSketch, minSim: number, minShared: number): AlignedPassage[] {
  const best = new Map<number, AlignedPassage>();
  for (const pa of sa.paragraphs) {
    // Every B paragraph is measured exactly (a merge of two sorted sets): no per-pair maps to build, and
    // a B paragraph sharing only shingles that another B paragraph also has is still seen.
    let bestQ = -1;
    let bestSim = 0;
    let bestShared = 0;
    for (let q = 0; q < sb.paragraphs.length; q++) {
      const pb = sb.paragraphs[q];
      const exact = intersectionSize(pa.shingles, pb.shingles);
      if (exact === 0) continue;
      const sim = exact / Math.min(pa.shingles.length, pb.shingles.length);
      if (sim > bestSim) {
        bestSim = sim;
        bestQ = q;
        bestShared = exact;
      }
    }
    // Aligned when mostly shared, or when a long enough run is shared (one sentence kept from an edited paragraph).
    if (bestQ < 0 || (bestSim < minSim && bestShared < minShared)) continue;
    const bPara = sb.paragraphs[bestQ].para;
    const prev = best.get(bPara);
    if (!prev || bestShared > prev.shared) best.set(bPara, { aPara: pa.para, bPara, shared: bestShared, similarity: bestSim });
  }
  return [...best.values()].sort((x, y) => x.aPara - y.aPara || x.bPara - y.bPara);
}

/**
 * What verification reads of an article's analysis: which paragraphs are content (kind null) and each
 * paragraph's number keys. An ArticleAnalysis is one; a worker thread builds one from shared tables.
 */
export type FactView = Pick<ArticleAnalysis, 'numberKeys' | 'numberStart'> & { paragraphs: ReadonlyArray<{ kind: unknown }> };

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

const contentParas = (a: FactView): number[] => a.paragraphs.flatMap((p, i) => (p.kind === null ? [i] : []));

/** Verify articles i and j, given their sketches (sa, sb) and facts (fa, fb). */
export function verifyPair(i: number, j: number, sa: DocSketch, sb: DocSketch, fa: FactView, fb: FactView, o: VerifyOptions): VerifiedPair | Rejected {
  const sim = similarity(sa.shingles, sb.shingles);
  if (sim.intersection === 0) return { reason: 'below-threshold' };
  const small = Math.min(sa.shingles.length, sb.shingles.length);
  const maxContainment = Math.max(sim.containmentAB, sim.containmentBA);
  // Very short texts are only near-duplicates when (almost) identical: a few shared shingles prove nothing.
  const passages = alignParagraphs(sa, sb, o.passageMinSimilarity, o.passageMinShared);
  let nearDup = small >= o.minShingles ? sim.jaccard >= o.jaccard || maxContainment >= o.containment : sim.jaccard >= 0.9;
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
    for (const p of long.paragraphs) {
      if (aligned.has(p.para)) seen = true;
      if (!seen) before += p.shingles.length;
      totalLen += p.shingles.length;
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
