import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { TokenHasher, xxh32 } from '../src/sketch/hash.js';
import { MinHasher, estimateJaccard, permute } from '../src/sketch/minhash.js';
import { simdKernel } from '../src/sketch/simd.js';
import { similarity, toSet } from '../src/sketch/shingle.js';
import { seededRandom } from '../src/util/random.js';

describe('MinHash estimator', () => {
  it('estimates Jaccard within the k-permutation bound over 1000 random set pairs', () => {
    const k = 128;
    const mh = new MinHasher(k, 12345);
    const rand = seededRandom(7);
    let within2 = 0;
    let within3 = 0;
    let sumErr = 0;
    const pairs = 1000;
    for (let p = 0; p < pairs; p++) {
      // Two sets drawn from a shared universe with a random overlap: Jaccard spread over (0, 1).
      const size = 50 + Math.floor(rand() * 400);
      const overlap = Math.floor(rand() * size);
      const base = Math.floor(rand() * 0xffffffff);
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < size; i++) a.push((base + i * 2654435761) >>> 0);
      for (let i = 0; i < overlap; i++) b.push(a[i]);
      for (let i = overlap; i < size; i++) b.push((base + 7 + i * 40503 + 0x9e3779b9) >>> 0);
      const sa = toSet(a);
      const sb = toSet(b);
      const j = similarity(sa, sb).jaccard;
      const est = estimateJaccard(mh.sign(sa), mh.sign(sb));
      const sd = Math.sqrt((j * (1 - j)) / k) || 1 / k;
      const err = est - j;
      sumErr += err;
      if (Math.abs(err) <= 2 * sd + 1 / k) within2++;
      if (Math.abs(err) <= 3 * sd + 1 / k) within3++;
    }
    // A binomial estimator: ~95% within 2 standard errors, ~99.7% within 3, and no bias.
    expect(within2 / pairs).toBeGreaterThan(0.93);
    expect(within3 / pairs).toBeGreaterThan(0.99);
    expect(Math.abs(sumErr / pairs)).toBeLessThan(0.005);
  });

  it('uses independent permutations: neighbouring seeds share no hash function', () => {
    const a = new MinHasher(128, 1).salts;
    const b = new MinHasher(128, 2).salts;
    const setA = new Set(a);
    expect([...b].filter((x) => setA.has(x)).length).toBe(0);
    expect(new Set(a).size).toBe(128);
    // Seed 0 is a seed like any other.
    expect([...new MinHasher(16, 0).salts]).not.toEqual([...new MinHasher(16, 1).salts]);
  });

  it('keeps, for each permutation, the minimum of fmix32(x ^ salt) over the set', () => {
    const mh = new MinHasher(16, 99);
    const set = toSet([3, 77, 1024, 99999, 4294967295]);
    const sig = mh.sign(set);
    for (let i = 0; i < 16; i++) expect(sig[i]).toBe(Math.min(...[...set].map((x) => permute(x, mh.salts[i]))));
  });

  it('signs with the WebAssembly SIMD kernel exactly as the scalar definition does', () => {
    // Node 20 has WebAssembly SIMD: the kernel must load, or signing silently runs at a tenth of the speed.
    expect(simdKernel()).not.toBeNull();
    const rand = seededRandom(11);
    for (const k of [16, 32, 128]) {
      const mh = new MinHasher(k, 5 + k);
      for (let t = 0; t < 200; t++) {
        // Sizes from empty to larger than the kernel's first memory page, values over the full 32-bit range.
        const n = t === 0 ? 0 : t === 1 ? 1 : Math.floor(rand() * (t % 10 === 0 ? 40000 : 500));
        const set = toSet(Array.from({ length: n }, () => Math.floor(rand() * 2 ** 32)));
        expect([...mh.sign(set)]).toEqual([...mh.signScalar(set)]);
      }
    }
    expect([...new MinHasher(16, 1).sign(new Uint32Array(0))]).toEqual(new Array(16).fill(0xffffffff));
  });

  it('gives identical signatures to identical sets and 1.0 estimates', () => {
    const mh = new MinHasher(64, 3);
    const s = toSet([5, 9, 11, 300, 12345]);
    expect(estimateJaccard(mh.sign(s), mh.sign(Uint32Array.from(s)))).toBe(1);
  });

  it('hashes tokens with seeded xxhash, the same on every call', () => {
    const h1 = new TokenHasher(1);
    const h2 = new TokenHasher(2);
    expect(h1.hash('الرياض')).toBe(new TokenHasher(1).hash('الرياض'));
    expect(h1.hash('الرياض')).not.toBe(h2.hash('الرياض'));
  });

  it("gives xxhash-wasm's h32 of the token's UTF-8 bytes, for every kind of code unit and length", async () => {
    const reference = await xxhash();
    // Arabic, Persian, Latin, digits, 2- and 3-byte boundaries, astral characters and lone surrogates
    // (encoded as U+FFFD, as TextEncoder does), in tokens from empty to past the 16-byte stripes.
    const units = ['ا', 'ة', 'ی', 'ک', 'ً', 'a', 'Z', '7', '#', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff', '中', '😀', '𝐀', '\ud800', '\udc00'];
    const random = seededRandom(11);
    const seeds = [0, 1, 20231017, 0xffffffff, 0x9e3779b1];
    for (let t = 0; t < 5000; t++) {
      let token = '';
      for (let n = Math.floor(random() * 40); n > 0; n--) token += units[Math.floor(random() * units.length)];
      const seed = seeds[t % seeds.length];
      expect(new TokenHasher(seed).hash(token), JSON.stringify(token)).toBe(reference.h32(token, seed) >>> 0);
    }
    // Known vector: xxh32 of no bytes with seed 0 (the algorithm's published test value).
    expect(xxh32(new Uint8Array(0), 0, 0)).toBe(0x02cc5d05);
  });
});
