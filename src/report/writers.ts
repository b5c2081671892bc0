/**
 * Output writers. Every file is written under a temporary name in the same
 * folder and renamed when complete, so a crash never leaves a half-written
 * file under its final name. JSONL is streamed line by line.
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';

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

/** Lines handed to the stream in chunks of about this many bytes: few writes, little memory. */
const CHUNK = 1 << 18;

/**
 * Write lines (each a string or UTF-8 bytes, its newline included) atomically, optionally gzip-compressed;
 * returns how many. They are copied into fixed-size chunks as they come, so neither the whole text nor one
 * long string is ever built.
 */
export async function writeLines(file: string, lines: Iterable<string | Uint8Array>, gzip = false): Promise<number> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const out = createWriteStream(tmp);
  // Fixed compression level and no file name/mtime in the gzip header: byte-identical output run after run.
  // Level 1: a third of level 6's time for ~15% more bytes; the feed is read by machines.
  const gz = gzip ? createGzip({ level: 1, chunkSize: 1 << 16 }) : null;
  const sink: NodeJS.WritableStream = gz ?? out;
  if (gz) gz.pipe(out);
  let n = 0;
  try {
    let chunk = Buffer.allocUnsafe(CHUNK);
    let used = 0;
    const flush = async (): Promise<void> => {
      if (used === 0) return;
      // The stream keeps the chunk until written: the next lines go into a new one.
      await drainWrite(sink, chunk.subarray(0, used));
      chunk = Buffer.allocUnsafe(CHUNK);
      used = 0;
    };
    for (const line of lines) {
      n++;
      if (typeof line === 'string') {
        // UTF-8 takes at most 3 bytes per UTF-16 code unit.
        if (used + line.length * 3 > CHUNK) await flush();
        if (line.length * 3 > CHUNK) await drainWrite(sink, line);
        else used += chunk.write(line, used);
      } else {
        if (used + line.length > CHUNK) await flush();
        if (line.length > CHUNK) await drainWrite(sink, line);
        else {
          chunk.set(line, used);
          used += line.length;
        }
      }
    }
    await flush();
    sink.end();
    await once(out, 'close');
    await fsp.rename(tmp, file);
  } catch (e) {
    out.destroy();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  return n;
}

/**
 * Write a text, or its parts in order (strings joined in chunks of about 1 MB, never as a whole; bytes
 * written as they are), atomically. Parts may come from an (async) generator, so the whole text need
 * never exist in memory.
 */
export async function writeText(file: string, text: string | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const fh = await fsp.open(tmp, 'w');
  try {
    let buf = '';
    for await (const part of typeof text === 'string' ? [text] : text) {
      if (typeof part !== 'string') {
        if (buf) await fh.writeFile(buf);
        buf = '';
        await fh.writeFile(part);
        continue;
      }
      buf += part;
      if (buf.length >= 1 << 20) {
        await fh.writeFile(buf);
        buf = '';
      }
    }
    if (buf) await fh.writeFile(buf);
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await fsp.rename(tmp, file);
}

/** Pretty JSON for small files people read (run.json); compact for large ones (report.json). */
export async function writeJson(file: string, value: unknown, pretty = true): Promise<void> {
  await writeText(file, (pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)) + '\n');
}

const BOM = [0xef, 0xbb, 0xbf];
const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;

/**
 * A JSON object's line with more keys appended, as bytes: the record as it was read, byte for byte, then
 * the new keys. Null when that cannot be done safely: the line does not end in `}`, or it has a key of the
 * same name already (the caller re-serializes the parsed record then, so the new value replaces the old).
 */
export function appendKeys(line: Uint8Array, keys: Record<string, unknown>): Buffer | null {
  let from = 0;
  if (line[0] === BOM[0] && line[1] === BOM[1] && line[2] === BOM[2]) from = 3;
  while (from < line.length && isSpace(line[from])) from++;
  let to = line.length;
  while (to > from && isSpace(line[to - 1])) to--;
  if (line[from] !== 0x7b || line[to - 1] !== 0x7d) return null;
  const body = Buffer.from(line.buffer, line.byteOffset + from, to - from - 1);
  // A quoted name anywhere in the line (a text that mentions one, say) is enough to take the safe way.
  for (const name of Object.keys(keys)) if (body.includes(JSON.stringify(name))) return null;
  let inner = body.length - 1;
  while (inner > 0 && isSpace(body[inner])) inner--;
  const empty = body[inner] === 0x7b;
  const tail = Buffer.from((empty ? '' : ',') + JSON.stringify(keys).slice(1) + '\n');
  return Buffer.concat([body, tail]);
}
