import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchRun, readBandRun, writeBandFile } from '../src/store/band-files.js';
import { KeyRows } from '../src/store/keyorder.js';
import { seededRandom } from '../src/util/random.js';
import { withTempDir } from './helpers/cli.js';

/** Rows with keys drawn from a small pool (so keys repeat) spread over the whole 32-bit range. */
function randomRows(count: number, seed: number): KeyRows {
  const rnd = seededRandom(seed);
  const pool = Array.from({ length: count / 4 }, () => Math.floor(rnd() * 2 ** 32));
  const rows = new KeyRows();
  for (let i = 0; i < count; i++) rows.push(pool[Math.floor(rnd() * pool.length)], Math.floor(rnd() * 2 ** 32));
  return rows;
}

describe('band files', () => {
  it('sorts rows by key, then row, over the whole 32-bit range', () => {
    const rows = randomRows(20_000, 7);
    const { keys, values } = rows.rows();
    const expected = Array.from(keys, (k, i) => [k, values[i]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const sorted = rows.sorted();
    expect(Array.from(sorted.keys, (k, i) => [k, sorted.values[i]])).toEqual(expected);
  });

  it('gives back every stored row under the keys asked for, article and passage runs apart', () =>
    withTempDir('bands-', (dir) => {
      const doc = randomRows(8_000, 1);
      const passage = randomRows(12_000, 2);
      const file = path.join(dir, 'x.bands');
      writeBandFile(file, doc, passage);
      for (const [kind, rows] of [['doc', doc], ['passage', passage]] as const) {
        const { keys, values } = rows.rows();
        // Ask for every third stored key, and for keys nobody has.
        const asked = [...new Set(Array.from(keys).filter((_, i) => i % 3 === 0)), 0, 2 ** 32 - 1, 12345].sort((a, b) => a - b);
        const askedSet = new Set(asked);
        const expected = Array.from(keys, (k, i) => `${k} ${values[i]}`).filter((_, i) => askedSet.has(keys[i])).sort();
        const found: string[] = [];
        matchRun(readBandRun(file, kind), Uint32Array.from(asked), (i, row) => found.push(`${asked[i]} ${row}`));
        expect(found.length).toBeGreaterThan(100);
        expect(found.sort()).toEqual(expected);
      }
    }));
});
