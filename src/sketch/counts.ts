/**
 * Document counts of shingles across nights, for stock-phrase detection that
 * sees the whole index and not only tonight: the counts of the shingles a
 * night asks about, as two parallel sorted arrays (hash, count).
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
}

/** +1 (or `sign`) per distinct shingle of each set. */
export function addCounts(deltas: Map<number, number>, sets: Uint32Array[], sign = 1): void {
  for (const s of sets) for (let i = 0; i < s.length; i++) deltas.set(s[i], (deltas.get(s[i]) ?? 0) + sign);
}
