/**
 * Hashing on xxhash-wasm. Tokens are hashed with seeded xxh32; shingles,
 * bands and permutations are then pure 32-bit arithmetic on those hashes, so
 * no per-shingle string is ever built.
 */
import xxhash from 'xxhash-wasm';

type XXHashAPI = Awaited<ReturnType<typeof xxhash>>;
let api: XXHashAPI | undefined;

/** Load the WASM module once per thread; every hashing call needs it. */
export async function initHashing(): Promise<void> {
  api ??= await xxhash();
}

function h32(s: string, seed: number): number {
  if (!api) throw new Error('initHashing() must be awaited before hashing');
  return api.h32(s, seed) >>> 0;
}

/** Murmur3's 32-bit finalizer: a bijection with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Deterministic stream of 32-bit values from a seed (splitmix32), for permutation salts. */
export function seededStream(seed: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    out[i] = fmix32(s ^ Math.imul(i + 1, 0x27d4eb2f));
  }
  return out;
}

export class TokenHasher {
  constructor(readonly seed: number) {}

  /** xxh32 of the token. Measured: a direct WASM call (~0.1 µs) beats a Map cache once the vocabulary is large. */
  hash(token: string): number {
    return h32(token, this.seed);
  }

  hashAll(tokens: string[]): Uint32Array {
    const out = new Uint32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) out[i] = this.hash(tokens[i]);
    return out;
  }
}

/** Order-dependent hash of a run of token hashes (a paragraph's identity, a shingle). */
export function hashSequence(hashes: Uint32Array, from: number, to: number, salt = 0x5bd1e995): number {
  let h = salt;
  for (let i = from; i < to; i++) {
    h = Math.imul((h << 5) | (h >>> 27), 0x9e3779b1) ^ hashes[i];
  }
  return fmix32(h ^ (to - from));
}

/**
 * A bitmap over the low bits of a few 32-bit hashes, put in front of a Map or Set of them: most hashes
 * that are not there stop at one byte load (Map and Set box number keys above 2^30, and a lookup costs).
 */
export class HashFilter {
  private readonly bits: Uint8Array;
  private readonly mask: number;

  /** `logBits`: the bitmap has 2^logBits bits (8 KB by default; more for thousands of hashes that few values hit). */
  constructor(hashes: Iterable<number> = [], logBits = 16) {
    this.bits = new Uint8Array(1 << (logBits - 3));
    this.mask = (1 << logBits) - 1;
    for (const h of hashes) this.add(h);
  }

  add(h: number): void {
    this.bits[(h & this.mask) >>> 3] |= 1 << (h & 7);
  }

  /** False when `h` was certainly never added. */
  mayHave(h: number): boolean {
    return (this.bits[(h & this.mask) >>> 3] & (1 << (h & 7))) !== 0;
  }
}
