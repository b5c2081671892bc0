/**
 * (key, value) rows in key order, for B-tree inserts and lookups that walk
 * the index's pages in order instead of jumping at random. Band keys and
 * paragraph hashes are uniform 32-bit values, so a two-pass radix partition
 * on the top 16 bits is enough: rows land in 65,536 narrow key ranges, in
 * ascending order, in linear time.
 */
export class KeyRows {
  private keys: Uint32Array;
  private values: Uint32Array;
  length = 0;

  /** Room for `capacity` rows before the arrays grow (by doubling). */
  constructor(capacity = 1024) {
    this.keys = new Uint32Array(Math.max(1, capacity));
    this.values = new Uint32Array(Math.max(1, capacity));
  }

  push(key: number, value: number): void {
    if (this.length === this.keys.length) {
      const grow = (a: Uint32Array): Uint32Array => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.keys = grow(this.keys);
      this.values = grow(this.values);
    }
    this.keys[this.length] = key;
    this.values[this.length++] = value;
  }

  /** The rows as pushed. */
  rows(): { keys: Uint32Array; values: Uint32Array } {
    return { keys: this.keys.slice(0, this.length), values: this.values.slice(0, this.length) };
  }

  /** The rows ordered by the top 16 bits of their key (input order within a range: deterministic). */
  ordered(): { keys: Uint32Array; values: Uint32Array } {
    const count = new Uint32Array(65537);
    for (let i = 0; i < this.length; i++) count[(this.keys[i] >>> 16) + 1]++;
    for (let b = 1; b <= 65536; b++) count[b] += count[b - 1];
    const keys = new Uint32Array(this.length);
    const values = new Uint32Array(this.length);
    for (let i = 0; i < this.length; i++) {
      const at = count[this.keys[i] >>> 16]++;
      keys[at] = this.keys[i];
      values[at] = this.values[i];
    }
    return { keys, values };
  }

  /**
   * The rows in (key, value) order: ordered() places them by the top 16 bits of the key; each of those
   * ranges is then sorted as doubles packing the low 16 bits of the key with the value (< 2^48: exact).
   */
  sorted(): { keys: Uint32Array; values: Uint32Array } {
    const { keys, values } = this.ordered();
    const packed = new Float64Array(keys.length);
    for (let i = 0; i < keys.length; i++) packed[i] = (keys[i] & 0xffff) * 2 ** 32 + values[i];
    for (let start = 0; start < keys.length; ) {
      let end = start + 1;
      while (end < keys.length && keys[end] >>> 16 === keys[start] >>> 16) end++;
      if (end - start > 1) packed.subarray(start, end).sort();
      start = end;
    }
    for (let i = 0; i < keys.length; i++) {
      const low = Math.floor(packed[i] / 2 ** 32);
      values[i] = packed[i] - low * 2 ** 32;
      keys[i] = ((keys[i] & 0xffff0000) | low) >>> 0;
    }
    return { keys, values };
  }
}
