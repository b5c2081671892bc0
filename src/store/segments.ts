/**
 * The stored articles' records (article with its line, analysis, paragraph sets) live in append-only
 * segment files beside the SQLite index, one file per committed night; SQLite keeps (segment, offset,
 * length) per article. A night's records are written once, in large sequential writes; as SQLite blobs
 * they went through its pages, the write-ahead log and the checkpoint (the largest part of a 100k-article
 * night's commit).
 *
 * Crash safety: a segment is written and fsynced before the night's transaction that names it commits. A
 * run killed earlier leaves a file no row names, which the next commit removes (sweep); the index never
 * names a file that is not complete on disk.
 */
import { closeSync, fsync, mkdirSync, openSync, read, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { readFully, writeFully, writeFullyAsync } from '../util/files.js';
import { BAND_EXT } from './band-files.js';
import type { PreparedRecord } from './record.js';

const EXT = '.seg';
/**
 * The input lines of a segment's records, in a file of their own beside it: a night reads back the analyses
 * and sets of some 100k earlier articles, and only a few of their lines (report.json's); kept inside the
 * records, the lines were two thirds of the bytes read, and of what the page cache had to hold.
 */
const LINES_EXT = '.lines';

/** The band file beside a segment (see band-files.ts): same name, its own extension. */
export function bandFileOf(segmentFile: string): string {
  return segmentFile.slice(0, -EXT.length) + BAND_EXT;
}

/** The lines file beside a segment: same name, its own extension. */
export function linesFileOf(segmentFile: string): string {
  return segmentFile.slice(0, -EXT.length) + LINES_EXT;
}

/** Bytes gathered before each write. */
const WRITE_CHUNK = 1 << 22;

/** Chunks of one file being written at once, at most; appends wait (drain) beyond that. */
const CHUNKS_IN_FLIGHT = 4;

/**
 * One append-only file, written in large chunks on libuv's threads while the caller goes on (a night's
 * records are written alongside its other stages: the main thread only gathers the bytes), and fsynced the
 * same way when finished.
 */
class AppendFile {
  private readonly fd: number;
  private chunk: Buffer = Buffer.allocUnsafeSlow(WRITE_CHUNK);
  /** Chunks written, to gather the next ones in. */
  private readonly spare: Buffer[] = [];
  private used = 0;
  private size = 0;
  /** Where the chunk being gathered goes in the file. */
  private chunkAt = 0;
  /** Writes under way, oldest first (each names its position, so they may complete in any order). */
  private writing: Array<Promise<void>> = [];
  private closed = false;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'wx');
  }

  /** Append bytes; returns where they start. */
  append(bytes: Uint8Array): number {
    return this.appendWith(bytes.length, (out, at) => out.set(bytes, at));
  }

  /** Append `length` bytes that `write` puts into `out` from `at`; returns where they start in the file. */
  appendWith(length: number, write: (out: Buffer, at: number) => void): number {
    const offset = this.size;
    if (this.used + length > WRITE_CHUNK) this.flush();
    if (length > WRITE_CHUNK) {
      // Larger than a chunk: in a buffer of its own, written here and now (the caller may reuse what it wrote from).
      const out = Buffer.allocUnsafeSlow(length);
      write(out, 0);
      writeFully(this.fd, out, this.chunkAt);
      this.chunkAt += length;
    } else {
      write(this.chunk, this.used);
      this.used += length;
    }
    this.size += length;
    return offset;
  }

  /** Until at most `max` chunks are being written; rejects when a write failed. */
  async drain(max = CHUNKS_IN_FLIGHT): Promise<void> {
    while (this.writing.length > max) await this.writing.shift();
  }

  private flush(): void {
    if (this.used === 0) return;
    const chunk = this.chunk;
    const write = writeFullyAsync(this.fd, chunk.subarray(0, this.used), this.chunkAt).then(() => {
      this.spare.push(chunk);
    });
    // Awaited by drain or finish; a failure meanwhile is not an unhandled rejection.
    write.catch(() => undefined);
    this.writing.push(write);
    this.chunkAt += this.used;
    // A chunk whose write is done, when there is one: a new one's pages are each faulted in on first touch,
    // which cost more than the copying (some 165k faults for a 100k night's 680 MB).
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafeSlow(WRITE_CHUNK);
    this.used = 0;
  }

  /** Everything written and on disk (fsync), the file closed. */
  async finish(): Promise<void> {
    this.flush();
    await this.drain(0);
    await new Promise<void>((resolve, reject) => fsync(this.fd, (e) => (e ? reject(e) : resolve())));
    this.close();
  }

  /** Closed (once its writes are over) and removed. */
  async remove(): Promise<void> {
    await Promise.allSettled(this.writing);
    this.close();
    rmSync(this.file, { force: true });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** A night's segment being written: its records, and their lines in the lines file beside it. */
export class SegmentWriter {
  private readonly records: AppendFile;
  private readonly lines: AppendFile;

  constructor(readonly file: string) {
    this.records = new AppendFile(file);
    this.lines = new AppendFile(linesFileOf(file));
  }

  /** Append one record; returns where it starts. */
  append(record: Uint8Array): number {
    return this.records.append(record);
  }

  /** Append one record, written straight into the write chunk; returns where it starts. */
  appendRecord(record: PreparedRecord): number {
    return this.records.appendWith(record.length, (out, at) => record.writeInto(out, at));
  }

  /** Append one input line to the lines file; returns where it starts there. */
  appendLine(line: Uint8Array): number {
    return this.lines.append(line);
  }

  /** Until few enough chunks are being written (call now and then: appends do not wait). */
  async drain(): Promise<void> {
    await this.records.drain();
    await this.lines.drain();
  }

  /** Both files written and on disk (fsync), closed. */
  async finish(): Promise<void> {
    // Both settled before a failure is passed on: the caller then removes the files, which must not be
    // closed under a write or fsync still running.
    const done = await Promise.allSettled([this.lines.finish(), this.records.finish()]);
    for (const d of done) if (d.status === 'rejected') throw d.reason;
  }

  /** Give up the segment (its night did not commit). */
  async abandon(): Promise<void> {
    await Promise.all([this.records.remove(), this.lines.remove()]);
    rmSync(bandFileOf(this.file), { force: true });
  }
}

/** A read past a segment's end: the index names bytes the file does not have. */
function pastEnd(name: string, end: number): Error {
  return new Error(`segment ${name} ends before byte ${end} (the index names a record past its end)`);
}

/** File, then offset order: how records are read, so that each segment is read front to back. */
export function segmentOrder(x: { file: string; at: number }, y: { file: string; at: number }): number {
  return x.file < y.file ? -1 : x.file > y.file ? 1 : x.at - y.at;
}

export class SegmentFiles {
  private readonly fds = new Map<string, number>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** A new segment, under a name no other run uses (the night, the time, the pid). */
  create(nightId: string): SegmentWriter {
    const safe = nightId.replace(/[^\w.-]+/g, '_').slice(0, 60);
    return new SegmentWriter(path.join(this.dir, `${safe}-${Date.now()}-${process.pid}${EXT}`));
  }

  /**
   * Many records, each a Buffer view into a shared slab, returned in the order asked but read in file and offset order,
   * so that loading a night's earlier articles reads each segment front to back (the kernel reads ahead)
   * rather than hopping about it in id order. One read a record: reading neighbours together, gaps included,
   * was slower from a cold page cache (13.2 s against 10.3 s for 63k records).
   */
  readMany(places: Array<{ file: string; at: number; bytes: number }>): Buffer[] {
    const order = places.map((_, i) => i).sort((x, y) => segmentOrder(places[x], places[y]));
    const out: Buffer[] = new Array<Buffer>(places.length);
    // Records are read into slabs of 4 MB, each at a 4-byte boundary (decodeRecord's typed views need it): a
    // buffer of its own per record cost ~28 us each to allocate at 1M articles (2.8 s for 100k records).
    const SLAB = 4 << 20;
    let slab = Buffer.alloc(0);
    let used = 0;
    for (const i of order) {
      const { file, at, bytes } = places[i];
      const room = (bytes + 3) & ~3;
      if (used + room > slab.length) {
        slab = Buffer.allocUnsafeSlow(Math.max(SLAB, room));
        used = 0;
      }
      out[i] = this.readInto(slab.subarray(used, used + bytes), file, at);
      used += room;
    }
    return out;
  }

  private fd(name: string): number {
    let fd = this.fds.get(name);
    if (fd === undefined) {
      fd = openSync(path.join(this.dir, name), 'r');
      this.fds.set(name, fd);
    }
    return fd;
  }

  /** `length` bytes of a segment from `offset` (into the start of `into` when it has room: a view of it). */
  read(name: string, offset: number, length: number, into?: Buffer): Buffer {
    return this.readInto(into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length), name, offset);
  }

  /** As read, on libuv's threads: reads ahead of their use overlap the waits for the disk with other work. */
  readAsync(name: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const out = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    const fd = this.fd(name);
    return new Promise((resolve, reject) => {
      const more = (done: number): void => {
        if (done === length) return resolve(out);
        read(fd, out, done, length - done, offset + done, (e, n) => {
          if (e) reject(e);
          else if (n === 0) reject(pastEnd(name, offset + length));
          else more(done + n);
        });
      };
      more(0);
    });
  }

  /** Fills `out` from a segment at `offset`. */
  private readInto(out: Buffer, name: string, offset: number): Buffer {
    if (readFully(this.fd(name), out, offset) < out.length) throw pastEnd(name, offset + out.length);
    return out;
  }

  /** Path of a segment's band file. */
  bandFile(name: string): string {
    return bandFileOf(path.join(this.dir, name));
  }

  /**
   * Remove the segment files not in `named`, with their band files (only under the run lock: a running
   * night's segment is unnamed until it commits).
   */
  sweep(named: Set<string>): number {
    let removed = 0;
    for (const f of readdirSync(this.dir)) {
      const segment = f.endsWith(BAND_EXT) ? f.slice(0, -BAND_EXT.length) + EXT : f.endsWith(LINES_EXT) ? f.slice(0, -LINES_EXT.length) + EXT : f;
      if (!segment.endsWith(EXT) || named.has(segment)) continue;
      this.closeFile(f);
      rmSync(path.join(this.dir, f), { force: true });
      removed++;
    }
    return removed;
  }

  bytes(): number {
    let total = 0;
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith(EXT) && !f.endsWith(BAND_EXT) && !f.endsWith(LINES_EXT)) continue;
      try {
        total += statSync(path.join(this.dir, f)).size;
      } catch {
        // Removed meanwhile by a run's commit (stats does not take the lock).
      }
    }
    return total;
  }

  private closeFile(name: string): void {
    const fd = this.fds.get(name);
    if (fd !== undefined) closeSync(fd);
    this.fds.delete(name);
  }

  close(): void {
    for (const name of [...this.fds.keys()]) this.closeFile(name);
  }
}
