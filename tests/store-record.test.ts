import { describe, expect, it } from 'vitest';
import { decodeKeys, decodeRecord, encodeKeys, encodeRecord, type DocRecord } from '../src/store/record.js';

const line = Buffer.from(JSON.stringify({ id: 'sabq-1', outlet: 'sabq', text: 'افتتح أمير المنطقة اليوم معرض الكتاب الدولي في دورته العاشرة.\nويستمر المعرض عشرة أيام.' }) + '\n');

function record(body: DocRecord['article']['body'], time: number): DocRecord {
  return {
    article: { id: 'sabq-1', outlet: 'sabq', url: 'https://example.org/1', published_at: time ? new Date(time).toISOString() : null, time, dayPrecision: false, title: 'افتتاح معرض الكتاب', source: { file: 'night.jsonl', line: 7 }, body },
    analysis: {
      paragraphs: [
        { start: 0, end: 61, hash: 0xfedcba98, tokenCount: 10, kind: null },
        { start: 62, end: 86, hash: 12345, tokenCount: 4, kind: 'dateline' },
        { start: 87, end: 90, hash: 7, tokenCount: 1, kind: null },
      ],
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

  it('keeps an article\'s band keys', () => {
    const keys = { doc: Uint32Array.from([3, 1, 4294967295]), passage: new Uint32Array(0), paragraphs: Uint32Array.from([9, 8]) };
    expect(decodeKeys(encodeKeys(keys))).toEqual(keys);
  });
});
