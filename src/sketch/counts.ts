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
  return countSorted(sortUint32(concatAll(sets)), minCount);
}

/** Each distinct value of sorted values with how often it occurs, keeping those seen at least `minCount` times. */
export function countSorted(all: Uint32Array, minCount: number): ShingleCounts {
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

/**
 * The sets' values cut into `parts` equal ranges of the hash space, each range's values back to back in a
 * buffer of its own: ranges that threads can sort and count on their own (a buffer moved to a worker and
 * back, not shared: a worker's heap would keep shared memory alive until it collects, 130 MB at a
 * 100k-article night, through the history stage where the night peaks), whose counts, put one after the
 * other, are the counts of the whole. The sets are sorted (as every set here is), so each set's values in a
 * range are one slice of it, found by binary search and copied whole: about the cost of concatenating them.
 */
export function splitByRange(sets: Uint32Array[], parts: number): Uint32Array[] {
  if (!Number.isInteger(parts) || parts < 1 || parts > 1 << 16) throw new Error(`splitByRange: parts must be an integer from 1 to 65536, got ${parts}`);
  const width = 2 ** 32 / parts;
  // cut[s * (parts + 1) + k]: where range k starts in set s.
  const cut = new Uint32Array(sets.length * (parts + 1));
  const size = new Float64Array(parts);
  for (let s = 0; s < sets.length; s++) {
    const set = sets[s];
    const row = s * (parts + 1);
    cut[row + parts] = set.length;
    for (let k = 1; k < parts; k++) {
      // First value at or above the range's start (values below it are in earlier ranges).
      const from = Math.ceil(k * width);
      let lo = cut[row + k - 1];
      let hi = set.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (set[mid] < from) lo = mid + 1;
        else hi = mid;
      }
      cut[row + k] = lo;
    }
    for (let k = 0; k < parts; k++) size[k] += cut[row + k + 1] - cut[row + k];
  }
  const ranges = Array.from(size, (n) => new Uint32Array(n));
  const write = new Float64Array(parts);
  for (let s = 0; s < sets.length; s++) {
    const row = s * (parts + 1);
    for (let k = 0; k < parts; k++) {
      const slice = sets[s].subarray(cut[row + k], cut[row + k + 1]);
      ranges[k].set(slice, write[k]);
      write[k] += slice.length;
    }
  }
  return ranges;
}

/** Counts of consecutive ranges of the hash space, in order, as one. */
export function joinCounts(parts: ShingleCounts[]): ShingleCounts {
  if (parts.length === 1) return parts[0];
  return new ShingleCounts(concatAll(parts.map((p) => p.hashes)), concatAll(parts.map((p) => p.counts)));
}

/**
 * countSets with the sorting and counting spread over threads: `countParts` sorts and counts each range
 * of splitByRange (on a worker pool, say). The same counts as countSets, whatever the number of parts.
 */
export async function countSetsSplit(sets: Uint32Array[], minCount: number, parts: number, countParts: (ranges: Uint32Array[], minCount: number) => Promise<ShingleCounts[]>): Promise<ShingleCounts> {
  if (parts <= 1) return countSets(sets, minCount);
  return joinCounts(await countParts(splitByRange(sets, parts), minCount));
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
