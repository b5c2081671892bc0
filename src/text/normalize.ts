/**
 * Arabic normalization for comparison, and tokenization that keeps offsets
 * into the original text (people read the original; machines compare the
 * normalized form).
 *
 * Every BMP code point is mapped once, through a table built from the options,
 * to zero or more output characters. NFKC is applied per character: Arabic
 * compositions it could make across characters (ا + U+0654 -> أ) are erased by
 * the alef fold and the diacritic strip anyway, so the result equals
 * whole-string NFKC followed by the folds for every text we compare.
 */
export interface NormalizeOptions {
  nfkc: boolean;
  strip_diacritics: boolean;
  strip_tatweel: boolean;
  fold_alef: boolean;
  fold_alef_maqsura: boolean;
  fold_teh_marbuta: boolean;
  fold_persian: boolean;
  fold_digits: boolean;
  remove_controls: boolean;
  remove_punctuation: boolean;
  lowercase_latin: boolean;
}

export const DEFAULT_NORMALIZE: NormalizeOptions = {
  nfkc: true,
  strip_diacritics: true,
  strip_tatweel: true,
  fold_alef: true,
  fold_alef_maqsura: true,
  fold_teh_marbuta: true,
  fold_persian: true,
  fold_digits: true,
  remove_controls: true,
  remove_punctuation: true,
  lowercase_latin: true,
};

const WORD_RE = /^[\p{L}\p{M}\p{N}]$/u;
const PUNCT_RE = /^[\p{P}\p{S}]$/u;
// Zero-width and bidi controls: ZWSP..RLM, LRE..RLO, word joiner.., LRI..PDI, BOM, Arabic letter mark.
const CONTROL_RE = /^[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u061C\u00AD]$/u;

/** Character classes of the BMP after normalization: 1 word, 2 punctuation/symbol, 0 other. */
const CHAR_CLASS = (() => {
  const cls = new Uint8Array(65536);
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const s = String.fromCharCode(c);
    if (WORD_RE.test(s)) cls[c] = 1;
    else if (PUNCT_RE.test(s)) cls[c] = 2;
  }
  return cls;
})();

function foldChar(ch: string, o: NormalizeOptions): string {
  const c = ch.charCodeAt(0);
  if (o.strip_diacritics && ((c >= 0x064b && c <= 0x065f) || c === 0x0670)) return '';
  if (o.strip_tatweel && c === 0x0640) return '';
  if (o.remove_controls && CONTROL_RE.test(ch)) return '';
  if (o.fold_alef && (c === 0x0623 || c === 0x0625 || c === 0x0622 || c === 0x0671)) return '\u0627';
  if (o.fold_alef_maqsura && c === 0x0649) return '\u064A';
  if (o.fold_teh_marbuta && c === 0x0629) return '\u0647';
  if (o.fold_persian && c === 0x06cc) return '\u064A';
  if (o.fold_persian && c === 0x06a9) return '\u0643';
  if (o.fold_digits && c >= 0x0660 && c <= 0x0669) return String.fromCharCode(0x30 + c - 0x0660);
  if (o.fold_digits && c >= 0x06f0 && c <= 0x06f9) return String.fromCharCode(0x30 + c - 0x06f0);
  if (o.lowercase_latin && c >= 0x41 && c <= 0x5a) return String.fromCharCode(c + 32);
  return ch;
}

interface Table {
  /** -1 unchanged, -2 deleted, >= 0 a single replacement code unit, -3 see `multi`. */
  single: Int32Array;
  multi: Map<number, string>;
  options: NormalizeOptions;
}

const tableCache = new Map<string, Table>();
const tableByObject = new WeakMap<NormalizeOptions, Table>();

function tableFor(o: NormalizeOptions): Table {
  // Options objects are reused for every call: look up by identity first, by value second.
  const byObject = tableByObject.get(o);
  if (byObject) return byObject;
  const key = JSON.stringify(o);
  const cached = tableCache.get(key);
  if (cached) {
    tableByObject.set(o, cached);
    return cached;
  }
  const single = new Int32Array(65536).fill(-1);
  const multi = new Map<number, string>();
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCharCode(c);
    let s = o.nfkc ? ch.normalize('NFKC') : ch;
    // Folds apply to NFKC's output (a presentation-form hamza still folds to ا);
    // NFKC may lowercase nothing, so lowercasing after it is safe.
    let out = '';
    for (const part of s) out += part.length === 1 ? foldChar(part, o) : part;
    s = out;
    if (s === ch) continue;
    if (s.length === 0) single[c] = -2;
    else if (s.length === 1) single[c] = s.charCodeAt(0);
    else {
      single[c] = -3;
      multi.set(c, s);
    }
  }
  const t = { single, multi, options: o };
  tableCache.set(key, t);
  tableByObject.set(o, t);
  return t;
}

/** Tokens of a text: normalized strings with [start, end) offsets in the original. */
export interface Tokens {
  tokens: string[];
  starts: Int32Array;
  ends: Int32Array;
}

/**
 * Normalize and split `text.slice(from, to)` into word tokens (Unicode letters,
 * marks and digits). Deleted characters (diacritics, tatweel, controls) never
 * split a word; everything else that is not a word character does.
 */
export function tokenize(text: string, o: NormalizeOptions = DEFAULT_NORMALIZE, from = 0, to = text.length): Tokens {
  const { single, multi } = tableFor(o);
  const keepPunct = !o.remove_punctuation;
  const tokens: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  // The current word's code units. Most words come through normalization unchanged: those are taken as a
  // slice of the text (`same`), the rest are built from the scratch buffer.
  let buf = scratch;
  let len = 0;
  let same = true;
  let tokStart = -1;
  let tokEnd = -1;
  const flush = (): void => {
    if (len > 0) {
      tokens.push(same ? text.slice(tokStart, tokEnd) : fromCodes(buf, len));
      starts.push(tokStart);
      ends.push(tokEnd);
      len = 0;
    }
    same = true;
    tokStart = -1;
  };
  const push = (code: number, i: number, unchanged: boolean): void => {
    if (tokStart < 0) {
      tokStart = i;
      same = unchanged;
    } else if (!unchanged || tokEnd !== i) same = false;
    if (len === buf.length) buf = scratch = grow(buf);
    buf[len++] = code;
    tokEnd = i + 1;
  };
  const emit = (code: number, i: number, unchanged: boolean): void => {
    const cls = CHAR_CLASS[code];
    if (cls === 1) push(code, i, unchanged);
    else {
      flush();
      if (cls === 2 && keepPunct) {
        tokens.push(String.fromCharCode(code));
        starts.push(i);
        ends.push(i + 1);
      }
    }
  };
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      // Astral code point (emoji, rare scripts): a word character only if it is a letter or digit.
      const cp = text.codePointAt(i) ?? c;
      if (/[\p{L}\p{N}]/u.test(String.fromCodePoint(cp))) {
        push(c, i, true);
        push(text.charCodeAt(i + 1), i + 1, true);
      } else flush();
      i++;
      continue;
    }
    const m = single[c];
    if (m === -1) emit(c, i, true);
    else if (m === -2) {
      // Deleted: joins the surrounding word; extends its end so highlights cover the mark.
      if (tokStart >= 0) {
        tokEnd = i + 1;
        same = false;
      }
    } else if (m >= 0) emit(m, i, false);
    else {
      const s = multi.get(c) as string;
      for (let k = 0; k < s.length; k++) emit(s.charCodeAt(k), i, false);
    }
  }
  flush();
  // The array-like constructor, not .from(): .from walks the iterator protocol, several times slower.
  return { tokens, starts: new Int32Array(starts), ends: new Int32Array(ends) };
}

/** Scratch for the word being built (grown on demand, reused across calls: tokenizing is single-threaded per isolate). */
let scratch: Uint16Array = new Uint16Array(256);

function grow(a: Uint16Array): Uint16Array {
  const b = new Uint16Array(a.length * 2);
  b.set(a);
  return b;
}

function fromCodes(buf: Uint16Array, len: number): string {
  // Most words are short: one call with the code units as arguments makes one string, where appending
  // them one by one made a string per letter, and apply() pays for its array (tokenize 10% faster).
  switch (len) {
    case 1:
      return String.fromCharCode(buf[0]);
    case 2:
      return String.fromCharCode(buf[0], buf[1]);
    case 3:
      return String.fromCharCode(buf[0], buf[1], buf[2]);
    case 4:
      return String.fromCharCode(buf[0], buf[1], buf[2], buf[3]);
    case 5:
      return String.fromCharCode(buf[0], buf[1], buf[2], buf[3], buf[4]);
    case 6:
      return String.fromCharCode(buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]);
    case 7:
      return String.fromCharCode(buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6]);
    case 8:
      return String.fromCharCode(buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7]);
    default:
      return String.fromCharCode.apply(null, buf.subarray(0, len) as unknown as number[]);
  }
}

/** The normalized form of a text as space-separated tokens (for search and display keys). */
export function normalizeText(text: string, o: NormalizeOptions = DEFAULT_NORMALIZE): string {
  return tokenize(text, o).tokens.join(' ');
}

const ARABIC_LETTER = /\p{Script=Arabic}/u;
const ANY_LETTER = /\p{L}/u;

/** Share of the letters in `text` that are Arabic script (1 when there are no letters at all is avoided: 0). */
export function arabicLetterShare(text: string): number {
  let letters = 0;
  let arabic = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Fast paths for the two common ranges; anything else is asked of the Unicode tables.
    if (c >= 0x0621 && c <= 0x064a) {
      letters++;
      arabic++;
    } else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) letters++;
    else if (c > 0x7f) {
      const next = text.charCodeAt(i + 1);
      const astral = c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
      const ch = astral ? text.slice(i, i + 2) : text[i];
      if (astral) i++;
      if (ANY_LETTER.test(ch)) {
        letters++;
        if (ARABIC_LETTER.test(ch)) arabic++;
      }
    }
  }
  return letters === 0 ? 0 : arabic / letters;
}
