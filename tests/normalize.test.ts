import { describe, expect, it } from 'vitest';
import { DEFAULT_NORMALIZE, normalizeText, tokenize, scanTokens, TokenRun, arabicLetterShare, learnAll, type NormalizeOptions } from '../src/text/normalize.js';
import { TokenHasher } from '../src/sketch/hash.js';

describe('Arabic normalization table', () => {
  const cases: Array<[string, string, string]> = [
    ['hamza alef forms fold to bare alef', 'أحمد إبراهيم آمنة ٱلله', 'احمد ابراهيم امنه الله'],
    ['alef maqsura folds to yeh', 'مستشفى على', 'مستشفي علي'],
    ['teh marbuta folds to heh', 'مدينة جميلة', 'مدينه جميله'],
    ['Persian yeh and keheh fold', 'کیم یونغ کوریا', 'كيم يونغ كوريا'],
    ['diacritics are stripped', 'مُحَمَّدٌ الْقُرْآنُ', 'محمد القران'],
    ['superscript alef U+0670 is stripped', 'هٰذا', 'هذا'],
    ['tatweel is stripped inside words', 'الـــوزراء', 'الوزراء'],
    ['Arabic-Indic digits fold to ASCII', '٢٠٢٦ و١٥', '2026 و15'],
    ['Persian digits fold to ASCII', '۱۲۳۴', '1234'],
    ['zero-width and bidi controls vanish inside words', 'كو\u200Cريا \u200Fالشمالية\u061C', 'كوريا الشماليه'],
    ['Arabic punctuation is removed', 'قال: «نعم»، ثم؛ لماذا؟ “هكذا” ″', 'قال نعم ثم لماذا هكذا'],
    ['Latin is lowercased', 'KCNA Reuters', 'kcna reuters'],
    ['NFKC unfolds presentation forms and lam-alef ligature', '\uFEFB\uFEE3 \uFE8D\uFEDF\uFEE0\uFEEA', 'لام الله'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => expect(normalizeText(input)).toBe(expected));
  }

  it('learns each character on first sight: the same tokens as with every character learned up front', () => {
    // Options with keys of their own get tables of their own: one learns as it scans, the other learned all first.
    const text = 'قالَ «الرئيسُ»: ﻻ بد من ﷲ… \uFEFBمنظمة\u200Cالصحة 𝐀𝐁 ١٢٣، ۴ ﴿الحمد لله﴾ — KCNA! 😀 x\uD800y ـــ';
    for (const remove_punctuation of [true, false]) {
      const fresh = { ...DEFAULT_NORMALIZE, remove_punctuation, learning: 1 } as NormalizeOptions;
      const full = { ...DEFAULT_NORMALIZE, remove_punctuation, learning: 2 } as NormalizeOptions;
      learnAll(full);
      const a = tokenize(text, fresh);
      const b = tokenize(text, full);
      expect(a.tokens.length).toBeGreaterThan(10);
      expect(a).toEqual(b);
      // Learned entries equal those learned up front.
      const t = learnAll(fresh);
      const u = learnAll(full);
      expect(t.scan).toEqual(u.scan);
      expect(t.single).toEqual(u.single);
      expect(Object.fromEntries(t.multi)).toEqual(Object.fromEntries(u.multi));
    }
  });

  it('every step can be switched off', () => {
    const off = { ...DEFAULT_NORMALIZE, fold_alef: false, fold_teh_marbuta: false, strip_diacritics: false };
    expect(normalizeText('أَمانة', off)).toBe('أَمانة');
  });

  it('keeps offsets into the original text', () => {
    const text = 'قالَ  الـوزير: «نعم»';
    const t = tokenize(text);
    expect(t.tokens).toEqual(['قال', 'الوزير', 'نعم']);
    expect(text.slice(t.starts[1], t.ends[1])).toBe('الـوزير');
    expect(text.slice(t.starts[0], t.ends[0])).toBe('قالَ');
  });

  it('gives the same tokens whether a word is taken as it stands or rebuilt', () => {
    // Unchanged words are sliced from the text; a fold, a deleted mark (inside or at the end) or a long
    // word rebuilds them. Both ways must agree with the character-by-character definition.
    const long = 'استراتيجيات'.repeat(8);
    const text = `مدرسة كتبَ الكتاب ${long} ${long}ة 𝐀لف 😀 كتب`;
    const t = tokenize(text);
    expect(t.tokens).toEqual(['مدرسه', 'كتب', 'الكتاب', long, long + 'ه', '𝐀لف', 'كتب']);
    expect(text.slice(t.starts[1], t.ends[1])).toBe('كتبَ');
    expect(text.slice(t.starts[6], t.ends[6])).toBe('كتب');
  });

  it('tokenizes with Unicode classes, not ASCII \\w', () => {
    expect(tokenize('السعودية2030 و COVID-19').tokens).toEqual(['السعوديه2030', 'و', 'covid', '19']);
  });

  it('a character NFKC expands into several tokens gives each its offsets (that character\'s)', () => {
    const t = tokenize('نبينا\uFDFAقال…نعم！لا', { ...DEFAULT_NORMALIZE, remove_punctuation: false });
    expect(t.tokens).toEqual(['نبيناصلي', 'الله', 'عليه', 'وسلمقال', '.', '.', '.', 'نعم', '!', 'لا']);
    expect([...t.starts]).toEqual([0, 5, 5, 5, 9, 9, 9, 10, 13, 14]);
    expect([...t.ends]).toEqual([6, 6, 6, 9, 10, 10, 10, 13, 14, 16]);
  });

  it('punctuation becomes tokens when not removed', () => {
    expect(tokenize('نعم، لا', { ...DEFAULT_NORMALIZE, remove_punctuation: false }).tokens).toEqual(['نعم', '،', 'لا']);
  });

  it('a scanned run holds each token as code units: the same strings, and hashes equal to those of the strings', () => {
    // Folds, deleted marks, a ligature NFKC expands, digits of three scripts, astral and lone surrogates,
    // punctuation kept, and more tokens and code units than a new run has room for.
    // Also characters NFKC turns into several tokens (ﷺ, with spaces), into punctuation (…, ！), glued to words.
    const text = `قالَ الـوزير: «٢٠٢٦ و۱۵ 2030» \uFEFB 𝐀لف 😀 \ud800x نبينا\uFDFAقال…نعم！لا \uFDFA ${'كلمة '.repeat(300)}${'ب'.repeat(1500)}`;
    const hasher = new TokenHasher(20231017);
    for (const o of [DEFAULT_NORMALIZE, { ...DEFAULT_NORMALIZE, remove_punctuation: false }]) {
      const expected = tokenize(text, o);
      const run = new TokenRun();
      scanTokens(text, o, 0, text.length, run);
      expect(run.count).toBe(expected.tokens.length);
      for (let k = 0; k < run.count; k++) {
        const token = run.string(text, k);
        expect(token).toBe(expected.tokens[k]);
        expect([run.starts[k], run.ends[k]]).toEqual([expected.starts[k], expected.ends[k]]);
        expect(hasher.hashCodes(run.codes, run.codeStart(k), run.codeEnds[k])).toBe(hasher.hash(token));
        expect(run.digitFirst(k)).toBe(/^[0-9]/.test(token));
      }
    }
    // A run is reused: a second, shorter span leaves nothing of the first.
    const run = new TokenRun();
    scanTokens(text, DEFAULT_NORMALIZE, 0, text.length, run);
    scanTokens('نعم لا', DEFAULT_NORMALIZE, 0, 6, run);
    expect([run.count, run.string('نعم لا', 0), run.string('نعم لا', 1)]).toEqual([2, 'نعم', 'لا']);
  });

  it('measures the share of Arabic letters', () => {
    expect(arabicLetterShare('هذا نص عربي')).toBe(1);
    expect(arabicLetterShare('This is English')).toBe(0);
    expect(arabicLetterShare('12345 !!')).toBe(0);
    // Letters outside the common ranges (Persian, Greek, an astral letter), tatweel (counted as Arabic),
    // emoji and a lone surrogate (not letters): the same answer the first time, when the tables learn
    // them, and after.
    const mixed = 'کیم ـــ Ωμέγα 𝐀 😀 \ud800 abc';
    expect(arabicLetterShare(mixed)).toBe(6 / 15);
    expect(arabicLetterShare(mixed)).toBe(6 / 15);
  });
});
