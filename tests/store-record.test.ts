import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { linesFileOf, SegmentFiles } from '../src/store/segments.js';
import { seededRandom } from '../src/util/random.js';
import { withTempDir } from './helpers/cli.js';
import { decodeKeys, decodeRecord, encodeKeys, encodeRecord, prepareRecord, type DocRecord } from '../src/store/record.js';
import { ArticleTexts, detachRecords } from '../src/pipeline.js';
import type { Article } from '../src/ingest/validate.js';
import type { Spill } from '../src/ingest/spill.js';
import { packParagraphs } from '../src/text/paragraphs.js';

const line = Buffer.from(JSON.stringify({ id: 'sabq-1', outlet: 'sabq', text: 'افتتح أمير المنطقة اليوم معرض الكتاب الدولي في دورته العاشرة.\nويستمر المعرض عشرة أيام.' }) + '\n');

function record(body: DocRecord['article']['body'], time: number): DocRecord {
  return {
    article: { id: 'sabq-1', outlet: 'sabq', url: 'https://example.org/1', published_at: time ? new Date(time).toISOString() : null, time, dayPrecision: false, title: 'افتتاح معرض الكتاب', source: { file: 'night.jsonl', line: 7 }, body },
    analysis: {
      paragraphs: packParagraphs([
        { start: 0, end: 61, hash: 0xfedcba98, tokenCount: 10, kind: null },
        { start: 62, end: 86, hash: 12345, tokenCount: 4, kind: 'dateline' },
        { start: 87, end: 90, hash: 7, tokenCount: 1, kind: null },
      ]),
      numberKeys: Uint32Array.from([10, 4294967295]),
      numberStart: Int32Array.from([0, 1, 2, 2]),
      titleHash: 0x80000001,
      credits: ['واس'],
      agencies: ['spa'],
    },
    paragraphSets: [
      { para: 0, shingles: Uint32Array.from([1, 5, 4294967290]) },
      { para: 2, shingles: new Uint32Array(0) },
    ],
  };
}

describe('stored records', () => {
  it('loaded articles keep copies of what they need, not views into the slab their records were read into', () => {
    // Two records read into one slab, as SegmentFiles.readMany does.
    const records = [record({ line }, Date.parse('2026-11-20T10:00:00Z')), record({ line }, NaN)].map(encodeRecord);
    const slab = new Uint8Array(4096);
    let at = 0;
    const docs = records.map((r) => {
      slab.set(r, at);
      const view = slab.subarray(at, at + r.length);
      at += (r.length + 3) & ~3;
      return decodeRecord(view);
    });
    const expected = docs.map((d) => ({ line: Buffer.from((d.article.body as { line: Uint8Array }).line), keys: Array.from(d.analysis.numberKeys), starts: Array.from(d.analysis.numberStart) }));
    detachRecords(docs);
    docs.forEach((d, i) => {
      const body = d.article.body as { line: Uint8Array };
      for (const a of [body.line, d.analysis.numberKeys, d.analysis.numberStart]) expect(a.buffer).not.toBe(slab.buffer);
      expect(Buffer.from(body.line).equals(expected[i].line)).toBe(true);
      expect(Array.from(d.analysis.numberKeys)).toEqual(expected[i].keys);
      expect(Array.from(d.analysis.numberStart)).toEqual(expected[i].starts);
      expect(d.paragraphSets).toEqual([]);
    });
  });

  it('read back as they were written: a record with its line, and one with its fields and no date', () => {
    for (const r of [record({ line }, Date.parse('2026-11-20T10:00:00Z')), record({ fields: { id: 'sabq-1', text: 'نص', extra: [1, { a: null }] } }, NaN)]) {
      const bytes = encodeRecord(r);
      // At an odd offset too (a record read from the middle of a buffer): copied, then read.
      const shifted = new Uint8Array(bytes.length + 1);
      shifted.set(bytes, 1);
      for (const b of [bytes, shifted.subarray(1)]) {
        const back = decodeRecord(b);
        const { body, ...meta } = back.article;
        const { body: wrote, ...wroteMeta } = r.article;
        expect(meta).toEqual(wroteMeta);
        if ('line' in wrote) expect(Buffer.from((body as { line: Uint8Array }).line).equals(wrote.line)).toBe(true);
        else expect(body).toEqual(wrote);
        expect(back.analysis).toEqual(r.analysis);
        expect(back.paragraphSets).toEqual(r.paragraphSets);
        // The body last, as the pipeline builds a stored article.
        expect(Object.keys(back.article)).toEqual(Object.keys(r.article));
      }
    }
  });

  it('writes the same bytes into a segment chunk at any offset, over whatever the chunk held', () => {
    const r = record({ line }, Date.parse('2026-11-20T10:00:00Z'));
    for (const options of [{}, { lineAt: 4096 }]) {
      const alone = encodeRecord(r, options);
      const prepared = prepareRecord(r, options);
      expect(prepared.length).toBe(alone.length);
      const chunk = Buffer.alloc(prepared.length + 10, 0xff);
      prepared.writeInto(chunk, 3);
      expect(chunk.subarray(3, 3 + prepared.length).equals(alone)).toBe(true);
      expect(chunk[2]).toBe(0xff);
      expect(chunk[3 + prepared.length]).toBe(0xff);
      expect(decodeRecord(chunk.subarray(3, 3 + prepared.length), { file: 'night-1.seg', at: 0 }).paragraphSets).toEqual(r.paragraphSets);
    }
  });

  it('keeps the line apart when written to the lines file: named by its place there, as an inline line is in the segment', () => {
    const r = record({ line }, Date.parse('2026-11-20T10:00:00Z'));
    const inline = encodeRecord(r);
    const apart = encodeRecord(r, { lineAt: 4096 });
    // The record without its line is shorter by exactly the line.
    expect(apart.length).toBeLessThanOrEqual(inline.length - line.length + 16);
    expect(apart.includes(line)).toBe(false);
    const back = decodeRecord(apart, { file: 'night-1.seg', at: 512 });
    expect(back.article.body).toEqual({ stored: { file: 'night-1.lines', at: 4096, bytes: line.length } });
    expect(back.analysis).toEqual(r.analysis);
    expect(back.paragraphSets).toEqual(r.paragraphSets);
    // Without its place the line cannot be found: an error, not an empty line.
    expect(() => decodeRecord(apart)).toThrow(/lines file/);
    // A record of an index written before (its line inside it) still names its line in the segment.
    const old = decodeRecord(inline, { file: 'night-1.seg', at: 512 });
    const lineAt = inline.length - line.length;
    expect(old.article.body).toEqual({ stored: { file: 'night-1.seg', at: 512 + lineAt, bytes: line.length } });
    expect(inline.subarray(lineAt).equals(line)).toBe(true);
  });

  it('keeps an article\'s band keys', () => {
    const keys = { doc: Uint32Array.from([3, 1, 4294967295]), passage: new Uint32Array(0), paragraphs: Uint32Array.from([9, 8]) };
    expect(decodeKeys(encodeKeys(keys))).toEqual(keys);
  });
});

describe('segment files', () => {
  it('reads many records in the order asked, whatever their files and gaps, each as a single read gives it', async () => {
    await withTempDir('neardup-segments-', async (dir) => {
      const segs = new SegmentFiles(dir);
      const rnd = seededRandom(7);
      const places: Array<{ file: string; at: number; bytes: number }> = [];
      const contents: Buffer[] = [];
      for (const night of ['n1', 'n2']) {
        const w = segs.create(night);
        // Small records side by side, one larger than the 4 MB read block, and runs of records never asked for (gaps).
        for (let r = 0; r < 400; r++) {
          const bytes = Buffer.alloc(r === 200 ? 5_000_000 : 4 + Math.floor(rnd() * 9000), r % 251);
          bytes.writeUInt32LE(r, 0);
          const at = w.append(bytes);
          if (r < 100 || r > 300 || r % 7 === 0) {
            places.push({ file: path.basename(w.file), at, bytes: bytes.length });
            contents.push(bytes);
          }
        }
        await w.finish();
      }
      const order = places.map((_, i) => i).sort(() => rnd() - 0.5);
      const got = segs.readMany(order.map((i) => places[i]));
      order.forEach((i, k) => {
        expect(got[k].equals(contents[i])).toBe(true);
        // Records share slabs, each at a 4-byte boundary: decodeRecord views them without copying.
        expect(got[k].byteOffset % 4).toBe(0);
        expect(got[k].equals(segs.read(places[i].file, places[i].at, places[i].bytes))).toBe(true);
      });
      segs.close();
    });
  });

  it('writes its chunks in the background, in place whatever order they land in, and removes a segment given up mid-write', async () => {
    await withTempDir('neardup-segments-', async (dir) => {
      const segs = new SegmentFiles(dir);
      const w = segs.create('n1');
      // 40 MB in records of 1 to 64 KB: some ten chunks handed to libuv's threads, with drains between.
      const rnd = seededRandom(11);
      const expected: Buffer[] = [];
      for (let r = 0, total = 0; total < 40_000_000; r++) {
        const bytes = Buffer.alloc(1 + Math.floor(rnd() * 65_536), r % 253);
        expected.push(bytes);
        total += bytes.length;
        expect(w.append(bytes)).toBe(total - bytes.length);
        w.appendLine(bytes.subarray(0, 1));
        if (r % 100 === 0) await w.drain();
      }
      await w.finish();
      expect(readFileSync(w.file).equals(Buffer.concat(expected))).toBe(true);
      expect(readFileSync(linesFileOf(w.file)).equals(Buffer.concat(expected.map((b) => b.subarray(0, 1))))).toBe(true);

      const dropped = segs.create('n2');
      for (let r = 0; r < 200; r++) dropped.append(Buffer.alloc(60_000, r));
      await dropped.abandon();
      expect(existsSync(dropped.file)).toBe(false);
      expect(existsSync(linesFileOf(dropped.file))).toBe(false);
      segs.close();
    });
  });
});

describe('earlier nights\' texts read ahead', () => {
  it('come in order and intact, with more lines than buffers and reads finishing out of order', async () => {
    // 40 stored lines of different lengths, read two ahead into two buffers, each read answering after a random delay.
    const rnd = seededRandom(11);
    const lines = Array.from({ length: 40 }, (_, k) => Buffer.from(JSON.stringify({ id: `a-${k}`, text: `نص الخبر رقم ${k} `.repeat(1 + Math.floor(rnd() * 2000)) }) + '\n'));
    const file = Buffer.concat(lines);
    const places: Array<{ file: string; at: number; bytes: number }> = [];
    let at = 0;
    for (const l of lines) {
      places.push({ file: 'x.lines', at, bytes: l.length });
      at += l.length;
    }
    const articles = places.map((stored, k) => ({ id: `a-${k}`, body: { stored } })) as unknown as Article[];
    const copy = (place: { at: number; bytes: number }, into?: Buffer): Buffer => {
      const out = into && into.length >= place.bytes ? into.subarray(0, place.bytes) : Buffer.alloc(place.bytes);
      file.copy(out, 0, place.at, place.at + place.bytes);
      return out;
    };
    const index = {
      readLine: copy,
      // The bytes land at once (as a thread may write them before the caller looks), the answer comes later.
      readLineAsync: (place: { at: number; bytes: number }, into?: Buffer) => {
        const out = copy(place, into);
        return new Promise<Buffer>((resolve) => setTimeout(() => resolve(out), Math.floor(rnd() * 5)));
      },
    };
    const texts = new ArticleTexts(articles, undefined as unknown as Spill, index as never);
    const order = [...places.keys()].reverse();
    const got: string[] = [];
    for await (const raw of texts.rawTexts(order, 2)) got.push(JSON.parse(Buffer.from(raw as Uint8Array).toString()) as string);
    expect(got).toEqual(order.map((k) => JSON.parse(lines[k].toString()).text));
  });
});
