import { describe, expect, it } from 'vitest';
import { dropCommon, frequentShingles } from '../src/sketch/index.js';
import { ShingleCounts } from '../src/sketch/counts.js';
import { toSet } from '../src/sketch/shingle.js';
import { seededRandom } from '../src/util/random.js';

/** The definition: count each shingle's documents, add the prior, keep those at minDocs or more. */
function naive(sets: Uint32Array[], minDocs: number, prior?: ShingleCounts, counted?: Uint8Array): number[] {
  const counts = new Map<number, number>();
  sets.forEach((s, i) => s.forEach((h) => counts.set(h, (counts.get(h) ?? 0) + (!counted || counted[i] === 1 ? 1 : 0))));
  return [...counts].filter(([h, c]) => c + (prior ? prior.get(h) : 0) >= minDocs).map(([h]) => h).sort((a, b) => a - b);
}

function corpus(seed: number, docs: number): Uint32Array[] {
  const rand = seededRandom(seed);
  // A Zipf-like vocabulary: a few shingles in many documents, most in one or two.
  return Array.from({ length: docs }, () => toSet(Array.from({ length: 50 + Math.floor(rand() * 300) }, () => {
    const r = rand();
    return r < 0.05 ? Math.floor(rand() * 40) * 0x9e3779b1 >>> 0 : Math.floor(rand() * 2 ** 32);
  })));
}

describe('stock phrases', () => {
  it('finds exactly the shingles in at least minDocs sets, with and without earlier nights', () => {
    const sets = corpus(3, 2000);
    for (const minDocs of [2, 25, 60]) expect([...frequentShingles(sets, minDocs)].sort((a, b) => a - b)).toEqual(naive(sets, minDocs));
    // Earlier nights' counts, and sets already counted by an earlier run (counted = 0): judged, not counted again.
    const rand = seededRandom(9);
    const known = toSet([...sets[0].slice(0, 30), ...sets[1].slice(0, 30), ...Array.from({ length: 40 }, (_, i) => (i * 0x9e3779b1) >>> 0)]);
    const prior = new ShingleCounts(known, Uint32Array.from(known, () => 1 + Math.floor(rand() * 30)));
    const counted = Uint8Array.from(sets, () => (rand() < 0.8 ? 1 : 0));
    for (const minDocs of [10, 25]) expect([...frequentShingles(sets, minDocs, prior, counted)].sort((a, b) => a - b)).toEqual(naive(sets, minDocs, prior, counted));
  });

  it('drops exactly the stock phrases from a set, sharing the array when none is found', () => {
    const sets = corpus(5, 300);
    const common = frequentShingles(sets, 10);
    expect(common.size).toBeGreaterThan(5);
    for (const s of sets) expect([...dropCommon(s, common)]).toEqual([...s].filter((h) => !common.has(h)));
    const none = toSet([1, 2, 3]);
    expect(dropCommon(none, common)).toBe(none);
  });
});
