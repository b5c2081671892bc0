/**
 * Per-article text analysis: paragraphs with offsets, normalized token hashes,
 * boilerplate flags by rule, fixed quotations (Quran verses, religious
 * formulas) masked out, credit lines and named agencies. Pure: the same text
 * and options always give the same analysis, whichever thread runs it.
 */
import { agenciesInHashes, creditLines } from '../provenance/agencies.js';
import { HashFilter, hashSequence, type TokenHasher } from '../sketch/hash.js';
import { concatAll } from '../sketch/shingle.js';
import { ruleFlags, RULE_TOKENS, type BoilerplateKind } from './boilerplate.js';
import { normalizeText, scanTokens, TokenRun, type NormalizeOptions } from './normalize.js';
import { segmentParagraphs } from './segment.js';
import { newParagraphs, setParagraph, type Paragraphs } from './paragraphs.js';

export type { Paragraph, Paragraphs } from './paragraphs.js';

/** What the later stages keep of an article's analysis: once shingled, the tokens are not needed again. */
export interface ArticleAnalysis {
  /** Packed (see paragraphs.ts): offsets into the text, hash, token count and boilerplate kind (rule flags here; templates are set later). */
  paragraphs: Paragraphs;
  /**
   * Keys of the numbers in the text (digits only, with "1,200" / "1.200" / "١٬٢٠٠" joined and unit
   * letters like "2015م" dropped), paragraph by paragraph: paragraph p's are
   * numberKeys[numberStart[p], numberStart[p + 1]). Numbers are the facts a shared template fills in differently.
   */
  numberKeys: Uint32Array;
  numberStart: Int32Array;
  titleHash: number;
  credits: string[];
  agencies: string[];
}

/** The full analysis, with the token arrays shingling reads. */
export interface TextAnalysis extends ArticleAnalysis {
  /** Token hashes of all paragraphs back to back. */
  tokenHashes: Uint32Array;
  /** paragraph p owns tokens [tokenStart[p], tokenStart[p + 1]). */
  tokenStart: Int32Array;
  /** 1 where a token belongs to a fixed quotation, formula or title (never counts as shared text). */
  quoteMask: Uint8Array;
}

/** The analysis without its token arrays. */
export function withoutTokens(a: TextAnalysis): ArticleAnalysis {
  return { paragraphs: a.paragraphs, numberKeys: a.numberKeys, numberStart: a.numberStart, titleHash: a.titleHash, credits: a.credits, agencies: a.agencies };
}

/** Markers after which a Quran verse or hadith follows (normalized). */
const QUOTE_INTRO = ['قال تعالى', 'قوله تعالى', 'يقول تعالى', 'قال الله تعالى', 'لقوله تعالى', 'قال الله عز وجل', 'يقول الله تعالى', 'قال عز وجل', 'قال رسول الله صلى الله عليه وسلم', 'قال النبي صلى الله عليه وسلم', 'وقال تعالى']
  .map((s) => normalizeText(s).split(' '));
/** Stock religious formulas shared by unrelated articles (condolences, blessings). */
const FORMULAS = ['إنا لله وإنا إليه راجعون', 'بسم الله الرحمن الرحيم', 'صلى الله عليه وسلم', 'لا حول ولا قوة إلا بالله', 'رحمه الله وأسكنه فسيح جناته',
  'تغمده الله بواسع رحمته', 'أسكنه فسيح جناته', 'وألهم أهله وذويه الصبر والسلوان', 'يا أيتها النفس المطمئنة ارجعي إلى ربك راضية مرضية فادخلي في عبادي وادخلي جنتي',
  'كل عام وأنتم بخير', 'أعاده الله على الأمة الإسلامية باليمن والخير والبركات', 'حفظه الله', 'رضي الله عنه',
  // Cable formulas: congratulations and condolences that differ only in names.
  'برقية تهنئة', 'برقية عزاء ومواساة', 'أصدق التهاني وأطيب التمنيات', 'أصدق التهاني وأطيب الأمنيات', 'بموفور الصحة والسعادة', 'موفور الصحة والسعادة',
  'بمزيد من التقدم والازدهار', 'المزيد من التقدم والازدهار', 'مزيدا من التقدم والازدهار', 'أحر التعازي وصادق المواساة', 'أصدق التعازي وصادق المواساة',
  'بالمغفرة والرحمة', 'أن يتغمد الفقيد بواسع رحمته', 'ويسكنه فسيح جناته', 'بمناسبة ذكرى اليوم الوطني', 'بمناسبة اليوم الوطني', 'بمناسبة ذكرى استقلال']
  .map((s) => normalizeText(s).split(' '));
/**
 * Titles and honorifics: long, shared by every article about the same people, and never evidence of
 * copying. Masked like quotations, so that two articles that share only "name + titles" are not linked.
 */
const TITLES = ['خادم الحرمين الشريفين', 'صاحب السمو الملكي', 'صاحب السمو', 'صاحب المعالي', 'صاحب الفضيلة', 'صاحبة السمو', 'سمو الأمير', 'سمو ولي العهد',
  'ولي العهد', 'ولي ولي العهد', 'نائب رئيس مجلس الوزراء', 'النائب الثاني لرئيس مجلس الوزراء', 'النائب الأول لرئيس مجلس الوزراء', 'رئيس مجلس الوزراء',
  'وزير الدفاع', 'وزير الداخلية', 'وزير الخارجية', 'رئيس الديوان الملكي', 'فخامة الرئيس', 'رئيس الجمهورية', 'أمير منطقة', 'نائب أمير منطقة',
  'حفظه الله', 'يحفظه الله', 'أيده الله', 'رحمه الله', 'معالي', 'سمو', 'فخامة', 'سعادة', 'الملك', 'الأمير', 'الشيخ', 'الدكتور', 'المهندس', 'آل سعود', 'بن عبدالعزيز', 'بن عبد العزيز']
  .map((s) => normalizeText(s).split(' '))
  .sort((a, b) => b.length - a.length);

/** The masked phrases as token hashes under one hasher, indexed by the first token's hash. */
interface PhraseTable {
  /** The first tokens' hashes: most tokens are none and stop here. */
  first: HashFilter;
  byFirst: Map<number, Array<{ hashes: Uint32Array; intro: boolean }>>;
}
const phraseTables = new Map<number, PhraseTable>();

function phraseTable(hasher: TokenHasher): PhraseTable {
  let t = phraseTables.get(hasher.seed);
  if (t) return t;
  t = { first: new HashFilter(), byFirst: new Map() };
  // Formulas and titles (longest first) before quotation intros: the order the masks are applied in.
  const phrases = [...FORMULAS, ...TITLES].map((p) => ({ p, intro: false })).concat(QUOTE_INTRO.map((p) => ({ p, intro: true })));
  for (const { p, intro } of phrases) {
    const hashes = hasher.hashAll(p);
    const list = t.byFirst.get(hashes[0]) ?? [];
    list.push({ hashes, intro });
    t.byFirst.set(hashes[0], list);
    t.first.add(hashes[0]);
  }
  phraseTables.set(hasher.seed, t);
  return t;
}

/**
 * Mask tokens of fixed quotations, formulas and titles within one paragraph, text[from, to), whose n
 * tokens are hashes[o, o + n) and start at starts[o, o + n). Phrases match on token hashes (32-bit: a
 * chance match is negligible).
 */
function maskQuotations(text: string, from: number, to: number, hashes: Uint32Array, o: number, n: number, starts: Int32Array, mask: Uint8Array, table: PhraseTable): void {
  // Quran verses in ornate brackets ﴿ … ﴾.
  let open = text.indexOf('﴿', from);
  while (open >= 0 && open < to) {
    let close = text.indexOf('﴾', open);
    if (close < 0 || close > to) close = to;
    for (let i = 0; i < n; i++) if (starts[o + i] >= open && starts[o + i] < close) mask[o + i] = 1;
    open = text.indexOf('﴿', close);
  }
  const { first, byFirst } = table;
  for (let i = 0; i < n; i++) {
    const h = hashes[o + i];
    if (!first.mayHave(h)) continue;
    const list = byFirst.get(h);
    if (list === undefined) continue;
    for (const { hashes: phrase, intro } of list) {
      if (i + phrase.length > n) continue;
      let k = 1;
      while (k < phrase.length && hashes[o + i + k] === phrase[k]) k++;
      if (k < phrase.length) continue;
      if (!intro) {
        for (k = 0; k < phrase.length; k++) mask[o + i + k] = 1;
        continue;
      }
      // The quotation runs to the end of the sentence, at most 60 words.
      const after = i + phrase.length;
      let j = after;
      while (j < n && j < after + 60) {
        const between = text.slice(starts[o + j - 1], starts[o + j]);
        if (j > after && /[.!؟?]\s/u.test(between) && !/[«"“﴿]/u.test(between)) break;
        mask[o + j] = 1;
        j++;
      }
    }
  }
}

const DIGITS = /^\d+/;

/** Append the number keys of one paragraph's tokens (in `run`, scanned from `text`) to `out` (see ArticleAnalysis.numberKeys). */
function numberKeysOf(text: string, run: TokenRun, out: number[], hasher: TokenHasher): void {
  const { starts } = run;
  for (let i = 0; i < run.count; i++) {
    // Most tokens are words: only those starting with a digit are made strings and looked at.
    if (!run.digitFirst(i)) continue;
    let token = run.string(text, i);
    const m = DIGITS.exec(token);
    if (!m) continue;
    let digits = m[0];
    // Join digit groups split by a thousands or decimal separator: "1,200", "4.2", "١٬٢٠٠".
    while (i + 1 < run.count && /^\d+$/.test(token) && run.digitFirst(i + 1)) {
      const gap = text.slice(starts[i] + token.length, starts[i + 1]);
      if (!/^[,.٬٫،]$/u.test(gap)) break;
      i++;
      token = run.string(text, i);
      digits += (DIGITS.exec(token) as RegExpExecArray)[0];
    }
    out.push(hasher.hash('#' + digits.replace(/^0+(?=\d)/, '')) || 1);
  }
}

export interface AnalyzeOptions {
  normalize: NormalizeOptions;
  maxParagraphChars: number;
  boilerplateRules: boolean;
}

/** The hashes of a run's tokens into out[at, at + run.count), from their code units where the scan left them: no string per token. */
function hashRun(run: TokenRun, hasher: TokenHasher, out: Uint32Array, at: number): Uint32Array {
  for (let k = 0, from = 0; k < run.count; k++) {
    const to = run.codeEnds[k];
    out[at + k] = hasher.hashCodes(run.codes, from, to);
    from = to;
  }
  return out;
}

/** The token run analyzeText scans each paragraph into (analysis is single-threaded per isolate). */
const paragraphRun = new TokenRun();
/** Token hashes and starts of the article being analysed (the hashes are copied out at their final length). */
let hashScratch = new Uint32Array(4096);
let startScratch = new Int32Array(4096);

export function analyzeText(title: string, text: string, hasher: TokenHasher, opts: AnalyzeOptions): TextAnalysis {
  const spans = segmentParagraphs(text, opts.maxParagraphChars);
  const run = paragraphRun;
  // Per paragraph: how many tokens, and (as strings) the first ones the rules read.
  const heads: string[][] = [];
  const counts: number[] = [];
  const numberKeys: number[] = [];
  const numberStart = new Int32Array(spans.length + 1);
  const tokenStart = new Int32Array(spans.length + 1);
  let o = 0;
  for (let p = 0; p < spans.length; p++) {
    scanTokens(text, opts.normalize, spans[p].start, spans[p].end, run);
    const n = run.count;
    tokenStart[p] = o;
    if (hashScratch.length < o + n) {
      const more = new Uint32Array(2 * (o + n));
      more.set(hashScratch.subarray(0, o));
      hashScratch = more;
      const moreStarts = new Int32Array(2 * (o + n));
      moreStarts.set(startScratch.subarray(0, o));
      startScratch = moreStarts;
    }
    startScratch.set(run.starts.subarray(0, n), o);
    hashRun(run, hasher, hashScratch, o);
    o += n;
    counts.push(n);
    const head = new Array<string>(Math.min(n, RULE_TOKENS));
    for (let k = 0; k < head.length; k++) head[k] = run.string(text, k);
    heads.push(head);
    numberStart[p] = numberKeys.length;
    numberKeysOf(text, run, numberKeys, hasher);
  }
  tokenStart[spans.length] = o;
  numberStart[spans.length] = numberKeys.length;
  const tokenHashes = hashScratch.slice(0, o);
  const rawParas = spans.map((s) => text.slice(s.start, s.end));
  const kinds = opts.boilerplateRules ? ruleFlags(rawParas, heads, counts) : spans.map(() => null);
  const quoteMask = new Uint8Array(o);
  const paragraphs = newParagraphs(spans.length);
  const credits: string[] = [];
  const phrases = phraseTable(hasher);
  for (let p = 0; p < spans.length; p++) {
    const from = tokenStart[p];
    const n = tokenStart[p + 1] - from;
    if (kinds[p] === null) {
      maskQuotations(text, spans[p].start, spans[p].end, tokenHashes, from, n, startScratch, quoteMask, phrases);
    }
    credits.push(...creditLines(rawParas[p]));
    setParagraph(paragraphs, p, { start: spans[p].start, end: spans[p].end, hash: hashSequence(tokenHashes, from, from + n), tokenCount: n, kind: kinds[p] });
  }
  scanTokens(title, opts.normalize, 0, title.length, run);
  const titleHashes = hashRun(run, hasher, new Uint32Array(run.count), 0);
  const agencies = agenciesInHashes(concatAll([tokenHashes, titleHashes]), hasher);
  return {
    paragraphs,
    tokenHashes,
    tokenStart,
    quoteMask,
    numberKeys: new Uint32Array(numberKeys),
    numberStart,
    titleHash: hashSequence(titleHashes, 0, titleHashes.length),
    credits: [...new Set(credits)],
    agencies,
  };
}
