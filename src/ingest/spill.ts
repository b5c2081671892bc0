/**
 * The night's records on disk instead of in memory. Matching needs only the
 * analyses; the full records (text and every input field) are needed again
 * only when the outputs are written, one at a time. Past its memory budget
 * (ingest.in_memory_mb) the main thread appends each record's JSON line to a
 * temporary file as it reads, keeps its offset, and reads it back when an
 * output needs it: the night's memory then holds sketches, not texts.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nullPrototypeCopy } from './validate.js';

/** Where one record's JSON line sits in the spill file. */
export interface SpillRef {
  offset: number;
  length: number;
}

const PREFIX = 'neardup-spill-';

/** Spill folders left by runs that were killed (their pid is gone). */
function removeStale(parent: string): void {
  for (const name of readdirSync(parent)) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(path.join(parent, name), { recursive: true, force: true });
    }
  }
}

export class Spill {
  private dir: string | null = null;
  private fd = -1;
  private size = 0;
  /** Records written so far. */
  records = 0;

  constructor(private readonly parent = os.tmpdir()) {}

  /** Append bytes holding `records` records; returns the offset they start at. The file is made on first use. */
  append(bytes: Uint8Array, records: number): number {
    if (this.fd < 0) {
      removeStale(this.parent);
      this.dir = mkdtempSync(path.join(this.parent, `${PREFIX}${process.pid}-`));
      this.fd = openSync(path.join(this.dir, 'records.jsonl'), 'w+');
    }
    const at = this.size;
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
    this.size += bytes.length;
    this.records += records;
    return at;
  }

  /** A record's fields as validation kept them: a null-prototype object, in input key order. */
  fields(ref: SpillRef): Record<string, unknown> {
    const buf = Buffer.allocUnsafe(ref.length);
    let done = 0;
    while (done < ref.length) {
      const n = readSync(this.fd, buf, done, ref.length - done, ref.offset + done);
      if (n === 0) throw new Error(`spill file ends before the record at ${ref.offset} (+${ref.length})`);
      done += n;
    }
    return nullPrototypeCopy(JSON.parse(buf.toString('utf8')) as Record<string, unknown>);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.fd = -1;
    this.dir = null;
  }
}
