/**
 * Boilerplate: site furniture that must never link two articles. It stays in
 * the data (flagged, counted, shown dimmed in the report) but is kept out of
 * every similarity.
 *
 * Two sources:
 *  - rules for common Arabic news furniture, matched on normalized tokens;
 *  - learned outlet templates: a paragraph that recurs in many articles of one
 *    outlet (or in very many articles across outlets) is a template.
 */
import { agenciesInTokens } from '../provenance/agencies.js';
import { normalizeText } from './normalize.js';
import { HashMap32 } from '../sketch/hash.js';

export const BOILERPLATE_KINDS = ['marker', 'related', 'share', 'embed', 'credit', 'dateline', 'template', 'quote'] as const;
export type BoilerplateKind = (typeof BOILERPLATE_KINDS)[number];

const n = (s: string): string => normalizeText(s);

/** The longest paragraph the share-line rule reads whole (a line of share buttons): the longest rule on whole paragraphs. */
const SHARE_LINE_MAX_TOKENS = 12;

/**
 * How many of a paragraph's tokens ruleFlags reads as strings: all of a paragraph of up to this many
 * (the longest rule on whole paragraphs), and the first this many of a longer one (more than any phrase a
 * paragraph may start with). The analysis makes strings of these only.
 */
export const RULE_TOKENS = SHARE_LINE_MAX_TOKENS;

/** Markers after which the site lists tags or related headlines. */
const LIST_MARKERS = [
  'كلمات دلالية', 'الكلمات الدلالية', 'وسوم', 'إقرأ أيضاً', 'اقرأ أيضا', 'اقرأ المزيد', 'إقرأ المزيد', 'مقالات مشابهة', 'مقالات ذات صلة',
  'أخبار قد تهمك', 'أخبار ذات صلة', 'موضوعات ذات صلة', 'مواضيع ذات صلة', 'قد يعجبك أيضا', 'قد يهمك أيضا', 'الأكثر قراءة',
  'شاهد أيضا', 'أخبار متعلقة', 'المزيد من الأخبار', 'اقرأ في هذا الملف', 'تابع أيضا',
].map(n);

/** Whole-line furniture. */
const LINE_FURNITURE = [
  'رابط الخبر', 'رابط مختصر', 'الرابط المختصر', 'زر الذهاب إلى الأعلى', 'إعلان', 'اعلان', 'شارك', 'شارك الخبر', 'شارك هذا الخبر',
  'مشاركة', 'تابعونا', 'تابعونا على', 'اشترك', 'اشترك الآن', 'النشرة البريدية', 'طباعة', 'أرسل لصديق', 'أضف تعليق', 'التعليقات',
  'اضغط هنا', 'للمزيد اضغط هنا', 'حمل التطبيق', 'مصدر الصورة', 'الصورة', 'فيديو', 'صور',
].map(n);

const SHARE_WORDS = new Set(
  ['فيسبوك', 'فيس بوك', 'تويتر', 'واتساب', 'واتس اب', 'تلغرام', 'تليجرام', 'انستغرام', 'إنستغرام', 'لينكدإن', 'يوتيوب', 'بريد', 'إيميل',
    'طباعة', 'شارك', 'مشاركة', 'نسخ', 'الرابط', 'عبر', 'على', 'facebook', 'twitter', 'whatsapp', 'telegram', 'email', 'print', 'share', 'x', 'linkedin', 'pinterest', 'messenger']
    .flatMap((w) => n(w).split(' ')),
);

/** Words a dateline or source tag is made of, beside place names and agencies. */
const TAG_WORDS = new Set(['متابعات', 'خاص', 'وكالات', 'وكاله', 'مراسل', 'محرر', 'صحيفه', 'تاريخ', 'النشر', 'gmt', 'المصدر'].map((w) => n(w)));
const MONTHS = new Set(
  ['يناير', 'فبراير', 'مارس', 'أبريل', 'ابريل', 'مايو', 'يونيو', 'يوليو', 'أغسطس', 'سبتمبر', 'أكتوبر', 'نوفمبر', 'ديسمبر', 'كانون', 'شباط',
    'آذار', 'نيسان', 'أيار', 'حزيران', 'تموز', 'آب', 'أيلول', 'تشرين', 'الأول', 'الثاني', 'محرم', 'صفر', 'ربيع', 'جمادى', 'رجب', 'شعبان',
    'رمضان', 'شوال', 'القعدة', 'الحجة', 'ذو', 'هـ', 'م', 'الموافق', 'الأحد', 'الاثنين', 'الثلاثاء', 'الأربعاء', 'الخميس', 'الجمعة', 'السبت',
    'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december', 'st', 'nd', 'rd', 'th']
    .map((w) => n(w)),
);

/** Phrases as token arrays, indexed by their first token: one Map lookup per paragraph. */
class PhraseSet {
  private byFirst = new Map<string, string[][]>();
  constructor(phrases: string[]) {
    for (const ph of phrases) {
      const toks = ph.split(' ').filter(Boolean);
      if (!toks.length) continue;
      // ruleFlags has only the first RULE_TOKENS tokens of a long paragraph.
      if (toks.length > RULE_TOKENS) throw new Error(`boilerplate phrase longer than ${RULE_TOKENS} tokens: ${ph}`);
      const list = this.byFirst.get(toks[0]) ?? [];
      list.push(toks);
      this.byFirst.set(toks[0], list);
    }
  }

  /** Does `tokens` start with one of the phrases? */
  startsOne(tokens: string[]): boolean {
    for (const p of this.byFirst.get(tokens[0]) ?? []) {
      if (p.length > tokens.length) continue;
      let ok = true;
      for (let i = 1; i < p.length && ok; i++) ok = tokens[i] === p[i];
      if (ok) return true;
    }
    return false;
  }

  /** Is `tokens` exactly one of the phrases? */
  isOne(tokens: string[]): boolean {
    return (this.byFirst.get(tokens[0]) ?? []).some((p) => p.length === tokens.length && p.every((w, i) => tokens[i] === w));
  }
}

const MARKERS = new PhraseSet(LIST_MARKERS);
const FURNITURE = new PhraseSet(LINE_FURNITURE);
const CREDIT_STARTS = new PhraseSet([n('المصدر'), n('نقلا عن')]);
const DATELINE_STARTS = new PhraseSet([n('تاريخ النشر'), n('آخر تحديث'), n('تم النشر')]);

const isNumber = (t: string): boolean => /^\d+$/.test(t);

/**
 * Flag paragraphs by rule. `paragraphs` are the original texts, `heads` their normalized tokens: all of
 * them, or the first RULE_TOKENS when `counts` (the number of tokens) says there are more. Returns a kind
 * per paragraph, or null for content.
 */
export function ruleFlags(paragraphs: string[], heads: string[][], counts: number[] = heads.map((h) => h.length)): Array<BoilerplateKind | null> {
  const out: Array<BoilerplateKind | null> = new Array(paragraphs.length).fill(null);
  let inList = false;
  for (let i = 0; i < paragraphs.length; i++) {
    const raw = paragraphs[i];
    const t = heads[i];
    const count = counts[i];
    if (count > t.length && t.length < RULE_TOKENS) throw new Error(`ruleFlags: paragraph ${i} has ${count} tokens, but only ${t.length} were given`);
    if (MARKERS.startsOne(t)) {
      out[i] = 'marker';
      inList = true;
      continue;
    }
    // Headlines listed after a marker: short, bulleted or unpunctuated lines.
    if (inList) {
      const headline = count > 0 && count <= 25 && !/[.!؟?:]\s*$/u.test(raw.trim());
      if (headline || /^\s*[•·▪●◦*\-–]\s*/u.test(raw)) {
        out[i] = 'related';
        continue;
      }
      inList = false;
    }
    if (/pic\.twitter\.com|twitter\.com\/|t\.co\/|instagram\.com\/p\//iu.test(raw) || /^\s*[—–-]\s*.{0,80}\(@\w+\)/u.test(raw)) {
      out[i] = 'embed';
      continue;
    }
    if (count === 0) {
      out[i] = 'share';
      continue;
    }
    if ((count === t.length && FURNITURE.isOne(t)) || (count <= 4 && FURNITURE.startsOne(t))) {
      out[i] = 'share';
      continue;
    }
    if (count <= SHARE_LINE_MAX_TOKENS && t.every((w) => SHARE_WORDS.has(w))) {
      out[i] = 'share';
      continue;
    }
    if (CREDIT_STARTS.startsOne(t) && count <= 10) {
      out[i] = 'credit';
      continue;
    }
    if (DATELINE_STARTS.startsOne(t)) {
      out[i] = 'dateline';
      continue;
    }
    // A dateline or agency tag standing alone: "الرياض - واس", "المناطق _ متابعات", "(وام)".
    if (count <= 5) {
      const tagLike = t.every((w) => isNumber(w) || MONTHS.has(w) || TAG_WORDS.has(w)) ||
        agenciesInTokens(t).length > 0 || t.some((w) => TAG_WORDS.has(w));
      if (tagLike) {
        out[i] = 'dateline';
        continue;
      }
    }
  }
  return out;
}

/**
 * Outlet templates learned from the corpus: counts of each paragraph's
 * normalized hash per outlet and overall. Paragraph hashes are supplied by the
 * caller (it already hashes tokens), so this stays a plain counter.
 */
export class TemplateProfile {
  /**
   * outlet -> paragraph hash -> the first title hash it was seen under, and for the paragraphs seen under two
   * titles or more (the few that may be templates), the set of them. Typed maps: a night against 1M indexed
   * counts millions of paragraphs, which as JavaScript Maps of boxed numbers were some 100 MB.
   */
  private perOutlet = new Map<string, { first: HashMap32; more: Map<number, Set<number>> }>();
  private overall = new HashMap32();

  /**
   * Count one article's distinct paragraph hashes. Counting distinct titles,
   * not articles, keeps an outlet that re-posts one story (same title) from
   * turning that story's paragraphs into its "template".
   */
  add(outlet: string, titleHash: number, paragraphHashes: Iterable<number>): void {
    for (const h of new Set(paragraphHashes)) this.addParagraph(outlet, titleHash, h);
  }

  /** Count one paragraph hash seen in an article of the outlet under this title (the index's rows come one by one). */
  addParagraph(outlet: string, titleHash: number, h: number): void {
    let m = this.perOutlet.get(outlet);
    if (!m) this.perOutlet.set(outlet, (m = { first: new HashMap32(), more: new Map() }));
    const seen = m.first.get(h);
    if (seen === undefined) m.first.set(h, titleHash);
    else if (seen !== titleHash >>> 0) {
      const titles = m.more.get(h);
      if (titles) titles.add(titleHash >>> 0);
      else m.more.set(h, new Set([seen, titleHash >>> 0]));
    }
    this.overall.set(h, (this.overall.get(h) ?? 0) + 1);
  }

  private outletCount(outlet: string, hash: number): number {
    const m = this.perOutlet.get(outlet);
    if (!m || m.first.get(hash) === undefined) return 0;
    return m.more.get(hash)?.size ?? 1;
  }

  /**
   * A template of the outlet, or (short paragraphs only) furniture seen across
   * many outlets. Long cross-outlet repeats are syndicated reporting, not furniture.
   */
  isTemplate(outlet: string, hash: number, tokenCount: number, outletMin: number, crossMin: number, shortTokens: number): boolean {
    if (this.outletCount(outlet, hash) >= outletMin) return true;
    return tokenCount < shortTokens && (this.overall.get(hash) ?? 0) >= crossMin;
  }

  /** Forget everything counted (the counts of a large night are large; a caller done with them lets them go). */
  clear(): void {
    this.perOutlet.clear();
    this.overall = new HashMap32();
  }

  /** Templates per outlet, most frequent first (for the report). */
  templates(outletMin: number): Array<{ outlet: string; hash: number; count: number }> {
    const out: Array<{ outlet: string; hash: number; count: number }> = [];
    for (const [outlet, m] of this.perOutlet) {
      for (const h of m.first.keysOf()) {
        const count = this.outletCount(outlet, h);
        if (count >= outletMin) out.push({ outlet, hash: h, count });
      }
    }
    return out.sort((a, b) => b.count - a.count || (a.outlet < b.outlet ? -1 : a.outlet > b.outlet ? 1 : a.hash - b.hash));
  }
}
