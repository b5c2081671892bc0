/**
 * Verification spread over the worker threads. The sets and facts verification reads are shared with the
 * workers, not copied to each: an article's whole set and its packed paragraph sets, where they already
 * live in a SharedArrayBuffer (the sketches' arenas), are described by (block, offset, length), and any
 * other is copied once into a shared arena. The candidates go
 * out in chunks; each chunk's verdicts come back packed in one Float64Array and are decoded here in
 * candidate order, so the pairs are the same, in the same order, whatever the number of workers.
 */
import { isContent, newParagraphs, paragraphCount, setParaKind } from '../text/paragraphs.js';
import type { WorkerPool } from '../util/workers.js';
import { ParagraphSets, type DocSketch } from '../sketch/index.js';
import { unpackPair } from '../sketch/lsh.js';
import { SetArena } from '../sketch/shingle.js';
import type { ArticleAnalysis } from '../text/analyze.js';
import { isVerified, RELATIONS, verifyPair, type AlignedPassage, type Rejected, type VerifiedPair, type VerifyOptions, type VerifySide } from './verify.js';

/** Everything a worker needs to verify any candidate of the night, in shared memory (see shareForVerify). */
export interface VerifyTables {
  /** The blocks the sets live in. */
  blocks: SharedArrayBuffer[];
  /** Article i's whole set is `docRefs[3i + 2]` values of blocks[docRefs[3i]], from value `docRefs[3i + 1]`. */
  docRefs: Uint32Array;
  /**
   * Article i's content paragraphs' sets, packed as its sketch holds them (ParagraphSets.packedArray):
   * `paraRefs[4i + 2]` values of blocks[paraRefs[4i]] from value `paraRefs[4i + 1]`, holding
   * `paraRefs[4i + 3]` sets. Read in place: one reference an article, no set copied or packed again.
   */
  paraRefs: Uint32Array;
  /** Article i's paragraphs are [firstPara[i], firstPara[i + 1]) of `content` (1 = a content paragraph). */
  firstPara: Uint32Array;
  content: Uint8Array;
  /** Article i's numberStart is numberStart[firstPara[i] + i, firstPara[i + 1] + i + 1), into its own keys. */
  numberStart: Int32Array;
  /** Article i's numberKeys are numberKeys[firstNumber[i], firstNumber[i + 1]). */
  firstNumber: Uint32Array;
  numberKeys: Uint32Array;
}

/** Verdict codes in a packed result: the two relations (RELATIONS), then the reasons a candidate is not linked. */
const REASONS: Array<Rejected['reason']> = ['template', 'too-little-shared', 'below-threshold'];

function sharedArray<T extends Uint32Array | Int32Array | Uint8Array>(Kind: new (b: SharedArrayBuffer) => T, bytesPer: number, length: number): T {
  return new Kind(new SharedArrayBuffer(Math.max(1, length) * bytesPer));
}

/**
 * The tables for the articles flagged in `involved` (the others get no sets and no facts: no candidate
 * reads them). Typed arrays only, all in shared memory, so posting them to a worker copies nothing.
 */
export function shareForVerify(sketches: DocSketch[], analyses: ArticleAnalysis[], involved: Uint8Array): VerifyTables {
  const n = sketches.length;
  let paraCount = 0;
  let numberCount = 0;
  for (let i = 0; i < n; i++) {
    if (!involved[i]) continue;
    paraCount += analyses[i].paragraphs.length;
    numberCount += analyses[i].numberKeys.length;
  }
  const t: VerifyTables = {
    blocks: [],
    docRefs: sharedArray(Uint32Array, 4, 3 * n),
    paraRefs: sharedArray(Uint32Array, 4, 4 * n),
    firstPara: sharedArray(Uint32Array, 4, n + 1),
    content: sharedArray(Uint8Array, 1, paraCount),
    numberStart: sharedArray(Int32Array, 4, paraCount + n + 1),
    firstNumber: sharedArray(Uint32Array, 4, n + 1),
    numberKeys: sharedArray(Uint32Array, 4, numberCount),
  };
  const blockIndex = new Map<SharedArrayBuffer, number>();
  // Arrays not already in shared memory (loaded earlier articles, a sketch kept as the worker sent it).
  const copies = new SetArena(1 << 18, true);
  const refer = (values: Uint32Array, refs: Uint32Array, at: number): void => {
    const shared = values.buffer instanceof SharedArrayBuffer ? values : copies.copy(values);
    const buffer = shared.buffer as SharedArrayBuffer;
    let b = blockIndex.get(buffer);
    if (b === undefined) {
      b = t.blocks.length;
      blockIndex.set(buffer, b);
      t.blocks.push(buffer);
    }
    refs[at] = b;
    refs[at + 1] = shared.byteOffset / 4;
    refs[at + 2] = shared.length;
  };
  let p = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    t.firstPara[i] = p;
    t.firstNumber[i] = k;
    if (involved[i]) {
      refer(sketches[i].shingles, t.docRefs, 3 * i);
      refer(sketches[i].paragraphs.packedArray(), t.paraRefs, 4 * i);
      t.paraRefs[4 * i + 3] = sketches[i].paragraphs.length;
      const a = analyses[i];
      t.numberStart.set(a.numberStart, p + i);
      for (let q = 0; q < paragraphCount(a.paragraphs); q++) t.content[p++] = isContent(a.paragraphs, q) ? 1 : 0;
      t.numberKeys.set(a.numberKeys, k);
      k += a.numberKeys.length;
    } else {
      t.numberStart[p + i] = 0;
    }
  }
  t.firstPara[n] = p;
  t.firstNumber[n] = k;
  return t;
}

/** Article i's sketch and facts as views into the tables. */
function sideOf(t: VerifyTables, blockViews: Uint32Array[], i: number): VerifySide {
  const view = (refs: Uint32Array, at: number): Uint32Array => blockViews[refs[at]].subarray(refs[at + 1], refs[at + 1] + refs[at + 2]);
  const paragraphs = ParagraphSets.fromPacked(view(t.paraRefs, 4 * i), t.paraRefs[4 * i + 3]);
  const p0 = t.firstPara[i];
  const p1 = t.firstPara[i + 1];
  // Only whether a paragraph is content is read from the facts: other fields stay 0, and every other kind is one code.
  const kinds = newParagraphs(p1 - p0);
  for (let p = p0; p < p1; p++) if (t.content[p] !== 1) setParaKind(kinds, p - p0, 'marker');
  return {
    sketch: { shingles: view(t.docRefs, 3 * i), paragraphs },
    facts: { paragraphs: kinds, numberStart: t.numberStart.subarray(p0 + i, p1 + i + 1), numberKeys: t.numberKeys.subarray(t.firstNumber[i], t.firstNumber[i + 1]) },
  };
}

/**
 * Verify a chunk of candidates (packed pairs, see unpackPair). Per candidate: its verdict code, then for a
 * linked pair jaccard, both containments, the passage count and four numbers per passage.
 */
export function verifyChunk(candidates: Float64Array, t: VerifyTables, o: VerifyOptions): Float64Array {
  const blockViews = t.blocks.map((b) => new Uint32Array(b));
  const sides = new Map<number, VerifySide>();
  const side = (i: number): VerifySide => {
    let x = sides.get(i);
    if (!x) sides.set(i, (x = sideOf(t, blockViews, i)));
    return x;
  };
  const out: number[] = [];
  for (const c of candidates) {
    const [i, j] = unpackPair(c);
    const a = side(i);
    const b = side(j);
    const r = verifyPair(i, j, a, b, o);
    if (!isVerified(r)) {
      out.push(RELATIONS.length + REASONS.indexOf(r.reason));
      continue;
    }
    out.push(RELATIONS.indexOf(r.relation), r.jaccard, r.containmentAB, r.containmentBA, r.passages.length);
    for (const p of r.passages) out.push(p.aPara, p.bPara, p.shared, p.similarity);
  }
  return Float64Array.from(out);
}

/** Candidates per chunk: enough chunks to keep every worker busy to the end, none too small to be worth a message. */
function chunkSize(candidates: number, workers: number): number {
  return Math.max(256, Math.min(4096, Math.ceil(candidates / (8 * workers))));
}

/**
 * Verify every candidate (sorted packed pairs) on the pool. Returns the linked pairs in candidate order and
 * how many candidates were not linked, by reason.
 */
export async function verifyAll(
  pool: WorkerPool,
  candidates: Float64Array,
  sketches: DocSketch[],
  analyses: ArticleAnalysis[],
  o: VerifyOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<{ pairs: VerifiedPair[]; rejectedReasons: Record<string, number> }> {
  const involved = new Uint8Array(sketches.length);
  for (const c of candidates) {
    const [i, j] = unpackPair(c);
    involved[i] = 1;
    involved[j] = 1;
  }
  const tables = shareForVerify(sketches, analyses, involved);
  const size = chunkSize(candidates.length, pool.size);
  let done = 0;
  const chunks: Array<Promise<{ from: number; to: number; verdicts: Float64Array }>> = [];
  for (let from = 0; from < candidates.length; from += size) {
    const to = Math.min(candidates.length, from + size);
    // A copy of the chunk moves to the worker (the candidates stay here, to be decoded against).
    const chunk = candidates.slice(from, to);
    chunks.push(
      pool.run('verify', [chunk], { tables, options: o }, [chunk.buffer as ArrayBuffer]).then(([verdicts]) => {
        done += to - from;
        onProgress?.(done, candidates.length);
        return { from, to, verdicts };
      }),
    );
  }
  const pairs: VerifiedPair[] = [];
  const rejectedReasons: Record<string, number> = {};
  for (const { from, to, verdicts } of await Promise.all(chunks)) {
    let at = 0;
    for (let c = from; c < to; c++) {
      const code = verdicts[at++];
      if (code >= RELATIONS.length) {
        const reason = REASONS[code - RELATIONS.length];
        rejectedReasons[reason] = (rejectedReasons[reason] ?? 0) + 1;
        continue;
      }
      const [a, b] = unpackPair(candidates[c]);
      const jaccard = verdicts[at++];
      const containmentAB = verdicts[at++];
      const containmentBA = verdicts[at++];
      const passages: AlignedPassage[] = [];
      for (let n = verdicts[at++]; n > 0; n--) {
        passages.push({ aPara: verdicts[at], bPara: verdicts[at + 1], shared: verdicts[at + 2], similarity: verdicts[at + 3] });
        at += 4;
      }
      // The fields in the order verifyPair gives them.
      pairs.push({ a, b, jaccard, containmentAB, containmentBA, passages, relation: RELATIONS[code] });
    }
  }
  return { pairs, rejectedReasons };
}
