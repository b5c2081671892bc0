/**
 * The tasks a worker can run: the per-article CPU work of the pipeline, as
 * pure functions of (items, shared parameters). Used in-process too.
 */
import { analyzeText, withoutTokens, type AnalyzeOptions, type ArticleAnalysis } from '../text/analyze.js';
import { initHashing, TokenHasher } from '../sketch/hash.js';
import { MinHasher, type PackedSets } from '../sketch/minhash.js';
import { shingleParagraphs, type ParagraphSet } from '../sketch/index.js';
import { unionAll } from '../sketch/shingle.js';
import { judgeLines, type Judged, type LineBatch } from '../ingest/index.js';
import type { ValidationLimits } from '../ingest/validate.js';

/**
 * An article analysed and shingled: content paragraphs (by the rules; outlet templates come later) and
 * their union. The token arrays stay behind: from here on the shingle sets stand for the text.
 */
export interface AnalyzedText {
  analysis: ArticleAnalysis;
  paragraphSets: ParagraphSet[];
  shingles: Uint32Array;
}

interface AnalyzeShared {
  options: AnalyzeOptions;
  seed: number;
  shingleSize: number;
}

interface Tasks {
  analyze: { items: Array<{ title: string; text: string }>; shared: AnalyzeShared; output: AnalyzedText[] };
  /** Parse, validate, analyse and shingle batches of JSONL lines. */
  ingest: { items: LineBatch[]; shared: AnalyzeShared & { limits: ValidationLimits & { contentHash: boolean } }; output: Array<Array<Judged<AnalyzedText>>> };
  /** Each pack's signatures back to back. */
  sign: { items: PackedSets[]; shared: { permutations: number; seed: number }; output: Uint32Array[] };
}

export type TaskName = keyof Tasks;
export type TaskInput<T extends TaskName> = { items: Tasks[T]['items']; shared: Tasks[T]['shared'] };
export type TaskOutput<T extends TaskName> = Tasks[T]['output'];

function analyzer(shared: AnalyzeShared): (title: string, text: string) => AnalyzedText {
  const hasher = new TokenHasher(shared.seed);
  return (title, text) => {
    const analysis = analyzeText(title, text, hasher, shared.options);
    const paragraphSets = shingleParagraphs(analysis, shared.shingleSize);
    return { analysis: withoutTokens(analysis), paragraphSets, shingles: unionAll(paragraphSets.map((p) => p.shingles)) };
  };
}

/**
 * The typed arrays of a task's output, to move to the main thread instead of copying them. Known shapes,
 * not a walk over every object (a batch's output holds thousands of objects and strings).
 */
export function transferables<T extends TaskName>(task: T, output: TaskOutput<T>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (a: Uint32Array | Int32Array): void => {
    // Only arrays that own their whole buffer: a view into a shared buffer must be copied.
    if (a.buffer instanceof ArrayBuffer && a.byteLength === a.buffer.byteLength && a.byteLength > 0) out.add(a.buffer);
  };
  const addAnalyzed = (x: AnalyzedText): void => {
    add(x.shingles);
    for (const p of x.paragraphSets) add(p.shingles);
    add(x.analysis.numberKeys);
    add(x.analysis.numberStart);
  };
  if (task === 'sign') for (const sig of output as TaskOutput<'sign'>) add(sig);
  else if (task === 'analyze') for (const x of output as TaskOutput<'analyze'>) addAnalyzed(x);
  else for (const batch of output as TaskOutput<'ingest'>) for (const j of batch) if (j.kind === 'valid') addAnalyzed(j.extra);
  return [...out];
}

export async function runTask<T extends TaskName>(task: T, input: TaskInput<T>): Promise<TaskOutput<T>> {
  await initHashing();
  switch (task) {
    case 'analyze': {
      const { items, shared } = input as TaskInput<'analyze'>;
      const analyze = analyzer(shared);
      return items.map((a) => analyze(a.title, a.text)) as TaskOutput<T>;
    }
    case 'ingest': {
      const { items, shared } = input as TaskInput<'ingest'>;
      const analyze = analyzer(shared);
      return items.map((batch) => judgeLines(batch, shared.limits, (v) => analyze(v.article.title, v.text))) as TaskOutput<T>;
    }
    case 'sign': {
      const { items, shared } = input as TaskInput<'sign'>;
      const mh = new MinHasher(shared.permutations, shared.seed);
      return items.map((p) => mh.signPacked(p)) as TaskOutput<T>;
    }
    default:
      throw new Error(`unknown task ${String(task)}`);
  }
}
