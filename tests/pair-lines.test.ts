import { describe, expect, it } from 'vitest';
import { pairLine, pairRecord } from '../src/pipeline.js';
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
    for (let n = 0; n < 2000; n++) {
      const a = Math.floor(random() * ids.length);
      let b = Math.floor(random() * ids.length);
      if (b === a) b = (a + 1) % ids.length;
      // Passages with repeated paragraphs, so that the sort's ties (same a_start, or same both) are exercised.
      const passages = Array.from({ length: Math.floor(random() * 6) }, () => ({ aPara: Math.floor(random() * 4), bPara: Math.floor(random() * 4), shared: Math.floor(random() * 90), similarity: share() }));
      const p: VerifiedPair = { a, b, relation: random() < 0.5 ? 'near-duplicate' : 'partial', jaccard: share(), containmentAB: share(), containmentBA: share(), passages };
      if (ids[a] > ids[b]) swapped++;
      expect(pairLine(p, articles, analyses)).toBe(JSON.stringify(pairRecord(p, articles, analyses)) + '\n');
    }
    expect(swapped).toBeGreaterThan(500);
  });
});
