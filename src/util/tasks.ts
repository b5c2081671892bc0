/**
 * The tasks a worker can run: the per-article CPU work of the pipeline, as
 * pure functions of (items, shared parameters). Used in-process too.
 */
import { analyzeText, withoutTokens, type AnalyzeOptions, type ArticleAnalysis } from '../text/analyze.js';
import { TokenHasher } from '../sketch/hash.js';
import { MinHasher, type PackedSets } from '../sketch/minhash.js';
import { shingleParagraphs, type ParagraphSet } from '../sketch/index.js';
import { RADIX_FROM, SetArena, sortUint32, unionAll } from '../sketch/shingle.js';
import { countSorted } from '../sketch/counts.js';
import { judgeLines, type Judged, type LineBatch } from '../ingest/index.js';
import type { ValidationLimits } from '../ingest/validate.js';
import { verifyChunk, type VerifyTables } from '../match/parallel.js';
import type { VerifyOptions } from '../match/verify.js';

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
  ingest: { items: LineBatch[]; shared: AnalyzeShared & { limits: ValidationLimits & { contentHash: boolean } }; output: PackedJudged[] };
  /** Each pack's signatures back to back. */
  sign: { items: PackedSets[]; shared: { permutations: number; seed: number }; output: Uint32Array[] };
  /** Each chunk of candidates' verdicts, packed (see verifyChunk). */
  verify: { items: Float64Array[]; shared: { tables: VerifyTables; options: VerifyOptions }; output: Float64Array[] };
  /**
   * Sort ranges of shingles (in place) and count them (see countSetsSplit). Each range's buffer, and the sort's
   * second one, go back with its counts, so that no worker keeps them alive (see splitByRange).
   */
  count: { items: Uint32Array[]; shared: { minCount: number }; output: Array<{ hashes: Uint32Array; counts: Uint32Array; spent: Uint32Array[] }> };
}

export type TaskName = keyof Tasks;
export type TaskInput<T extends TaskName> = { items: Tasks[T]['items']; shared: Tasks[T]['shared'] };
export type TaskOutput<T extends TaskName> = Tasks[T]['output'];

/**
 * Analyse and shingle one article at a time. With an arena, the sets are carved from it: for a batch that is
 * packed (copied into its own buffers) before it leaves the worker.
 */
function analyzer(shared: AnalyzeShared, arena?: SetArena): (title: string, text: string) => AnalyzedText {
  const hasher = new TokenHasher(shared.seed);
  return (title, text) => {
    const analysis = analyzeText(title, text, hasher, shared.options);
    const paragraphSets = shingleParagraphs(analysis, shared.shingleSize, arena);
    return { analysis: withoutTokens(analysis), paragraphSets, shingles: unionAll(paragraphSets.map((p) => p.shingles), arena) };
  };
}

/**
 * What a batch's valid article travels as: its analysis without any typed array, and how many paragraph sets
 * it has. The arrays travel in the batch's buffers (PackedJudged). Each typed array, even an empty one, and
 * each object costs the main thread a deserialization and then garbage: a batch of 128 articles had carried
 * some 1,400 empty arrays and 700 paragraph objects, almost half the time the main thread took to take a
 * batch in (the 7 dev days' 105 batches: 98-102 -> 53-63 ms, measured on the batches alone).
 */
interface AnalyzedInTransit {
  analysis: Pick<ArticleAnalysis, 'titleHash' | 'credits' | 'agencies'>;
  paragraphSets: number;
}

/**
 * A batch's judged lines with the typed arrays of its articles moved out into a few buffers, one per kind,
 * plus their lengths and the paragraph sets' paragraph numbers. A batch of 128 articles holds some 1,500 small
 * arrays; moving each as its own buffer (and the main thread taking each in) cost more than analysing them.
 * Kinds that are let go at different times have buffers of their own: the unions once the sketches are made,
 * the paragraph sets once they are replaced by the sketches' copies, the analysis arrays only at the end.
 */
export interface PackedJudged {
  judged: Array<Judged<AnalyzedInTransit>>;
  /** One buffer per kind: unions, paragraph sets, analysis arrays (paragraphs, number keys and their starts). */
  kinds: Uint32Array[];
  /** Each array's length, in the order of eachArray, article after article. */
  lengths: Int32Array;
  /** The paragraph number of each paragraph set, article after article. */
  paras: Int32Array;
}

const KINDS = 3;

/** An article's typed arrays with their kinds, in the one fixed order packing and unpacking share. */
function eachArray(x: AnalyzedText, visit: (a: Uint32Array | Int32Array, kind: number) => void): void {
  visit(x.shingles, 0);
  for (const p of x.paragraphSets) visit(p.shingles, 1);
  visit(x.analysis.paragraphs, 2);
  visit(x.analysis.numberKeys, 2);
  visit(x.analysis.numberStart, 2);
}

export function packJudged(judged: Array<Judged<AnalyzedText>>): PackedJudged {
  const valid = judged.flatMap((j) => (j.kind === 'valid' ? [j.extra] : []));
  const totals = new Array<number>(KINDS).fill(0);
  let count = 0;
  let sets = 0;
  for (const x of valid) {
    eachArray(x, (a, kind) => {
      totals[kind] += a.length;
      count++;
    });
    sets += x.paragraphSets.length;
  }
  const kinds = totals.map((n) => new Uint32Array(n));
  const at = new Array<number>(KINDS).fill(0);
  const lengths = new Int32Array(count);
  const paras = new Int32Array(sets);
  let l = 0;
  let p = 0;
  for (const x of valid) {
    eachArray(x, (a, kind) => {
      kinds[kind].set(a, at[kind]);
      at[kind] += a.length;
      lengths[l++] = a.length;
    });
    for (const set of x.paragraphSets) paras[p++] = set.para;
  }
  const light = judged.map((j): Judged<AnalyzedInTransit> => {
    if (j.kind !== 'valid') return j;
    const { titleHash, credits, agencies } = j.extra.analysis;
    return { kind: 'valid', article: j.article, extra: { analysis: { titleHash, credits, agencies }, paragraphSets: j.extra.paragraphSets.length } };
  });
  return { judged: light, kinds, lengths, paras };
}

/** The judged lines with their articles' typed arrays back in place, as views into the batch's buffers. */
export function unpackJudged(packed: PackedJudged): Array<Judged<AnalyzedText>> {
  const { kinds, lengths, paras } = packed;
  const at = new Array<number>(KINDS).fill(0);
  let l = 0;
  let p = 0;
  const next = (kind: number): Uint32Array => {
    const n = lengths[l++];
    at[kind] += n;
    return kinds[kind].subarray(at[kind] - n, at[kind]);
  };
  return packed.judged.map((j): Judged<AnalyzedText> => {
    if (j.kind !== 'valid') return j;
    // In eachArray's order.
    const shingles = next(0);
    const paragraphSets: ParagraphSet[] = [];
    for (let k = 0; k < j.extra.paragraphSets; k++) paragraphSets.push({ para: paras[p++], shingles: next(1) });
    const paragraphs = next(2);
    const numberKeys = next(2);
    const starts = next(2);
    const numberStart = new Int32Array(starts.buffer, starts.byteOffset, starts.length);
    const { titleHash, credits, agencies } = j.extra.analysis;
    // Keys in the order withoutTokens gives them: one shape for every analysis.
    return { kind: 'valid', article: j.article, extra: { analysis: { paragraphs, numberKeys, numberStart, titleHash, credits, agencies }, paragraphSets, shingles } };
  });
}

/**
 * The typed arrays of a task's output, to move to the main thread instead of copying them. Known shapes,
 * not a walk over every object (a batch's output holds thousands of objects and strings).
 */
export function transferables<T extends TaskName>(task: T, output: TaskOutput<T>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (a: Uint32Array | Int32Array | Float64Array): void => {
    // Only arrays that own their whole buffer: a view into a shared buffer must be copied.
    if (a.buffer instanceof ArrayBuffer && a.byteLength === a.buffer.byteLength && a.byteLength > 0) out.add(a.buffer);
  };
  const addAnalyzed = (x: AnalyzedText): void => {
    add(x.shingles);
    for (const p of x.paragraphSets) add(p.shingles);
    add(x.analysis.paragraphs);
    add(x.analysis.numberKeys);
    add(x.analysis.numberStart);
  };
  if (task === 'sign') for (const sig of output as TaskOutput<'sign'>) add(sig);
  else if (task === 'verify') for (const verdicts of output as TaskOutput<'verify'>) add(verdicts);
  else if (task === 'count') for (const c of output as TaskOutput<'count'>) [c.hashes, c.counts, ...c.spent].forEach(add);
  else if (task === 'analyze') for (const x of output as TaskOutput<'analyze'>) addAnalyzed(x);
  else for (const batch of output as TaskOutput<'ingest'>) for (const a of [...batch.kinds, batch.lengths, batch.paras]) add(a);
  return [...out];
}

export async function runTask<T extends TaskName>(task: T, input: TaskInput<T>): Promise<TaskOutput<T>> {
  switch (task) {
    case 'analyze': {
      const { items, shared } = input as TaskInput<'analyze'>;
      const analyze = analyzer(shared);
      return items.map((a) => analyze(a.title, a.text)) as TaskOutput<T>;
    }
    case 'ingest': {
      const { items, shared } = input as TaskInput<'ingest'>;
      const analyze = analyzer(shared, new SetArena());
      return items.map((batch) => packJudged(judgeLines(batch, shared.limits, (v) => analyze(v.article.title, v.text)))) as TaskOutput<T>;
    }
    case 'sign': {
      const { items, shared } = input as TaskInput<'sign'>;
      const mh = new MinHasher(shared.permutations, shared.seed);
      return items.map((p) => mh.signPacked(p)) as TaskOutput<T>;
    }
    case 'verify': {
      const { items, shared } = input as TaskInput<'verify'>;
      return items.map((c) => verifyChunk(c, shared.tables, shared.options)) as TaskOutput<T>;
    }
    case 'count': {
      const { items, shared } = input as TaskInput<'count'>;
      return items.map((range) => {
        const scratch = range.length >= RADIX_FROM ? new Uint32Array(range.length) : undefined;
        const c = countSorted(sortUint32(range, scratch), shared.minCount);
        return { hashes: c.hashes, counts: c.counts, spent: scratch ? [range, scratch] : [range] };
      }) as TaskOutput<T>;
    }
    default:
      throw new Error(`unknown task ${String(task)}`);
  }
}
