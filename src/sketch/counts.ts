/**
 * Document counts of shingles across nights, for stock-phrase detection that
 * sees the whole index and not only tonight. Everything here is sorted
 * parallel arrays (hash, count): a night holds tens of millions of distinct
 * shingles, more than a JavaScript Map can (2^24 entries), and sorting is the
 * fastest way to count them.
 */
import { concatAll, sortUint32 } from './shingle.js';

export class ShingleCounts {
  constructor(
    readonly hashes: Uint32Array = new Uint32Array(0),
    readonly counts: Uint32Array = new Uint32Array(0),
  ) {}

  get size(): number {
    return this.hashes.length;
  }

  get(h: number): number {
    let lo = 0;
    let hi = this.hashes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = this.hashes[mid];
      if (x === h) return this.counts[mid];
      if (x < h) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }
}

/** Changes to stored counts: sorted distinct hashes with a signed delta each. */
export interface ShingleDeltas {
  hashes: Uint32Array;
  deltas: Int32Array;
}

/**
 * Each distinct value of the sets with the number of sets holding it (the sets are sets: no repeats inside
 * one), keeping only values held by at least `minCount` sets: a night's singletons, nine in ten of its
 * distinct shingles, need no room when only repeats matter.
 */
export function countSets(sets: Uint32Array[], minCount = 1): ShingleCounts {
  const all = sortUint32(concatAll(sets));
  // Two passes over the sorted values: the kept count first, so the outputs are allocated exactly
  // (a large night sorts tens of millions of shingles; spare copies of that size are what peak RSS is made of).
  let kept = 0;
  for (let i = 0; i < all.length; ) {
    let j = i + 1;
    while (j < all.length && all[j] === all[i]) j++;
    if (j - i >= minCount) kept++;
    i = j;
  }
  const hashes = new Uint32Array(kept);
  const counts = new Uint32Array(kept);
  let w = 0;
  for (let i = 0; i < all.length; ) {
    let j = i + 1;
    while (j < all.length && all[j] === all[i]) j++;
    if (j - i >= minCount) {
      hashes[w] = all[i];
      counts[w++] = j - i;
    }
    i = j;
  }
  return new ShingleCounts(hashes, counts);
}

/** `plus` minus `minus`, as deltas (zero deltas left out). */
export function deltasOf(plus: ShingleCounts, minus: ShingleCounts = new ShingleCounts()): ShingleDeltas {
  const hashes = new Uint32Array(plus.size + minus.size);
  const deltas = new Int32Array(plus.size + minus.size);
  let w = 0;
  let i = 0;
  let j = 0;
  while (i < plus.size || j < minus.size) {
    const a = i < plus.size ? plus.hashes[i] : Infinity;
    const b = j < minus.size ? minus.hashes[j] : Infinity;
    const h = Math.min(a, b);
    const d = (a === h ? plus.counts[i++] : 0) - (b === h ? minus.counts[j++] : 0);
    if (d === 0) continue;
    hashes[w] = h;
    deltas[w++] = d;
  }
  return { hashes: hashes.slice(0, w), deltas: deltas.slice(0, w) };
}
