/**
 * LSH banding: b bands of r rows. Two sets with Jaccard s share at least one
 * band with probability P(s) = 1 - (1 - s^r)^b, an S-curve whose steepest
 * point sits near (1/b)^(1/r). (b, r) are chosen, with b*r <= k, to minimize
 *   w_fp * ∫_0^t P(s) ds  +  w_fn * ∫_t^1 (1 - P(s)) ds
 * i.e. the weighted area of false positives below the threshold t and of
 * false negatives above it. LSH only proposes; every candidate is verified.
 */
import { fmix32 } from './hash.js';

export interface BandParams {
  bands: number;
  rows: number;
  falsePositive: number;
  falseNegative: number;
}

export function candidateProbability(s: number, bands: number, rows: number): number {
  return 1 - Math.pow(1 - Math.pow(s, rows), bands);
}

function integrate(f: (x: number) => number, a: number, b: number, steps = INTEGRATION_STEPS): number {
  // Trapezoid rule; the integrands are smooth and bounded in [0, 1].
  const h = (b - a) / steps;
  let sum = (f(a) + f(b)) / 2;
  for (let i = 1; i < steps; i++) sum += f(a + i * h);
  return sum * h;
}

const INTEGRATION_STEPS = 400;

/** False-positive and false-negative areas of (b, r) around a threshold. */
export function bandAreas(threshold: number, bands: number, rows: number): { fp: number; fn: number } {
  return {
    fp: integrate((s) => candidateProbability(s, bands, rows), 0, threshold),
    fn: integrate((s) => 1 - candidateProbability(s, bands, rows), threshold, 1),
  };
}

/**
 * s^rows at the trapezoid points of both integrals, for one `rows`: every `bands` reuses them, which halves
 * the powers chooseBands computes (it tries some 600 pairs at k = 128). Same points, same order of sums:
 * the areas are bit for bit those of bandAreas.
 */
function rowPowers(threshold: number, rows: number): { fp: Float64Array; fn: Float64Array } {
  const at = (a: number, b: number): Float64Array => {
    const h = (b - a) / INTEGRATION_STEPS;
    return Float64Array.from({ length: INTEGRATION_STEPS + 1 }, (_, i) => Math.pow(i === 0 ? a : i === INTEGRATION_STEPS ? b : a + i * h, rows));
  };
  return { fp: at(0, threshold), fn: at(threshold, 1) };
}

function areasFrom(pw: { fp: Float64Array; fn: Float64Array }, threshold: number, bands: number): { fp: number; fn: number } {
  const n = INTEGRATION_STEPS;
  const p = (sr: number): number => 1 - Math.pow(1 - sr, bands);
  let fp = (p(pw.fp[0]) + p(pw.fp[n])) / 2;
  for (let i = 1; i < n; i++) fp += p(pw.fp[i]);
  let fn = (1 - p(pw.fn[0]) + (1 - p(pw.fn[n]))) / 2;
  for (let i = 1; i < n; i++) fn += 1 - p(pw.fn[i]);
  return { fp: fp * (threshold / n), fn: fn * ((1 - threshold) / n) };
}

export function chooseBands(threshold: number, permutations: number, fpWeight: number, fnWeight: number): BandParams {
  let best: BandParams | undefined;
  let bestErr = Infinity;
  const powers: Array<{ fp: Float64Array; fn: Float64Array }> = [];
  for (let bands = 1; bands <= permutations; bands++) {
    const maxRows = Math.floor(permutations / bands);
    for (let rows = 1; rows <= maxRows; rows++) {
      powers[rows] ??= rowPowers(threshold, rows);
      const { fp, fn } = areasFrom(powers[rows], threshold, bands);
      const err = fpWeight * fp + fnWeight * fn;
      // Strict < keeps the first (fewest bands) of equal optima: deterministic.
      if (err < bestErr - 1e-12) {
        bestErr = err;
        best = { bands, rows, falsePositive: fp, falseNegative: fn };
      }
    }
  }
  return best as BandParams;
}

/** The key of band `band` of a signature: position-salted, so equal rows in different bands never collide by construction. */
export function bandKey(sig: Uint32Array, offset: number, band: number, rows: number): number {
  let h = fmix32(0x2545f491 ^ Math.imul(band + 1, 0x9e3779b1));
  const start = offset + band * rows;
  for (let i = start; i < start + rows; i++) h = fmix32((Math.imul(h, 31) + sig[i]) >>> 0);
  return h;
}

/** Packs a pair (i, j) into one number, i * 2^21 + j; i, j < 2^21. */
const IDX_LIMIT = 2 ** 21;
const RADIX_BUCKETS = 2048;
const RADIX_MASK = RADIX_BUCKETS - 1;

/**
 * Candidate pairs (i < j) of items whose signatures share a band. `sigs` holds
 * `count` signatures of length `k` back to back; `skip[i]` leaves an item out.
 * `sameGroup(i, j)` can veto pairs (paragraphs of one article). Buckets larger
 * than `maxBucket` pair each member with the bucket's first `maxBucket` members
 * only, which bounds the work and still links every member to an anchor.
 * Returns pairs packed as i * 2^21 + j, sorted and distinct.
 */
export function candidatePairs(
  sigs: Uint32Array,
  count: number,
  k: number,
  params: BandParams,
  maxBucket: number,
  skip?: Uint8Array,
  sameGroup?: (i: number, j: number) => boolean,
): Float64Array {
  if (count >= IDX_LIMIT) throw new Error(`too many items for one LSH pass: ${count} (limit ${IDX_LIMIT - 1})`);
  const { bands, rows } = params;
  let pairs = new Float64Array(1024);
  let np = 0;
  const push = (i: number, j: number): void => {
    if (sameGroup && sameGroup(i, j)) return;
    if (np === pairs.length) {
      // A close pair shares most bands, so most of what is pushed repeats: full, the list first drops its
      // repeats, and grows only when that did not free half of it (at 160k articles, 56 bands pushed each
      // near-duplicate pair up to 56 times into a list grown by doubling).
      np = sortedDistinct(pairs, np);
      if (2 * np > pairs.length) {
        const grown = new Float64Array(pairs.length * 2);
        grown.set(pairs.subarray(0, np));
        pairs = grown;
      }
    }
    pairs[np++] = i * IDX_LIMIT + j;
  };
  // Each band's keys with their items, sorted by key then item: a radix sort (Float64Array's native sort of
  // key * 2^21 + item took 80 ns an element, two thirds of this function's time). Only items whose key may
  // be shared are sorted: a table of key prefixes, stamped with the band so that it is never cleared,
  // counts each prefix up to two; most items are alone in their bucket and never reach the sort.
  const all = new Uint32Array(count);
  let keys = new Uint32Array(count);
  let items = new Uint32Array(count);
  let keysTmp = new Uint32Array(count);
  let itemsTmp = new Uint32Array(count);
  const buckets = new Int32Array(RADIX_BUCKETS);
  const prefixBits = Math.min(22, Math.max(10, Math.ceil(Math.log2(count + 1)) + 2));
  const prefixShift = 32 - prefixBits;
  // (A byte a slot: the band's number modulo 255, plus one; cleared when that wraps.)
  const stamp = new Uint8Array(1 << prefixBits);
  const seen = new Uint8Array(1 << prefixBits);
  for (let band = 0; band < bands; band++) {
    const mark = (band % 255) + 1;
    if (mark === 1 && band > 0) stamp.fill(0);
    for (let i = 0; i < count; i++) {
      if (skip && skip[i]) continue;
      const key = bandKey(sigs, i * k, band, rows);
      all[i] = key;
      const slot = key >>> prefixShift;
      if (stamp[slot] !== mark) {
        stamp[slot] = mark;
        seen[slot] = 1;
      } else seen[slot] = 2;
    }
    let n = 0;
    for (let i = 0; i < count; i++) {
      if ((skip && skip[i]) || seen[all[i] >>> prefixShift] < 2) continue;
      keys[n] = all[i];
      items[n++] = i;
    }
    // Three stable passes of 11 bits over the key; the items, in increasing order, follow their keys.
    for (let shift = 0; shift < 33; shift += 11) {
      buckets.fill(0);
      for (let x = 0; x < n; x++) buckets[(keys[x] >>> shift) & RADIX_MASK]++;
      for (let b = 0, sum = 0; b < RADIX_BUCKETS; b++) {
        const c = buckets[b];
        buckets[b] = sum;
        sum += c;
      }
      for (let x = 0; x < n; x++) {
        const at = buckets[(keys[x] >>> shift) & RADIX_MASK]++;
        keysTmp[at] = keys[x];
        itemsTmp[at] = items[x];
      }
      [keys, keysTmp] = [keysTmp, keys];
      [items, itemsTmp] = [itemsTmp, items];
    }
    let start = 0;
    while (start < n) {
      const key = keys[start];
      let end = start + 1;
      while (end < n && keys[end] === key) end++;
      const size = end - start;
      if (size > 1) {
        const anchors = Math.min(size, maxBucket);
        for (let x = start; x < start + anchors; x++) {
          const a = items[x];
          for (let y = x + 1; y < end; y++) push(a, items[y]);
        }
      }
      start = end;
    }
  }
  return pairs.slice(0, sortedDistinct(pairs, np));
}

/** Sort a[0, n) and keep each value once, at the front; returns how many are kept. */
function sortedDistinct(a: Float64Array, n: number): number {
  const view = a.subarray(0, n).sort();
  let w = 0;
  for (let i = 0; i < n; i++) if (i === 0 || view[i] !== view[w - 1]) view[w++] = view[i];
  return w;
}

/** The packed key of the pair {i, j}, smaller first (the candidates' and verified pairs' order). */
export function packPair(i: number, j: number): number {
  return Math.min(i, j) * IDX_LIMIT + Math.max(i, j);
}

export function unpackPair(p: number): [number, number] {
  return [Math.floor(p / IDX_LIMIT), p % IDX_LIMIT];
}
