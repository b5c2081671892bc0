import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.js';
import { analyzeText } from '../src/text/analyze.js';
import { TokenHasher } from '../src/sketch/hash.js';
import { neardup, readJsonl, SHARED, tempDir } from './helpers/cli.js';
import { unpackParagraphs } from '../src/text/paragraphs.js';

const SEEDS = path.join(SHARED, 'seeds');
const present = existsSync(SEEDS);
if (!present) console.warn(`skipping seed tests: ${SEEDS} is not there (a fresh clone without ../shared)`);

describe.skipIf(!present)('the five seed articles (../shared/seeds)', () => {
  let out = '';
  beforeAll(() => {
    out = tempDir();
    const r = neardup(['run', '--input', SEEDS, '--output', out, '--quiet', '--set', 'report.html=false']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('puts 000 and 002 in one story with at least 8 aligned shared paragraphs', () => {
    const clusters = readJsonl<{ kind: string; members: string[] }>(path.join(out, 'clusters.jsonl'));
    const story = clusters.find((c) => c.kind === 'story' && c.members.some((m) => m.startsWith('000_')));
    expect(story?.members.map((m) => m.slice(0, 3)).sort()).toEqual(['000', '002']);
    const pair = readJsonl<{ a: string; b: string; passages: unknown[] }>(path.join(out, 'pairs.jsonl')).find((p) => p.a.startsWith('000_') && p.b.startsWith('002_'));
    expect(pair?.passages.length).toBeGreaterThanOrEqual(8);
  });

  it('names KCNA as the agency behind the shared text', () => {
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    const story = report.clusters.find((c: { kind: string; origin: string }) => c.kind === 'story');
    expect(story.agencies).toContain('KCNA');
    for (const m of story.members) expect(m.agencies).toContain('KCNA');
  });

  it('links no two seeds by boilerplate alone: 000-002 is the only pair', () => {
    const pairs = readJsonl<{ a: string; b: string }>(path.join(out, 'pairs.jsonl'));
    expect(pairs.map((p) => `${p.a.slice(0, 3)}-${p.b.slice(0, 3)}`)).toEqual(['000-002']);
  });

  it('flags the tag, read-also and similar-articles blocks of every seed as boilerplate', async () => {
    const cfg = defaultConfig();
    const hasher = new TokenHasher(cfg.seed);
    let markersSeen = 0;
    for (const f of readdirSync(SEEDS).sort()) {
      const content = readFileSync(path.join(SEEDS, f), 'utf8');
      const a = analyzeText('', content, hasher, { normalize: cfg.normalize, maxParagraphChars: cfg.segment.max_paragraph_chars, boilerplateRules: true });
      for (const marker of ['كلمات دلالية', 'إقرأ أيضاً', 'مقالات مشابهة', 'مقالات ذات صلة', 'زر الذهاب إلى الأعلى']) {
        for (const p of unpackParagraphs(a.paragraphs)) {
          const text = content.slice(p.start, p.end);
          if (!text.startsWith(marker)) continue;
          markersSeen++;
          expect(p.kind, `${f}: "${text.slice(0, 40)}"`).not.toBeNull();
        }
      }
      // Bullet lists of related headlines after "مقالات مشابهة" are flagged too.
      for (const p of unpackParagraphs(a.paragraphs)) {
        const text = content.slice(p.start, p.end);
        if (/^•/u.test(text)) expect(p.kind, `${f}: "${text.slice(0, 40)}"`).toBe('related');
        if (/pic\.twitter\.com/u.test(text)) expect(p.kind).toBe('embed');
      }
    }
    // The seeds carry these blocks: 000, 001 and 003 have tags and read-also, 001 and 003 similar articles, 004 related and back-to-top.
    expect(markersSeen).toBeGreaterThanOrEqual(9);
  });
});
