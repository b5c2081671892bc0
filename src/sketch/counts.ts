/**
 * Document counts of shingles across nights, for stock-phrase detection that
 * sees the whole index and not only tonight. Kept as two parallel sorted
 * arrays (hash, count): compact, binary-searchable, stored as one blob.
 */
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

  /** A new table with `deltas` added (entries falling to zero are dropped). */
  merge(deltas: Map<number, number>): ShingleCounts {
    const keys = Uint32Array.from(deltas.keys()).sort();
    const outH: number[] = [];
    const outC: number[] = [];
    let i = 0;
    let j = 0;
    while (i < this.hashes.length || j < keys.length) {
      const a = i < this.hashes.length ? this.hashes[i] : Infinity;
      const b = j < keys.length ? keys[j] : Infinity;
      let h: number;
      let c: number;
      if (a === b) {
        h = a;
        c = this.counts[i++] + (deltas.get(keys[j++]) as number);
      } else if (a < b) {
        h = a;
        c = this.counts[i++];
      } else {
        h = b;
        c = deltas.get(keys[j++]) as number;
      }
      if (c > 0) {
        outH.push(h);
        outC.push(c);
      }
    }
    return new ShingleCounts(Uint32Array.from(outH), Uint32Array.from(outC));
  }

  toBuffer(): Buffer {
    const out = Buffer.alloc(8 * this.hashes.length);
    Buffer.from(this.hashes.buffer, this.hashes.byteOffset, this.hashes.byteLength).copy(out, 0);
    Buffer.from(this.counts.buffer, this.counts.byteOffset, this.counts.byteLength).copy(out, 4 * this.hashes.length);
    return out;
  }

  static fromBuffer(b: Buffer): ShingleCounts {
    const n = b.length / 8;
    const copy = new Uint8Array(b).buffer;
    return new ShingleCounts(new Uint32Array(copy, 0, n), new Uint32Array(copy, 4 * n, n));
  }
}

/** +1 (or `sign`) per distinct shingle of each set. */
export function addCounts(deltas: Map<number, number>, sets: Uint32Array[], sign = 1): void {
  for (const s of sets) for (let i = 0; i < s.length; i++) deltas.set(s[i], (deltas.get(s[i]) ?? 0) + sign);
}
