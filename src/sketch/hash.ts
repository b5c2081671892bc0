/**
 * Hashing. Tokens are hashed with seeded xxh32 (computed here; the tests hold it to xxhash-wasm's h32);
 * shingles, bands and permutations are then pure 32-bit arithmetic on those hashes, so no per-shingle
 * string is ever built.
 */

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

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const P4 = 0x27d4eb2f | 0;
const P5 = 0x165667b1 | 0;

/** One 4-byte lane of `b` at `i`, little-endian. */
function lane(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

/** One xxh32 round of an accumulator with a lane. */
function round32(acc: number, input: number): number {
  const t = (acc + Math.imul(input, P2)) | 0;
  return Math.imul((t << 13) | (t >>> 19), P1);
}

/** xxh32 (the reference algorithm, as xxhash-wasm computes it) of b[0, len). */
export function xxh32(b: Uint8Array, len: number, seed: number): number {
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    for (; i + 16 <= len; i += 16) {
      v1 = round32(v1, lane(b, i));
      v2 = round32(v2, lane(b, i + 4));
      v3 = round32(v3, lane(b, i + 8));
      v4 = round32(v4, lane(b, i + 12));
    }
    h = (((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) + ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14))) | 0;
  } else h = (seed + P5) | 0;
  h = (h + len) | 0;
  for (; i + 4 <= len; i += 4) {
    const t = (h + Math.imul(lane(b, i), P3)) | 0;
    h = Math.imul((t << 17) | (t >>> 15), P4);
  }
  for (; i < len; i++) {
    const t = (h + Math.imul(b[i], P5)) | 0;
    h = Math.imul((t << 11) | (t >>> 21), P1);
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Tokens' hashes: xxh32 of their UTF-8 bytes, seeded. Computed here, in JavaScript, over bytes encoded into
 * a buffer of the hasher's own: a token is a few bytes, and handing each to WebAssembly (encodeInto, then
 * the call) cost more than the hash itself. The values are xxhash-wasm's h32 (a test holds them to it).
 */
export class TokenHasher {
  private bytes = new Uint8Array(256);
  private units = new Uint16Array(64);

  constructor(readonly seed: number) {}

  hash(token: string): number {
    const n = token.length;
    if (this.units.length < n) this.units = new Uint16Array(2 * n);
    for (let i = 0; i < n; i++) this.units[i] = token.charCodeAt(i);
    return this.hashCodes(this.units, 0, n);
  }

  /** The hash of the token whose UTF-16 code units are codes[from, to): equal to hash() of its string. */
  hashCodes(codes: Uint16Array, from: number, to: number): number {
    const n = to - from;
    if (this.bytes.length < 3 * n) this.bytes = new Uint8Array(6 * n);
    const b = this.bytes;
    let w = 0;
    for (let i = from; i < to; i++) {
      const c = codes[i];
      if (c < 0x80) b[w++] = c;
      else if (c < 0x800) {
        b[w] = 0xc0 | (c >> 6);
        b[w + 1] = 0x80 | (c & 63);
        w += 2;
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < to ? codes[i + 1] : 0;
        if (c <= 0xdbff && (d & 0xfc00) === 0xdc00) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          b[w] = 0xf0 | (cp >> 18);
          b[w + 1] = 0x80 | ((cp >> 12) & 63);
          b[w + 2] = 0x80 | ((cp >> 6) & 63);
          b[w + 3] = 0x80 | (cp & 63);
          w += 4;
          i++;
        } else {
          // A lone surrogate is encoded as U+FFFD, as TextEncoder does.
          b[w] = 0xef;
          b[w + 1] = 0xbf;
          b[w + 2] = 0xbd;
          w += 3;
        }
      } else {
        b[w] = 0xe0 | (c >> 12);
        b[w + 1] = 0x80 | ((c >> 6) & 63);
        b[w + 2] = 0x80 | (c & 63);
        w += 3;
      }
    }
    return xxh32(b, w, this.seed);
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

/**
 * A set of 32-bit values in typed arrays: open addressing with linear probing at most a quarter full, behind
 * a bitmap of 16 bits a value. Stock phrases are asked about for every shingle of every article (some 100M
 * questions on a night against 1M), nearly all of them not one: most stop at one bitmap load, the rest at a
 * probe or two, with none of a JavaScript Set's hashing of number keys (and no 2^24-entry limit).
 */
export class HashSet32 implements Iterable<number> {
  private slots = new Uint32Array(16);
  /** 0 marks an empty slot; the value 0 itself is kept aside. */
  private hasZero = false;
  private count = 0;
  /** The slot of a value is the top bits of its product with an odd constant (Fibonacci hashing). */
  private shift = 28;
  /** The bitmap of HashFilter, inline: behind a HashFilter field, has() took 40% longer (measured). */
  private bits = new Uint8Array(1 << 13);
  private bitMask = (1 << 16) - 1;

  constructor(values: Iterable<number> = []) {
    for (const v of values) this.add(v);
  }

  get size(): number {
    return this.count;
  }

  add(value: number): void {
    const v = value >>> 0;
    if (v === 0) {
      if (!this.hasZero) this.count++;
      this.hasZero = true;
      this.bits[0] |= 1;
      return;
    }
    const mask = this.slots.length - 1;
    for (let i = Math.imul(v, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const x = this.slots[i];
      if (x === v) return;
      if (x === 0) {
        this.slots[i] = v;
        break;
      }
    }
    this.count++;
    if (4 * this.count > this.slots.length) this.rebuild(4 * this.slots.length);
    else this.bits[(v & this.bitMask) >>> 3] |= 1 << (v & 7);
  }

  has(value: number): boolean {
    const v = value >>> 0;
    if ((this.bits[(v & this.bitMask) >>> 3] & (1 << (v & 7))) === 0) return false;
    if (v === 0) return this.hasZero;
    const mask = this.slots.length - 1;
    for (let i = Math.imul(v, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const x = this.slots[i];
      if (x === v) return true;
      if (x === 0) return false;
    }
  }

  /** The values in ascending order. */
  values(): Uint32Array {
    const out = new Uint32Array(this.count);
    let w = 0;
    if (this.hasZero) out[w++] = 0;
    for (const x of this.slots) if (x !== 0) out[w++] = x;
    return out.sort();
  }

  [Symbol.iterator](): Iterator<number> {
    return this.values()[Symbol.iterator]();
  }

  /** Room for 4x the values, and the bitmap at 16 bits a value (at least 2^16 bits). */
  private rebuild(slotCount: number): void {
    const old = this.slots;
    this.slots = new Uint32Array(slotCount);
    this.shift = 32 - Math.log2(slotCount);
    const logBits = Math.min(30, Math.max(16, Math.ceil(Math.log2(16 * this.count))));
    this.bits = new Uint8Array(1 << (logBits - 3));
    this.bitMask = (1 << logBits) - 1;
    if (this.hasZero) this.bits[0] |= 1;
    const mask = slotCount - 1;
    for (const v of old) {
      if (v === 0) continue;
      let i = Math.imul(v, 0x9e3779b1) >>> this.shift;
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = v;
      this.bits[(v & this.bitMask) >>> 3] |= 1 << (v & 7);
    }
  }
}

/**
 * A map from 32-bit values to 32-bit counts or hashes, in two typed arrays (open addressing, linear probing,
 * at most half full). A JavaScript Map of a large night's paragraph hashes boxed most keys and values (those
 * at or above 2^30) and took some 60 bytes an entry; this takes 16 to 32.
 */
export class HashMap32 {
  private keys = new Uint32Array(16);
  private vals = new Uint32Array(16);
  /** 0 marks an empty slot; the key 0 itself is kept aside. */
  private zero: number | undefined;
  private count = 0;
  private shift = 28;

  get size(): number {
    return this.count;
  }

  /** The value of `key`, or undefined. */
  get(key: number): number | undefined {
    const k = key >>> 0;
    if (k === 0) return this.zero;
    const mask = this.keys.length - 1;
    for (let i = Math.imul(k, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const x = this.keys[i];
      if (x === k) return this.vals[i];
      if (x === 0) return undefined;
    }
  }

  set(key: number, value: number): void {
    const k = key >>> 0;
    if (k === 0) {
      if (this.zero === undefined) this.count++;
      this.zero = value >>> 0;
      return;
    }
    const mask = this.keys.length - 1;
    for (let i = Math.imul(k, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const x = this.keys[i];
      if (x === k) {
        this.vals[i] = value;
        return;
      }
      if (x === 0) {
        this.keys[i] = k;
        this.vals[i] = value;
        break;
      }
    }
    this.count++;
    if (2 * this.count > this.keys.length) this.rebuild(2 * this.keys.length);
  }

  /** The keys, in no particular order. */
  *keysOf(): Generator<number> {
    if (this.zero !== undefined) yield 0;
    for (const k of this.keys) if (k !== 0) yield k;
  }

  private rebuild(slotCount: number): void {
    const [keys, vals] = [this.keys, this.vals];
    this.keys = new Uint32Array(slotCount);
    this.vals = new Uint32Array(slotCount);
    this.shift = 32 - Math.log2(slotCount);
    const mask = slotCount - 1;
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j];
      if (k === 0) continue;
      let i = Math.imul(k, 0x9e3779b1) >>> this.shift;
      while (this.keys[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = k;
      this.vals[i] = vals[j];
    }
  }
}
