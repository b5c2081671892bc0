/**
 * The wire-agency lexicon, and credit-line extraction. Names are matched on
 * normalized text (so أ/ا and ة/ه spellings all match). Each agency lists the
 * outlet ids under which its own articles arrive (SPA's site is `was`).
 * Short names that are also common words (بنا "with us", العمانية "Omani")
 * are deliberately left out: they would name agencies that are not there.
 */
import { normalizeText } from '../text/normalize.js';
import { HashFilter, type TokenHasher } from '../sketch/hash.js';

export interface Agency {
  code: string;
  name: string;
  /** Arabic and Latin names as written in articles; matched as whole-word phrases after normalization. */
  names: string[];
  /** Outlet ids that publish this agency's own wire. */
  outlets: string[];
}

export const AGENCIES: Agency[] = [
  { code: 'KCNA', name: 'Korean Central News Agency', names: ['وكالة الأنباء المركزية الكورية', 'وكالة الأنباء الكورية المركزية', 'وكالة الأنباء المركزية الكورية الشمالية', 'وكالة الأنباء الكورية الشمالية', 'KCNA'], outlets: ['kcna'] },
  { code: 'SPA', name: 'Saudi Press Agency', names: ['واس', 'وكالة الأنباء السعودية', 'SPA'], outlets: ['was', 'spa'] },
  { code: 'Reuters', name: 'Reuters', names: ['رويترز', 'Reuters'], outlets: ['reuters'] },
  { code: 'AFP', name: 'Agence France-Presse', names: ['فرانس برس', 'فرانس بريس', 'أ ف ب', 'أ.ف.ب', 'AFP'], outlets: ['afp'] },
  { code: 'AP', name: 'Associated Press', names: ['أسوشيتد برس', 'أسوشييتد برس', 'اسوشيتدبرس', 'أ ب'], outlets: ['ap'] },
  { code: 'Anadolu', name: 'Anadolu Agency', names: ['الأناضول', 'وكالة الأناضول'], outlets: ['aa', 'anadolu'] },
  { code: 'Sputnik', name: 'Sputnik', names: ['سبوتنيك', 'Sputnik'], outlets: ['sputnik'] },
  { code: 'RIA', name: 'RIA Novosti', names: ['ريا نوفوستي', 'نوفوستي'], outlets: ['ria'] },
  { code: 'TASS', name: 'TASS', names: ['تاس', 'إيتار تاس', 'TASS'], outlets: ['tass'] },
  { code: 'Interfax', name: 'Interfax', names: ['إنترفاكس', 'انترفاكس', 'Interfax'], outlets: ['interfax'] },
  { code: 'WAM', name: 'Emirates News Agency', names: ['وام', 'وكالة أنباء الإمارات'], outlets: ['wam'] },
  { code: 'QNA', name: 'Qatar News Agency', names: ['قنا', 'وكالة الأنباء القطرية'], outlets: ['qna'] },
  { code: 'KUNA', name: 'Kuwait News Agency', names: ['كونا', 'وكالة الأنباء الكويتية'], outlets: ['kuna'] },
  { code: 'MENA', name: 'Middle East News Agency', names: ['أ ش أ', 'أ.ش.أ', 'وكالة أنباء الشرق الأوسط'], outlets: ['mena'] },
  { code: 'SANA', name: 'Syrian Arab News Agency', names: ['سانا', 'الوكالة العربية السورية للأنباء'], outlets: ['sana'] },
  { code: 'Petra', name: 'Jordan News Agency', names: ['بترا', 'وكالة الأنباء الأردنية'], outlets: ['petra'] },
  { code: 'BNA', name: 'Bahrain News Agency', names: ['وكالة أنباء البحرين'], outlets: ['bna'] },
  { code: 'ONA', name: 'Oman News Agency', names: ['وكالة الأنباء العمانية'], outlets: ['ona'] },
  { code: 'DPA', name: 'Deutsche Presse-Agentur', names: ['د ب أ', 'د.ب.أ', 'الوكالة الألمانية'], outlets: ['dpa'] },
];

interface CompiledName {
  agency: Agency;
  tokens: string[];
}

/** One-letter proclitics a name may carry: و, ب, ل, ف. */
const PROCLITICS = ['و', 'ب', 'ل', 'ف'];

/** Compiled names indexed by their first normalized token, for one pass over a text. */
const BY_FIRST_TOKEN = new Map<string, CompiledName[]>();
for (const agency of AGENCIES) {
  for (const name of agency.names) {
    const tokens = normalizeText(name).split(' ').filter(Boolean);
    const list = BY_FIRST_TOKEN.get(tokens[0]) ?? [];
    list.push({ agency, tokens });
    BY_FIRST_TOKEN.set(tokens[0], list);
  }
}

/** The lexicon's names as token hashes under one hasher, with the proclitic forms of each first token. */
const hashedBySeed = new Map<number, Map<number, Array<{ agency: Agency; tokens: Uint32Array }>>>();
/** Per seed, the first tokens' hashes: most tokens are none and stop here. */
const firstBySeed = new Map<number, HashFilter>();

function hashedNames(hasher: TokenHasher): Map<number, Array<{ agency: Agency; tokens: Uint32Array }>> {
  let byFirst = hashedBySeed.get(hasher.seed);
  if (byFirst) return byFirst;
  byFirst = new Map();
  const hashed = (list: CompiledName[]): Array<{ agency: Agency; tokens: Uint32Array }> => list.map((c) => ({ agency: c.agency, tokens: hasher.hashAll(c.tokens) }));
  for (const [first, list] of BY_FIRST_TOKEN) byFirst.set(hasher.hash(first), hashed(list));
  // "ورويترز" finds Reuters as agenciesInTokens does: a proclitic form counts only when it is not itself a first token.
  for (const [first, list] of BY_FIRST_TOKEN) {
    for (const p of PROCLITICS) {
      const h = hasher.hash(p + first);
      if (!byFirst.has(h) && !BY_FIRST_TOKEN.has(p + first)) byFirst.set(h, hashed(list));
    }
  }
  hashedBySeed.set(hasher.seed, byFirst);
  firstBySeed.set(hasher.seed, new HashFilter(byFirst.keys()));
  return byFirst;
}

/** Names found in a sequence: `candidatesAt(i)` lists the names whose first token matches at i. */
function scanNames<T>(seq: ArrayLike<T>, candidatesAt: (i: number) => Array<{ agency: Agency; tokens: ArrayLike<T> }> | undefined): string[] {
  const found = new Set<string>();
  for (let i = 0; i < seq.length; i++) {
    const candidates = candidatesAt(i);
    if (candidates === undefined) continue;
    for (const c of candidates) {
      if (found.has(c.agency.code) || i + c.tokens.length > seq.length) continue;
      let ok = true;
      for (let k = 1; k < c.tokens.length; k++) if (seq[i + k] !== c.tokens[k]) ok = false;
      if (ok) found.add(c.agency.code);
    }
  }
  return AGENCIES.filter((a) => found.has(a.code)).map((a) => a.code);
}

/**
 * agenciesInTokens on token hashes (from `hasher`), for the analysis hot path: one integer Map lookup
 * per token instead of string lookups and a regular expression.
 */
export function agenciesInHashes(hashes: Uint32Array, hasher: TokenHasher): string[] {
  const byFirst = hashedNames(hasher);
  const first = firstBySeed.get(hasher.seed) as HashFilter;
  return scanNames(hashes, (i) => (first.mayHave(hashes[i]) ? byFirst.get(hashes[i]) : undefined));
}

/** Agency codes named in a token sequence (normalized tokens), in lexicon order, each once. */
export function agenciesInTokens(tokens: string[]): string[] {
  // A name may carry a one-letter proclitic: ورويترز, لوكالة, بحسب "وواس".
  return scanNames(tokens, (i) => BY_FIRST_TOKEN.get(tokens[i]) ?? (PROCLITICS.includes(tokens[i][0]) ? BY_FIRST_TOKEN.get(tokens[i].slice(1)) : undefined));
}

export function agencyOfOutlet(outlet: string): Agency | undefined {
  const o = outlet.toLowerCase();
  return AGENCIES.find((a) => a.outlets.includes(o));
}

/**
 * Credit lines: "المصدر: …", "نقلاً عن …", "(واس)", "المصدر - …", "بحسب وكالة …" at paragraph level. Each
 * pattern comes with a plain substring test that every match implies, so that the few paragraphs that can
 * match are the only ones searched (the unanchored patterns cost a scan from every position). The three
 * bracket patterns share theirs: one scan of the paragraph for all three.
 */
const CREDIT_PATTERNS: Array<{ re: RegExp; may: (p: string) => boolean }> = [
  { re: /(?:^|\s)(?:المصدر|المصادر|مصدر الخبر)\s*[:：\-–—]\s*[^\n]{1,80}/u, may: (p) => p.includes('مصدر') || p.includes('مصادر') },
  { re: /نقلا?ً?\s+عن\s+[^\n.،]{1,60}/u, may: (p) => p.includes('نقل') },
];
const BRACKET_PATTERNS: RegExp[] = [
  /\((?:[^()\n]{1,30})\)\s*$/u,
  /^\s*\((?:[^()\n]{1,30})\)/u,
  // A dateline tag: "الرياض (واس) -" or "النخيلة (ونا) —" at the start of a paragraph.
  /^\s*[^\s()]{2,20}(?:\s[^\s()]{2,20})?\s*\([^()\n]{1,20}\)\s*[-–—]/u,
];

/** Credit lines found in a paragraph of original text, as written (trimmed). */
export function creditLines(paragraph: string): string[] {
  const out: string[] = [];
  for (const { re, may } of CREDIT_PATTERNS) if (may(paragraph)) creditLine(re.exec(paragraph), out);
  if (paragraph.includes('(')) for (const re of BRACKET_PATTERNS) creditLine(re.exec(paragraph), out);
  return out;
}

/** Add a pattern's match to `out` when it is a credit. */
function creditLine(m: RegExpExecArray | null, out: string[]): void {
  if (!m) return;
  const s = m[0].trim();
  // A parenthesised tag only counts when it names an agency or a source word (not every bracket is a credit).
  if ((s.startsWith('(') || s.endsWith(')')) && !/[-–—]$/u.test(s)) {
    const toks = normalizeText(s).split(' ');
    if (agenciesInTokens(toks).length === 0 && !/وكال|متابعات|خاص/u.test(s)) return;
  }
  out.push(s);
}
