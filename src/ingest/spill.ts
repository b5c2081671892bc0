/**
 * The night's records as they were read: raw JSON lines, in memory up to a
 * budget (ingest.in_memory_mb), past it in a temporary file. Matching needs
 * only the analyses; the full records (text and every input field) are needed
 * again only when the outputs are written, one at a time. Keeping the bytes,
 * not parsed objects, keeps the texts out of the JavaScript heap (the workers
 * parse them and send back only what matching needs) and lets the feed copy a
 * record's line as it came.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nullPrototypeCopy } from './validate.js';
import { copyOf, decodeUtf8, readFully, writeFully } from '../util/files.js';

/** Where one record's JSON line sits among the night's bytes (see Spill.append). */
export interface SpillRef {
  offset: number;
  length: number;
}

const PREFIX = 'neardup-spill-';
/** Bytes read from the spill file at a time. */
const READ_AHEAD = 1 << 20;

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
  return nullPrototypeCopy(JSON.parse(decodeUtf8(line)) as Record<string, unknown>);
}


/**
 * A read-ahead block over the spill file: file bytes [pos, pos + length) that a peek returns views into,
 * valid until this block is read into again. Each reader that holds a view while another may read (the
 * report's texts beside the feed's lines) has a block of its own.
 */
export class SpillReader {
  block = Buffer.alloc(0);
  pos = 0;
  length = 0;
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
  /** The read-ahead block of peeks that name no reader of their own. */
  private readonly reader = new SpillReader();

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
      this.segments.push({ start: at, length: bytes.length, memory: copyOf(bytes), filePos: -1 });
      return at;
    }
    if (this.fd < 0) {
      removeStale(this.parent);
      this.dir = mkdtempSync(path.join(this.parent, `${PREFIX}${process.pid}-`));
      this.fd = openSync(path.join(this.dir, 'records.jsonl'), 'w+');
    }
    const pos = this.fileSize;
    writeFully(this.fd, bytes, pos);
    this.fileSize += bytes.length;
    this.records += records;
    this.segments.push({ start: at, length: bytes.length, memory: null, filePos: pos });
    return at;
  }

  /** A record's line as it was read: a view into memory, or a buffer of its own read from the file. */
  line(ref: SpillRef): Buffer {
    const { seg, at } = this.locate(ref);
    if (seg.memory) return seg.memory.subarray(at, at + ref.length);
    return copyOf(this.fromFile(seg.filePos + at, ref.length));
  }

  /**
   * The same bytes for a look that ends before the next call: from the file, a view into the read-ahead
   * block (no buffer per record, which at 100k records was most of the writing's garbage).
   */
  peek(ref: SpillRef, reader = this.reader): Buffer {
    const { seg, at } = this.locate(ref);
    if (seg.memory) return seg.memory.subarray(at, at + ref.length);
    return this.fromFile(seg.filePos + at, ref.length, reader);
  }

  /** A record's fields as validation kept them. */
  fields(ref: SpillRef): Record<string, unknown> {
    return fieldsOfLine(this.peek(ref));
  }

  /** The segment holding the record: the last that starts at or before it (segments are in offset order). */
  private locate(ref: SpillRef): { seg: Segment; at: number } {
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
    return { seg, at };
  }

  /**
   * Bytes of the spill file, served from a read-ahead block: the outputs ask for records mostly in input
   * order, so one read of a megabyte serves a few hundred records instead of a read each.
   */
  private fromFile(pos: number, length: number, r: SpillReader = this.reader): Buffer {
    if (pos >= r.pos && pos + length <= r.pos + r.length) return r.block.subarray(pos - r.pos, pos - r.pos + length);
    const want = Math.min(Math.max(length, READ_AHEAD), this.fileSize - pos);
    if (r.block.length < want) r.block = Buffer.allocUnsafe(Math.max(want, READ_AHEAD));
    const done = readFully(this.fd, r.block, pos, want);
    r.pos = pos;
    r.length = done;
    if (done < length) throw new Error(`spill file ends before the record at file position ${pos} (+${length})`);
    return r.block.subarray(0, length);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.fd = -1;
    this.dir = null;
    this.segments.length = 0;
    this.reader.block = Buffer.alloc(0);
    this.reader.length = 0;
  }
}
