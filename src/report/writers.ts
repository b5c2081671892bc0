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
 * Write lines (each a string or UTF-8 bytes, its newline included) atomically, optionally gzip-compressed;
 * returns how many. They are copied into fixed-size chunks as they come, so neither the whole text nor one
 * long string is ever built.
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
  const size = gzip ? GZIP_BLOCK : CHUNK;
  // Level 1: a third of level 6's time for ~15% more bytes; the feed is read by machines.
  const members: Array<Promise<Buffer>> = [];
  // Chunks the stream or the compressor is done with, filled again: a new buffer per chunk (a fresh mapping,
  // given back at the next collection) had been most of what writing 1 GB of outputs allocated.
  const spare: Buffer[] = [];
  // A write that failed after it was handed over (the stream's error event ends the waits too).
  let failed: Error | undefined;
  // `chunk`, when given, is the buffer `bytes` views, handed back once written or compressed.
  const emit = async (bytes: Uint8Array | string, chunk?: Buffer): Promise<void> => {
    const done = (): void => {
      if (chunk) spare.push(chunk);
    };
    if (!gzip) {
      // The write's callback, not 'drain', says that these bytes are written (a write below the stream's
      // mark is buffered and reported done at once).
      if (!out.write(bytes, (e) => (e ? (failed ??= e) : done()))) await once(out, 'drain');
      return;
    }
    // Output in pieces of up to 4 MB: zlib goes back to the main thread once per piece (16 KB by default).
    members.push(
      gzipAsync(bytes, { level: 1, chunkSize: GZIP_BLOCK }).then((compressed) => {
        done();
        return compressed;
      }),
    );
    while (members.length >= GZIP_IN_FLIGHT) await drainWrite(out, await (members.shift() as Promise<Buffer>));
  };
  let n = 0;
  try {
    let chunk: Buffer = Buffer.allocUnsafe(size);
    let used = 0;
    // Hand the full chunk on (its write or compression starts now, in order) and go on in a spare one. The
    // stream (or the compressor) keeps the old chunk until done with it, and then hands it back.
    const cut = (): Promise<void> => {
      if (used === 0) return Promise.resolve();
      const full = chunk;
      const bytes = full.subarray(0, used);
      chunk = spare.pop() ?? Buffer.allocUnsafe(size);
      used = 0;
      return emit(bytes, full);
    };
    // A piece of bytes is copied before anything is awaited: the caller may reuse them as soon as it runs
    // again (see Spill.peek), and other writers run during an await. Nothing to wait for (the piece fits
    // in the chunk): undefined, not a promise, so that a line costs no turn of the event loop.
    const put = (piece: string | Uint8Array): Promise<void> | undefined => {
      let pending: Promise<void> | undefined;
      if (typeof piece === 'string') {
        // UTF-8 takes at most 3 bytes per UTF-16 code unit: the exact length is needed only near the end of
        // a chunk, where it keeps chunks (and gzip members) cut by bytes, whether lines come as text or bytes.
        const bytes = used + piece.length * 3 > size ? Buffer.byteLength(piece) : 0;
        if (used + bytes > size) pending = cut();
        if (bytes > size) return (pending ?? Promise.resolve()).then(() => emit(piece));
        used += chunk.write(piece, used);
      } else {
        if (used + piece.length > size) pending = cut();
        if (piece.length > size) {
          const copy = copyOf(piece);
          return (pending ?? Promise.resolve()).then(() => emit(copy));
        }
        chunk.set(piece, used);
        used += piece.length;
      }
      return pending;
    };
    for (const line of lines) {
      n++;
      if (Array.isArray(line)) {
        for (const piece of line) {
          const waiting = put(piece);
          if (waiting) await waiting;
        }
      } else {
        const waiting = put(line);
        if (waiting) await waiting;
      }
    }
    await cut();
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
 * Write a text, or its parts in order (strings encoded, and bytes copied, into a 4 MB buffer written when
 * full, never joined), atomically. A part of bytes is copied before anything is awaited. Parts may come
 * from an (async) generator, so the whole text need never exist in memory.
 */
export async function writeText(file: string, text: string | Iterable<TextPart> | AsyncIterable<TextPart>): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const fh = await fsp.open(tmp, 'w');
  try {
    // Parts are encoded straight into one reused buffer, written out when full: no joined string and no
    // new buffer per write (at a 100k-article night, those were most of the time spent writing report.json).
    const chunk = Buffer.allocUnsafe(TEXT_CHUNK);
    let used = 0;
    const flush = async (): Promise<void> => {
      let done = 0;
      while (done < used) done += (await fh.write(chunk, done, used - done)).bytesWritten;
      used = 0;
    };
    // A piece that fits is encoded or copied into the chunk at once: no promise, no turn of the event loop.
    const fits = (piece: string | Uint8Array): boolean => used + (typeof piece === 'string' ? piece.length * 3 : piece.length) <= TEXT_CHUNK;
    const putLater = async (piece: string | Uint8Array): Promise<void> => {
      if (typeof piece === 'string') {
        await flush();
        if (piece.length * 3 > TEXT_CHUNK) await fh.writeFile(piece);
        else used += chunk.write(piece, used);
      } else {
        // Bytes are copied before anything is awaited: a part may be a view its producer reuses next.
        const kept = copyOf(piece);
        await flush();
        await fh.writeFile(kept);
      }
    };
    for await (const part of typeof text === 'string' ? [text] : text) {
      // (A part's pieces stay as they are while it is written: its producer runs again only for the next part.)
      for (const piece of Array.isArray(part) ? part : [part]) {
        if (!fits(piece)) await putLater(piece);
        else if (typeof piece === 'string') used += chunk.write(piece, used);
        else {
          chunk.set(piece, used);
          used += piece.length;
        }
      }
    }
    await flush();
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
