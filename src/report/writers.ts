/**
 * Output writers. Every file is written under a temporary name in the same
 * folder and renamed when complete, so a crash never leaves a half-written
 * file under its final name. JSONL is streamed line by line.
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { gzip as gzipCallback } from 'node:zlib';
import { promisify } from 'node:util';
import { copyOf } from '../util/files.js';
import { quotedName } from '../ingest/rawjson.js';

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
}

async function drainWrite(stream: NodeJS.WritableStream, chunk: string | Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** Write JSON lines (optionally gzip-compressed) atomically. */
export async function writeJsonl(file: string, rows: Iterable<unknown>, gzip = false): Promise<number> {
  return writeLines(file, jsonLines(rows), gzip);
}

function* jsonLines(rows: Iterable<unknown>): Generator<string> {
  for (const row of rows) yield JSON.stringify(row) + '\n';
}

/** One output line (its newline included): text, bytes, or pieces of either written back to back. */
export type Line = string | Uint8Array | Array<string | Uint8Array>;

/** Lines handed to the stream in chunks of about this many bytes: few writes, little memory. */
const CHUNK = 1 << 18;
/** Bytes of lines per gzip member (see writeLines). */
const GZIP_BLOCK = 1 << 22;
/** Members being compressed at once: enough to keep libuv's threads busy, few enough to bound memory. */
const GZIP_IN_FLIGHT = 4;
const gzipAsync = promisify(gzipCallback);

/**
 * Pieces of output (strings encoded, bytes copied) packed into chunks of `size` bytes, each handed on when
 * full: how the writers below write many small pieces without joining them and without a buffer per piece.
 * A chunk handed on is given back (`release`) once written or compressed, and filled again: a new buffer
 * per chunk (a fresh mapping, given back at the next collection) had been most of what writing 1 GB of
 * outputs allocated. Chunks are cut by bytes, whether the pieces come as text or as bytes.
 */
class ChunkFiller {
  private chunk: Buffer;
  private used = 0;
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly size: number,
    /** Takes a full chunk's bytes, in order; `release` once done with them. */
    private readonly handOn: (bytes: Uint8Array, release: () => void) => Promise<void>,
    /** Takes a piece larger than a chunk, in order (bytes: a copy of their own). */
    private readonly handOnLarge: (piece: string | Uint8Array) => Promise<void>,
  ) {
    this.chunk = Buffer.allocUnsafe(size);
  }

  /** Hand the chunk's bytes on (their write or compression starts now, in order) and go on in a spare one. */
  cut(): Promise<void> {
    if (this.used === 0) return Promise.resolve();
    const full = this.chunk;
    const bytes = full.subarray(0, this.used);
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(this.size);
    this.used = 0;
    return this.handOn(bytes, () => this.spare.push(full));
  }

  /**
   * Add a piece. Bytes are copied before anything is awaited: the caller may reuse them as soon as it runs
   * again (see Spill.peek), and other writers run during an await. Nothing to wait for (the piece fits):
   * undefined, not a promise, so that a piece costs no turn of the event loop.
   */
  put(piece: string | Uint8Array): Promise<void> | undefined {
    const { size } = this;
    let pending: Promise<void> | undefined;
    if (typeof piece === 'string') {
      // UTF-8 takes at most 3 bytes per UTF-16 code unit: the exact length is needed only near a chunk's end.
      const bytes = this.used + piece.length * 3 > size ? Buffer.byteLength(piece) : 0;
      if (this.used + bytes > size) pending = this.cut();
      if (bytes > size) return (pending ?? Promise.resolve()).then(() => this.handOnLarge(piece));
      this.used += this.chunk.write(piece, this.used);
    } else {
      if (this.used + piece.length > size) pending = this.cut();
      if (piece.length > size) {
        const copy = copyOf(piece);
        return (pending ?? Promise.resolve()).then(() => this.handOnLarge(copy));
      }
      this.chunk.set(piece, this.used);
      this.used += piece.length;
    }
    return pending;
  }

  /** Add a line or part, from its piece `from` on: one piece, or pieces one after the other (as put). */
  putAll(part: Line, from = 0): Promise<void> | undefined {
    if (!Array.isArray(part)) return this.put(part);
    for (let k = from; k < part.length; k++) {
      const waiting = this.put(part[k]);
      if (waiting) return waiting.then(() => this.putAll(part, k + 1));
    }
    return undefined;
  }
}

/**
 * Write lines (each a string or UTF-8 bytes, its newline included) atomically, optionally gzip-compressed;
 * returns how many. They are copied into fixed-size chunks as they come (ChunkFiller), so neither the whole
 * text nor one long string is ever built.
 *
 * Compressed output is a series of gzip members of about 4 MB of lines each (RFC 1952 allows any number;
 * gunzip, zcat, Python's gzip and Node's zlib read them as one stream). Each member is one job on libuv's
 * threads, so members compress in parallel and never wait for the main thread between pieces, as one
 * long stream does when the main thread is busy with the other outputs. Members are cut at fixed sizes and
 * compressed at a fixed level with no name or time in their headers: the file is byte-identical run after run.
 */
export async function writeLines(file: string, lines: Iterable<Line>, gzip = false): Promise<number> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const out = createWriteStream(tmp);
  const members: Array<Promise<Buffer>> = [];
  // A write that failed after it was handed over (the stream's error event ends the waits too).
  let failed: Error | undefined;
  const emit = async (bytes: Uint8Array | string, release?: () => void): Promise<void> => {
    if (!gzip) {
      // The write's callback, not 'drain', says that these bytes are written (a write below the stream's
      // mark is buffered and reported done at once).
      if (!out.write(bytes, (e) => (e ? (failed ??= e) : release?.()))) await once(out, 'drain');
      return;
    }
    // Level 1: a third of level 6's time for ~15% more bytes; the feed is read by machines. Output in
    // pieces of up to 4 MB: zlib goes back to the main thread once per piece (16 KB by default).
    members.push(
      gzipAsync(bytes, { level: 1, chunkSize: GZIP_BLOCK }).then((compressed) => {
        release?.();
        return compressed;
      }),
    );
    while (members.length >= GZIP_IN_FLIGHT) await drainWrite(out, await (members.shift() as Promise<Buffer>));
  };
  let n = 0;
  try {
    const filler = new ChunkFiller(gzip ? GZIP_BLOCK : CHUNK, emit, emit);
    for (const line of lines) {
      n++;
      const waiting = filler.putAll(line);
      if (waiting) await waiting;
    }
    await filler.cut();
    // No lines: still a valid (empty) gzip file.
    if (gzip && n === 0) await emit(Buffer.alloc(0));
    for (const m of members.splice(0)) await drainWrite(out, await m);
    out.end();
    await once(out, 'close');
    if (failed) throw failed;
    await fsp.rename(tmp, file);
  } catch (e) {
    out.destroy();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  return n;
}

/** A part of a text: a string, bytes, or pieces of either written one after the other (as a Line's). */
export type TextPart = Line;

/**
 * Write a text, or its parts in order, atomically: encoded and copied into 4 MB chunks (ChunkFiller), each
 * written when full, never joined. Parts may come from an (async) generator, so the whole text need never
 * exist in memory; a part's bytes may be reused by its producer once the next part is asked for.
 */
export async function writeText(file: string, text: string | Iterable<TextPart> | AsyncIterable<TextPart>): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const fh = await fsp.open(tmp, 'w');
  try {
    const writeAll = async (bytes: Uint8Array, release: () => void): Promise<void> => {
      for (let done = 0; done < bytes.length; ) done += (await fh.write(bytes, done, bytes.length - done)).bytesWritten;
      release();
    };
    const filler = new ChunkFiller(TEXT_CHUNK, writeAll, (piece) => fh.writeFile(piece));
    for await (const part of typeof text === 'string' ? [text] : text) {
      const waiting = filler.putAll(part);
      if (waiting) await waiting;
    }
    await filler.cut();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await fsp.rename(tmp, file);
}

/** Bytes of text encoded before each write (writeText). */
const TEXT_CHUNK = 1 << 22;

/** Pretty JSON for small files people read (run.json); compact for large ones (report.json). */
export async function writeJson(file: string, value: unknown, pretty = true): Promise<void> {
  await writeText(file, (pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)) + '\n');
}

const BOM = [0xef, 0xbb, 0xbf];
const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;

/**
 * A JSON object's line with more keys appended, as two pieces (see Line): the record's bytes as it was
 * read, byte for byte, then the new keys as text (written into the output's chunk, no buffer of its own:
 * at a 100k-article night, a small buffer per line and per name looked for had cost 0.36 s).
 * Null when that cannot be done safely: the line does not end in `}`, or it has a key of the
 * same name already (the caller re-serializes the parsed record then, so the new value replaces the old).
 */
export function appendKeys(line: Uint8Array, keys: Record<string, unknown>): [Uint8Array, string] | null {
  let from = 0;
  if (line[0] === BOM[0] && line[1] === BOM[1] && line[2] === BOM[2]) from = 3;
  while (from < line.length && isSpace(line[from])) from++;
  let to = line.length;
  while (to > from && isSpace(line[to - 1])) to--;
  if (line[from] !== 0x7b || line[to - 1] !== 0x7d) return null;
  const body = Buffer.from(line.buffer, line.byteOffset + from, to - from - 1);
  // A quoted name anywhere in the line (a text that mentions one, say) is enough to take the safe way.
  for (const name of Object.keys(keys)) if (body.includes(quotedName(name))) return null;
  let inner = body.length - 1;
  while (inner > 0 && isSpace(body[inner])) inner--;
  const empty = body[inner] === 0x7b;
  return [body, (empty ? '' : ',') + JSON.stringify(keys).slice(1) + '\n'];
}
