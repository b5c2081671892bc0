/**
 * The binary layout of a stored article's record and of its band keys. v8.serialize did this generically
 * and cost some 30 µs a record plus 20 µs for three small arrays (about 5 s of a 100k-article night's
 * commit, and as much again to read them back); this layout is a small JSON header for the irregular
 * parts, then the typed arrays back to back, then the input line, and reading it back makes views, not
 * copies.
 *
 *   u32 header bytes H | header (JSON, UTF-8) | padding to 4 bytes
 *   Int32:  paragraph starts, ends, token counts (P each), numberStart (NS)
 *   Uint32: paragraph hashes (P), numberKeys (N), paragraph sets' paragraph (S), sizes (S), values (V)
 *   the input line (L bytes; none when the record came from a .txt file and keeps its fields in the header,
 *   or when the line is kept in the segment's lines file: then the header's `la` is where it starts there)
 */
import type { StoredDoc } from './index.js';
import type { ParagraphSet } from '../sketch/index.js';
import type { BoilerplateKind } from '../text/boilerplate.js';
import { linesFileOf } from './segments.js';
import { copyOf } from '../util/files.js';
import type { SetArena } from '../sketch/shingle.js';
import { newParagraphs, paraEnd, paragraphCount, paraHash, paraKind, paraStart, paraTokens, setParagraph } from '../text/paragraphs.js';

export type DocRecord = Pick<StoredDoc, 'article' | 'analysis' | 'paragraphSets'>;

interface Header {
  /** The article without its body (time NaN is written as null). */
  a: Record<string, unknown>;
  /** Fields of a record without a kept line. */
  f?: Record<string, unknown>;
  kinds: Array<BoilerplateKind | null>;
  credits: string[];
  agencies: string[];
  titleHash: number;
  P: number;
  NS: number;
  N: number;
  S: number;
  V: number;
  L: number;
  /** Where the line starts in the segment's lines file (absent: the line ends the record, if it has one). */
  la?: number;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** A record ready to be written: its length in bytes, and how to write them anywhere in a buffer. */
export interface PreparedRecord {
  length: number;
  writeInto(out: Buffer, at: number): void;
}

/** Paragraph starts, ends and token counts (Int32), then hashes (Uint32), of the record being written. */
let paragraphScratch = new Int32Array(1024);

/** Typed-array bytes into `out` at any offset (the record's arrays are 4-byte aligned in it, not in a chunk). */
function putBytes(out: Buffer, at: number, a: Int32Array | Uint32Array): number {
  out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
  return at + a.byteLength;
}

/**
 * The record's layout (see above), to be written straight into a segment's write chunk: a night writes
 * some 100k of them, and a buffer of its own for each (200 MB at 100k) made V8 collect its whole heap over
 * and over for their external memory. With `lineAt`, its line is not in them (the caller wrote it to the
 * lines file there).
 */
export function prepareRecord({ article, analysis, paragraphSets }: DocRecord, { lineAt }: { lineAt?: number } = {}): PreparedRecord {
  const { body, ...meta } = article;
  // Only tonight's articles are written, with their line or fields at hand.
  if ('spill' in body || 'stored' in body) throw new Error(`record of ${article.id}: its line must be read before it is stored`);
  const hasLine = 'line' in body;
  const line = hasLine && lineAt === undefined ? body.line : null;
  let values = 0;
  for (const s of paragraphSets) values += s.shingles.length;
  const P = paragraphCount(analysis.paragraphs);
  const header: Header = {
    a: meta,
    ...('fields' in body ? { f: body.fields } : {}),
    kinds: Array.from({ length: P }, (_, p) => paraKind(analysis.paragraphs, p)),
    credits: analysis.credits,
    agencies: analysis.agencies,
    titleHash: analysis.titleHash,
    P,
    NS: analysis.numberStart.length,
    N: analysis.numberKeys.length,
    S: paragraphSets.length,
    V: values,
    L: hasLine ? body.line.length : -1,
    ...(hasLine && lineAt !== undefined ? { la: lineAt } : {}),
  };
  const json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json);
  const ints = 3 * P + header.NS;
  const uints = P + header.N + 2 * header.S + values;
  const start = align4(4 + jsonBytes);
  const length = start + 4 * (ints + uints) + (line ? line.length : 0);
  const writeInto = (out: Buffer, at: number): void => {
    out.writeUInt32LE(jsonBytes, at);
    out.write(json, at + 4, 'utf8');
    out.fill(0, at + 4 + jsonBytes, at + start);
    if (paragraphScratch.length < 4 * P) paragraphScratch = new Int32Array(8 * P);
    const i32 = paragraphScratch.subarray(0, 3 * P);
    const u32 = new Uint32Array(paragraphScratch.buffer, 12 * P, P);
    const ps = analysis.paragraphs;
    for (let p = 0; p < P; p++) {
      i32[p] = paraStart(ps, p);
      i32[P + p] = paraEnd(ps, p);
      i32[2 * P + p] = paraTokens(ps, p);
      u32[p] = paraHash(ps, p);
    }
    let w = putBytes(out, at + start, i32);
    w = putBytes(out, w, analysis.numberStart);
    w = putBytes(out, w, u32);
    w = putBytes(out, w, analysis.numberKeys);
    for (const s of paragraphSets) w = out.writeUInt32LE(s.para, w);
    for (const s of paragraphSets) w = out.writeUInt32LE(s.shingles.length, w);
    for (const s of paragraphSets) w = putBytes(out, w, s.shingles);
    if (line) out.set(line, w);
  };
  return { length, writeInto };
}

/** The record's bytes in a buffer of their own (see prepareRecord). */
export function encodeRecord(doc: DocRecord, options: { lineAt?: number } = {}): Buffer {
  const record = prepareRecord(doc, options);
  const out = Buffer.allocUnsafeSlow(record.length);
  record.writeInto(out, 0);
  return out;
}

/**
 * The record back, its arrays and line as views into `bytes` (copied first when not 4-byte aligned). Given
 * where the record lies (`place`), the line is not viewed but named by its place in the segment (or in the
 * segment's lines file), to be read when needed: a loaded article then holds nothing of the bytes it was
 * read into. A record whose line is in the lines file needs its place.
 */
export function decodeRecord(bytes: Uint8Array, place?: { file: string; at: number }, arena?: SetArena): DocRecord {
  // (A Buffer's slice() is a view, not a copy: copyOf copies whatever the bytes' kind.)
  const b = bytes.byteOffset % 4 === 0 ? bytes : copyOf(bytes);
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const length = buf.readUInt32LE(0);
  const h = JSON.parse(buf.toString('utf8', 4, 4 + length)) as Header;
  const at = align4(4 + length);
  const ints = 3 * h.P + h.NS;
  const uints = h.P + h.N + 2 * h.S + h.V;
  const i32 = new Int32Array(buf.buffer, buf.byteOffset + at, ints);
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset + at + 4 * ints, uints);
  // Stored by column, held packed by paragraph (from `arena` when given: one buffer per record costs an allocation each).
  const paragraphs = arena ? arena.room(5 * h.P) : newParagraphs(h.P);
  h.kinds.forEach((kind, p) => setParagraph(paragraphs, p, { start: i32[p], end: i32[h.P + p], hash: u32[p], tokenCount: i32[2 * h.P + p], kind }));
  arena?.take(5 * h.P);
  const numberKeys = u32.subarray(h.P, h.P + h.N);
  const paragraphSets: ParagraphSet[] = [];
  let sizes = h.P + h.N + h.S;
  let values = h.P + h.N + 2 * h.S;
  for (let s = 0; s < h.S; s++) {
    const size = u32[sizes++];
    paragraphSets.push({ para: u32[h.P + h.N + s], shingles: u32.subarray(values, values + size) });
    values += size;
  }
  const lineAt = at + 4 * (ints + uints);
  let body: DocRecord['article']['body'];
  if (h.L < 0) body = { fields: h.f ?? {} };
  else if (h.la !== undefined) {
    if (!place) throw new Error(`record of ${String(h.a.id)}: its line is in its segment's lines file, and the record was read without its place`);
    body = { stored: { file: linesFileOf(place.file), at: h.la, bytes: h.L } };
  } else body = place ? { stored: { file: place.file, at: place.at + lineAt, bytes: h.L } } : { line: buf.subarray(lineAt, lineAt + h.L) };
  const article = { ...h.a, time: h.a.time === null ? NaN : h.a.time, body } as DocRecord['article'];
  return {
    article,
    analysis: { paragraphs, numberKeys, numberStart: i32.subarray(3 * h.P), titleHash: h.titleHash, credits: h.credits, agencies: h.agencies },
    paragraphSets,
  };
}

/** An article's own band and paragraph keys (see BandKeys in sqlite.ts): the three counts, then the keys. */
export function encodeKeys(keys: { doc: Uint32Array; passage: Uint32Array; paragraphs: Uint32Array }): Buffer {
  const out = new Uint32Array(3 + keys.doc.length + keys.passage.length + keys.paragraphs.length);
  out[0] = keys.doc.length;
  out[1] = keys.passage.length;
  out[2] = keys.paragraphs.length;
  out.set(keys.doc, 3);
  out.set(keys.passage, 3 + keys.doc.length);
  out.set(keys.paragraphs, 3 + keys.doc.length + keys.passage.length);
  return Buffer.from(out.buffer);
}

export function decodeKeys(bytes: Uint8Array): { doc: Uint32Array; passage: Uint32Array; paragraphs: Uint32Array } {
  const copy = new Uint32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  const d = 3 + copy[0];
  const p = d + copy[1];
  return { doc: copy.subarray(3, d), passage: copy.subarray(d, p), paragraphs: copy.subarray(p, p + copy[2]) };
}
