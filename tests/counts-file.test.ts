import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CountsFiles } from '../src/store/counts-file.js';
import { seededRandom } from '../src/util/random.js';
import { withTempDir } from './helpers/cli.js';

/** Sorted distinct hashes with a delta each, from a map. */
function deltas(m: Map<number, number>): { hashes: Uint32Array; deltas: Int32Array } {
  const keys = [...m.keys()].sort((a, b) => a - b);
  return { hashes: Uint32Array.from(keys), deltas: Int32Array.from(keys, (k) => m.get(k) as number) };
}

describe('shingle counts in a sorted file', () => {
  it('adds nights of changes, drops counts that reach zero, and answers lookups across 4 MB chunks', async () => {
    await withTempDir('neardup-counts-', async (dir) => {
      const files = new CountsFiles(dir);
      const rnd = seededRandom(5);
      const truth = new Map<number, number>();
      let name: string | null = null;
      // Three nights: 700k new hashes (more than one chunk of the file), then changes, then removals.
      const nights: Array<Map<number, number>> = [new Map(), new Map(), new Map()];
      for (let i = 0; i < 700_000; i++) nights[0].set(Math.floor(rnd() * 2 ** 32), 1 + Math.floor(rnd() * 5));
      const first = [...nights[0].keys()];
      for (let i = 0; i < 50_000; i++) nights[1].set(first[Math.floor(rnd() * first.length)], 2);
      for (let i = 0; i < 10_000; i++) nights[1].set(Math.floor(rnd() * 2 ** 32), 3);
      for (let i = 0; i < 30_000; i++) {
        const h = first[i * 20];
        nights[2].set(h, -(nights[0].get(h) as number) - (nights[1].get(h) ?? 0));
      }
      for (const night of nights) {
        for (const [h, d] of night) truth.set(h, (truth.get(h) ?? 0) + d);
        name = files.merge(name, deltas(night), 'night');
        files.sweep(name);
        expect(readdirSync(dir)).toEqual([name]);
      }
      for (const [h, c] of truth) if (c <= 0) truth.delete(h);
      // Ask about everything there is, some removed hashes, and hashes never seen.
      const asked = new Set<number>([...truth.keys()]);
      for (const h of nights[2].keys()) asked.add(h);
      for (let i = 0; i < 20_000; i++) asked.add(Math.floor(rnd() * 2 ** 32));
      const question = Uint32Array.from([...asked].sort((a, b) => a - b));
      const got = files.lookup(name, question);
      const expected = question.filter((h) => truth.has(h));
      expect(got.hashes).toEqual(expected);
      expect(got.counts).toEqual(Uint32Array.from(expected, (h) => truth.get(h) as number));
      expect(files.lookup(null, question).size).toBe(0);
      // The frequent ones, in one pass: every hash counted at least 4 (7) times, across chunks, ascending.
      for (const min of [4, 7]) {
        const frequent = [...truth].filter(([, c]) => c >= min).map(([h]) => h).sort((a, b) => a - b);
        expect(frequent.length).toBeGreaterThan(1000);
        expect(files.atLeast(name, min)).toEqual(Uint32Array.from(frequent));
      }
      expect(files.atLeast(null, 1).length).toBe(0);
    });
  });
});
