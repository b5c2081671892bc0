import { describe, expect, it } from 'vitest';
import { dropCommon, frequentShingles, ParagraphSets, sketchWith } from '../src/sketch/index.js';
import { countSets, countSetsSplit, countSorted, deltasOf, ShingleCounts, splitByRange } from '../src/sketch/counts.js';
import { concatAll, SetArena, sortUint32, toSet, unionAll } from '../src/sketch/shingle.js';
import { seededRandom } from '../src/util/random.js';
import { HashMap32, HashSet32 } from '../src/sketch/hash.js';

/**
 * The definition: count each shingle's documents (the counted ones), add the earlier nights' count for
 * shingles in two or more of tonight's sets, keep those at minDocs or more.
 */
function naive(sets: Uint32Array[], minDocs: number, prior?: ShingleCounts, counted?: Uint8Array): number[] {
  const counts = new Map<number, number>();
  const every = new Map<number, number>();
  sets.forEach((s, i) => s.forEach((h) => {
    counts.set(h, (counts.get(h) ?? 0) + (!counted || counted[i] === 1 ? 1 : 0));
    every.set(h, (every.get(h) ?? 0) + 1);
  }));
  return [...counts].filter(([h, c]) => c + (prior && (every.get(h) as number) >= 2 ? prior.get(h) : 0) >= minDocs).map(([h]) => h).sort((a, b) => a - b);
}
const common = (...args: Parameters<typeof frequentShingles>): number[] => [...frequentShingles(...args).common].sort((a, b) => a - b);

function corpus(seed: number, docs: number): Uint32Array[] {
  const rand = seededRandom(seed);
  // A Zipf-like vocabulary: a few shingles in many documents, most in one or two.
  return Array.from({ length: docs }, () => toSet(Array.from({ length: 50 + Math.floor(rand() * 300) }, () => {
    const r = rand();
    return r < 0.05 ? Math.floor(rand() * 40) * 0x9e3779b1 >>> 0 : Math.floor(rand() * 2 ** 32);
  })));
}

describe('sorting shingles', () => {
  it('sorts large arrays (radix) exactly as the comparison sort does, duplicates and extremes included', () => {
    const rand = seededRandom(21);
    const a = Uint32Array.from({ length: 300_000 }, (_, i) => (i % 7 === 0 ? 0xffffffff : i % 11 === 0 ? 0 : Math.floor(rand() * 2 ** 32)));
    const expected = a.slice().sort();
    expect(sortUint32(a)).toBe(a);
    expect(Buffer.from(a.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });
});

describe('sets from hashes', () => {
  it('sorts and de-duplicates, and gives a set already sorted back as a copy of its own', () => {
    const rand = seededRandom(5);
    const values = Array.from({ length: 400_000 }, () => Math.floor(rand() * 2 ** 20));
    const expected = [...new Set(values)].sort((a, b) => a - b);
    const set = toSet(Uint32Array.from(values));
    expect(Array.from(set)).toEqual(expected);
    const again = toSet(set);
    expect(again).not.toBe(set);
    expect(Array.from(again)).toEqual(expected);
    // Sorted but with a repeat at the very end, and one out of order at the start: not sets yet.
    expect(Array.from(toSet(Uint32Array.from([1, 2, 3, 3])))).toEqual([1, 2, 3]);
    expect(Array.from(toSet(Uint32Array.from([9, 2, 3, 4])))).toEqual([2, 3, 4, 9]);
  });
});

describe('stock phrases', () => {
  it('finds exactly the shingles in at least minDocs sets, with and without earlier nights', () => {
    const sets = corpus(3, 2000);
    for (const minDocs of [2, 25, 60]) expect(common(sets, minDocs)).toEqual(naive(sets, minDocs));
    // Earlier nights' counts, and sets already counted by an earlier run (counted = 0): judged, not counted again.
    const rand = seededRandom(9);
    const known = toSet([...sets[0].slice(0, 30), ...sets[1].slice(0, 30), ...Array.from({ length: 40 }, (_, i) => (i * 0x9e3779b1) >>> 0)]);
    const prior = new ShingleCounts(known, Uint32Array.from(known, () => 1 + Math.floor(rand() * 30)));
    const counted = Uint8Array.from(sets, () => (rand() < 0.8 ? 1 : 0));
    const asked: number[] = [];
    // As the index answers: the counts of the asked shingles it holds.
    const lookup = (keys: Uint32Array): ShingleCounts => {
      asked.push(keys.length);
      const held = keys.filter((h) => prior.get(h) > 0);
      return new ShingleCounts(held, held.map((h) => prior.get(h)));
    };
    for (const minDocs of [10, 25]) expect(common(sets, minDocs, lookup, counted)).toEqual(naive(sets, minDocs, prior, counted));
    // Only shingles in two or more sets are asked about.
    expect(asked[0]).toBeLessThan(new Set(sets.flatMap((s) => [...s])).size / 2);
  });

  it('stores the counted count of every shingle in two or more of the night\'s sets, and only those', () => {
    const sets = corpus(4, 500);
    const counted = Uint8Array.from(sets, (_, i) => (i % 3 === 0 ? 0 : 1));
    const { stored } = frequentShingles(sets, 25, undefined, counted);
    const every = new Map<number, number>();
    const inCounted = new Map<number, number>();
    sets.forEach((s, i) => s.forEach((h) => {
      every.set(h, (every.get(h) ?? 0) + 1);
      if (counted[i] === 1) inCounted.set(h, (inCounted.get(h) ?? 0) + 1);
    }));
    const expected = [...inCounted].filter(([h]) => (every.get(h) as number) >= 2).sort((a, b) => a[0] - b[0]);
    expect([...stored.hashes]).toEqual(expected.map(([h]) => h));
    expect([...stored.counts]).toEqual(expected.map(([, c]) => c));
  });

  it('turns counts into deltas: tonight in, replaced versions out', () => {
    const plus = countSets([toSet([1, 2, 3]), toSet([2, 3])]);
    const minus = countSets([toSet([3, 4])]);
    const d = deltasOf(plus, minus);
    expect([...d.hashes]).toEqual([1, 2, 3, 4]);
    expect([...d.deltas]).toEqual([1, 2, 1, -1]);
    // Equal in and out: no change recorded.
    expect([...deltasOf(countSets([toSet([7])]), countSets([toSet([7])])).hashes]).toEqual([]);
  });

  it('drops exactly the stock phrases from a set, sharing the array when none is found', () => {
    const sets = corpus(5, 300);
    const stock = frequentShingles(sets, 10).common;
    expect(stock.size).toBeGreaterThan(5);
    for (const s of sets) expect([...dropCommon(s, stock)]).toEqual([...s].filter((h) => !stock.has(h)));
    const none = toSet([1, 2, 3]);
    expect(dropCommon(none, stock)).toBe(none);
  });

  it('copies into the arena when asked to, even a set with no stock phrase', () => {
    const sets = corpus(9, 40);
    const stock = frequentShingles(sets, 10).common;
    const arena = new SetArena(1 << 12);
    const none = toSet([1, 2, 3]);
    const copied = dropCommon(none, stock, arena, true);
    expect(copied).not.toBe(none);
    expect([...copied]).toEqual([1, 2, 3]);
    expect(dropCommon(none, new HashSet32(), arena, true)).not.toBe(none);
    const dropped = sets.map((s) => dropCommon(s, stock, arena, true));
    sets.forEach((s, i) => expect([...dropped[i]]).toEqual([...s].filter((h) => !stock.has(h))));
  });

  it('drops the stock phrases a set gained after it was first used', () => {
    // Earlier articles are sketched in two rounds, the second adding stock phrases to the same set.
    const sets = corpus(5, 300);
    const stock = new HashSet32([...frequentShingles(sets, 10).common].slice(0, 3));
    const before = sets.map((s) => dropCommon(s, stock));
    for (const h of frequentShingles(sets, 10).common) stock.add(h);
    expect(stock.size).toBeGreaterThan(5);
    sets.forEach((s, i) => {
      expect([...dropCommon(s, stock)]).toEqual([...s].filter((h) => !stock.has(h)));
      expect(before[i].length).toBeGreaterThanOrEqual(dropCommon(s, stock).length);
    });
  });
});

describe('HashSet32', () => {
  it('answers as a Set does, across growth, for values that share low bits and for 0', () => {
    const rand = seededRandom(3);
    const set = new HashSet32();
    const ref = new Set<number>();
    // Random values, values that differ only in high bits (same bitmap bit), and 0 and 2^32 - 1.
    const values = [0, 0xffffffff, ...Array.from({ length: 5000 }, () => Math.floor(rand() * 2 ** 32)), ...Array.from({ length: 500 }, (_, i) => (i << 20) >>> 0 | 7)];
    for (const v of values) {
      set.add(v);
      set.add(v);
      ref.add(v);
      expect(set.size).toBe(ref.size);
    }
    for (const v of values) expect(set.has(v)).toBe(true);
    let absent = 0;
    for (let i = 0; i < 20000; i++) {
      const v = Math.floor(rand() * 2 ** 32);
      expect(set.has(v)).toBe(ref.has(v));
      if (!ref.has(v)) absent++;
    }
    expect(absent).toBeGreaterThan(19000);
    expect(new HashSet32([5]).has(0)).toBe(false);
    // 0, kept aside from the slots, is found with no growth after it too.
    expect(new HashSet32([0]).has(0)).toBe(true);
    expect(new HashSet32([5, 0]).has(0)).toBe(true);
    expect([...new HashSet32([0, 7])]).toEqual([0, 7]);
    expect([...set]).toEqual([...ref].sort((a, b) => a - b));
  });
});

describe('sets carved from an arena', () => {
  it('gives the same sets as separate arrays, each a view of its own that later sets do not touch', () => {
    const rnd = seededRandom(7);
    const arena = new SetArena(1000);
    // Small sets, and one larger than a block; values drawn from a small range so there are repeats to drop.
    const inputs = Array.from({ length: 60 }, (_, i) => Uint32Array.from({ length: i === 30 ? 2500 : 1 + Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 5000)));
    const plain = inputs.map((h) => toSet(h));
    const carved = inputs.map((h) => toSet(h, arena));
    const common = new HashSet32([...plain[0]].slice(0, 5));
    const unions = [unionAll(plain.slice(0, 10)), unionAll(plain.slice(10, 40), arena)];
    const dropped = plain.map((s) => dropCommon(s, common, arena));
    // Compared only after everything was carved: a set must not change when the next one is made.
    carved.forEach((s, i) => expect([...s]).toEqual([...plain[i]]));
    expect([...unions[0]]).toEqual([...toSet(concatAll(plain.slice(0, 10)))]);
    expect([...unions[1]]).toEqual([...toSet(concatAll(plain.slice(10, 40)))]);
    dropped.forEach((s, i) => expect([...s]).toEqual([...plain[i]].filter((x) => !common.has(x))));
  });

  it('keeps only shingles held by at least minCount sets when asked', () => {
    const sets = [toSet([1, 2, 3]), toSet([2, 3, 4]), toSet([3, 9])];
    const all = countSets(sets);
    const repeats = countSets(sets, 2);
    expect([...all.hashes]).toEqual([1, 2, 3, 4, 9]);
    expect([...repeats.hashes]).toEqual([2, 3]);
    expect([...repeats.counts]).toEqual([2, 3]);
  });

  it('counts the same split into ranges of the hash space, whatever the number of ranges', async () => {
    const random = seededRandom(21);
    // Random sets, plus values on and around the ranges' edges for every split tried, and empty sets.
    const edges: number[] = [0, 1, 2 ** 32 - 1, 2 ** 32 - 2];
    for (const parts of [2, 3, 4, 7, 16]) for (let k = 1; k < parts; k++) edges.push(Math.ceil((k * 2 ** 32) / parts) - 1, Math.ceil((k * 2 ** 32) / parts), Math.ceil((k * 2 ** 32) / parts) + 1);
    const sets: Uint32Array[] = [new Uint32Array(0)];
    for (let d = 0; d < 400; d++) {
      const values = Array.from({ length: Math.floor(random() * 60) }, () => (random() < 0.3 ? Math.floor(random() * 500) : Math.floor(random() * 2 ** 32)));
      for (let e = 0; e < 3; e++) values.push(edges[Math.floor(random() * edges.length)]);
      sets.push(toSet(values));
    }
    sets.push(new Uint32Array(0));
    const countHere = async (ranges: Uint32Array[], minCount: number): Promise<ShingleCounts[]> => ranges.map((r) => countSorted(sortUint32(r), minCount));
    for (const minCount of [1, 2]) {
      const expected = countSets(sets, minCount);
      for (const parts of [1, 2, 3, 4, 7, 16]) {
        const got = await countSetsSplit(sets, minCount, parts, countHere);
        expect([...got.hashes], `parts ${parts}`).toEqual([...expected.hashes]);
        expect([...got.counts], `parts ${parts}`).toEqual([...expected.counts]);
      }
    }
    // Each range holds exactly the values of its part of the hash space, in a buffer of its own (to move to a worker).
    const ranges = splitByRange(sets, 7);
    expect(ranges.reduce((n, r) => n + r.length, 0)).toBe(sets.reduce((n, s) => n + s.length, 0));
    ranges.forEach((r, k) => {
      expect(r.buffer).toBeInstanceOf(ArrayBuffer);
      expect(r.byteLength).toBe(r.buffer.byteLength);
      for (const v of r) expect(Math.floor((v * 7) / 2 ** 32), `value ${v}`).toBe(k);
    });
    expect(() => splitByRange(sets, 0)).toThrow(/parts/);
  });
});

describe('HashMap32', () => {
  it('holds what a Map holds, through growth, with 0 and values above 2^31 as keys and values', () => {
    const random = seededRandom(5);
    const map = new HashMap32();
    const reference = new Map<number, number>();
    // Keys from a small range too, so that many are set again.
    for (let n = 0; n < 50_000; n++) {
      const key = n % 3 === 0 ? Math.floor(random() * 2000) : Math.floor(random() * 2 ** 32);
      const value = n % 5 === 0 ? 0 : Math.floor(random() * 2 ** 32);
      map.set(key, value);
      reference.set(key, value);
    }
    map.set(0, 7);
    reference.set(0, 7);
    expect(map.size).toBe(reference.size);
    for (const [k, v] of reference) expect(map.get(k)).toBe(v);
    for (let n = 0; n < 1000; n++) {
      const k = Math.floor(random() * 2 ** 32);
      expect(map.get(k)).toBe(reference.get(k));
    }
    expect([...map.keysOf()].sort((a, b) => a - b)).toEqual([...reference.keys()].sort((a, b) => a - b));
    expect(new HashMap32().get(0)).toBeUndefined();
  });
});

describe('packed paragraph sets', () => {
  it('hold each paragraph set without the stock phrases, leave out sets emptied by them, and copy whole', () => {
    const sets = [
      { para: 0, shingles: Uint32Array.from([1, 5, 9]) },
      { para: 2, shingles: Uint32Array.from([7]) },
      { para: 3, shingles: new Uint32Array(0) },
      { para: 5, shingles: Uint32Array.from([2, 7, 4294967295]) },
    ];
    const common = new HashSet32();
    common.add(7);
    for (const arena of [undefined, new SetArena(8, true)]) {
      const packed = ParagraphSets.pack(sets, arena, common);
      expect(packed.length).toBe(2);
      expect(packed.paras()).toEqual([0, 5]);
      expect(packed.toArray()).toEqual([
        { para: 0, shingles: Uint32Array.from([1, 5, 9]) },
        { para: 5, shingles: Uint32Array.from([2, 4294967295]) },
      ]);
      expect(Array.from(packed.values())).toEqual([1, 5, 9, 2, 4294967295]);
      expect([packed.start(1), packed.end(1)]).toEqual([3, 5]);
      const copy = packed.copy(new SetArena(4));
      expect(copy.toArray()).toEqual(packed.toArray());
      expect(copy.set(0).buffer).not.toBe(packed.set(0).buffer);
    }
    // Without stock phrases only the empty set is left out; the sketch's union keeps its own values.
    const sketch = sketchWith(sets, new HashSet32());
    expect(sketch.paragraphs.paras()).toEqual([0, 2, 5]);
    expect(Array.from(sketch.shingles)).toEqual([1, 2, 5, 7, 9, 4294967295]);
  });
});
