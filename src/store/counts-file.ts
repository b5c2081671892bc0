/**
 * Shingle document counts over the index, as one file of (hash, count) pairs sorted by hash, beside
 * index.sqlite. A night asks for the counts of millions of shingles (tonight's repeats, then its earlier
 * articles' shingles) and changes millions: as SQLite rows that was one B-tree probe or upsert each (8-17 s
 * of lookups and 3-7 s of upserts on 100k-article nights); here a lookup is one merge of the sorted
 * question with the file read 4 MB at a time, and a night's changes are one merge into a new file.
 *
 * Crash safety as for segments: a new counts file is written and fsynced before the transaction that
 * names it (in the meta table) commits; files no row names are removed by the next commit.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ShingleCounts, type ShingleDeltas } from '../sketch/counts.js';
import { readFully, writeFully } from '../util/files.js';
import { concatAll } from '../sketch/shingle.js';

const EXT = '.counts';
/** (hash, count) pairs read or written at a time: 4 MB. */
const PAIRS = 1 << 19;

/** The pairs of a counts file, a chunk at a time (views into one reused buffer). */
function* chunks(file: string | null): Generator<Uint32Array> {
  if (file === null) return;
  const fd = openSync(file, 'r');
  try {
    const buf = new Uint32Array(2 * PAIRS);
    const bytes = new Uint8Array(buf.buffer);
    for (let pos = 0; ; ) {
      const got = readFully(fd, bytes, pos);
      if (got % 8 !== 0) throw new Error(`counts file ${file} ends inside a pair (${pos + got} bytes)`);
      if (got === 0) return;
      pos += got;
      yield buf.subarray(0, got / 4);
      if (got < bytes.length) return;
    }
  } finally {
    closeSync(fd);
  }
}

export class CountsFiles {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private full(name: string | null): string | null {
    return name === null ? null : path.join(this.dir, name);
  }

  /** The counts of those of the sorted distinct `hashes` that `name` holds: one pass over the file. */
  lookup(name: string | null, hashes: Uint32Array): ShingleCounts {
    const foundHashes = new Uint32Array(hashes.length);
    const foundCounts = new Uint32Array(hashes.length);
    let w = 0;
    let q = 0;
    for (const pairs of chunks(this.full(name))) {
      if (q >= hashes.length) break;
      for (let i = 0; i < pairs.length && q < hashes.length; i += 2) {
        const h = pairs[i];
        while (q < hashes.length && hashes[q] < h) q++;
        if (q < hashes.length && hashes[q] === h) {
          foundHashes[w] = h;
          foundCounts[w++] = pairs[i + 1];
          q++;
        }
      }
    }
    return new ShingleCounts(foundHashes.slice(0, w), foundCounts.slice(0, w));
  }

  /** The hashes `name` counts at least `minCount` times, ascending: one pass over the file. */
  atLeast(name: string | null, minCount: number): Uint32Array {
    const found: Uint32Array[] = [];
    for (const pairs of chunks(this.full(name))) {
      let n = 0;
      for (let i = 1; i < pairs.length; i += 2) if (pairs[i] >= minCount) n++;
      const part = new Uint32Array(n);
      let w = 0;
      for (let i = 1; i < pairs.length; i += 2) if (pairs[i] >= minCount) part[w++] = pairs[i - 1];
      found.push(part);
    }
    return concatAll(found);
  }

  /**
   * A new counts file: `name`'s counts plus `deltas` (sorted distinct hashes), a count that falls to 0 or
   * below left out. Written and fsynced; returns the new file's name.
   */
  merge(name: string | null, deltas: ShingleDeltas, tag: string): string {
    const out = `${tag.replace(/[^\w.-]+/g, '_').slice(0, 60)}-${Date.now()}-${process.pid}${EXT}`;
    const fd = openSync(path.join(this.dir, out), 'wx');
    try {
      const buf = new Uint32Array(2 * PAIRS);
      let used = 0;
      const emit = (h: number, c: number): void => {
        if (c <= 0) return;
        buf[used++] = h;
        buf[used++] = c;
        if (used === buf.length) flush();
      };
      const flush = (): void => {
        writeFully(fd, new Uint8Array(buf.buffer, 0, used * 4));
        used = 0;
      };
      const { hashes, deltas: d } = deltas;
      let j = 0;
      for (const pairs of chunks(this.full(name))) {
        for (let i = 0; i < pairs.length; i += 2) {
          const h = pairs[i];
          while (j < hashes.length && hashes[j] < h) {
            emit(hashes[j], d[j]);
            j++;
          }
          if (j < hashes.length && hashes[j] === h) emit(h, pairs[i + 1] + d[j++]);
          else emit(h, pairs[i + 1]);
        }
      }
      for (; j < hashes.length; j++) emit(hashes[j], d[j]);
      flush();
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      rmSync(path.join(this.dir, out), { force: true });
      throw e;
    }
    closeSync(fd);
    return out;
  }

  /** Size of the named file (0 when there is none yet). */
  bytes(name: string | null): number {
    try {
      return name === null ? 0 : statSync(path.join(this.dir, name)).size;
    } catch {
      return 0;
    }
  }

  /** Remove counts files other than `keep` (only under the run lock: a running night's new file is not named yet). */
  sweep(keep: string | null): void {
    for (const f of readdirSync(this.dir)) if (f.endsWith(EXT) && f !== keep) rmSync(path.join(this.dir, f), { force: true });
  }
}
