import { describe, expect, it } from 'vitest';
import { bandAreas, bandKey, candidatePairs, candidateProbability, chooseBands, unpackPair } from '../src/sketch/lsh.js';
import { nightBands } from '../src/pipeline.js';
import { seededRandom } from '../src/util/random.js';

describe('LSH parameter choice', () => {
  it('chooses (b, r) with b*r <= k that minimize the weighted error, better than every alternative', () => {
    const p = chooseBands(0.5, 128, 0.5, 0.5);
    expect(p.bands * p.rows).toBeLessThanOrEqual(128);
    // The S-curve's steep point sits near the threshold.
    const knee = Math.pow(1 / p.bands, 1 / p.rows);
    expect(knee).toBeGreaterThan(0.4);
    expect(knee).toBeLessThan(0.65);
    const err = 0.5 * p.falsePositive + 0.5 * p.falseNegative;
    for (let b = 1; b <= 128; b++) {
      for (let r = 1; b * r <= 128; r++) {
        const { fp, fn } = bandAreas(0.5, b, r);
        expect(0.5 * fp + 0.5 * fn).toBeGreaterThanOrEqual(err - 1e-12);
      }
    }
  });

  it('weights matter: favouring recall lowers the false-negative area', () => {
    const balanced = chooseBands(0.5, 128, 0.5, 0.5);
    const recall = chooseBands(0.5, 128, 0.1, 0.9);
    expect(recall.falseNegative).toBeLessThan(balanced.falseNegative);
    expect(candidateProbability(0.5, recall.bands, recall.rows)).toBeGreaterThan(candidateProbability(0.5, balanced.bands, balanced.rows));
  });

  it('a higher threshold moves the knee up', () => {
    const lo = chooseBands(0.3, 128, 0.5, 0.5);
    const hi = chooseBands(0.8, 128, 0.5, 0.5);
    expect(Math.pow(1 / hi.bands, 1 / hi.rows)).toBeGreaterThan(Math.pow(1 / lo.bands, 1 / lo.rows));
  });

  it('proposes items that share a band and never pairs an item with itself', () => {
    const k = 8;
    const sigs = new Uint32Array([1, 2, 3, 4, 5, 6, 7, 8, /**/ 1, 2, 3, 4, 9, 9, 9, 9, /**/ 10, 11, 12, 13, 14, 15, 16, 17]);
    const pairs = [...candidatePairs(sigs, 3, k, { bands: 2, rows: 4, falsePositive: 0, falseNegative: 0 }, 100)].map(unpackPair);
    expect(pairs).toEqual([[0, 1]]);
  });

  it('finds exactly the pairs that share a band key, wherever the items sit, with items skipped and groups vetoed', () => {
    // 3,000 items: copies of earlier items with some rows changed, placed far from their originals, so that
    // a shared key is never a neighbour by position; each pair is checked against all pairs by brute force.
    const k = 12;
    const params = { bands: 4, rows: 3, falsePositive: 0, falseNegative: 0 };
    const n = 3000;
    const random = seededRandom(17);
    const sigs = new Uint32Array(n * k);
    for (let i = 0; i < n; i++) {
      const from = i > 100 && random() < 0.4 ? Math.floor(random() * i) : -1;
      for (let c = 0; c < k; c++) sigs[i * k + c] = from >= 0 && random() < 0.8 ? sigs[from * k + c] : Math.floor(random() * 2 ** 32);
    }
    const skip = Uint8Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 1 : 0));
    const sameGroup = (i: number, j: number): boolean => Math.floor(i / 10) === Math.floor(j / 10);
    const expected: string[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (skip[i] || skip[j] || sameGroup(i, j)) continue;
        let shared = false;
        for (let b = 0; b < params.bands && !shared; b++) shared = bandKey(sigs, i * k, b, params.rows) === bandKey(sigs, j * k, b, params.rows);
        if (shared) expected.push(`${i},${j}`);
      }
    }
    expect(expected.length).toBeGreaterThan(300);
    const found = [...candidatePairs(sigs, n, k, params, n, skip, sameGroup)].map((p) => unpackPair(p).join(','));
    expect(found).toEqual(expected);
  });

  it('finds them with more bands than the byte that stamps its table of key prefixes counts', () => {
    const k = 300;
    const n = 200;
    const random = seededRandom(23);
    const sigs = Uint32Array.from({ length: n * k }, () => Math.floor(random() * 2 ** 32));
    // Pair (2i, 2i + 1) shares only row i (band i with one row): bands 0..99, and bands 256..299 past the wrap.
    for (let i = 0; i < n / 2; i++) {
      const band = i < 56 ? i : 200 + i;
      sigs[(2 * i + 1) * k + band] = sigs[2 * i * k + band];
    }
    const found = [...candidatePairs(sigs, n, k, { bands: 300, rows: 1, falsePositive: 0, falseNegative: 0 }, n)].map((p) => unpackPair(p).join(','));
    expect(found).toEqual(Array.from({ length: n / 2 }, (_, i) => `${2 * i},${2 * i + 1}`));
  });

  it('caps oversized buckets but still links every member to an anchor', () => {
    const k = 4;
    const n = 50;
    const sigs = new Uint32Array(n * k).fill(7);
    const pairs = [...candidatePairs(sigs, n, k, { bands: 1, rows: 4, falsePositive: 0, falseNegative: 0 }, 3)].map(unpackPair);
    const linked = new Set(pairs.flat());
    expect(linked.size).toBe(n);
    expect(pairs.length).toBeLessThan((n * (n - 1)) / 2);
  });
});

describe("tonight's band keys, packed", () => {
  it("give each article its own keys and its passages', none to an empty article, in the order the passages come", () => {
    const k = 8;
    const kp = 4;
    const docBands = { bands: 4, rows: 2, falsePositive: 0, falseNegative: 0 };
    const passageBands = { bands: 2, rows: 2, falsePositive: 0, falseNegative: 0 };
    const docSigs = Uint32Array.from({ length: 3 * k }, (_, i) => (i * 2654435761) >>> 0);
    // Passages: two of article 0, one of article 2; article 1 is empty. A fourth belongs to an article past the night's.
    const owner = [0, 0, 2, 3];
    const passageSigs = Uint32Array.from({ length: owner.length * kp }, (_, i) => (i * 40503 + 7) >>> 0);
    const bands = nightBands(3, (i) => i !== 1, docSigs, k, docBands, owner, passageSigs, kp, passageBands);
    const docOf = (i: number): number[] => Array.from({ length: docBands.bands }, (_, b) => bandKey(docSigs, i * k, b, docBands.rows));
    const passageOf = (x: number): number[] => Array.from({ length: passageBands.bands }, (_, b) => bandKey(passageSigs, x * kp, b, passageBands.rows));
    expect(Array.from(bands.docKeys(0))).toEqual(docOf(0));
    expect(Array.from(bands.docKeys(1))).toEqual([]);
    expect(Array.from(bands.docKeys(2))).toEqual(docOf(2));
    expect(Array.from(bands.passageKeys(0))).toEqual([...passageOf(0), ...passageOf(1)]);
    expect(Array.from(bands.passageKeys(1))).toEqual([]);
    expect(Array.from(bands.passageKeys(2))).toEqual(passageOf(2));
  });
});
