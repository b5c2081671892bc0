/**
 * Paragraph segmentation with character offsets into the original text.
 * Paragraphs are split on line breaks; a paragraph longer than `maxChars`
 * is cut at sentence ends so that passages stay comparable in size.
 */
export interface Span {
  start: number;
  end: number;
}

const SENTENCE_END = /[.!?؟…]+["'»”)]*\s+/gu;

function trimSpan(text: string, start: number, end: number): Span {
  while (start < end && /\s/u.test(text[start])) start++;
  while (end > start && /\s/u.test(text[end - 1])) end--;
  return { start, end };
}

function splitSentences(text: string, span: Span, maxChars: number): Span[] {
  const out: Span[] = [];
  let chunkStart = span.start;
  const slice = text.slice(span.start, span.end);
  SENTENCE_END.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = SENTENCE_END.exec(slice)) !== null) {
    const cut = span.start + m.index + m[0].length;
    // Group sentences until a chunk reaches a third of the cap, so sentences of a few words do not become passages alone.
    if (cut - chunkStart >= maxChars / 3) {
      out.push(trimSpan(text, chunkStart, cut));
      chunkStart = cut;
    }
  }
  if (chunkStart < span.end) out.push(trimSpan(text, chunkStart, span.end));
  // A sentence with no break at all stays whole: better one long passage than cutting words.
  return out.filter((s) => s.end > s.start);
}

/** Paragraph spans of `text`, non-empty, in order. */
export function segmentParagraphs(text: string, maxChars: number): Span[] {
  const out: Span[] = [];
  const re = /\r\n|\n|\r|\u2029|\u2028/g;
  let lineStart = 0;
  const push = (s: number, e: number): void => {
    const span = trimSpan(text, s, e);
    if (span.end <= span.start) return;
    if (span.end - span.start > maxChars) out.push(...splitSentences(text, span, maxChars));
    else out.push(span);
  };
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    push(lineStart, m.index);
    lineStart = m.index + m[0].length;
  }
  push(lineStart, text.length);
  return out;
}
