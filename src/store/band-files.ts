/**
 * Band rows as sorted files, one per segment (X.bands beside X.seg): the (band key, article row) pairs of
 * the articles a night committed, article bands and passage bands, each run sorted by key then row.
 *
 * As SQLite tables keyed by band, the rows of every night went into two B-trees that grew with the index:
 * at 1M articles a night spent 19 s inserting its 12M rows and 11 s probing the trees. Here a night
 * writes its rows once, sorted, and a lookup merges tonight's sorted keys with each file of the window: its
 * cost follows the window's size, not the history's.
 *
 * A row is valid while its article's record is still in that segment: an article re-sent on a later night
 * moves to that night's segment (with all its keys in that night's file), and an article collected by gc
 * has no row in docs. Readers check docs.segment; stale rows go when their segment empties.
 *
 *   u32 magic 'NDB1' | u32 version | u32 article rows A | u32 passage rows P
 *   Uint32: article keys (A), article rows (A), passage keys (P), passage rows (P)   (little-endian)
 *
 * Crash safety as for segments: written and fsynced before the transaction that names its segment commits.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { readFully, writeFully } from '../util/files.js';
import type { KeyRows } from './keyorder.js';

export const BAND_EXT = '.bands';
const MAGIC = 0x3142444e; // 'NDB1' read as a little-endian u32
const VERSION = 1;
const HEADER = 16;

export type BandKind = 'doc' | 'passage';

/** (key, row) pairs sorted by key, then row. */
export interface BandRun {
  keys: Uint32Array;
  rows: Uint32Array;
}

/** Write a segment's band file (article and passage rows, any order) and fsync it. */
export function writeBandFile(file: string, doc: KeyRows, passage: KeyRows): void {
  const fd = openSync(file, 'w');
  try {
    writeFully(fd, new Uint8Array(Uint32Array.of(MAGIC, VERSION, doc.length, passage.length).buffer));
    // One run sorted at a time: a sort holds three copies of its rows.
    for (const rows of [doc, passage]) {
      const { keys, values } = rows.sorted();
      for (const part of [keys, values]) writeFully(fd, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One run (article or passage rows) of a band file. */
export function readBandRun(file: string, kind: BandKind): BandRun {
  const fd = openSync(file, 'r');
  try {
    const header = new Uint32Array(4);
    if (readFully(fd, new Uint8Array(header.buffer), 0) < HEADER || header[0] !== MAGIC) throw new Error(`band file ${file} is damaged (no header)`);
    if (header[1] !== VERSION) throw new Error(`band file ${file} has version ${header[1]}, this neardup reads version ${VERSION}`);
    const [a, p] = [header[2], header[3]];
    const count = kind === 'doc' ? a : p;
    const at = HEADER + (kind === 'doc' ? 0 : 8 * a);
    const run = new Uint32Array(2 * count);
    if (readFully(fd, new Uint8Array(run.buffer), at) < 8 * count) throw new Error(`band file ${file} ends before its ${kind} rows do`);
    return { keys: run.subarray(0, count), rows: run.subarray(count) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Every row of `run` whose key is among `want` (sorted, distinct): one merge of the two sorted lists.
 * Calls `found(i, row)`, i the key's place in `want`, in key order.
 */
export function matchRun(run: BandRun, want: Uint32Array, found: (i: number, row: number) => void): void {
  const { keys, rows } = run;
  let i = 0;
  let j = 0;
  while (i < want.length && j < keys.length) {
    const w = want[i];
    const k = keys[j];
    if (w < k) i++;
    else if (w > k) j++;
    else {
      for (; j < keys.length && keys[j] === w; j++) found(i, rows[j]);
      i++;
    }
  }
}
