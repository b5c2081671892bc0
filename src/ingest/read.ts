/**
 * Readers for the three input formats. Files are read as byte streams and cut
 * into lines without ever holding a whole file; each line is decoded with a
 * fatal UTF-8 decoder so invalid bytes are rejected, not silently replaced.
 * Every line ends up either as a RawRecord or as a Rejection.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import { decodeUtf8 } from '../util/files.js';

export interface Limits {
  maxRecordBytes: number;
  maxFileBytes: number;
}

export interface Rejection {
  file: string;
  line: number | null;
  id: string | null;
  reason: string;
}

/** A parsed record before validation: plain data, JSON-parsed or built from a .txt file. */
export interface RawRecord {
  file: string;
  line: number;
  data: Record<string, unknown>;
}

export type ReadItem = { kind: 'record'; record: RawRecord } | { kind: 'reject'; rejection: Rejection } | { kind: 'blank' };

/**
 * Consecutive raw lines of a JSONL file, packed into one buffer so a batch moves to a worker without a
 * copy: line `firstLine + i` runs from where line i - 1 ended (0 for the first) to ends[i], or is over the
 * size cap when ends[i] < 0: its bytes were skipped, and it ends (the next line starts) at -ends[i] - 1. The
 * minus one keeps a skipped first line apart from an empty one (-0 is 0 in an Int32Array).
 */
export interface LineBatch {
  file: string;
  firstLine: number;
  bytes: Uint8Array;
  ends: Int32Array;
  /** Where bytes[0] sits among the night's kept bytes (see Spill): records point there instead of carrying their fields. */
  spillOffset: number;
}

/** What reading yields: a JSONL batch still to be parsed, or an item judged already. */
export type ReadUnit = { kind: 'lines'; batch: LineBatch } | ReadItem;

/** Lines per batch: enough to amortize a message to a worker, few enough to start the workers early. */
export const LINES_PER_BATCH = 128;

/** Each line of a batch as a judged item: decoded strictly, JSON-parsed, an object or a rejection; with its bytes' range. */
export function parseLines(batch: LineBatch, maxRecordBytes: number): Array<ReadItem & { start: number; end: number }> {
  const out: Array<ReadItem & { start: number; end: number }> = [];
  const buf = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  let start = 0;
  for (let i = 0; i < batch.ends.length; i++) {
    const lineNo = batch.firstLine + i;
    const end = batch.ends[i];
    if (end < 0) {
      const at = -end - 1;
      out.push({ kind: 'reject', rejection: { file: batch.file, line: lineNo, id: null, reason: `record over the size cap of ${maxRecordBytes} bytes` }, start: at, end: at });
      start = at;
      continue;
    }
    out.push({ ...parseLine(batch.file, lineNo, buf.subarray(start, end)), start, end });
    start = end;
  }
  return out;
}

function parseLine(file: string, lineNo: number, buf: Buffer): ReadItem {
  const text = decode(buf);
  if (text === null) return { kind: 'reject', rejection: { file, line: lineNo, id: null, reason: 'invalid UTF-8' } };
  // A blank line is not a record: it is counted apart (run.json), not read.
  if (text.trim() === '') return { kind: 'blank' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { kind: 'reject', rejection: { file, line: lineNo, id: null, reason: `broken JSON: ${(e as Error).message}` } };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { kind: 'reject', rejection: { file, line: lineNo, id: null, reason: 'JSON line is not an object' } };
  return { kind: 'record', record: { file, line: lineNo, data: data as Record<string, unknown> } };
}

/** A file of this name in an input folder describes the outlets (names, kind): see OutletRegistry. */
export const OUTLET_REGISTRY = 'outlets.json';

const INPUT_EXTENSIONS = ['.jsonl.gz', '.jsonl', '.txt'];

export function inputKind(file: string): 'jsonl' | 'jsonl.gz' | 'txt' | null {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl.gz')) return 'jsonl.gz';
  if (lower.endsWith('.jsonl')) return 'jsonl';
  if (lower.endsWith('.txt')) return 'txt';
  return null;
}

/** How much a gzip-compressed input is counted for in inputBytes: news JSONL compresses some 4:1. */
const GZIP_RATIO = 4;

/**
 * About how many bytes of records the input files under these paths hold, from their sizes alone (a
 * compressed file counted at GZIP_RATIO times its size): known before anything is read.
 */
export async function inputBytes(paths: string[]): Promise<number> {
  const { files, sizes } = await discoverFiles(paths);
  let total = 0;
  for (const file of files) {
    const size = sizes.get(file) as number;
    total += inputKind(file) === 'jsonl.gz' ? GZIP_RATIO * size : size;
  }
  return total;
}

/**
 * Input files under the given paths (folders recursively), sorted so that the
 * run is deterministic, with their sizes as the walk found them. A path that does not exist becomes a rejection.
 */
export async function discoverFiles(paths: string[]): Promise<{ files: string[]; sizes: Map<string, number>; registries: string[]; rejected: Rejection[] }> {
  const files = new Set<string>();
  const sizes = new Map<string, number>();
  const registries: string[] = [];
  const rejected: Rejection[] = [];
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await fsp.stat(p);
    } catch (e) {
      rejected.push({ file: p, line: null, id: null, reason: `unreadable path: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    if (st.isDirectory()) {
      const entries = await fsp.readdir(p);
      entries.sort();
      for (const e of entries) {
        if (e.startsWith('.')) continue;
        const child = path.join(p, e);
        if (e === OUTLET_REGISTRY) {
          registries.push(child);
          continue;
        }
        const cst = await fsp.stat(child).catch(() => null);
        if (cst?.isDirectory() || inputKind(e)) await walk(child);
      }
    } else if (path.basename(p) === OUTLET_REGISTRY) registries.push(p);
    else if (inputKind(p)) {
      files.add(p);
      sizes.set(p, st.size);
    }
    else rejected.push({ file: p, line: null, id: null, reason: `unsupported file type (expected ${INPUT_EXTENSIONS.join(', ')})` });
  };
  for (const p of paths) await walk(p);
  return { files: [...files].sort(), sizes, registries: registries.sort(), rejected };
}

class SizeCapError extends Error {}

/**
 * Cuts a byte stream into lines and gathers them straight into batches (see LineBatch): one copy from the
 * stream's chunk into the batch, no object per line. A line longer than maxLine keeps no bytes (its end is
 * marked negative), so one huge record costs no memory.
 */
class LineBatcher {
  private bytes = new Uint8Array(1 << 20);
  private used = 0;
  private ends: number[] = [];
  private lineStart = 0;
  private oversized = false;
  /** Lines completed so far, in the whole file. */
  lines = 0;
  private firstLine = 1;

  constructor(
    private readonly file: string,
    private readonly maxLine: number,
  ) {}

  /** Add a chunk of the stream; returns the batches it completed. */
  push(chunk: Buffer): LineBatch[] {
    const out: LineBatch[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.oversized) {
        if (this.used - this.lineStart + (end - start) > this.maxLine) {
          this.oversized = true;
          this.used = this.lineStart;
        } else this.append(chunk, start, end);
      }
      if (nl === -1) break;
      this.endLine();
      if (this.ends.length >= LINES_PER_BATCH) out.push(this.take());
      start = nl + 1;
    }
    return out;
  }

  /** The batch of what is left: the complete lines, and a last line without a newline when `partial`. */
  finish(partial: boolean): LineBatch | null {
    if (partial && (this.oversized || this.used > this.lineStart)) this.endLine();
    return this.ends.length > 0 ? this.take() : null;
  }

  private append(chunk: Buffer, from: number, to: number): void {
    const need = this.used + (to - from);
    if (need > this.bytes.length) {
      const grown = new Uint8Array(Math.max(need, 2 * this.bytes.length));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(chunk.subarray(from, to), this.used);
    this.used = need;
  }

  private endLine(): void {
    this.ends.push(this.oversized ? -this.used - 1 : this.used);
    this.oversized = false;
    this.lineStart = this.used;
    this.lines++;
  }

  /** The batch of the complete lines: the buffer they were gathered in goes with it (no copy), a new one takes its place. */
  private take(): LineBatch {
    const end = this.lineStart;
    const batch: LineBatch = { file: this.file, firstLine: this.firstLine, bytes: this.bytes.subarray(0, end), ends: new Int32Array(this.ends), spillOffset: -1 };
    this.firstLine += this.ends.length;
    this.ends = [];
    // A line in progress (none when called from push) moves to the new buffer.
    const next = new Uint8Array(Math.max(1 << 20, this.used - end));
    next.set(this.bytes.subarray(end, this.used));
    this.bytes = next;
    this.used -= end;
    this.lineStart = 0;
    return batch;
  }
}

/** Strict UTF-8: invalid bytes make the record invalid instead of becoming U+FFFD. isUtf8 is a fast native check. */
function decode(buf: Buffer): string | null {
  return isUtf8(buf) ? decodeUtf8(buf) : null;
}

/** Bytes read from the file and inflated at a time: large enough that the per-chunk overhead (it was a third of the read) vanishes. */
const READ_CHUNK = 1 << 18;

/** Read a .jsonl or .jsonl.gz file as batches of raw lines (parsed later, in the workers). */
export async function* readJsonl(file: string, gz: boolean, limits: Limits): AsyncGenerator<ReadUnit> {
  const raw = createReadStream(file, { highWaterMark: READ_CHUNK });
  const stream: AsyncIterable<Buffer> = gz ? raw.pipe(createGunzip({ chunkSize: READ_CHUNK })) : raw;
  if (gz) raw.on('error', (e) => (stream as NodeJS.ReadableStream).emit('error', e));
  const batcher = new LineBatcher(file, limits.maxRecordBytes);
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += chunk.length;
      if (total > limits.maxFileBytes) throw new SizeCapError(`input inflates past the size cap of ${limits.maxFileBytes} bytes`);
      for (const batch of batcher.push(chunk)) yield { kind: 'lines', batch };
    }
    const last = batcher.finish(true);
    if (last) yield { kind: 'lines', batch: last };
  } catch (e) {
    // The complete lines read so far are kept; the line in progress is not.
    const rest = batcher.finish(false);
    if (rest) yield { kind: 'lines', batch: rest };
    const reason = e instanceof SizeCapError ? e.message : `unreadable file: ${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`.trim();
    yield { kind: 'reject', rejection: { file, line: batcher.lines + 1, id: null, reason: `${reason} (reading stopped after line ${batcher.lines})` } };
  }
}

/** "17th, September 2023 GMT" and similar English dates on a تاريخ النشر line. */
const MONTHS: Record<string, number> = {
  january: 1, february: 2, march: 3, april: 4, may: 5, june: 6, july: 7, august: 8, september: 9, october: 10, november: 11, december: 12,
};

export function parsePublicationDate(line: string): { iso: string; dayOnly: boolean } | null {
  const m = /(\d{1,2})(?:st|nd|rd|th)?,?\s+([A-Za-z]+),?\s+(\d{4})(?:\s+(\d{1,2}):(\d{2}))?/u.exec(line);
  if (m) {
    const month = MONTHS[m[2].toLowerCase()];
    if (!month) return null;
    const iso = `${m[3]}-${String(month).padStart(2, '0')}-${m[1].padStart(2, '0')}T${(m[4] ?? '00').padStart(2, '0')}:${m[5] ?? '00'}:00Z`;
    return Number.isNaN(Date.parse(iso)) ? null : { iso, dayOnly: m[4] === undefined };
  }
  const iso = /(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?/u.exec(line);
  if (iso && !Number.isNaN(Date.parse(iso[1]))) return { iso: iso[2] ? `${iso[1]}T${iso[2]}` : iso[1], dayOnly: !iso[2] };
  return null;
}

/**
 * A .txt article as in the seeds: first non-empty line is the title; a
 * "تاريخ النشر:" line gives the date and a "المصدر:" line the credited source.
 * The text is everything after the title, offsets counted from there.
 */
export async function* readTxt(file: string, limits: Limits): AsyncGenerator<ReadItem> {
  const id = path.basename(file).replace(/\.txt$/i, '');
  let buf: Buffer;
  try {
    const st = await fsp.stat(file);
    if (st.size > limits.maxRecordBytes) {
      yield { kind: 'reject', rejection: { file, line: 1, id, reason: `record over the size cap of ${limits.maxRecordBytes} bytes` } };
      return;
    }
    buf = await fsp.readFile(file);
  } catch (e) {
    yield { kind: 'reject', rejection: { file, line: null, id, reason: `unreadable file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` } };
    return;
  }
  let content = decode(buf);
  if (content === null) {
    yield { kind: 'reject', rejection: { file, line: 1, id, reason: 'invalid UTF-8' } };
    return;
  }
  if (content.charCodeAt(0) === 0xfeff) content = content.slice(1);
  const titleMatch = /^\s*([^\n]*)\n?/u.exec(content);
  const title = (titleMatch?.[1] ?? '').trim();
  const text = content.slice(titleMatch ? titleMatch[0].length : 0);
  const data: Record<string, unknown> = { id, title, text };
  const dateLine = /^\s*تاريخ النشر\s*[:：]\s*(.+)$/mu.exec(text);
  if (dateLine) {
    const parsed = parsePublicationDate(dateLine[1]);
    data.published_at = parsed?.iso ?? null;
    if (parsed?.dayOnly) data.date_precision = 'day';
  }
  const credit = /^\s*المصدر\s*[:：]\s*(.+?)\s*$/mu.exec(text);
  if (credit) data.credit = credit[1];
  // Outlet: the id's prefix when the file is named outlet-NNN; else the credited site (the seeds' convention,
  // where "المصدر:" names the publishing site); else the folder the file sits in.
  const prefix = /^([^-\s]+)-./u.exec(id);
  data.outlet = prefix ? prefix[1] : credit ? credit[1] : path.basename(path.dirname(file));
  yield { kind: 'record', record: { file, line: 1, data } };
}

export function readFile(file: string, limits: Limits): AsyncGenerator<ReadUnit> {
  const kind = inputKind(file);
  if (kind === 'txt') return readTxt(file, limits);
  return readJsonl(file, kind === 'jsonl.gz', limits);
}
