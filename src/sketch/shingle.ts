/**
 * Word n-gram shingles as sorted, distinct 32-bit hashes. A run shorter than n
 * words gives one shingle of the whole run, so short paragraphs still count.
 * Runs are shingled separately: no shingle spans a paragraph break or a
 * removed quotation, which would invent word sequences no article contains.
 */
import { hashSequence } from './hash.js';

/** Write the shingle hashes of tokens[from, to) into `out` from `at`; returns the new end (out needs to - from + 1 free). */
export function shingleRun(tokenHashes: Uint32Array, from: number, to: number, n: number, out: Uint32Array, at: number): number {
  const len = to - from;
  if (len <= 0) return at;
  if (len < n) {
    out[at] = hashSequence(tokenHashes, from, to);
    return at + 1;
  }
  for (let i = from; i + n <= to; i++) out[at++] = hashSequence(tokenHashes, i, i + n);
  return at;
}

/**
 * Sets carved out of shared blocks: a view each instead of a buffer each. Every typed array of its own costs
 * a backing store (an allocation, and work for the garbage collector), and a night makes millions of sets;
 * a 100k-article night spent seconds on them. A block stays alive while any set in it does, so an arena is for
 * sets that live and die together (one batch's, or a night's sketches). A `shared` arena's blocks are
 * SharedArrayBuffers, so the worker threads can read its sets without a copy (parallel verification).
 */
export class SetArena {
  private block: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  private used = 0;

  constructor(
    private readonly blockValues = 1 << 18,
    private readonly shared = false,
  ) {}

  /** Space for up to `n` values, to fill from its start and close with take(). */
  room(n: number): Uint32Array {
    if (this.used + n > this.block.length) {
      const values = Math.max(n, this.blockValues);
      this.block = this.shared ? new Uint32Array(new SharedArrayBuffer(4 * values)) : new Uint32Array(values);
      this.used = 0;
    }
    return this.block.subarray(this.used, this.used + n);
  }

  /** The first `k` values of the last room() as a set of its own. */
  take(k: number): Uint32Array {
    const set = this.block.subarray(this.used, this.used + k);
    this.used += k;
    return set;
  }

  /** A copy of `values` carved from the arena. */
  copy(values: Uint32Array): Uint32Array {
    this.room(values.length).set(values);
    return this.take(values.length);
  }
}

/** Sort and de-duplicate a filled room in place; returns the distinct count. */
function sortDistinct(a: Uint32Array): number {
  sortUint32(a);
  if (a.length === 0) return 0;
  let w = 1;
  for (let i = 1; i < a.length; i++) if (a[i] !== a[w - 1]) a[w++] = a[i];
  return w;
}

/** Whether the values are strictly increasing (a set as this module represents one). */
function isSet(a: Uint32Array): boolean {
  for (let i = 1; i < a.length; i++) if (a[i] <= a[i - 1]) return false;
  return true;
}

/** Sort and de-duplicate hashes into a set representation (a new array, or one carved from `arena`; the input is left as it is). */
export function toSet(hashes: number[] | Uint32Array, arena?: SetArena): Uint32Array {
  if (arena) {
    const room = arena.room(hashes.length);
    room.set(hashes);
    return arena.take(sortDistinct(room));
  }
  // Input that is a set already (a union asked about again, say) is only copied: one pass finds out.
  if (hashes instanceof Uint32Array && isSet(hashes)) return hashes.slice();
  // Large inputs (the union of a night's earlier articles, say) take the radix sort.
  const a = hashes instanceof Uint32Array ? hashes.slice() : new Uint32Array(hashes);
  const w = sortDistinct(a);
  return w === a.length ? a : a.slice(0, w);
}

/** |A ∩ B| of two sorted sets. */
export function intersectionSize(a: Uint32Array, b: Uint32Array): number {
  return intersectInto(a, b);
}

/** A ∩ B of two sorted sets, written into `out` when given (room for the smaller set); returns |A ∩ B|. */
export function intersectInto(a: Uint32Array, b: Uint32Array, out?: Uint32Array): number {
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x === y) {
      if (out) out[n] = x;
      n++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return n;
}

/** Typed arrays back to back in one new array (or in `into`, which must have room for them all). */
export function concatAll(parts: Uint32Array[], into?: Uint32Array): Uint32Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const all = into ?? new Uint32Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

/** From this many values, sortUint32 takes the radix sort (and needs a second buffer of their size). */
export const RADIX_FROM = 1 << 18;

/**
 * Sort 32-bit values in place, ascending. Large arrays take an LSD radix sort: one pass counts all three
 * digits (11, 11 and 10 bits), then three scatter passes through 2,048 buckets that stay in cache. Linear
 * time, several times faster than the comparison sort on the millions of shingles of a night; the digits
 * are written out (no loop over shifts) so that each pass compiles to a tight loop (3x faster, measured).
 */
export function sortUint32(a: Uint32Array, scratch?: Uint32Array): Uint32Array {
  const n = a.length;
  if (n < RADIX_FROM) return a.sort();
  // The radix passes' second buffer: the caller's when given (a worker hands it back rather than keep it until it collects).
  const tmp = scratch && scratch.length >= n ? scratch : new Uint32Array(n);
  const c0 = new Uint32Array(2048);
  const c1 = new Uint32Array(2048);
  const c2 = new Uint32Array(1024);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    c0[v & 0x7ff]++;
    c1[(v >>> 11) & 0x7ff]++;
    c2[v >>> 22]++;
  }
  for (const c of [c0, c1, c2]) {
    let sum = 0;
    for (let d = 0; d < c.length; d++) {
      const x = c[d];
      c[d] = sum;
      sum += x;
    }
  }
  for (let i = 0; i < n; i++) {
    const v = a[i];
    tmp[c0[v & 0x7ff]++] = v;
  }
  for (let i = 0; i < n; i++) {
    const v = tmp[i];
    a[c1[(v >>> 11) & 0x7ff]++] = v;
  }
  for (let i = 0; i < n; i++) {
    const v = a[i];
    tmp[c2[v >>> 22]++] = v;
  }
  a.set(tmp);
  return a;
}

/** Merge buffers for unionAll, grown on demand (one pair per thread). */
let mergeA = new Uint32Array(1024);
let mergeB = new Uint32Array(1024);

/**
 * Union of sorted sets (carved from `arena` when given). The sets are merged one into the next, each merge
 * linear: an article's few paragraph sets unite in a few passes, faster than sorting their concatenation.
 * Many sets (a night's, say) take the sort instead.
 */
export function unionAll(sets: Uint32Array[], arena?: SetArena): Uint32Array {
  let total = 0;
  for (const p of sets) total += p.length;
  if (sets.length > 16) {
    if (!arena) return toSet(concatAll(sets));
    return arena.take(sortDistinct(concatAll(sets, arena.room(total))));
  }
  if (mergeA.length < total) {
    mergeA = new Uint32Array(2 * total);
    mergeB = new Uint32Array(2 * total);
  }
  let acc = mergeA;
  let next = mergeB;
  let n = 0;
  for (const s of sets) {
    let i = 0;
    let j = 0;
    let w = 0;
    while (i < n && j < s.length) {
      const x = acc[i];
      const y = s[j];
      if (x < y) {
        next[w++] = x;
        i++;
      } else if (y < x) {
        next[w++] = y;
        j++;
      } else {
        next[w++] = x;
        i++;
        j++;
      }
    }
    while (i < n) next[w++] = acc[i++];
    while (j < s.length) next[w++] = s[j++];
    const t = acc;
    acc = next;
    next = t;
    n = w;
  }
  return arena ? arena.copy(acc.subarray(0, n)) : acc.slice(0, n);
}

export interface Similarity {
  intersection: number;
  jaccard: number;
  /** |A ∩ B| / |A| */
  containmentAB: number;
  /** |A ∩ B| / |B| */
  containmentBA: number;
}

export function similarity(a: Uint32Array, b: Uint32Array): Similarity {
  const inter = intersectionSize(a, b);
  const union = a.length + b.length - inter;
  return {
    intersection: inter,
    jaccard: union === 0 ? 0 : inter / union,
    containmentAB: a.length === 0 ? 0 : inter / a.length,
    containmentBA: b.length === 0 ? 0 : inter / b.length,
  };
}
