import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { neardup, readJsonl, ROOT, tempDir } from './helpers/cli.js';

interface ClusterRow { cluster_id: string; kind: string; canonical: string; members: string[]; outlets: string[] }
interface PairRow { a: string; b: string; relation: string; jaccard: number; containment_ab: number; containment_ba: number; passages: Array<Record<string, number>> }

const out = tempDir();
const r = neardup(['run', '--input', path.join(ROOT, 'input'), '--output', out, '--quiet']);
const clusters = readJsonl<ClusterRow>(path.join(out, 'clusters.jsonl'));
const pairs = readJsonl<PairRow>(path.join(out, 'pairs.jsonl'));
const linked = (a: string, b: string): PairRow | undefined => pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));

describe('the sample night', () => {
  it('runs cleanly', () => expect(r.code).toBe(0));

  it('finds exactly the expected near-duplicate clusters, with the right canonicals', () => {
    const nd = clusters.filter((c) => c.kind === 'near-duplicate').map((c) => ({ canonical: c.canonical, members: [...c.members].sort() }));
    expect(nd).toEqual([
      { canonical: 'wna-001', members: ['nahar-001', 'sabah-001', 'wna-001'] },
      { canonical: 'wna-002', members: ['khaleej-001', 'ufuq-001', 'wna-002'] },
      // Same minute, same text: the credit line is boilerplate, so the tie goes to id order.
      { canonical: 'marsad-003', members: ['marsad-003', 'sabah-003'] },
    ]);
  });

  it('finds exactly the expected stories, the origin decided by the credit on a tie', () => {
    const stories = clusters.filter((c) => c.kind === 'story').map((c) => ({ canonical: c.canonical, members: [...c.members].sort() }));
    expect(stories).toEqual([
      { canonical: 'wna-001', members: ['marsad-001', 'nahar-001', 'sabah-001', 'wna-001'] },
      { canonical: 'wna-002', members: ['khaleej-001', 'ufuq-001', 'wna-002'] },
      { canonical: 'sabah-003', members: ['marsad-003', 'sabah-003'] },
    ]);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    const story = report.clusters.find((c: { cluster_id: string }) => c.cluster_id === 'story:sabah-003');
    expect(story.origin_rule).toBe('credited-by-others');
  });

  it('links the edited, respelled, trimmed copy as a near-duplicate', () => {
    const p = linked('wna-001', 'nahar-001');
    expect(p?.relation).toBe('near-duplicate');
  });

  it('links the article carrying one agency paragraph as partial, with that passage', () => {
    const p = linked('marsad-001', 'wna-001');
    expect(p?.relation).toBe('partial');
    expect(p?.passages.length).toBe(1);
  });

  it('does not link boilerplate-only, independent, quotation-only or template pairs', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'tests', 'fixtures', 'sample-night-manifest.json'), 'utf8'));
    const mustNot: Array<[string, string, string]> = manifest.expected.must_not_link;
    expect(mustNot.length).toBeGreaterThan(5);
    for (const [a, b, why] of mustNot) expect(linked(a, b), `${a} ~ ${b}: ${why}`).toBeUndefined();
  });

  it('writes a deduplicated feed of canonicals and singletons, each once', () => {
    const dedup = readJsonl(path.join(out, 'dedup.jsonl.gz'));
    const ids = dedup.map((d) => d.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('wna-001');
    expect(ids).not.toContain('sabah-001');
    expect(ids).not.toContain('nahar-001');
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    const duplicates = clusters.filter((c) => c.kind === 'near-duplicate').reduce((s, c) => s + c.members.length - 1, 0);
    expect(ids.length).toBe(run.counts.accepted - duplicates);
    const wna = dedup.find((d) => d.id === 'wna-001') as Record<string, unknown>;
    expect(wna.cluster_id).toBe('nd:wna-001');
    expect([...(wna.duplicates as string[])].sort()).toEqual(['nahar-001', 'sabah-001']);
  });

  it('writes pairs with a < b and passages as offsets into the original texts', () => {
    for (const p of pairs) expect(p.a < p.b).toBe(true);
    const dedupAll = readJsonl(path.join(out, 'dedup.jsonl.gz'));
    const p = linked('marsad-001', 'wna-001') as PairRow;
    const text = (id: string): string => (dedupAll.find((d) => d.id === id) as { text: string }).text;
    const q = p.passages[0];
    expect(text(p.a).slice(q.a_start, q.a_end)).toBe(text(p.b).slice(q.b_start, q.b_end));
  });

  it("traces each member's provenance in report.json: shares, aligned passages as offsets, and copy edges", () => {
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    const story = report.clusters.find((c: { cluster_id: string }) => c.cluster_id === 'story:wna-001');
    expect(story.origin).toBe('wna-001');
    const dedupAll = readJsonl(path.join(out, 'dedup.jsonl.gz'));
    const text = (id: string): string => (dedupAll.find((d) => d.id === id) as { text: string }).text;
    type Span = { start: number; end: number; origin_start: number; origin_end: number; similarity: number };
    const member = story.members.find((m: { id: string }) => m.id === 'marsad-001');
    // The member carries one agency paragraph among its own reporting: one passage aligned, the rest added.
    expect(member.aligned.length).toBe(1);
    const a: Span = member.aligned[0];
    expect(text('marsad-001').slice(a.start, a.end)).toBe(text('wna-001').slice(a.origin_start, a.origin_end));
    expect(a.similarity).toBeGreaterThan(0.5);
    expect(member.added.length).toBeGreaterThan(0);
    expect(member.dropped.length).toBeGreaterThan(0);
    expect(member.share_from_origin).toBeGreaterThan(0);
    expect(member.share_from_origin).toBeLessThan(1);
    const origin = story.members.find((m: { id: string }) => m.id === 'wna-001');
    expect(origin).toMatchObject({ share_from_origin: 1, share_from_others: 0, added: [], dropped: [], aligned: [] });
    // Edges go from the origin to each copy, with the copier's share and the lag in seconds.
    const edge = story.edges.find((e: { to: string }) => e.to === 'marsad-001');
    expect(edge).toMatchObject({ from: 'wna-001', relation: 'partial' });
    expect(edge.share).toBeGreaterThan(0);
    expect(typeof edge.lag_seconds).toBe('number');
    expect(story.edges.length).toBeGreaterThanOrEqual(story.members.length - 1);
  });

  it('records seed, b and r, versions and per-stage timings in run.json', () => {
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run.seed).toBe(run.config.seed);
    expect(run.lsh.bands * run.lsh.rows).toBeLessThanOrEqual(run.config.minhash.permutations);
    expect(run.stages.map((s: { stage: string }) => s.stage)).toContain('signatures');
    expect(run.peak_rss_mb).toBeGreaterThan(0);
    expect(run.neardup_version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('is deterministic: a second run gives byte-identical JSONL outputs', () => {
    const out2 = tempDir();
    expect(neardup(['run', '--input', path.join(ROOT, 'input'), '--output', out2, '--quiet', '--set', 'workers=1']).code).toBe(0);
    for (const f of ['pairs.jsonl', 'clusters.jsonl', 'dedup.jsonl.gz', 'rejected.jsonl']) {
      expect(readFileSync(path.join(out2, f)).equals(readFileSync(path.join(out, f))), f).toBe(true);
    }
  });
});
