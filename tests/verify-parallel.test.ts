import { describe, expect, it } from 'vitest';
import { shareForVerify, verifyAll } from '../src/match/parallel.js';
import { alignParagraphs, isVerified, mayLink, verifyPair, type AlignedPassage, type VerifiedPair } from '../src/match/verify.js';
import { ParagraphSets, type DocSketch } from '../src/sketch/index.js';
import { intersectionSize, SetArena, toSet, unionAll } from '../src/sketch/shingle.js';
import type { ArticleAnalysis } from '../src/text/analyze.js';
import { WorkerPool } from '../src/util/workers.js';
import { seededRandom } from '../src/util/random.js';
import { packParagraphs, type Paragraph } from '../src/text/paragraphs.js';
import { PairLookup } from '../src/provenance/index.js';

/**
 * A night of synthetic articles: paragraphs drawn from a small pool (so that articles share whole
 * paragraphs, some of them), a boilerplate paragraph now and then, and numbers per paragraph, some of
 * them shared. Half the sketches live in a shared arena, half in plain arrays: both kinds must reach the
 * workers' tables.
 */
function night(n: number): { sketches: DocSketch[]; analyses: ArticleAnalysis[] } {
  const rnd = seededRandom(7);
  const pool = Array.from({ length: 40 }, () => toSet(Array.from({ length: 20 + Math.floor(rnd() * 60) }, () => Math.floor(rnd() * 5000))));
  const shared = new SetArena(1 << 10, true);
  const sketches: DocSketch[] = [];
  const analyses: ArticleAnalysis[] = [];
  for (let i = 0; i < n; i++) {
    const count = 2 + Math.floor(rnd() * 5);
    const paragraphs: Paragraph[] = [];
    const sets: Array<{ para: number; shingles: Uint32Array }> = [];
    const numberKeys: number[] = [];
    const numberStart = new Int32Array(count + 1);
    for (let p = 0; p < count; p++) {
      const boilerplate = rnd() < 0.15;
      paragraphs.push({ start: p * 100, end: p * 100 + 90, hash: p, tokenCount: 30, kind: boilerplate ? 'template' : null });
      numberStart[p] = numberKeys.length;
      for (let k = Math.floor(rnd() * 5); k > 0; k--) numberKeys.push(Math.floor(rnd() * 12));
      if (boilerplate) continue;
      const set = pool[Math.floor(rnd() * pool.length)];
      sets.push({ para: p, shingles: i % 2 ? shared.copy(set) : set.slice() });
    }
    numberStart[count] = numberKeys.length;
    const union = unionAll(sets.map((s) => s.shingles));
    sketches.push({ shingles: i % 2 ? shared.copy(union) : union, paragraphs: ParagraphSets.pack(sets, i % 2 ? shared : undefined) });
    analyses.push({ paragraphs: packParagraphs(paragraphs), numberKeys: Uint32Array.from(numberKeys), numberStart, titleHash: i, credits: [], agencies: [] });
  }
  return { sketches, analyses };
}

const options = { jaccard: 0.25, containment: 0.5, minShingles: 8, minFactAgreement: 0.5, maxLeadShare: 0.3, passageMinSimilarity: 0.5, passageMinShared: 10, passagesEnabled: true };

describe('the test before loading an earlier article', () => {
  it('says no only to pairs verification would not link', () => {
    const { sketches, analyses } = night(150);
    let linked = 0;
    let refusedSharing = 0;
    for (let a = 0; a < sketches.length; a++) {
      for (let b = a + 1; b < sketches.length; b++) {
        const may = mayLink(sketches[a].shingles, sketches[b].shingles, options);
        const r = verifyPair(a, b, { sketch: sketches[a], facts: analyses[a] }, { sketch: sketches[b], facts: analyses[b] }, options);
        if (isVerified(r)) {
          linked++;
          expect(may, `${a} ${b}`).toBe(true);
        } else if (!may && intersectionSize(sketches[a].shingles, sketches[b].shingles) > 0) refusedSharing++;
      }
    }
    // Both sides are exercised: links, and refusals of articles that do share some shingles.
    expect(linked).toBeGreaterThan(100);
    expect(refusedSharing).toBeGreaterThan(100);
  });
});

describe('verification across worker threads', () => {
  it('gives the pairs and reasons verifyPair gives, in candidate order, over several chunks', async () => {
    const n = 120;
    const { sketches, analyses } = night(n);
    const candidates: number[] = [];
    // Article 0 takes part in no candidate: it must get no sets in the tables.
    for (let a = 1; a < n; a++) for (let b = a + 1; b < n; b += 3) candidates.push(a * 2 ** 21 + b);
    const keys = Float64Array.from(candidates).sort();
    expect(keys.length).toBeGreaterThan(1000); // more than one chunk

    const expected: VerifiedPair[] = [];
    const reasons: Record<string, number> = {};
    for (const c of keys) {
      const a = Math.floor(c / 2 ** 21);
      const b = c - a * 2 ** 21;
      const r = verifyPair(a, b, { sketch: sketches[a], facts: analyses[a] }, { sketch: sketches[b], facts: analyses[b] }, options);
      if (isVerified(r)) expected.push(r);
      else reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
    }
    const relations = new Set(expected.map((p) => p.relation));
    expect(relations).toEqual(new Set(['near-duplicate', 'partial']));
    expect(Object.keys(reasons).length).toBeGreaterThan(0);

    const got = await verifyAll(new WorkerPool(1), keys, sketches, analyses, options);
    expect(got.pairs).toEqual(expected);
    expect(got.rejectedReasons).toEqual(reasons);
  });

  it('shares sets already in shared memory and copies the others, only for articles that take part', () => {
    const { sketches, analyses } = night(6);
    const involved = Uint8Array.from([0, 1, 1, 0, 1, 1]);
    const t = shareForVerify(sketches, analyses, involved);
    // Article 0 takes no part: no paragraphs, and no sets referenced.
    expect(t.firstPara[1] - t.firstPara[0]).toBe(0);
    expect([...t.docRefs.subarray(0, 3), ...t.paraRefs.subarray(0, 4)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    for (const b of t.blocks) expect(b).toBeInstanceOf(SharedArrayBuffer);
    // Odd articles' sets were in a shared arena: referenced where they are, not copied; even ones were copied.
    for (const i of [1, 5]) {
      expect(t.blocks[t.docRefs[3 * i]]).toBe(sketches[i].shingles.buffer);
      expect(t.blocks[t.paraRefs[4 * i]]).toBe(sketches[i].paragraphs.packedArray().buffer);
    }
    for (const i of [2, 4]) expect(t.blocks[t.paraRefs[4 * i]]).not.toBe(sketches[i].paragraphs.packedArray().buffer);
    // Every set reads back as it was, the paragraph sets in their packed form, read in place.
    const view = (refs: Uint32Array, at: number): Uint32Array => new Uint32Array(t.blocks[refs[at]]).subarray(refs[at + 1], refs[at + 1] + refs[at + 2]);
    for (const i of [1, 2, 4, 5]) {
      expect(view(t.docRefs, 3 * i)).toEqual(sketches[i].shingles);
      expect(ParagraphSets.fromPacked(view(t.paraRefs, 4 * i), t.paraRefs[4 * i + 3]).toArray()).toEqual(sketches[i].paragraphs.toArray());
    }
  });

  it('aligns paragraphs as measuring every pair of paragraphs on its own would', () => {
    // The definition: each A paragraph with the B paragraph of the highest containment (the first on ties),
    // kept when contained enough or sharing enough; each B paragraph with its best A paragraph only.
    const reference = (a: DocSketch, b: DocSketch, minSim: number, minShared: number): AlignedPassage[] => {
      const best = new Map<number, AlignedPassage>();
      for (const pa of a.paragraphs.toArray()) {
        let top: AlignedPassage | null = null;
        for (const pb of b.paragraphs.toArray()) {
          const shared = intersectionSize(pa.shingles, pb.shingles);
          const similarity = shared / Math.min(pa.shingles.length, pb.shingles.length);
          if (shared > 0 && (!top || similarity > top.similarity)) top = { aPara: pa.para, bPara: pb.para, shared, similarity };
        }
        if (!top || (top.similarity < minSim && top.shared < minShared)) continue;
        const prev = best.get(top.bPara);
        if (!prev || top.shared > prev.shared) best.set(top.bPara, top);
      }
      return [...best.values()].sort((x, y) => x.aPara - y.aPara || x.bPara - y.bPara);
    };
    const { sketches, analyses } = night(60);
    let aligned = 0;
    for (let a = 0; a < 60; a++) {
      for (let b = 0; b < 60; b += 7) {
        const got = alignParagraphs({ sketch: sketches[a], facts: analyses[a] }, { sketch: sketches[b], facts: analyses[b] }, 0.5, 10);
        expect(got).toEqual(reference(sketches[a], sketches[b], 0.5, 10));
        aligned += got.length;
      }
    }
    expect(aligned).toBeGreaterThan(100);
    // Sides kept from pair to pair, as a worker keeps them through a chunk: each index is built once, in
    // buffers reused from article to article, and must stay as built.
    const kept = sketches.map((sketch, i) => ({ sketch, facts: analyses[i] }));
    for (let a = 59; a >= 0; a--) {
      for (let b = 0; b < 60; b += 5) expect(alignParagraphs(kept[a], kept[b], 0.5, 10)).toEqual(reference(sketches[a], sketches[b], 0.5, 10));
    }
    // Two articles of 2,100 short paragraphs each: more paragraph pairs than one buffer counts, aligned pair by pair.
    const many = (offset: number): DocSketch => ({
      shingles: new Uint32Array(0),
      paragraphs: ParagraphSets.pack(Array.from({ length: 2100 }, (_, p) => ({ para: p, shingles: Uint32Array.from([p, p + 1, 5000 + ((p * 7 + offset) % 300)]) }))),
    });
    const [x, y] = [many(0), many(3)];
    const side = (sketch: DocSketch) => ({ sketch, facts: { paragraphs: packParagraphs([]), numberKeys: new Uint32Array(0), numberStart: new Int32Array(1) } });
    const got = alignParagraphs(side(x), side(y), 0.5, 10);
    expect(got.length).toBeGreaterThan(1000);
    expect(got).toEqual(reference(x, y, 0.5, 10));
  });
});

describe('PairLookup', () => {
  it('finds every pair by its two articles in either order, and nothing else, sorted or not', () => {
    const random = seededRandom(3);
    const pairs: VerifiedPair[] = [];
    const seen = new Set<string>();
    while (pairs.length < 2000) {
      const a = Math.floor(random() * 3000);
      const b = Math.floor(random() * 3000);
      if (a === b || seen.has(`${Math.min(a, b)}:${Math.max(a, b)}`)) continue;
      seen.add(`${Math.min(a, b)}:${Math.max(a, b)}`);
      pairs.push({ a: Math.min(a, b), b: Math.max(a, b), relation: 'partial', jaccard: 0, containmentAB: 0, containmentBA: 0, passages: [] });
    }
    const sorted = [...pairs].sort((p, q) => p.a - q.a || p.b - q.b);
    for (const list of [pairs, sorted]) {
      const lookup = new PairLookup(list);
      for (const p of pairs) {
        expect(lookup.get(p.a, p.b)).toBe(p);
        expect(lookup.get(p.b, p.a)).toBe(p);
      }
      for (let n = 0; n < 2000; n++) {
        const a = Math.floor(random() * 3000);
        const b = Math.floor(random() * 3000);
        expect(lookup.get(a, b)).toBe(seen.has(`${Math.min(a, b)}:${Math.max(a, b)}`) ? pairs.find((p) => p.a === Math.min(a, b) && p.b === Math.max(a, b)) : undefined);
      }
    }
    expect(new PairLookup([]).get(1, 2)).toBeUndefined();
  });
});
