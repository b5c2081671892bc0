/**
 * `neardup eval`: score detection against labelled pairs.
 *  - "copy": positives are pairs labelled copy, predicted positive when the
 *    pair is a near-duplicate; negatives are quote, boilerplate, unrelated
 *    (pairs labelled partial are left out of this score).
 *  - "copy or partial": positives are copy and partial, predicted positive
 *    for either relation; negatives as above.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import { detect } from './pipeline.js';
import { writeJson } from './report/writers.js';
import { similarity } from './sketch/shingle.js';
import type { Logger } from './util/log.js';

export const LABELS = ['copy', 'partial', 'quote', 'boilerplate', 'unrelated'] as const;
export type Label = (typeof LABELS)[number];

export interface LabelledPair {
  a: string;
  b: string;
  label: Label;
}

export function readLabels(file: string): LabelledPair[] {
  const out: LabelledPair[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: broken JSON: ${(e as Error).message}`);
    }
    const r = v as Partial<LabelledPair>;
    if (typeof r.a !== 'string' || typeof r.b !== 'string' || !LABELS.includes(r.label as Label)) {
      throw new Error(`${file}:${i + 1}: expected {"a","b","label"} with label one of ${LABELS.join(', ')}`);
    }
    out.push({ a: r.a, b: r.b, label: r.label as Label });
  });
  return out;
}

export interface Score {
  precision: number;
  recall: number;
  f1: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function score(items: Array<{ truth: boolean; predicted: boolean }>): Score {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const { truth, predicted } of items) {
    if (truth && predicted) tp++;
    else if (!truth && predicted) fp++;
    else if (truth && !predicted) fn++;
    else tn++;
  }
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { precision: r(precision), recall: r(recall), f1: r(f1), tp, fp, fn, tn };
}

export interface EvalOptions {
  labels: string;
  inputs: string[];
  outputDir: string;
  config: Config;
  logger: Logger;
}

export async function evaluate(o: EvalOptions): Promise<{ copy: Score; copyOrPartial: Score }> {
  const labels = readLabels(o.labels);
  const res = await detect(o.inputs, o.config, o.logger);
  // Evaluation needs ids and pairs only: the spilled records can go at once.
  res.texts.close();
  const index = new Map(res.articles.map((a, i) => [a.id, i]));
  const relation = new Map<string, string>();
  for (const p of res.pairs) {
    const [x, y] = [res.articles[p.a].id, res.articles[p.b].id].sort();
    relation.set(`${x}\t${y}`, p.relation);
  }
  const rows: Array<Record<string, unknown>> = [];
  const missing: string[] = [];
  for (const l of labels) {
    const i = index.get(l.a);
    const j = index.get(l.b);
    if (i === undefined || j === undefined) {
      missing.push(`${l.a} ${l.b}`);
      continue;
    }
    const [x, y] = [l.a, l.b].sort();
    const rel = relation.get(`${x}\t${y}`) ?? 'none';
    const s = similarity(res.sketches[i].shingles, res.sketches[j].shingles);
    rows.push({ a: l.a, b: l.b, label: l.label, predicted: rel, jaccard: Math.round(s.jaccard * 1000) / 1000, containment_ab: Math.round(s.containmentAB * 1000) / 1000, containment_ba: Math.round(s.containmentBA * 1000) / 1000 });
  }
  const negatives = new Set(['quote', 'boilerplate', 'unrelated']);
  const copy = score(rows.filter((r) => r.label === 'copy' || negatives.has(r.label as string)).map((r) => ({ truth: r.label === 'copy', predicted: r.predicted === 'near-duplicate' })));
  const copyOrPartial = score(rows.map((r) => ({ truth: r.label === 'copy' || r.label === 'partial', predicted: r.predicted !== 'none' })));
  const errors = rows.filter((r) => (r.label === 'copy') !== (r.predicted === 'near-duplicate') || (negatives.has(r.label as string) && r.predicted !== 'none'));
  await writeJson(path.join(o.outputDir, 'eval.json'), { labels: o.labels, pairs_scored: rows.length, missing, copy, copy_or_partial: copyOrPartial, errors, pairs: rows, config: o.config });
  const fmt = (s: Score): string => `precision ${s.precision.toFixed(3)}  recall ${s.recall.toFixed(3)}  F1 ${s.f1.toFixed(3)}  (tp ${s.tp}, fp ${s.fp}, fn ${s.fn}, tn ${s.tn})`;
  process.stdout.write(
    `pairs scored: ${rows.length}${missing.length ? ` (${missing.length} not found in the input)` : ''}\n` +
      `copy:            ${fmt(copy)}\n` +
      `copy or partial: ${fmt(copyOrPartial)}\n` +
      `per-pair detail: ${path.join(o.outputDir, 'eval.json')}\n`,
  );
  return { copy, copyOrPartial };
}
