import { describe, expect, it } from 'vitest';
import { pairLine, pairRecord } from '../src/pipeline.js';
import { LineBytes } from '../src/report/line-bytes.js';
import { packParagraphs } from '../src/text/paragraphs.js';
import { seededRandom } from '../src/util/random.js';
import type { Article } from '../src/ingest/index.js';
import type { ArticleAnalysis } from '../src/text/analyze.js';
import type { VerifiedPair } from '../src/match/verify.js';

describe('pairs.jsonl lines', () => {
  it('are JSON.stringify of the pair record, byte for byte, whichever side sorts first', () => {
    const random = seededRandom(17);
    // Ids that sort either way round, with quotes, backslashes, Arabic and an astral character to escape or not.
    const ids = ['a-1', 'b"2', 'c\\3', 'خبر-4', 'z😀5', '0', 'Z', 'a-10', 'a-2'];
    const articles = ids.map((id, index) => ({ id, index }) as unknown as Article);
    const analyses = ids.map(() => {
      let at = 0;
      const paras = Array.from({ length: 12 }, () => {
        const start = at + Math.floor(random() * 5);
        at = start + 1 + Math.floor(random() * 400);
        return { start, end: at, hash: 0, tokenCount: 1, kind: null };
      });
      return { paragraphs: packParagraphs(paras) } as unknown as ArticleAnalysis;
    });
    const share = (): number => [0, 1, 0.5, 1 / 3, 2 / 3, 0.99995, 0.00004, random()][Math.floor(random() * 8)];
    let swapped = 0;
    // One builder for all, as the writer uses it: each line overwrites the last.
    const out = new LineBytes();
    for (let n = 0; n < 2000; n++) {
      const a = Math.floor(random() * ids.length);
      let b = Math.floor(random() * ids.length);
      if (b === a) b = (a + 1) % ids.length;
      // Passages with repeated paragraphs, so that the sort's ties (same a_start, or same both) are exercised;
      // now and then more than the sort's first buffers hold.
      const passages = Array.from({ length: Math.floor(random() * (n % 100 === 0 ? 40 : 6)) }, () => ({ aPara: Math.floor(random() * 4), bPara: Math.floor(random() * 4), shared: Math.floor(random() * 90), similarity: share() }));
      const p: VerifiedPair = { a, b, relation: random() < 0.5 ? 'near-duplicate' : 'partial', jaccard: share(), containmentAB: share(), containmentBA: share(), passages };
      if (ids[a] > ids[b]) swapped++;
      expect(Buffer.from(pairLine(p, articles, analyses, out)).toString()).toBe(JSON.stringify(pairRecord(p, articles, analyses)) + '\n');
    }
    expect(swapped).toBeGreaterThan(500);
  });
});

describe('line bytes', () => {
  it('write numbers and shares as JSON.stringify writes them', () => {
    const out = new LineBytes();
    const random = seededRandom(8);
    const shares: number[] = [0, -0, 1, -1, 0.5, 1e-5, -1e-5, 0.00005, 0.00015, 2 / 3, 1 / 3, 0.99995, 0.999949, 123.4567, -98765.4321, 1e10 + 0.1234, 5e11, 1e20, NaN, Infinity, -Infinity];
    for (let k = -30000; k <= 30000; k++) shares.push(k / 10000, k / 10000 + 0.00004, k / 10000 - 0.00004);
    for (let n = 0; n < 20000; n++) shares.push(random(), (random() - 0.5) * 2e6, random() * 1e12);
    for (const x of shares) {
      const want = JSON.stringify(Math.round(x * 10000) / 10000);
      expect(Buffer.from(out.reset().share(x).view()).toString(), `share ${x}`).toBe(want);
    }
    const numbers: number[] = [0, -0, 1, -1, 9, 10, 99, 100, 2 ** 31, 2 ** 32 - 1, 999999999999999, 1e15, 1e21, 0.5, -2.25, NaN, Infinity];
    for (let n = 0; n < 5000; n++) numbers.push(Math.floor(random() * 2 ** 40), -Math.floor(random() * 1e6));
    for (const x of numbers) expect(Buffer.from(out.reset().number(x).view()).toString(), `number ${x}`).toBe(JSON.stringify(x));
    // Text of any kind, and a line longer than the first buffer.
    const long = 'نص '.repeat(5000) + '😀"\\';
    expect(Buffer.from(out.reset().ascii('{"t":').text(JSON.stringify(long)).ascii('}').view()).toString()).toBe(`{"t":${JSON.stringify(long)}}`);
  });
});
