/**
 * Record validation: a RawRecord becomes an Article or a rejection with a
 * reason. Input fields other than the known ones are passed through untouched;
 * the passthrough object has no prototype, so keys such as "__proto__" or
 * "constructor" are plain data and pollute nothing.
 */
import { arabicLetterShare } from '../text/normalize.js';
import type { RawRecord, Rejection } from './read.js';
import type { SpillRef } from './spill.js';

/** Where an earlier night's article has its input line in the index: read back only when an output needs it. */
export interface StoredLine {
  /** Segment file name. */
  file: string;
  at: number;
  bytes: number;
}

export interface Article {
  /** Position in the night, after sorting; the index every later stage uses. */
  index: number;
  id: string;
  outlet: string;
  url: string;
  /** ISO timestamp, or null when missing or unparseable. */
  published_at: string | null;
  /** Milliseconds since the epoch, NaN when unknown. */
  time: number;
  /** True when only the day is known (a date without a time): it ties with any time that day. */
  dayPrecision: boolean;
  title: string;
  /**
   * Every input field, text included. Tonight's articles point at their JSON line among the night's kept
   * bytes (see Spill); an earlier night's article carries its line as the index kept it (or, from an index
   * written before lines were kept, its fields).
   */
  body: { fields: Record<string, unknown> } | { spill: SpillRef } | { line: Uint8Array } | { stored: StoredLine };
  /** sha256 of the fields' JSON: a re-sent article with any field changed is an update. Set when the run keeps an index. */
  contentHash?: string;
  source: { file: string; line: number };
}

export interface ValidationLimits {
  minArabicShare: number;
  maxRecordBytes: number;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/** Copy own enumerable keys into a null-prototype object (safe for "__proto__"). */
export function nullPrototypeCopy(data: Record<string, unknown>): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  // Plain assignment is safe here: with no prototype there is no inherited __proto__ setter to call.
  for (const key of Object.keys(data)) out[key] = data[key];
  return out;
}

/** A valid record: the article with its fields in memory, and its text (for analysis). */
export interface Validated {
  article: Omit<Article, 'index'> & { body: { fields: Record<string, unknown> } };
  text: string;
}

/**
 * Validate one record. `copyFields: false` is for a caller that only serializes the fields and lets them go
 * (a JSONL line, whose fields stay in its bytes): they are then the parsed object itself, not a null-prototype
 * copy (a copy per record had been most of validation's time).
 */
export function validateRecord(raw: RawRecord, limits: ValidationLimits, copyFields = true): { valid?: Validated; rejection?: Rejection } {
  const { file, line, data } = raw;
  const idValue = Object.hasOwn(data, 'id') ? data.id : undefined;
  const id = typeof idValue === 'string' ? idValue.trim() : typeof idValue === 'number' && Number.isFinite(idValue) ? String(idValue) : '';
  const reject = (reason: string): { rejection: Rejection } => ({ rejection: { file, line, id: id || null, reason } });
  if (!id) return reject(idValue === undefined ? 'missing id' : `invalid id ${JSON.stringify(idValue)} (expected a non-empty string or number)`);
  const textValue = Object.hasOwn(data, 'text') ? data.text : undefined;
  if (typeof textValue !== 'string') return reject(textValue === undefined ? 'missing text' : 'text is not a string');
  if (textValue.trim() === '') return reject('empty text');
  const title = Object.hasOwn(data, 'title') ? str(data.title) : '';
  // UTF-8 takes at most 3 bytes per UTF-16 unit: the exact count (a pass over the text) only near the cap.
  const mayExceed = (textValue.length + title.length) * 3 > limits.maxRecordBytes;
  if (mayExceed && Buffer.byteLength(textValue) + Buffer.byteLength(title) > limits.maxRecordBytes) return reject(`record over the size cap of ${limits.maxRecordBytes} bytes`);
  const share = arabicLetterShare(textValue);
  if (share < limits.minArabicShare) return reject(`not Arabic: ${(share * 100).toFixed(1)}% of letters are Arabic (minimum ${(limits.minArabicShare * 100).toFixed(0)}%)`);
  const rawDate = Object.hasOwn(data, 'published_at') ? data.published_at : null;
  let published: string | null = null;
  let time = NaN;
  let dayPrecision = false;
  if (typeof rawDate === 'string' && rawDate.trim() !== '') {
    // A timestamp without a zone is read as UTC, so the result does not depend on the machine's TZ.
    const zoneless = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(rawDate.trim());
    const t = Date.parse(zoneless ? `${rawDate.trim().replace(' ', 'T')}Z` : rawDate);
    if (!Number.isNaN(t)) {
      published = rawDate;
      time = t;
      dayPrecision = /^\d{4}-\d{2}-\d{2}$/.test(rawDate.trim()) || (typeof data.date_precision === 'string' && data.date_precision === 'day');
    }
  }
  const article = {
    id,
    outlet: Object.hasOwn(data, 'outlet') ? str(data.outlet).trim() || 'unknown' : 'unknown',
    url: Object.hasOwn(data, 'url') ? str(data.url) : '',
    published_at: published,
    time,
    dayPrecision,
    title,
    body: { fields: copyFields ? nullPrototypeCopy(data) : data },
    source: { file, line },
  };
  return { valid: { article, text: textValue } };
}
