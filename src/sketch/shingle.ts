/**
 * Word n-gram shingles as sorted, distinct 32-bit hashes. A run shorter than n
 * words gives one shingle of the whole run, so short paragraphs still count.
 * Runs are shingled separately: no shingle spans a paragraph break or a
 * removed quotation, which would invent word sequences no article contains.
 */
import { hashSequence } from './hash.js';

/** Append the shingle hashes of tokens[from, to) to `out`. */
export function shingleRun(tokenHashes: Uint32Array, from: number, to: number, n: number, out: number[]): void {
  const len = to - from;
  if (len <= 0) return;
  if (len < n) {
    out.push(hashSequence(tokenHashes, from, to));
    return;
  }
  for (let i = from; i + n <= to; i++) out.push(hashSequence(tokenHashes, i, i + n));
}

/** Sort and de-duplicate hashes into a set representation. */
export function toSet(hashes: number[] | Uint32Array): Uint32Array {
  const a = (hashes instanceof Uint32Array ? hashes.slice() : new Uint32Array(hashes)).sort();
  if (a.length === 0) return a;
  let w = 1;
  for (let i = 1; i < a.length; i++) if (a[i] !== a[w - 1]) a[w++] = a[i];
  return a.slice(0, w);
}

/** |A ∩ B| of two sorted sets. */
export function intersectionSize(a: Uint32Array, b: Uint32Array): number {
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x === y) {
      n++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return n;
}

/** Typed arrays back to back in one new array. */
export function concatAll(parts: Uint32Array[]): Uint32Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const all = new Uint32Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

/** Union of sorted sets. */
export function unionAll(sets: Uint32Array[]): Uint32Array {
  return toSet(concatAll(sets));
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
