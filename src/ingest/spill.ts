/**
 * The night's records as they were read: raw JSON lines, in memory up to a
 * budget (ingest.in_memory_mb), past it in a temporary file. Matching needs
 * only the analyses; the full records (text and every input field) are needed
 * again only when the outputs are written, one at a time. Keeping the bytes,
 * not parsed objects, keeps the texts out of the JavaScript heap (the workers
 * parse them and send back only what matching needs) and lets the feed copy a
 * record's line as it came.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nullPrototypeCopy } from './validate.js';

/** Where one record's JSON line sits among the night's bytes (see Spill.append). */
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

/** A record's fields from its JSON line: a null-prototype object, in input key order, as validation kept them. */
export function fieldsOfLine(line: Uint8Array): Record<string, unknown> {
  return nullPrototypeCopy(JSON.parse(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8')) as Record<string, unknown>);
}

/** Bytes appended together: kept in memory, or written to the file at `filePos`. */
interface Segment {
  start: number;
  length: number;
  memory: Buffer | null;
  filePos: number;
}

export class Spill {
  private dir: string | null = null;
  private fd = -1;
  private fileSize = 0;
  /** Offsets are positions in the concatenation of everything appended, wherever it is kept. */
  private size = 0;
  private kept = 0;
  private readonly segments: Segment[] = [];
  /** Records written to the file so far (the rest are in memory). */
  records = 0;

  constructor(
    private readonly memoryBudget = Infinity,
    private readonly parent = os.tmpdir(),
  ) {}

  /**
   * Append bytes holding `records` whole lines; returns the offset they start at. They are copied (the caller
   * may hand the original to a worker): into memory while the budget lasts, then into the file, made on first use.
   */
  append(bytes: Uint8Array, records: number): number {
    const at = this.size;
    this.size += bytes.length;
    if (this.kept + bytes.length <= this.memoryBudget) {
      this.kept += bytes.length;
      this.segments.push({ start: at, length: bytes.length, memory: Buffer.from(bytes), filePos: -1 });
      return at;
    }
    if (this.fd < 0) {
      removeStale(this.parent);
      this.dir = mkdtempSync(path.join(this.parent, `${PREFIX}${process.pid}-`));
      this.fd = openSync(path.join(this.dir, 'records.jsonl'), 'w+');
    }
    const pos = this.fileSize;
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, pos + done);
    this.fileSize += bytes.length;
    this.records += records;
    this.segments.push({ start: at, length: bytes.length, memory: null, filePos: pos });
    return at;
  }

  /** A record's line as it was read (a view into memory, or a fresh buffer from the file). */
  line(ref: SpillRef): Buffer {
    // The segment holding the offset: the last that starts at or before it (segments are in offset order).
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].start <= ref.offset) lo = mid;
      else hi = mid - 1;
    }
    const seg = this.segments[lo];
    const at = ref.offset - (seg?.start ?? 0);
    if (!seg || at + ref.length > seg.length) throw new Error(`no record at ${ref.offset} (+${ref.length}) among the night's ${this.size} bytes`);
    if (seg.memory) return seg.memory.subarray(at, at + ref.length);
    const buf = Buffer.allocUnsafe(ref.length);
    let done = 0;
    while (done < ref.length) {
      const n = readSync(this.fd, buf, done, ref.length - done, seg.filePos + at + done);
      if (n === 0) throw new Error(`spill file ends before the record at ${ref.offset} (+${ref.length})`);
      done += n;
    }
    return buf;
  }

  /** A record's fields as validation kept them. */
  fields(ref: SpillRef): Record<string, unknown> {
    return fieldsOfLine(this.line(ref));
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.fd = -1;
    this.dir = null;
    this.segments.length = 0;
  }
}
