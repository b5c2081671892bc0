/**
 * Arabic normalization for comparison, and tokenization that keeps offsets
 * into the original text (people read the original; machines compare the
 * normalized form).
 *
 * Every BMP code point is mapped, through a table for the options that learns
 * each character the first time a text holds it, to zero or more output
 * characters. NFKC is applied per character: Arabic
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

/** A character class not looked up yet (see charClass). */
const UNSEEN = 255;
/** Character classes of the BMP, learned on first sight: 1 word, 2 punctuation/symbol, 0 other. */
const charClasses = new Uint8Array(65536).fill(UNSEEN);

function charClass(c: number): number {
  let k = charClasses[c];
  if (k === UNSEEN) {
    const s = String.fromCharCode(c);
    k = c >= 0xd800 && c <= 0xdfff ? 0 : WORD_RE.test(s) ? 1 : PUNCT_RE.test(s) ? 2 : 0;
    charClasses[c] = k;
  }
  return k;
}

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
  /** -1 unchanged, -2 deleted, >= 0 a single replacement code unit, -3 see `multi` (valid once learned). */
  single: Int32Array;
  /**
   * What the scan needs in one load: -1 a word character kept as it is (most of a text), >= 0 one replaced
   * by a word character (a fold: أ -> ا), -2 deleted, -5 a character that only ends a word (space, newline,
   * punctuation when it is removed); -6 anything else (kept punctuation, surrogates, expansions, replacements
   * that are not word characters), which the scan looks up in `single` and `multi`; LEARN for a character
   * not seen yet.
   */
  scan: Int32Array;
  multi: Map<number, string>;
  options: NormalizeOptions;
}

/**
 * A character the table has not learned yet. Each character's entries are learned the first time a text
 * holds it (learn): a news night uses a few hundred distinct characters, and building the whole table up
 * front (65,536 normalizations, then compiled as it ran) had cost every thread that tokenizes some 40 ms
 * of CPU as it started, the workers' start being what the first batch waited for.
 */
const LEARN = -7;

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
  const t = { single: new Int32Array(65536).fill(-1), scan: new Int32Array(65536).fill(LEARN), multi: new Map<number, string>(), options: o };
  tableCache.set(key, t);
  tableByObject.set(o, t);
  return t;
}

/** Learn character c's entries: its normalization (NFKC, then the folds), and what the scan does with it. */
function learn(t: Table, c: number): void {
  const o = t.options;
  if (c >= 0xd800 && c <= 0xdfff) {
    // Surrogates: the scan's character-by-character path decides (astral letters and digits join words).
    t.scan[c] = -6;
    return;
  }
  const ch = String.fromCharCode(c);
  let s = o.nfkc ? ch.normalize('NFKC') : ch;
  // Folds apply to NFKC's output (a presentation-form hamza still folds to ا);
  // NFKC may lowercase nothing, so lowercasing after it is safe.
  let out = '';
  for (const part of s) out += part.length === 1 ? foldChar(part, o) : part;
  s = out;
  let m = -1;
  if (s !== ch) {
    if (s.length === 0) m = -2;
    else if (s.length === 1) m = s.charCodeAt(0);
    else {
      m = -3;
      t.multi.set(c, s);
    }
  }
  t.single[c] = m;
  const keepPunct = !o.remove_punctuation;
  if (m === -1) t.scan[c] = charClass(c) === 1 ? -1 : charClass(c) === 2 && keepPunct ? -6 : -5;
  else if (m >= 0) t.scan[c] = charClass(m) === 1 ? m : -6;
  else t.scan[c] = m === -2 ? -2 : -6;
}

/** Every character's entries learned at once (for tests comparing tables). */
export function learnAll(o: NormalizeOptions = DEFAULT_NORMALIZE): { single: Int32Array; scan: Int32Array; multi: Map<number, string> } {
  const t = tableFor(o);
  for (let c = 0; c < 65536; c++) if (t.scan[c] === LEARN) learn(t, c);
  return t;
}

/** Tokens of a text: normalized strings with [start, end) offsets in the original. */
export interface Tokens {
  tokens: string[];
  starts: Int32Array;
  ends: Int32Array;
}

/**
 * The tokens of one span of text as their normalized code units, back to back, with offsets: what
 * `scanTokens` fills. No string is made per token: the analysis hashes the code units where they are, and
 * asks for the few strings its rules read (`string`). One run is reused from span to span.
 */
export class TokenRun {
  count = 0;
  /** Token k's normalized code units are codes[codeStart(k), codeEnds[k]). */
  codes: Uint16Array = new Uint16Array(1024);
  codeEnds: Int32Array = new Int32Array(256);
  /** Token k covers text[starts[k], ends[k]) of the original (deleted marks inside and at its end included). */
  starts: Int32Array = new Int32Array(256);
  ends: Int32Array = new Int32Array(256);
  /** 1 when the token is the original text[starts[k], ends[k]) unchanged (its string is a slice of it). */
  same: Uint8Array = new Uint8Array(256);

  codeStart(k: number): number {
    return k === 0 ? 0 : this.codeEnds[k - 1];
  }

  /** Token k as a string (`text` is the one scanned). */
  string(text: string, k: number): string {
    return this.same[k] === 1 ? text.slice(this.starts[k], this.ends[k]) : fromCodes(this.codes, this.codeStart(k), this.codeEnds[k]);
  }

  /** Whether token k starts with an ASCII digit (digits of every script are folded to those by default). */
  digitFirst(k: number): boolean {
    const c = this.codes[this.codeStart(k)];
    return c >= 48 && c <= 57;
  }

  /** Token k: its code units end at codeEnd, it covers text[start, end), unchanged or not. */
  setToken(k: number, codeEnd: number, start: number, end: number, same: boolean): void {
    this.codeEnds[k] = codeEnd;
    this.starts[k] = start;
    this.ends[k] = end;
    this.same[k] = same ? 1 : 0;
  }

  /** Room for at least `tokens` tokens and `units` code units (what is there is kept). */
  reserve(tokens: number, units: number): void {
    if (this.codes.length < units) {
      const codes = new Uint16Array(2 * units);
      codes.set(this.codes);
      this.codes = codes;
    }
    if (this.codeEnds.length >= tokens) return;
    const n = 2 * tokens;
    const more = <T extends Int32Array | Uint8Array>(a: T, b: T): T => (b.set(a), b);
    this.codeEnds = more(this.codeEnds, new Int32Array(n));
    this.starts = more(this.starts, new Int32Array(n));
    this.ends = more(this.ends, new Int32Array(n));
    this.same = more(this.same, new Uint8Array(n));
  }
}

/**
 * Normalize and split `text.slice(from, to)` into word tokens (Unicode letters, marks and digits), into
 * `run`. Deleted characters (diacritics, tatweel, controls) never split a word; everything else that is
 * not a word character does (and is a token of its own when punctuation is kept).
 */
export function scanTokens(text: string, o: NormalizeOptions, from: number, to: number, run: TokenRun): void {
  const table = tableFor(o);
  const { scan, single, multi } = table;
  const keepPunct = !o.remove_punctuation;
  // Room for a code unit and a token per character; a character that makes more (an expansion, kept
  // punctuation) makes room for itself.
  run.reserve(to - from + 1, to - from);
  let codes = run.codes;
  // The run's arrays in locals (reloaded when they grow), and the current token: its code units from
  // codes[tokCodes], its span, and whether it is the text unchanged.
  let { codeEnds, starts, ends, same: sameAt } = run;
  let count = 0;
  let w = 0;
  let tokCodes = 0;
  let tokStart = -1;
  let tokEnd = -1;
  let same = true;
  let i = from;
  for (;;) {
    // The common characters, in a loop with no call in it: V8 then checks the string's layout once, outside
    // the loop (a call, even one never made, costs it 1.7x, measured). So appending to the token and
    // ending it are written out here.
    for (; i < to; i++) {
      const c = text.charCodeAt(i);
      const m = scan[c];
      if (m === -1) {
        if (tokStart < 0) {
          tokStart = i;
          same = true;
        } else if (tokEnd !== i) same = false;
        codes[w++] = c;
        tokEnd = i + 1;
      } else if (m >= 0) {
        if (tokStart < 0) tokStart = i;
        same = false;
        codes[w++] = m;
        tokEnd = i + 1;
      } else if (m === -5) {
        if (w > tokCodes) {
          codeEnds[count] = w;
          starts[count] = tokStart;
          ends[count] = tokEnd;
          sameAt[count] = same ? 1 : 0;
          count++;
          tokCodes = w;
        }
        same = true;
        tokStart = -1;
      } else if (m === -2) {
        // Deleted: joins the surrounding word; extends its end so highlights cover the mark.
        if (tokStart >= 0) {
          tokEnd = i + 1;
          same = false;
        }
      } else break;
    }
    if (i >= to) break;
    // The rest, one character at a time; a character seen for the first time is learned, then scanned again.
    const c = text.charCodeAt(i);
    if (scan[c] === LEARN) {
      learn(table, c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < to && /[\p{L}\p{N}]/u.test(String.fromCodePoint(text.codePointAt(i) ?? c))) {
      // Astral letter or digit (rare scripts): a word character, both its units.
      if (tokStart < 0) {
        tokStart = i;
        same = true;
      } else if (tokEnd !== i) same = false;
      codes[w++] = c;
      codes[w++] = text.charCodeAt(i + 1);
      tokEnd = i + 2;
      i += 2;
      continue;
    }
    // Any other astral character or lone surrogate ends a word; otherwise the character's normalized code
    // units (itself kept, one replacement, or an expansion), each joining the token or ending it, and then
    // a token of its own if it is kept punctuation.
    const astral = c >= 0xd800 && c <= 0xdbff && i + 1 < to;
    const m = c >= 0xd800 && c <= 0xdfff ? -5 : single[c];
    const units = m === -1 ? String.fromCharCode(c) : m >= 0 ? String.fromCharCode(m) : m === -3 ? (multi.get(c) as string) : ' ';
    run.reserve(count + 2 * units.length + (to - i) + 1, w + units.length + (to - i));
    ({ codes, codeEnds, starts, ends, same: sameAt } = run);
    for (let k = 0; k < units.length; k++) {
      const code = units.charCodeAt(k);
      const cls = m === -5 ? 0 : charClass(code);
      if (cls === 1) {
        if (tokStart < 0) {
          tokStart = i;
          same = m === -1;
        } else if (m !== -1 || tokEnd !== i) same = false;
        codes[w++] = code;
        tokEnd = i + 1;
        continue;
      }
      // A break; kept punctuation is then a token of its own (the loop goes round twice for it).
      for (let pass = cls === 2 && keepPunct ? 0 : 1; pass < 2; pass++) {
        if (w > tokCodes) run.setToken(count++, (tokCodes = w), tokStart, tokEnd, same);
        same = true;
        tokStart = -1;
        if (pass === 0) {
          tokStart = i;
          same = false;
          codes[w++] = code;
          tokEnd = i + 1;
        }
      }
    }
    i += astral ? 2 : 1;
  }
  if (w > tokCodes) run.setToken(count++, w, tokStart, tokEnd, same);
  run.count = count;
}

/** A run for the one-off callers of `tokenize` (tokenizing is single-threaded per isolate). */
const sharedRun = new TokenRun();

/** The tokens of `text.slice(from, to)` as strings (see scanTokens). */
export function tokenize(text: string, o: NormalizeOptions = DEFAULT_NORMALIZE, from = 0, to = text.length): Tokens {
  scanTokens(text, o, from, to, sharedRun);
  const n = sharedRun.count;
  const tokens = new Array<string>(n);
  for (let k = 0; k < n; k++) tokens[k] = sharedRun.string(text, k);
  return { tokens, starts: sharedRun.starts.slice(0, n), ends: sharedRun.ends.slice(0, n) };
}

/** The string of code units buf[from, to). */
function fromCodes(buf: Uint16Array, from: number, to: number): string {
  // Most words are short: one call with the code units as arguments makes one string, where appending
  // them one by one made a string per letter, and apply() pays for its array (tokenize 10% faster).
  const b = from;
  switch (to - from) {
    case 1:
      return String.fromCharCode(buf[b]);
    case 2:
      return String.fromCharCode(buf[b], buf[b + 1]);
    case 3:
      return String.fromCharCode(buf[b], buf[b + 1], buf[b + 2]);
    case 4:
      return String.fromCharCode(buf[b], buf[b + 1], buf[b + 2], buf[b + 3]);
    case 5:
      return String.fromCharCode(buf[b], buf[b + 1], buf[b + 2], buf[b + 3], buf[b + 4]);
    case 6:
      return String.fromCharCode(buf[b], buf[b + 1], buf[b + 2], buf[b + 3], buf[b + 4], buf[b + 5]);
    case 7:
      return String.fromCharCode(buf[b], buf[b + 1], buf[b + 2], buf[b + 3], buf[b + 4], buf[b + 5], buf[b + 6]);
    case 8:
      return String.fromCharCode(buf[b], buf[b + 1], buf[b + 2], buf[b + 3], buf[b + 4], buf[b + 5], buf[b + 6], buf[b + 7]);
    default:
      return String.fromCharCode.apply(null, buf.subarray(from, to) as unknown as number[]);
  }
}

/** The normalized form of a text as space-separated tokens (for search and display keys). */
export function normalizeText(text: string, o: NormalizeOptions = DEFAULT_NORMALIZE): string {
  return tokenize(text, o).tokens.join(' ');
}

const ARABIC_LETTER = /\p{Script=Arabic}/u;
const ANY_LETTER = /\p{L}/u;
/**
 * What each code unit counts for in arabicLetterShare, learned from the Unicode tables on first sight
 * (UNKNOWN until then): IS_LETTER and IS_ARABIC are 0 or 1 so that a text is counted without a branch.
 * The two common ranges are set here: U+0621..U+064A counts as Arabic (tatweel, U+0640, included, though
 * the tables give it no script) and ASCII letters as other letters. Surrogates stay unknown: an astral
 * character is two code units, asked about as one each time.
 */
const IS_LETTER = new Uint8Array(65536);
const IS_ARABIC = new Uint8Array(65536);
const UNKNOWN = new Uint8Array(65536).fill(1);
IS_LETTER.fill(1, 0x0621, 0x064b);
IS_ARABIC.fill(1, 0x0621, 0x064b);
IS_LETTER.fill(1, 0x41, 0x5b);
IS_LETTER.fill(1, 0x61, 0x7b);
UNKNOWN.fill(0, 0, 0x80);
UNKNOWN.fill(0, 0x0621, 0x064b);

/** Share of the letters in `text` that are Arabic script (1 when there are no letters at all is avoided: 0). */
export function arabicLetterShare(text: string): number {
  // Counted with the tables; a text with a character they do not know yet is counted again, character by
  // character, teaching them (after the first few texts, nearly every text is done in the first loop).
  let letters = 0;
  let arabic = 0;
  let unknown = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    letters += IS_LETTER[c];
    arabic += IS_ARABIC[c];
    unknown += UNKNOWN[c];
  }
  return unknown === 0 ? share(arabic, letters) : arabicLetterShareSlowly(text);
}

function share(arabic: number, letters: number): number {
  return letters === 0 ? 0 : arabic / letters;
}

function arabicLetterShareSlowly(text: string): number {
  let letters = 0;
  let arabic = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (UNKNOWN[c] === 0) {
      letters += IS_LETTER[c];
      arabic += IS_ARABIC[c];
      continue;
    }
    const next = text.charCodeAt(i + 1);
    const astral = c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    const lone = !astral && c >= 0xd800 && c <= 0xdfff;
    const ch = astral ? text.slice(i, i + 2) : text[i];
    const letter = !lone && ANY_LETTER.test(ch);
    const isArabic = letter && ARABIC_LETTER.test(ch);
    if (letter) letters++;
    if (isArabic) arabic++;
    if (astral) i++;
    else if (!lone) {
      IS_LETTER[c] = letter ? 1 : 0;
      IS_ARABIC[c] = isArabic ? 1 : 0;
      UNKNOWN[c] = 0;
    }
  }
  return share(arabic, letters);
}
