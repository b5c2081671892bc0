/**
 * The pipeline: ingest → analyse (segment, boilerplate, normalize) → learn
 * outlet templates → shingle → sign → LSH candidates (articles and passages)
 * → verify → cluster → provenance → outputs. Each stage is timed and counted
 * for run.json; the stages themselves know nothing of files or terminals.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { ingest, type Article, type Rejection } from './ingest/index.js';
import type { TextAnalysis } from './text/analyze.js';
import { TemplateProfile } from './text/boilerplate.js';
import { initHashing } from './sketch/hash.js';
import { candidatePairs, chooseBands, unpackPair, type BandParams } from './sketch/lsh.js';
import { shingleParagraphs, sketchDocuments, type DocSketch } from './sketch/index.js';
import { WorkerPool, workerCount } from './util/workers.js';
import { isVerified, verifyPair, type VerifiedPair } from './match/verify.js';
import { clusterWithoutChaining, type Cluster } from './match/cluster.js';
import { clusterProvenance, orderFacts, originOrder, round, type ClusterProvenance } from './provenance/index.js';
import { writeJson, writeJsonl } from './report/writers.js';
import { Logger } from './util/log.js';

export interface RunOptions {
  inputs: string[];
  outputDir: string;
  config: Config;
  logger: Logger;
  /** Called after the JSON outputs are written (with report.json's content); the HTML report hooks in here. */
  afterOutputs?: (result: RunResult, report: Record<string, unknown>) => Promise<void>;
}

export interface StageStat {
  stage: string;
  seconds: number;
  items: number;
  per_second: number;
}

export interface RunResult {
  articles: Article[];
  analyses: TextAnalysis[];
  sketches: DocSketch[];
  rejected: Rejection[];
  pairs: VerifiedPair[];
  nearDuplicateClusters: Cluster[];
  storyClusters: Cluster[];
  provenance: ClusterProvenance[];
  summary: Record<string, unknown>;
  outputDir: string;
}

export function packageVersion(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const p of [path.join(here, '..', 'package.json'), path.join(here, '..', '..', 'package.json')]) {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      /* try the next layout (src/ under ts, dist/src/ once built) */
    }
  }
  return 'unknown';
}

function timer(): () => number {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0) / 1e9;
}

const pairKey = (a: number, b: number): string => (a < b ? `${a}:${b}` : `${b}:${a}`);

/** The whole detection, without writing anything: used by `run` and by `eval`. */
export async function detect(inputs: string[], cfg: Config, logger: Logger): Promise<Omit<RunResult, 'outputDir'>> {
  const stages: StageStat[] = [];
  const stage = (name: string, seconds: number, items: number, message: string): void => {
    stages.push({ stage: name, seconds: round(seconds), items, per_second: seconds > 0 ? Math.round(items / seconds) : items });
    logger.stage(name, `${message} in ${seconds.toFixed(2)}s`);
  };
  const total = timer();
  await initHashing();

  // Ingest.
  let t = timer();
  const ing = await ingest(inputs, {
    minArabicShare: cfg.ingest.min_arabic_share,
    maxRecordBytes: cfg.ingest.max_record_bytes,
    maxFileBytes: cfg.ingest.max_file_bytes,
    fileConcurrency: cfg.ingest.file_concurrency,
  }, (d, n) => logger.progress('ingest', d, n));
  const { articles, rejected } = ing;
  stage('ingest', t(), ing.read, `${ing.files} files, ${ing.read} records read: ${articles.length} accepted, ${rejected.length} rejected`);

  // Analyse: paragraphs, tokens, rule-based boilerplate, quotations, credits.
  t = timer();
  const pool = new WorkerPool(workerCount(cfg.workers));
  try {
    const aopts = { normalize: cfg.normalize, maxParagraphChars: cfg.segment.max_paragraph_chars, boilerplateRules: cfg.boilerplate.rules };
    logger.progress('analyze', 0, articles.length);
    const analyses: TextAnalysis[] = await pool.map('analyze', articles.map((a) => ({ title: a.title, text: a.text })), { options: aopts, seed: cfg.seed });
    stage('analyze', t(), articles.length, `${articles.length} articles segmented and normalized (${pool.size} workers)`);

    // Learn outlet templates, then flag them.
    t = timer();
    const profile = new TemplateProfile();
    for (let i = 0; i < articles.length; i++) {
      const a = analyses[i];
      profile.add(articles[i].outlet, a.titleHash, a.paragraphs.filter((p) => p.kind === null && p.tokenCount > 0).map((p) => p.hash));
    }
    const boilerplateCounts: Record<string, number> = {};
    let paragraphsTotal = 0;
    for (let i = 0; i < articles.length; i++) {
      for (const p of analyses[i].paragraphs) {
        paragraphsTotal++;
        if (p.kind === null && profile.isTemplate(articles[i].outlet, p.hash, p.tokenCount, cfg.boilerplate.outlet_template_min_count, cfg.boilerplate.cross_outlet_min_count, cfg.passages.min_tokens)) p.kind = 'template';
        if (p.kind !== null) boilerplateCounts[p.kind] = (boilerplateCounts[p.kind] ?? 0) + 1;
      }
    }
    const boilerplateTotal = Object.values(boilerplateCounts).reduce((x, y) => x + y, 0);
    stage('boilerplate', t(), paragraphsTotal, `${boilerplateTotal} of ${paragraphsTotal} paragraphs flagged`);

    // Shingle; stock phrases are shingles in more articles than one story is copied to.
    t = timer();
    const outlets = new Set(articles.map((a) => a.outlet)).size;
    const commonMinDocs = Math.max(cfg.passages.common_shingle_min_docs, 2 * outlets);
    // In-process: shingling is cheaper than copying the analyses to a worker and back.
    const paraSets = analyses.map((a) => shingleParagraphs(a, cfg.shingle.size));
    const { sketches, common } = sketchDocuments(paraSets, commonMinDocs);
    stage('shingle', t(), articles.length, `${sketches.reduce((s, x) => s + x.shingles.length, 0)} shingles, ${common.size} stock phrases dropped`);

    // Sign and band the articles.
    t = timer();
    const docSigs = flatten(await pool.map('sign', sketches.map((s) => s.shingles), { permutations: cfg.minhash.permutations, seed: cfg.seed }), cfg.minhash.permutations);
    stage('signatures', t(), articles.length, `${articles.length} signatures of ${cfg.minhash.permutations} permutations`);

    t = timer();
    const docBands: BandParams = chooseBands(cfg.lsh.threshold, cfg.minhash.permutations, cfg.lsh.false_positive_weight, cfg.lsh.false_negative_weight);
    const emptyDoc = Uint8Array.from(sketches, (s) => (s.shingles.length === 0 ? 1 : 0));
    const docCandidates = candidatePairs(docSigs, articles.length, cfg.minhash.permutations, docBands, cfg.lsh.max_bucket_size, emptyDoc);
    const candidateKeys = new Set<number>(docCandidates);
    stage('lsh', t(), articles.length, `b=${docBands.bands} r=${docBands.rows}: ${docCandidates.length} article candidates`);

    // Passage index: paragraphs long enough to be a passage, signed and banded on their own.
    let passageBands: BandParams | null = null;
    let passageCandidateCount = 0;
    if (cfg.passages.enabled) {
      t = timer();
      const owner: number[] = [];
      const sets: Uint32Array[] = [];
      for (let i = 0; i < articles.length; i++) {
        for (const p of sketches[i].paragraphs) {
          if (analyses[i].paragraphs[p.para].tokenCount < cfg.passages.min_tokens) continue;
          owner.push(i);
          sets.push(p.shingles);
        }
      }
      const sigs = flatten(await pool.map('sign', sets, { permutations: cfg.passages.permutations, seed: (cfg.seed ^ 0x70617373) >>> 0 }), cfg.passages.permutations);
      passageBands = chooseBands(cfg.passages.threshold, cfg.passages.permutations, cfg.lsh.false_positive_weight, cfg.lsh.false_negative_weight);
      const pc = candidatePairs(sigs, sets.length, cfg.passages.permutations, passageBands, cfg.lsh.max_bucket_size, undefined, (x, y) => owner[x] === owner[y]);
      for (const packed of pc) {
        const [x, y] = unpackPair(packed);
        const a = Math.min(owner[x], owner[y]);
        const b = Math.max(owner[x], owner[y]);
        candidateKeys.add(a * 2 ** 21 + b);
      }
      passageCandidateCount = pc.length;
      stage('passages', t(), sets.length, `${sets.length} passages indexed, b=${passageBands.bands} r=${passageBands.rows}: ${pc.length} passage candidates`);
    }

    // Verify every candidate exactly.
    t = timer();
    const vopts = {
      jaccard: cfg.verify.jaccard,
      containment: cfg.verify.containment,
      minShingles: cfg.verify.min_shingles,
      minFactAgreement: cfg.verify.min_fact_agreement,
      maxLeadShare: cfg.verify.max_unshared_lead,
      passageMinSimilarity: cfg.passages.min_similarity,
      passageMinShared: cfg.passages.min_shared_shingles,
      passagesEnabled: cfg.passages.enabled,
    };
    const candidates = Float64Array.from(candidateKeys).sort();
    const pairs: VerifiedPair[] = [];
    const rejectedReasons: Record<string, number> = {};
    for (let c = 0; c < candidates.length; c++) {
      const [i, j] = unpackPair(candidates[c]);
      const r = verifyPair(i, j, analyses, sketches, vopts);
      if (isVerified(r)) pairs.push(r);
      else rejectedReasons[r.reason] = (rejectedReasons[r.reason] ?? 0) + 1;
      if ((c & 1023) === 0) logger.progress('verify', c, candidates.length);
    }
    const nearCount = pairs.filter((p) => p.relation === 'near-duplicate').length;
    stage('verify', t(), candidates.length, `${candidates.length} candidates: ${nearCount} near-duplicate, ${pairs.length - nearCount} partial`);

    // Cluster, without chaining.
    t = timer();
    const facts = orderFacts(articles, analyses, sketches, ing.outlets);
    const storyOrder = originOrder(articles, facts);
    // Near-duplicate canonical: earliest, ties to the most complete text (agency and credit do not enter).
    const plainFacts = { ...facts, isAgency: new Uint8Array(articles.length), credited: new Int32Array(articles.length) };
    const canonicalOrder = originOrder(articles, plainFacts);
    const nearEdges = pairs.filter((p) => p.relation === 'near-duplicate').map((p): [number, number] => [p.a, p.b]);
    const nearDuplicateClusters = clusterWithoutChaining(articles.length, nearEdges, canonicalOrder);
    const storyClusters = clusterWithoutChaining(articles.length, pairs.map((p): [number, number] => [p.a, p.b]), storyOrder);
    stage('cluster', t(), pairs.length, `${nearDuplicateClusters.length} near-duplicate clusters, ${storyClusters.length} stories`);

    // Provenance.
    t = timer();
    const byKey = new Map(pairs.map((p) => [pairKey(p.a, p.b), p]));
    const provenance: ClusterProvenance[] = [
      ...nearDuplicateClusters.map((c) => clusterProvenance(nearDuplicateId(articles, c), 'near-duplicate', c, articles, analyses, sketches, byKey, plainFacts)),
      ...storyClusters.map((c) => clusterProvenance(storyId(articles, c), 'story', c, articles, analyses, sketches, byKey, facts)),
    ];
    stage('provenance', t(), provenance.length, `${provenance.length} clusters traced`);

    const summary = {
      neardup_version: packageVersion(),
      node_version: process.version,
      seed: cfg.seed,
      lsh: { bands: docBands.bands, rows: docBands.rows, threshold: cfg.lsh.threshold, false_positive_area: round(docBands.falsePositive), false_negative_area: round(docBands.falseNegative) },
      passage_lsh: passageBands ? { bands: passageBands.bands, rows: passageBands.rows, threshold: cfg.passages.threshold } : null,
      counts: {
        files: ing.files,
        read: ing.read,
        accepted: articles.length,
        rejected: rejected.length,
        blank_lines: ing.blankLines,
        paragraphs: paragraphsTotal,
        boilerplate_paragraphs: boilerplateCounts,
        stock_phrase_shingles: common.size,
        stock_phrase_min_docs: commonMinDocs,
        article_candidates: docCandidates.length,
        passage_candidates: passageCandidateCount,
        candidates_verified: candidates.length,
        candidates_not_linked: rejectedReasons,
        near_duplicate_pairs: nearCount,
        partial_pairs: pairs.length - nearCount,
        near_duplicate_clusters: nearDuplicateClusters.length,
        story_clusters: storyClusters.length,
        articles_in_near_duplicate_clusters: nearDuplicateClusters.reduce((s, c) => s + c.members.length, 0),
      },
      stages,
      detect_seconds: round(total()),
      config: cfg,
    };
    return { articles, analyses, sketches, rejected, pairs, nearDuplicateClusters, storyClusters, provenance, summary };
  } finally {
    await pool.close();
  }
}

/** Signatures back to back in one array, as the LSH expects. */
function flatten(sigs: Uint32Array[], k: number): Uint32Array {
  const out = new Uint32Array(sigs.length * k);
  sigs.forEach((s, i) => out.set(s, i * k));
  return out;
}

export function nearDuplicateId(articles: Article[], c: Cluster): string {
  return `nd:${articles[c.canonical].id}`;
}

export function storyId(articles: Article[], c: Cluster): string {
  return `story:${articles[c.canonical].id}`;
}

/** A pair as written to pairs.jsonl: ids ordered a < b, passages as offsets into each original text. */
export function pairRecord(p: VerifiedPair, articles: Article[], analyses: TextAnalysis[]): Record<string, unknown> {
  const swap = articles[p.a].id > articles[p.b].id;
  const [x, y] = swap ? [p.b, p.a] : [p.a, p.b];
  const passages = p.passages.map((q) => {
    const [pa, pb] = swap ? [q.bPara, q.aPara] : [q.aPara, q.bPara];
    const A = analyses[x].paragraphs[pa];
    const B = analyses[y].paragraphs[pb];
    return { a_start: A.start, a_end: A.end, b_start: B.start, b_end: B.end, similarity: round(q.similarity), shared_shingles: q.shared };
  });
  passages.sort((m, n) => m.a_start - n.a_start || m.b_start - n.b_start);
  return {
    a: articles[x].id,
    b: articles[y].id,
    relation: p.relation,
    jaccard: round(p.jaccard),
    containment_ab: round(swap ? p.containmentBA : p.containmentAB),
    containment_ba: round(swap ? p.containmentAB : p.containmentBA),
    passages,
  };
}

export async function run(opts: RunOptions): Promise<RunResult> {
  const { config: cfg, logger, outputDir } = opts;
  const wall = timer();
  const res = await detect(opts.inputs, cfg, logger);
  const { articles, analyses, pairs, nearDuplicateClusters, storyClusters } = res;

  const t = timer();
  const pairRows = pairs.map((p) => pairRecord(p, articles, analyses));
  pairRows.sort((m, n) => (m.a as string).localeCompare(n.a as string, 'en') || (m.b as string).localeCompare(n.b as string, 'en'));
  // Plain code-unit order, not locale order: the same on every machine.
  pairRows.sort((m, n) => cmp(m.a as string, n.a as string) || cmp(m.b as string, n.b as string));
  // The writes run together: gzip works on libuv's threads while the main thread serializes the rest.
  const writes: Array<Promise<unknown>> = [writeJsonl(path.join(outputDir, 'pairs.jsonl'), pairRows)];

  const clusterRow = (c: Cluster, kind: 'near-duplicate' | 'story'): Record<string, unknown> => ({
    cluster_id: kind === 'story' ? storyId(articles, c) : nearDuplicateId(articles, c),
    kind,
    canonical: articles[c.canonical].id,
    members: c.members.map((m) => articles[m].id),
    outlets: [...new Set(c.members.map((m) => articles[m].outlet))].sort(cmp),
  });
  const clusterRows = [...nearDuplicateClusters.map((c) => clusterRow(c, 'near-duplicate')), ...storyClusters.map((c) => clusterRow(c, 'story'))];
  writes.push(writeJsonl(path.join(outputDir, 'clusters.jsonl'), clusterRows));

  // Deduplicated feed: canonicals and singletons, in input order, each once.
  const clusterOf = new Map<number, Cluster>();
  for (const c of nearDuplicateClusters) for (const m of c.members) clusterOf.set(m, c);
  const storyOf = new Map<number, Cluster>();
  for (const c of storyClusters) for (const m of c.members) storyOf.set(m, c);
  const dedupRows = function* (): Generator<Record<string, unknown>> {
    for (const a of articles) {
      const c = clusterOf.get(a.index);
      if (c && c.canonical !== a.index) continue;
      const s = storyOf.get(a.index);
      yield {
        ...a.fields,
        cluster_id: c ? nearDuplicateId(articles, c) : null,
        duplicates: c ? c.members.filter((m) => m !== a.index).map((m) => articles[m].id) : [],
        story_id: s ? storyId(articles, s) : null,
      };
    }
  };
  const dedupWrite = writeJsonl(path.join(outputDir, 'dedup.jsonl.gz'), dedupRows(), true);
  writes.push(writeJsonl(path.join(outputDir, 'rejected.jsonl'), res.rejected));
  const report = reportJson(res);
  writes.push(writeJson(path.join(outputDir, 'report.json'), report, false));
  await Promise.all(writes);
  const dedupCount = await dedupWrite;
  const writeSeconds = t();

  const summary = res.summary as Record<string, unknown> & { stages: StageStat[]; counts: Record<string, unknown> };
  summary.stages.push({ stage: 'write', seconds: round(writeSeconds), items: pairRows.length + clusterRows.length + dedupCount, per_second: 0 });
  summary.counts.dedup_articles = dedupCount;
  const result: RunResult = { ...res, outputDir };
  logger.stage('write', `pairs.jsonl, clusters.jsonl, dedup.jsonl.gz (${dedupCount} articles), rejected.jsonl, report.json in ${writeSeconds.toFixed(2)}s`);
  summary.inputs = opts.inputs;
  // run.json first (the report reads the run's seed and bands from it), completed below.
  await writeJson(path.join(outputDir, 'run.json'), summary);
  if (opts.afterOutputs) {
    const th = timer();
    await opts.afterOutputs(result, report);
    summary.stages.push({ stage: 'html', seconds: round(th()), items: res.provenance.length, per_second: 0 });
  }
  const wallSeconds = wall();
  summary.wall_seconds = round(wallSeconds);
  summary.docs_per_second = Math.round(articles.length / wallSeconds);
  summary.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  await writeJson(path.join(outputDir, 'run.json'), summary);
  logger.stage('done', `${articles.length} articles (${summary.docs_per_second} docs/s), peak RSS ${summary.peak_rss_mb} MB; b=${(summary.lsh as { bands: number }).bands} r=${(summary.lsh as { rows: number }).rows}, seed ${cfg.seed}`);
  return result;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** report.json: per-cluster provenance plus what the HTML report needs to show the night. */
export function reportJson(res: Omit<RunResult, 'outputDir'>): Record<string, unknown> {
  const { articles, analyses, provenance } = res;
  const inCluster = new Set<number>();
  for (const c of res.storyClusters) for (const m of c.members) inCluster.add(m);
  for (const c of res.nearDuplicateClusters) for (const m of c.members) inCluster.add(m);
  return {
    summary: { ...(res.summary.counts as Record<string, unknown>) },
    clusters: provenance,
    // Articles that belong to a cluster, with paragraph offsets and flags, so the report can show them side by side.
    articles: [...inCluster].sort((x, y) => x - y).map((i) => ({
      id: articles[i].id,
      outlet: articles[i].outlet,
      url: articles[i].url,
      published_at: articles[i].published_at,
      title: articles[i].title,
      text: articles[i].text,
      paragraphs: analyses[i].paragraphs.map((p) => ({ start: p.start, end: p.end, boilerplate: p.kind })),
      credits: analyses[i].credits,
      agencies: analyses[i].agencies,
    })),
  };
}
