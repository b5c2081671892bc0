/**
 * MinHash signatures on typed arrays.
 *
 * For permutation i, h_i(x) = fmix32(x XOR salt_i), a bijection of the 32-bit
 * shingle hash; the signature keeps min h_i over the set. For two sets with
 * Jaccard J, P[min h_i(A) = min h_i(B)] = J, so the share of equal positions
 * over k permutations estimates J with standard error sqrt(J(1-J)/k)
 * (0.044 at J = 0.5, k = 128). Salts come from splitmix32 of the run's seed,
 * so every permutation is independent of the others, and seeds s and s+1 share none.
 */
import { fmix32, seededStream } from './hash.js';
import { SIMD_GROUP, simdKernel, type SimdKernel } from './simd.js';

export const EMPTY = 0xffffffff;

export class MinHasher {
  readonly salts: Uint32Array;
  private readonly kernel: SimdKernel | null;
  constructor(readonly permutations: number, readonly seed: number, useSimd = true) {
    this.salts = seededStream(seed ^ 0x6d696e68, permutations);
    this.kernel = useSimd && permutations % SIMD_GROUP === 0 ? simdKernel() : null;
  }

  /** Signature of a set of shingle hashes, written into `out` (length k) or a new array. */
  sign(shingles: Uint32Array, out: Uint32Array = new Uint32Array(this.permutations)): Uint32Array {
    if (this.kernel) {
      this.kernel.sign(shingles, this.salts, out);
      return out;
    }
    return this.signScalar(shingles, out);
  }

  /** Signatures of packed sets, back to back (set i's at [i·k, (i+1)·k)). */
  signPacked(packed: PackedSets): Uint32Array {
    const k = this.permutations;
    const out = new Uint32Array(packed.ends.length * k);
    let start = 0;
    for (let i = 0; i < packed.ends.length; i++) {
      this.sign(packed.data.subarray(start, packed.ends[i]), out.subarray(i * k, (i + 1) * k));
      start = packed.ends[i];
    }
    return out;
  }

  /** The same signature in plain JavaScript: the definition the SIMD kernel is tested against. */
  signScalar(shingles: Uint32Array, out: Uint32Array = new Uint32Array(this.permutations)): Uint32Array {
    const k = this.permutations;
    const salts = this.salts;
    const n = shingles.length;
    // Permutation-major order keeps the running minimum in a register.
    for (let i = 0; i < k; i++) {
      const s = salts[i];
      let m = EMPTY;
      for (let j = 0; j < n; j++) {
        let h = shingles[j] ^ s;
        h ^= h >>> 16;
        h = Math.imul(h, 0x85ebca6b);
        h ^= h >>> 13;
        h = Math.imul(h, 0xc2b2ae35);
        h = (h ^ (h >>> 16)) >>> 0;
        if (h < m) m = h;
      }
      out[i] = m;
    }
    return out;
  }
}

/**
 * Sets back to back in one buffer: set i is data[ends[i - 1] ?? 0, ends[i]). A batch of sets moves to a
 * worker as two buffers instead of one object per set (thousands of small messages' worth of cloning).
 */
export interface PackedSets {
  data: Uint32Array;
  ends: Int32Array;
}

/**
 * The sets in packs of about `maxValues` values each (at least one set per pack), in order, each with the
 * index of its first set. Made one at a time, as the caller asks: a night's sets packed all at once were a
 * second copy of them (80 MB for the earlier articles a night against 1M loads).
 */
export function* packSets(sets: Uint32Array[], maxValues = 1 << 18): Generator<PackedSets & { first: number }> {
  for (let from = 0; from < sets.length; ) {
    let to = from;
    let total = 0;
    while (to < sets.length && (to === from || total + sets[to].length <= maxValues)) total += sets[to++].length;
    const data = new Uint32Array(total);
    const ends = new Int32Array(to - from);
    let o = 0;
    for (let i = from; i < to; i++) {
      data.set(sets[i], o);
      o += sets[i].length;
      ends[i - from] = o;
    }
    yield { first: from, data, ends };
    from = to;
  }
}

/** Share of equal positions: the MinHash estimate of Jaccard similarity. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) throw new Error(`signature lengths differ: ${a.length} vs ${b.length}`);
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return eq / a.length;
}

/** Permutation i of a shingle hash; MinHasher.sign inlines it (tests check the two agree). */
export const permute = (x: number, salt: number): number => fmix32(x ^ salt);
