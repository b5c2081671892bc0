/**
 * An article's paragraphs, packed: five 32-bit numbers a paragraph (start, end, hash, token count, kind)
 * back to back in one typed array. A night holds the paragraphs of some 260k articles (tonight's and the
 * earlier ones loaded), about 1.8M of them: as objects they were a few hundred MB of heap, with a property
 * array and a boxed hash each, and most of the garbage collector's work. Packed, an article's paragraphs
 * are one view into its batch's buffer.
 */
import { BOILERPLATE_KINDS, type BoilerplateKind } from './boilerplate.js';

export interface Paragraph {
  start: number;
  end: number;
  /** Hash of the paragraph's normalized tokens (its identity for template learning). */
  hash: number;
  tokenCount: number;
  /** Boilerplate kind, or null for content. Rule flags at first; outlet templates are set later. */
  kind: BoilerplateKind | null;
}

/** Paragraph p is [5p, 5p + 5): start, end, hash, token count, kind code (0 = content). */
export type Paragraphs = Uint32Array;

const FIELDS = 5;
/** Kind codes: 0 is content (kind null), the others index this list plus one. Codes are never stored on disk. */
const KINDS: readonly BoilerplateKind[] = BOILERPLATE_KINDS;
const CODE = new Map<BoilerplateKind, number>(KINDS.map((k, i) => [k, i + 1]));

export const paragraphCount = (ps: Paragraphs): number => ps.length / FIELDS;
export const paraStart = (ps: Paragraphs, p: number): number => ps[FIELDS * p];
export const paraEnd = (ps: Paragraphs, p: number): number => ps[FIELDS * p + 1];
export const paraHash = (ps: Paragraphs, p: number): number => ps[FIELDS * p + 2];
export const paraTokens = (ps: Paragraphs, p: number): number => ps[FIELDS * p + 3];
/** Whether paragraph p is content (no boilerplate kind). */
export const isContent = (ps: Paragraphs, p: number): boolean => ps[FIELDS * p + 4] === 0;

export function paraKind(ps: Paragraphs, p: number): BoilerplateKind | null {
  const code = ps[FIELDS * p + 4];
  return code === 0 ? null : KINDS[code - 1];
}

export function setParaKind(ps: Paragraphs, p: number, kind: BoilerplateKind | null): void {
  ps[FIELDS * p + 4] = kind === null ? 0 : (CODE.get(kind) as number);
}

/** Room for `count` paragraphs, to fill with setParagraph. */
export const newParagraphs = (count: number): Paragraphs => new Uint32Array(FIELDS * count);

/** Write paragraph p. */
export function setParagraph(ps: Paragraphs, p: number, x: Paragraph): void {
  const o = FIELDS * p;
  ps[o] = x.start;
  ps[o + 1] = x.end;
  ps[o + 2] = x.hash;
  ps[o + 3] = x.tokenCount;
  setParaKind(ps, p, x.kind);
}

export function packParagraphs(list: readonly Paragraph[]): Paragraphs {
  const ps = newParagraphs(list.length);
  list.forEach((x, p) => setParagraph(ps, p, x));
  return ps;
}

/** Paragraph p as an object (for outputs and tests; the pipeline reads the fields in place). */
export function paragraphAt(ps: Paragraphs, p: number): Paragraph {
  return { start: paraStart(ps, p), end: paraEnd(ps, p), hash: paraHash(ps, p), tokenCount: paraTokens(ps, p), kind: paraKind(ps, p) };
}

export function unpackParagraphs(ps: Paragraphs): Paragraph[] {
  return Array.from({ length: paragraphCount(ps) }, (_, p) => paragraphAt(ps, p));
}

/** Hashes of the content paragraphs that have tokens, in order (repeats kept): what outlet templates are learned from. */
export function contentHashes(ps: Paragraphs): number[] {
  const out: number[] = [];
  for (let p = 0; p < paragraphCount(ps); p++) if (isContent(ps, p) && paraTokens(ps, p) > 0) out.push(paraHash(ps, p));
  return out;
}
