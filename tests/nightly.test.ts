import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, neardup, readJsonl, ROOT, tempDir } from './helpers/cli.js';
import { readBandRun } from '../src/store/band-files.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { decodeRecord, encodeRecord } from '../src/store/record.js';
import type { StoredDoc } from '../src/store/index.js';
import type { StoredLine } from '../src/ingest/validate.js';
import { unpackParagraphs } from '../src/text/paragraphs.js';

/** The sample night split into three nights by publication day (the .txt files are dated the 20th). */
function splitNights(): string[] {
  const dir = tempDir('nights-');
  const rows = readJsonl<{ published_at: string }>(path.join(ROOT, 'input', 'night.jsonl'));
  const days = [...new Set(rows.map((r) => r.published_at.slice(0, 10)))].sort();
  return days.map((day) => {
    const d = path.join(dir, day);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'night.jsonl'), rows.filter((r) => r.published_at.startsWith(day)).map((r) => JSON.stringify(r)).join('\n') + '\n');
    copyFileSync(path.join(ROOT, 'input', 'outlets.json'), path.join(d, 'outlets.json'));
    if (day === '2026-11-20') {
      mkdirSync(path.join(d, 'txt'));
      for (const f of readdirSync(path.join(ROOT, 'input', 'txt'))) copyFileSync(path.join(ROOT, 'input', 'txt', f), path.join(d, 'txt', f));
    }
    return d;
  });
}

/** The sample's JSONL records night by day, without the .txt files: each night a folder `dir/<day>`. */
function jsonlNights(): { dir: string; days: string[]; rows: Array<{ id: string; text: string; published_at: string }> } {
  const dir = tempDir('texts-');
  const rows = readJsonl<{ id: string; text: string; published_at: string }>(path.join(ROOT, 'input', 'night.jsonl'));
  const days = [...new Set(rows.map((r) => r.published_at.slice(0, 10)))].sort();
  for (const day of days) {
    mkdirSync(path.join(dir, day));
    writeFileSync(path.join(dir, day, 'n.jsonl'), rows.filter((r) => r.published_at.startsWith(day)).map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  return { dir, days, rows };
}

/** Clusters as the index holds them: cluster or story id -> sorted member ids. */
function indexedClusters(state: string): Record<string, string[]> {
  const db = new Database(path.join(state, 'index.sqlite'), { readonly: true });
  const out: Record<string, string[]> = {};
  for (const r of db.prepare('SELECT id, cluster_id, story_id FROM docs ORDER BY id').all() as Array<{ id: string; cluster_id: string | null; story_id: string | null }>) {
    for (const c of [r.cluster_id, r.story_id]) if (c) (out[c] ??= []).push(r.id);
  }
  db.close();
  return out;
}

/** The segment, band and counts files in the state folder, and those the index names: the same once a run has finished. */
function segmentFiles(state: string): { onDisk: string[]; named: string[] } {
  const db = new Database(path.join(state, 'index.sqlite'), { readonly: true });
  const named = (db.prepare('SELECT file FROM segments ORDER BY file').pluck().all() as string[]).sort();
  const counts = db.prepare("SELECT value FROM meta WHERE key = 'counts_file'").pluck().get() as string;
  db.close();
  expect(readdirSync(path.join(state, 'counts'))).toEqual([counts]);
  const files = readdirSync(path.join(state, 'segments')).sort();
  // Each segment has its band and lines files beside it, and neither outlives its segment.
  expect(files.filter((f) => f.endsWith('.bands'))).toEqual(named.map((f) => f.replace(/\.seg$/, '.bands')).sort());
  expect(files.filter((f) => f.endsWith('.lines'))).toEqual(named.map((f) => f.replace(/\.seg$/, '.lines')).sort());
  return { onDisk: files.filter((f) => f.endsWith('.seg')), named };
}

/**
 * The band rows (from the band files, those valid: in the file of their article's current segment) and the
 * paragraph table's rows, with articles named by id (row numbers differ between indexes).
 */
function keyRows(state: string): Record<string, string[]> {
  const db = new Database(path.join(state, 'index.sqlite'), { readonly: true });
  const docs = new Map((db.prepare('SELECT n, id, segment FROM docs').all() as Array<{ n: number; id: string; segment: number }>).map((d) => [d.n, d]));
  const out: Record<string, string[]> = { doc_bands: [], passage_bands: [] };
  for (const { id: segment, file } of db.prepare('SELECT id, file FROM segments').all() as Array<{ id: number; file: string }>) {
    for (const [table, kind] of [['doc_bands', 'doc'], ['passage_bands', 'passage']] as const) {
      const run = readBandRun(path.join(state, 'segments', file.replace(/\.seg$/, '.bands')), kind);
      run.keys.forEach((key, i) => {
        const d = docs.get(run.rows[i]);
        if (d?.segment === segment) out[table].push(`${key} ${d.id}`);
      });
    }
  }
  for (const k of Object.keys(out)) out[k].sort();
  out.doc_paragraphs = (db.prepare(`SELECT t.hash || ' ' || d.id FROM doc_paragraphs t JOIN docs d ON d.n = t.n`).pluck().all() as string[]).sort();
  db.close();
  return out;
}

/** One night into an index (its outputs in the state folder, under out-<night>). */
function runNight(night: string, state: string): void {
  const r = neardup(['run', '--input', night, '--output', path.join(state, 'out-' + path.basename(night)), '--state', state, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
}

/** The later nights run on two indexes (the current layout, an older one) give byte-identical outputs. */
function sameNightsAfter(later: string[], state: string, oldLayout: string): void {
  for (const n of later) {
    runNight(n, state);
    runNight(n, oldLayout);
    for (const f of ['pairs.jsonl', 'clusters.jsonl', 'dedup.jsonl.gz']) {
      const out = 'out-' + path.basename(n);
      expect(readFileSync(path.join(oldLayout, out, f)).equals(readFileSync(path.join(state, out, f))), f).toBe(true);
    }
  }
}

function oneRunClusters(out: string): Record<string, string[]> {
  const res: Record<string, string[]> = {};
  for (const c of readJsonl<{ cluster_id: string; members: string[] }>(path.join(out, 'clusters.jsonl'))) res[c.cluster_id] = [...c.members].sort();
  return res;
}

describe('nightly runs against the persistent index', () => {
  let nights: string[] = [];
  let oneRun: Record<string, string[]> = {};
  beforeAll(() => {
    nights = splitNights();
    const out = tempDir();
    expect(neardup(['run', '--input', path.join(ROOT, 'input'), '--output', out, '--quiet']).code).toBe(0);
    oneRun = oneRunClusters(out);
  });

  it('one night at a time gives the same clusters as one run over everything', () => {
    const state = tempDir('state-');
    for (const n of nights) {
      const r = neardup(['run', '--input', n, '--output', path.join(state, 'out-' + path.basename(n)), '--state', state, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(indexedClusters(state)).toEqual(oneRun);
    // The last night's outputs show the story that began earlier as grown, keeping its id and origin.
    const last = readJsonl<{ cluster_id: string; status: string; canonical: string }>(path.join(state, 'out-2026-11-20', 'clusters.jsonl'));
    expect(last.every((c) => c.status === 'new' || c.status === 'grown')).toBe(true);
  });

  it('loads stored articles in batches, in segment order, each line left in the index until read', () => {
    const state = tempDir('state-');
    for (const n of nights) runNight(n, state);
    const store = new SqliteStore(state);
    try {
      const ids = Object.values(indexedClusters(state)).flat().sort().filter((id, i, all) => all.indexOf(id) === i);
      expect(ids.length).toBeGreaterThan(5);
      const whole = new Map(store.load(ids).map((d) => [d.article.id, d]));
      const batches = [...store.loadBatches([...ids, 'no-such-id'], 2)];
      expect(batches.every((b) => b.length > 0 && b.length <= 2)).toBe(true);
      const docs = batches.flat();
      expect(docs.map((d) => d.article.id).sort()).toEqual(ids);
      const places = docs.map((d) => (d.article.body as { stored: StoredLine }).stored);
      // Segment by segment, front to back.
      places.forEach((p, i) => {
        if (i > 0) expect(p.file > places[i - 1].file || (p.file === places[i - 1].file && p.at > places[i - 1].at)).toBe(true);
      });
      for (const [i, d] of docs.entries()) {
        const w = whole.get(d.article.id) as StoredDoc;
        const { body, ...meta } = d.article;
        const { body: wholeBody, ...wholeMeta } = w.article;
        void body;
        expect(meta).toEqual(wholeMeta);
        expect(store.readLine(places[i]).equals(Buffer.from((wholeBody as { line: Uint8Array }).line))).toBe(true);
        expect(d.analysis).toEqual(w.analysis);
        expect(d.paragraphSets).toEqual(w.paragraphSets);
        expect(d.storyId).toBe(w.storyId);
      }
      // The rows kept for later nights' outlet templates: each article's distinct content paragraphs (those
      // the rules kept, templates included), under its outlet and title.
      const expected = new Set<string>();
      for (const d of whole.values()) {
        for (const p of unpackParagraphs(d.analysis.paragraphs)) if ((p.kind === null || p.kind === 'template') && p.tokenCount > 0) expected.add(`${p.hash} ${d.article.outlet} ${d.analysis.titleHash}`);
      }
      const db = new Database(path.join(state, 'index.sqlite'), { readonly: true });
      const rows = (db.prepare("SELECT hash || ' ' || outlet || ' ' || title FROM outlet_paragraphs").pluck().all() as string[]).sort();
      db.close();
      expect(rows.filter((r) => expected.has(r))).toEqual([...expected].sort());
    } finally {
      store.close();
    }
  });

  it("shows earlier nights' copies in report.json with their texts as they were read", () => {
    // The last night's clusters take in earlier copies.
    const state = tempDir('state-');
    const { dir, days, rows } = jsonlNights();
    for (const day of days) runNight(path.join(dir, day), state);
    const last = days[days.length - 1];
    const report = JSON.parse(readFileSync(path.join(state, 'out-' + last, 'report.json'), 'utf8')) as { articles: Array<{ id: string; text: string }> };
    const input = new Map(rows.map((r) => [r.id, r]));
    // Each read back from the index into one reused buffer: two or more in a row show that none overwrote another.
    const earlier = report.articles.filter((a) => !input.get(a.id)?.published_at.startsWith(last));
    expect(earlier.length, report.articles.map((a) => a.id).join(' ')).toBeGreaterThanOrEqual(2);
    for (const a of report.articles) expect(a.text, a.id).toBe(input.get(a.id)?.text);
  });

  it('keeps a story id and origin when a later night adds copies', () => {
    const state = tempDir('state-');
    const dir = tempDir('grow-');
    const rows = readJsonl<Record<string, string>>(path.join(ROOT, 'input', 'night.jsonl'));
    const origin = rows.find((r) => r.id === 'wna-002') as Record<string, string>;
    const copy = rows.find((r) => r.id === 'khaleej-001') as Record<string, string>;
    mkdirSync(path.join(dir, 'n1'));
    mkdirSync(path.join(dir, 'n2'));
    writeFileSync(path.join(dir, 'n1', 'a.jsonl'), JSON.stringify(origin) + '\n');
    writeFileSync(path.join(dir, 'n2', 'b.jsonl'), JSON.stringify({ ...copy, published_at: '2026-11-21T08:00:00Z' }) + '\n');
    expect(neardup(['run', '--input', path.join(dir, 'n1'), '--output', path.join(dir, 'o1'), '--state', state, '--quiet']).code).toBe(0);
    expect(neardup(['run', '--input', path.join(dir, 'n2'), '--output', path.join(dir, 'o2'), '--state', state, '--quiet']).code).toBe(0);
    const clusters = readJsonl<{ cluster_id: string; kind: string; canonical: string; members: string[]; status: string }>(path.join(dir, 'o2', 'clusters.jsonl'));
    const story = clusters.find((c) => c.kind === 'story');
    expect(story).toMatchObject({ cluster_id: 'story:wna-002', canonical: 'wna-002', status: 'grown' });
    expect(story?.members.sort()).toEqual(['khaleej-001', 'wna-002']);
    // The feed carries only tonight's articles: the copy is a duplicate of an earlier canonical.
    expect(readJsonl(path.join(dir, 'o2', 'dedup.jsonl.gz'))).toEqual([]);
    const run = JSON.parse(readFileSync(path.join(dir, 'o2', 'run.json'), 'utf8'));
    expect(run.index).toMatchObject({ added: 1, updated: 0, earlier_articles_matched: 1, earlier_articles_kept: 1, clusters_grown: 2 });
    // The earlier article's text comes back from the line the index kept, as it was.
    const report = JSON.parse(readFileSync(path.join(dir, 'o2', 'report.json'), 'utf8')) as { articles: Array<{ id: string; text: string }> };
    expect(report.articles.find((x) => x.id === 'wna-002')?.text).toBe(origin.text);
  });

  it('is idempotent: re-running a night adds nothing and gives identical outputs', () => {
    const state = tempDir('state-');
    const o1 = path.join(state, 'o1');
    const o2 = path.join(state, 'o2');
    expect(neardup(['run', '--input', path.join(ROOT, 'input'), '--output', o1, '--state', state, '--quiet']).code).toBe(0);
    expect(neardup(['run', '--input', path.join(ROOT, 'input'), '--output', o2, '--state', state, '--quiet']).code).toBe(0);
    for (const f of ['pairs.jsonl', 'clusters.jsonl', 'dedup.jsonl.gz']) expect(readFileSync(path.join(o2, f)).equals(readFileSync(path.join(o1, f))), f).toBe(true);
    const run = JSON.parse(readFileSync(path.join(o2, 'run.json'), 'utf8'));
    expect(run.index).toMatchObject({ added: 0, updated: 0, unchanged: run.counts.accepted });
    const once = tempDir('state-');
    expect(neardup(['run', '--input', path.join(ROOT, 'input'), '--output', path.join(once, 'o'), '--state', once, '--quiet']).code).toBe(0);
    expect(keyRows(state)).toEqual(keyRows(once));
    const stats = JSON.parse(neardup(['stats', '--state', state]).stdout);
    expect(stats.documents).toBe(run.counts.accepted);
    expect(stats.runs).toBe(2);
    // The re-run wrote every article again: the first night's segment was left empty and is gone.
    const segments = segmentFiles(state);
    expect(segments.named).toHaveLength(1);
    expect(segments.onDisk).toEqual(segments.named);
  });

  it('updates an article re-sent with changed text instead of duplicating it', () => {
    const state = tempDir('state-');
    const dir = tempDir('resend-');
    const rows = readJsonl<Record<string, string>>(path.join(ROOT, 'input', 'night.jsonl')).slice(0, 3);
    writeFileSync(path.join(dir, 'a.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    expect(neardup(['run', '--input', path.join(dir, 'a.jsonl'), '--output', path.join(dir, 'o1'), '--state', state, '--quiet']).code).toBe(0);
    writeFileSync(path.join(dir, 'b.jsonl'), JSON.stringify({ ...rows[0], text: rows[0].text + '\nوأضاف المصدر أن التفاصيل الكاملة ستعلن في مؤتمر صحفي يعقد مساء الغد في مقر الوزارة.' }) + '\n');
    expect(neardup(['run', '--input', path.join(dir, 'b.jsonl'), '--output', path.join(dir, 'o2'), '--state', state, '--quiet']).code).toBe(0);
    const run = JSON.parse(readFileSync(path.join(dir, 'o2', 'run.json'), 'utf8'));
    expect(run.index).toMatchObject({ added: 0, updated: 1 });
    expect(JSON.parse(neardup(['stats', '--state', state]).stdout).documents).toBe(3);
    // The re-sent article's rows are those of its new text, none of the old: as if it had come that way.
    const once = tempDir('state-');
    writeFileSync(path.join(dir, 'c.jsonl'), [readFileSync(path.join(dir, 'b.jsonl'), 'utf8').trim(), ...rows.slice(1).map((r) => JSON.stringify(r))].join('\n') + '\n');
    expect(neardup(['run', '--input', path.join(dir, 'c.jsonl'), '--output', path.join(dir, 'o3'), '--state', once, '--quiet']).code).toBe(0);
    const updated = keyRows(state);
    expect(updated).toEqual(keyRows(once));
    expect(updated.doc_bands.length).toBeGreaterThan(0);
    // A night of new articles around a re-sent one: the new ones get rows after the last, the re-sent keeps its own.
    const more = readJsonl<Record<string, string>>(path.join(ROOT, 'input', 'night.jsonl')).slice(3, 5);
    const resent = { ...rows[1], text: rows[1].text + '\nوأكد المتحدث أن اللجنة ستواصل أعمالها حتى نهاية الأسبوع المقبل.' };
    writeFileSync(path.join(dir, 'd.jsonl'), [more[0], resent, more[1]].map((r) => JSON.stringify(r)).join('\n') + '\n');
    expect(neardup(['run', '--input', path.join(dir, 'd.jsonl'), '--output', path.join(dir, 'o4'), '--state', state, '--quiet']).code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'o4', 'run.json'), 'utf8')).index).toMatchObject({ added: 2, updated: 1 });
    const db = new Database(path.join(state, 'index.sqlite'), { readonly: true });
    const ns = db.prepare('SELECT id, n FROM docs ORDER BY n').all() as Array<{ id: string; n: number }>;
    db.close();
    expect(ns.map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
    expect(ns.slice(3).map((r) => r.id).sort()).toEqual(more.map((r) => r.id).sort());
    expect(ns.find((r) => r.id === rows[1].id)?.n).toBe(2);
    writeFileSync(path.join(dir, 'e.jsonl'), [readFileSync(path.join(dir, 'b.jsonl'), 'utf8').trim(), JSON.stringify(resent), JSON.stringify(rows[2]), ...more.map((r) => JSON.stringify(r))].join('\n') + '\n');
    const all = tempDir('state-');
    expect(neardup(['run', '--input', path.join(dir, 'e.jsonl'), '--output', path.join(dir, 'o5'), '--state', all, '--quiet']).code).toBe(0);
    expect(keyRows(state)).toEqual(keyRows(all));
  });

  it("counts an outlet's earlier articles toward its templates, and other outlets' only for short furniture", () => {
    // A long footer (F) that outlet alpha carries under different titles, two articles a night: a template of
    // alpha on the second night (4 titles), not before. Outlets beta and gamma carry it too, which makes it no
    // template of gamma's (one article). A short line (S) in 12 or more articles across outlets and nights is
    // furniture, in gamma's one article too.
    const footer = 'وللاطلاع على مزيد من الأخبار المحلية والدولية يمكنكم متابعة حساباتنا الرسمية على مواقع التواصل الاجتماعي والاشتراك في نشرتنا البريدية اليومية';
    const short = 'وقد حضر الاجتماع عدد من المسؤولين';
    const words = ['المجلس', 'البلدي', 'مشروع', 'الطرق', 'الجديدة', 'المدارس', 'الصحة', 'المياه', 'الكهرباء', 'الإسكان', 'الزراعة', 'النقل', 'الموانئ', 'التعليم', 'الرياضة', 'الثقافة'];
    const body = (k: number): string => Array.from({ length: 30 }, (_, w) => words[(k * 7 + w * (k % 5 + 1)) % words.length] + (w % 6 === 5 ? ' ' + String(k * 31 + w) : '')).join(' ');
    const article = (day: number, outlet: string, k: number, paragraphs: string[]): Record<string, string> => ({
      id: `${outlet}-${day}-${k}`,
      outlet,
      url: `https://${outlet}.example/${day}/${k}`,
      published_at: `2026-11-${String(day).padStart(2, '0')}T08:00:00Z`,
      title: `عنوان الخبر ${outlet} ${day} ${k}`,
      text: [`${body(day * 100 + k)}.`, ...paragraphs].join('\n'),
    });
    const night1 = [
      ...[1, 2].map((k) => article(20, 'alpha', k, [footer, short])),
      ...[1, 2, 3].map((k) => article(20, 'beta', k, [footer, short])),
      ...[1, 2, 3, 4, 5, 6].map((k) => article(20, 'delta', k, [short])),
    ];
    const night2 = [
      ...[3, 4].map((k) => article(21, 'alpha', k, [footer, short])),
      article(21, 'gamma', 1, [footer, short]),
      article(21, 'delta', 4, [short]),
    ];
    const dir = tempDir('templates-');
    const state = tempDir('state-');
    const counts: Array<Record<string, number>> = [];
    for (const [n, rows] of [night1, night2].entries()) {
      mkdirSync(path.join(dir, String(n)));
      writeFileSync(path.join(dir, String(n), 'n.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      runNight(path.join(dir, String(n)), state);
      const run = JSON.parse(readFileSync(path.join(state, `out-${n}`, 'run.json'), 'utf8'));
      expect(run.counts.accepted).toBe(rows.length);
      counts.push(run.counts.boilerplate_paragraphs);
    }
    // Night 1: alpha has 2 titles with F, beta 3; S is in 11 articles, 6 of them delta's: only delta's S are a template.
    expect(counts[0].template).toBe(6);
    // Night 2: alpha's 2 footers (4 titles with the index's) and S in all 4 articles (alpha's and delta's by their
    // own counts, gamma's as furniture); gamma's footer stays content.
    expect(counts[1].template).toBe(6);
  });

  it('refuses to mix signatures made with another seed or shingle size (exit 2)', () => {
    const state = tempDir('state-');
    expect(neardup(['run', '--input', path.join(ROOT, 'input', 'txt'), '--output', path.join(state, 'o'), '--state', state, '--quiet']).code).toBe(0);
    const r = neardup(['run', '--input', path.join(ROOT, 'input', 'txt'), '--output', path.join(state, 'o'), '--state', state, '--quiet', '--set', 'shingle.size=4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/shingle_size: index has 3, this run 4/);
  });

  it('refuses a concurrent run with exit code 3', () => {
    const state = tempDir('state-');
    // A live process holds the lock: this test's own pid.
    writeFileSync(path.join(state, 'LOCK'), JSON.stringify({ pid: process.pid, host: os.hostname(), started: new Date().toISOString() }));
    const r = neardup(['run', '--input', path.join(ROOT, 'input', 'txt'), '--output', path.join(state, 'o'), '--state', state, '--quiet']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/another neardup run \(pid \d+/);
  });

  it('recovers a stale lock left by a crashed run', () => {
    const state = tempDir('state-');
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid as number;
    writeFileSync(path.join(state, 'LOCK'), JSON.stringify({ pid: dead, host: os.hostname(), started: '2026-01-01T00:00:00Z' }));
    const r = neardup(['run', '--input', path.join(ROOT, 'input', 'txt'), '--output', path.join(state, 'o'), '--state', state, '--log-format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/"event_kind":"stale-lock"/);
    expect(existsSync(path.join(state, 'LOCK'))).toBe(false);
  });

  it('survives SIGKILL at random moments (20 times), then completes the night as if never interrupted', async () => {
    const state = tempDir('state-');
    const out = path.join(state, 'out');
    let killed = 0;
    for (let i = 0; i < 20; i++) {
      const child = spawn(process.execPath, [CLI, 'run', '--input', path.join(ROOT, 'input'), '--output', out, '--state', state, '--quiet'], { stdio: 'ignore' });
      // Random points across start-up, detection, writing and the index commit.
      const delay = 50 + Math.floor(Math.random() * 900);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const timer = setTimeout(() => {
        if (child.kill('SIGKILL')) killed++;
      }, delay);
      await exited;
      clearTimeout(timer);
      // No output is ever half-written under its final name.
      for (const f of ['pairs.jsonl', 'clusters.jsonl']) if (existsSync(path.join(out, f))) readJsonl(path.join(out, f));
    }
    expect(killed).toBeGreaterThan(0);
    const r = neardup(['run', '--input', path.join(ROOT, 'input'), '--output', out, '--state', state, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const cleanState = tempDir('state-');
    const cleanOut = path.join(cleanState, 'out');
    expect(neardup(['run', '--input', path.join(ROOT, 'input'), '--output', cleanOut, '--state', cleanState, '--quiet']).code).toBe(0);
    for (const f of ['pairs.jsonl', 'clusters.jsonl', 'dedup.jsonl.gz']) expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(cleanOut, f))), f).toBe(true);
    expect(indexedClusters(state)).toEqual(indexedClusters(cleanState));
    // Segments and counts files of the killed runs that never committed are gone; every file the index names is there.
    const segments = segmentFiles(state);
    expect(segments.onDisk).toEqual(segments.named);
  }, 180_000);

  it('uses a counts file merged early only once its night commits; one left by a night that stopped is swept', async () => {
    const state = tempDir('state-');
    runNight(nights[0], state);
    const countsDir = path.join(state, 'counts');
    const [named] = readdirSync(countsDir);
    // A night that wrote its counts file, then stopped before its commit. (The built store: its worker is a
    // compiled file, as in a run.)
    const { SqliteStore: BuiltStore } = (await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'store', 'sqlite.js')).href)) as { SqliteStore: typeof SqliteStore };
    const store = new BuiltStore(state);
    const early = await store.mergeShingleCounts({ hashes: Uint32Array.of(1, 2), deltas: Int32Array.of(500, 500) }, 'stopped');
    store.close();
    expect(readdirSync(countsDir).sort()).toEqual([named, early.file].sort());
    const reopened = new SqliteStore(state);
    expect(reopened.shingleCounts(Uint32Array.of(1, 2)).size).toBe(0);
    expect(reopened.shinglesCountedAtLeast(500).length).toBe(0);
    reopened.close();
    // The next night sweeps it, and the file it names holds none of its counts.
    runNight(nights[1], state);
    segmentFiles(state);
    expect(readdirSync(countsDir)).not.toContain(early.file);
    const after = new SqliteStore(state);
    expect(after.shingleCounts(Uint32Array.of(1, 2)).size).toBe(0);
    expect(after.shinglesCountedAtLeast(1).length).toBeGreaterThan(0);
    after.close();
  });

  it('refuses an index written before article records moved to segment files (exit 2)', () => {
    const state = tempDir('state-');
    const db = new Database(path.join(state, 'index.sqlite'));
    db.exec('CREATE TABLE docs (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, article BLOB NOT NULL, analysis BLOB NOT NULL)');
    db.close();
    const r = neardup(['run', '--input', path.join(ROOT, 'input', 'txt'), '--output', path.join(state, 'o'), '--state', state, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/written by an earlier version of neardup/);
    expect(neardup(['gc', '--keep-days', '1', '--state', state]).code).toBe(2);
    expect(existsSync(path.join(state, 'LOCK'))).toBe(false);
  });

  it('rekeys outlet paragraphs of an index keyed by outlet first, and the nights after run as before', () => {
    const state = tempDir('state-');
    const oldLayout = tempDir('state-');
    runNight(nights[0], state);
    cpSync(state, oldLayout, { recursive: true });
    // The layout before paragraph-first keys, with the same rows.
    const db = new Database(path.join(oldLayout, 'index.sqlite'));
    const rows = db.prepare('SELECT hash, outlet, title FROM outlet_paragraphs ORDER BY hash, outlet, title').all();
    expect(rows.length).toBeGreaterThan(0);
    db.exec('ALTER TABLE outlet_paragraphs RENAME TO op');
    db.exec('CREATE TABLE outlet_paragraphs (outlet TEXT NOT NULL, hash INTEGER NOT NULL, title INTEGER NOT NULL, PRIMARY KEY (outlet, hash, title)) WITHOUT ROWID');
    db.exec('INSERT INTO outlet_paragraphs SELECT outlet, hash, title FROM op');
    db.exec('DROP TABLE op');
    db.close();
    sameNightsAfter(nights.slice(1), state, oldLayout);
    const tables = (st: string): { sql: string; rows: unknown[] } => {
      const d = new Database(path.join(st, 'index.sqlite'), { readonly: true });
      const sql = d.prepare("SELECT sql FROM sqlite_master WHERE name = 'outlet_paragraphs'").pluck().get() as string;
      const all = d.prepare('SELECT hash, outlet, title FROM outlet_paragraphs ORDER BY hash, outlet, title').all();
      d.close();
      return { sql, rows: all };
    };
    const rekeyed = tables(oldLayout);
    expect(rekeyed.sql).toMatch(/PRIMARY KEY \(hash, outlet, title\)/);
    expect(rekeyed.rows).toEqual(tables(state).rows);
  });

  it('reads an index whose records keep their lines inside them, and the nights after run as before', () => {
    // Every record of these nights has a line.
    const state = tempDir('state-');
    const oldLayout = tempDir('state-');
    const { dir, days, rows } = jsonlNights();
    for (const day of days.slice(0, -1)) runNight(path.join(dir, day), state);
    cpSync(state, oldLayout, { recursive: true });
    // The layout before lines files: each segment rewritten with every record's line at its end, no lines file.
    const db = new Database(path.join(oldLayout, 'index.sqlite'));
    const segs = path.join(oldLayout, 'segments');
    const rewritten: string[] = [];
    for (const { id: segment, file } of db.prepare('SELECT id, file FROM segments').all() as Array<{ id: number; file: string }>) {
      const records = readFileSync(path.join(segs, file));
      const lines = readFileSync(path.join(segs, file.replace(/\.seg$/, '.lines')));
      const parts: Buffer[] = [];
      let at = 0;
      const update = db.prepare('UPDATE docs SET record_at = ?, record_bytes = ? WHERE n = ?');
      for (const d of db.prepare('SELECT n, record_at, record_bytes FROM docs WHERE segment = ? ORDER BY record_at').all(segment) as Array<{ n: number; record_at: number; record_bytes: number }>) {
        const doc = decodeRecord(records.subarray(d.record_at, d.record_at + d.record_bytes), { file, at: d.record_at });
        const body = doc.article.body as { stored: StoredLine };
        doc.article.body = { line: lines.subarray(body.stored.at, body.stored.at + body.stored.bytes) };
        rewritten.push(doc.article.id);
        const bytes = encodeRecord(doc);
        parts.push(bytes);
        update.run(at, bytes.length, d.n);
        at += bytes.length;
      }
      writeFileSync(path.join(segs, file), Buffer.concat(parts));
      rmSync(path.join(segs, file.replace(/\.seg$/, '.lines')));
    }
    db.close();
    expect(rewritten.length).toBeGreaterThan(3);
    const last = path.join(dir, days[days.length - 1]);
    sameNightsAfter([last], state, oldLayout);
    // report.json shows earlier nights' copies with their texts: here read from inside the old records.
    const report = (st: string): Buffer => readFileSync(path.join(st, 'out-' + path.basename(last), 'report.json'));
    expect(report(oldLayout).equals(report(state))).toBe(true);
    const input = new Map(rows.map((r) => [r.id, r]));
    const shown = (JSON.parse(report(oldLayout).toString()) as { articles: Array<{ id: string; text: string }> }).articles.filter((a) => rewritten.includes(a.id));
    expect(shown.length).toBeGreaterThanOrEqual(2);
    for (const a of shown) expect(a.text, a.id).toBe(input.get(a.id)?.text);
  });

  it('moves the band rows of an index that kept them in tables into band files, and the nights after run as before', () => {
    const state = tempDir('state-');
    const oldLayout = tempDir('state-');
    runNight(nights[0], state);
    runNight(nights[1], state);
    cpSync(state, oldLayout, { recursive: true });
    // The layout before band files: the same valid rows in two tables, no band files, segments without dates.
    const before = keyRows(state);
    expect(before.passage_bands.length).toBeGreaterThan(0);
    const db = new Database(path.join(oldLayout, 'index.sqlite'));
    db.exec('CREATE TABLE doc_bands (key INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, n)) WITHOUT ROWID');
    db.exec('CREATE TABLE passage_bands (key INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, n)) WITHOUT ROWID');
    const nOf = new Map((db.prepare('SELECT id, n FROM docs').all() as Array<{ id: string; n: number }>).map((d) => [d.id, d.n]));
    for (const table of ['doc_bands', 'passage_bands'] as const) {
      const insert = db.prepare(`INSERT INTO ${table} (key, n) VALUES (?, ?)`);
      for (const row of before[table]) {
        const [key, id] = row.split(' ');
        insert.run(Number(key), nOf.get(id));
      }
    }
    db.exec('ALTER TABLE segments DROP COLUMN t_min; ALTER TABLE segments DROP COLUMN t_max;');
    db.close();
    for (const f of readdirSync(path.join(oldLayout, 'segments'))) if (f.endsWith('.bands')) rmSync(path.join(oldLayout, 'segments', f));
    sameNightsAfter(nights.slice(2), state, oldLayout);
    expect(keyRows(oldLayout)).toEqual(keyRows(state));
    const d = new Database(path.join(oldLayout, 'index.sqlite'), { readonly: true });
    expect(d.prepare("SELECT name FROM sqlite_master WHERE name IN ('doc_bands', 'passage_bands')").all()).toEqual([]);
    d.close();
    const segments = segmentFiles(oldLayout);
    expect(segments.onDisk).toEqual(segments.named);
  });

  it('gc removes old articles with everything that belongs to them', () => {
    const state = tempDir('state-');
    expect(neardup(['run', '--input', path.join(ROOT, 'input'), '--output', path.join(state, 'o'), '--state', state, '--quiet']).code).toBe(0);
    const before = JSON.parse(neardup(['stats', '--state', state]).stdout);
    // The newest article is from 2026-11-20 15:00: keeping 1 day drops what was published before 2026-11-19 15:00.
    const rows = readJsonl<{ published_at: string }>(path.join(ROOT, 'input', 'night.jsonl'));
    const old = rows.filter((r) => Date.parse(r.published_at) < Date.parse('2026-11-19T15:00:00Z')).length;
    expect(old).toBe(3);
    const g = neardup(['gc', '--keep-days', '1', '--state', state]);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout).toMatch(new RegExp(`removed ${old} articles`));
    const after = JSON.parse(neardup(['stats', '--state', state]).stdout);
    expect(after.documents).toBe(before.documents - old);
    expect(after.article_bands).toBeLessThan(before.article_bands);
    const segments = segmentFiles(state);
    expect(segments.onDisk).toEqual(segments.named);
    expect(segments.named).toHaveLength(1);
  });
});
