import { mkdirSync, writeFileSync, chmodSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { neardup, readJsonl, ROOT, tempDir } from './helpers/cli.js';
import { inputBytes } from '../src/ingest/read.js';

const ARABIC = 'أعلنت وزارة الصحة اليوم عن إطلاق حملة وطنية للتطعيم ضد الإنفلونزا الموسمية تستمر شهرين في جميع المناطق';
// Distinct texts, so that valid records are not near-duplicates of each other and all reach the feed.
const TOPICS = ['افتتح المعرض الدولي للكتاب أبوابه للزوار', 'هطلت أمطار غزيرة على المرتفعات الجنوبية', 'فاز النادي الأهلي على منافسه بثلاثة أهداف',
  'ارتفعت أسعار النفط في التعاملات الآسيوية', 'أطلقت الجامعة برنامجا جديدا للمنح الدراسية', 'تستضيف العاصمة مؤتمرا عن الطاقة المتجددة',
  'أعلنت البلدية إغلاق الطريق الدائري مؤقتا', 'دشن المستشفى قسما جديدا لطب الأطفال'];
let topic = 0;
const rec = (id: unknown, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ id, outlet: 'test', url: 'https://example.org/' + String(id), published_at: '2026-11-20T08:00:00Z', title: 'عنوان', text: `${TOPICS[topic++ % TOPICS.length]} في خبر رقم ${topic} من نشرة الاختبار`, ...extra });

describe('ingest: bad input is rejected with a reason, the run goes on', () => {
  const dir = tempDir();
  const input = path.join(dir, 'in');
  mkdirSync(input);
  const lines = [
    rec('ok-1'),
    '{"id": "broken", "text": ',
    JSON.stringify({ outlet: 'x', text: ARABIC }),
    rec('ok-1'),
    rec('empty', { text: '   ' }),
    rec('english', { text: 'This article is written entirely in English and has no Arabic letters at all.' }),
    rec('huge', { text: ARABIC + ' ' + 'ب'.repeat(5000) }),
    rec('proto', { __proto__: { polluted: true }, constructor: 'نص', extra: { nested: 1 } }).replace('"id":"proto"', '"id":"proto","__proto__":{"polluted":true}'),
    '[1,2,3]',
  ];
  writeFileSync(path.join(input, 'night.jsonl'), lines.join('\n') + '\n');
  // Invalid UTF-8 bytes on a line of their own.
  writeFileSync(path.join(input, 'bad-utf8.jsonl'), Buffer.concat([Buffer.from(rec('utf8-ok') + '\n'), Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a])]));
  // A gzip file that inflates past the file cap.
  writeFileSync(path.join(input, 'bomb.jsonl.gz'), gzipSync(Buffer.from(Array.from({ length: 400 }, (_, i) => JSON.stringify({ id: `gz-${i}`, outlet: 'gz', text: ARABIC })).join('\n'))));
  // A corrupt gzip file.
  writeFileSync(path.join(input, 'corrupt.jsonl.gz'), Buffer.from('this is not gzip data at all'));
  // An unreadable file (permission denied unless running as root, so also a dangling link).
  writeFileSync(path.join(input, 'good.txt'), 'عنوان الخبر\nتاريخ النشر: 17th, September 2023 GMT\n' + ARABIC + '\nالمصدر: بوابة الاختبار\n');
  const unreadable = path.join(input, 'locked.jsonl');
  writeFileSync(unreadable, rec('locked') + '\n');
  chmodSync(unreadable, 0o000);
  const out = path.join(dir, 'out');
  const r = neardup(['run', '--input', input, path.join(dir, 'missing-folder'), '--output', out, '--quiet', '--set', 'ingest.max_record_bytes=4000', '--set', 'ingest.max_file_bytes=20000', '--set', 'report.html=false']);

  it('completes with exit code 0', () => {
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
  });

  const rejected = readJsonl<{ file: string; line: number | null; id: string | null; reason: string }>(path.join(out, 'rejected.jsonl'));
  const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
  const reasonFor = (pred: (x: (typeof rejected)[number]) => boolean): string => rejected.find(pred)?.reason ?? '(not rejected)';

  it('rejects a broken JSON line with file and line', () => {
    expect(reasonFor((x) => x.file.endsWith('night.jsonl') && x.line === 2)).toMatch(/broken JSON/);
  });
  it('rejects a missing id', () => expect(reasonFor((x) => x.line === 3 && x.file.endsWith('night.jsonl'))).toMatch(/missing id/));
  it('rejects a duplicate id, naming the first', () => expect(reasonFor((x) => x.file.endsWith('night.jsonl') && x.line === 4)).toMatch(/duplicate id \(first seen at .*night.jsonl:1\)/));
  it('rejects empty text', () => expect(reasonFor((x) => x.id === 'empty')).toMatch(/empty text/));
  it('rejects text that is not Arabic', () => expect(reasonFor((x) => x.id === 'english')).toMatch(/not Arabic/));
  it('rejects a record over the size cap', () => expect(reasonFor((x) => x.file.endsWith('night.jsonl') && x.line === 7)).toMatch(/size cap/));
  it('rejects a JSON line that is not an object', () => expect(reasonFor((x) => x.file.endsWith('night.jsonl') && x.line === 9)).toMatch(/not an object/));
  it('rejects invalid UTF-8', () => expect(reasonFor((x) => x.file.endsWith('bad-utf8.jsonl') && x.line === 2)).toMatch(/invalid UTF-8/));
  it('rejects a .gz that inflates past the cap', () => expect(reasonFor((x) => x.file.endsWith('bomb.jsonl.gz') && /size cap/.test(x.reason))).toMatch(/inflates past the size cap/));
  it('rejects a corrupt .gz file', () => expect(reasonFor((x) => x.file.endsWith('corrupt.jsonl.gz'))).toMatch(/unreadable file/));
  it('rejects a missing input path', () => expect(reasonFor((x) => x.file.endsWith('missing-folder'))).toMatch(/unreadable path/));
  it('rejects an unreadable file (when not root)', () => {
    if (process.getuid?.() === 0) return; // root reads anything: nothing to reject
    expect(reasonFor((x) => x.file.endsWith('locked.jsonl'))).toMatch(/unreadable file/);
  });

  it('accepts __proto__ and constructor keys as plain data, polluting nothing', () => {
    const dedup = readJsonl(path.join(out, 'dedup.jsonl.gz'));
    const proto = dedup.find((d) => d.id === 'proto');
    expect(proto).toBeDefined();
    expect(Object.hasOwn(proto as object, '__proto__')).toBe(true);
    expect((proto as Record<string, unknown>).constructor).toBe('نص');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accounts for every record: read = accepted + rejected', () => {
    expect(run.counts.read).toBe(run.counts.accepted + run.counts.rejected);
    expect(run.counts.rejected).toBe(rejected.length);
    const dedup = readJsonl(path.join(out, 'dedup.jsonl.gz'));
    const ids = dedup.map((d) => d.id);
    expect(ids).toContain('ok-1');
    expect(ids).toContain('utf8-ok');
    expect(ids).toContain('good');
  });

  it('gives byte-identical outputs when every record waits in the spill file (ingest.in_memory_mb=0)', () => {
    const spilled = path.join(dir, 'out-spilled');
    const tmp = path.join(dir, 'tmp');
    mkdirSync(tmp);
    const r2 = neardup(['run', '--input', input, path.join(dir, 'missing-folder'), '--output', spilled, '--quiet', '--set', 'ingest.max_record_bytes=4000', '--set', 'ingest.max_file_bytes=20000', '--set', 'report.html=false', '--set', 'ingest.in_memory_mb=0'], undefined, { TMPDIR: tmp, MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(r2.code, r2.stderr).toBe(0);
    for (const f of ['dedup.jsonl.gz', 'pairs.jsonl', 'clusters.jsonl', 'rejected.jsonl', 'report.json']) {
      expect(readFileSync(path.join(spilled, f)).equals(readFileSync(path.join(out, f))), f).toBe(true);
    }
    // The spill file was used, and is gone with the run.
    expect(JSON.parse(readFileSync(path.join(spilled, 'run.json'), 'utf8')).spilled_records).toBeGreaterThan(5);
    expect(readdirSync(tmp)).toEqual([]);
    // The summary says which malloc threshold each run had and who set it (the outputs do not depend on
    // it): the environment's when there is one; else, on glibc, neardup's own (its helper is built by npm ci),
    // which a run this small never needs to fix (glibc's dynamic default stays).
    expect(JSON.parse(readFileSync(path.join(spilled, 'run.json'), 'utf8')).malloc_mmap_threshold).toEqual({ bytes: 131072, source: 'environment' });
    const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime !== undefined;
    const fromEnv = process.env.MALLOC_MMAP_THRESHOLD_;
    expect(run.malloc_mmap_threshold).toEqual(fromEnv !== undefined ? { bytes: Number(fromEnv), source: 'environment' } : glibc ? { bytes: null, source: 'neardup', above_rss_mb: 512 } : null);
    // A night this small has V8 optimize less eagerly (util/jit.ts), and says so.
    expect(run.v8_interrupt_budget).toBe(4 * 67584);
  });

  it('leaves any MALLOC_MMAP_THRESHOLD_ in the environment to glibc, and says what it was', () => {
    const probe = (value: string): unknown => {
      const script = `import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', 'src', 'util', 'malloc.js')).href)}).then((m) => console.log(JSON.stringify([m.mallocThreshold(), m.setMallocThreshold(), m.mallocThreshold()])))`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, MALLOC_MMAP_THRESHOLD_: value } });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const env = { bytes: 65536, source: 'environment' };
    expect(probe('65536')).toEqual([env, env, env]);
    // Not a plain number of bytes: still glibc's to read, not neardup's to replace.
    const odd = { bytes: null, source: 'environment', setting: '128k' };
    expect(probe('128k')).toEqual([odd, odd, odd]);
  });

  it('fixes the malloc threshold only once resident memory passes the mark, at once or later', () => {
    const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime !== undefined;
    if (!glibc) return;
    const malloc = JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', 'src', 'util', 'malloc.js')).href);
    const probe = (body: string): Array<Record<string, unknown>> => {
      const env = { ...process.env };
      delete env.MALLOC_MMAP_THRESHOLD_;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${malloc}); ${body}`], { encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    // Past the mark already (1 MB): fixed as it is called.
    const [now] = probe('console.log(JSON.stringify([{ ...m.setMallocThreshold(1) }]))');
    expect(now).toMatchObject({ bytes: 131072, source: 'neardup', above_rss_mb: 1 });
    expect(now.fixed_at_rss_mb).toBeGreaterThanOrEqual(1);
    // Below it at first; 200 MB touched later passes it, and the check that follows fixes it.
    const [before, after] = probe(`const mark = Math.ceil(process.memoryUsage.rss() / 1048576) + 100;
      const first = { ...m.setMallocThreshold(mark) };
      const held = Buffer.alloc(200 * 1048576, 1);
      await new Promise((r) => setTimeout(r, 400));
      console.log(JSON.stringify([first, { ...m.mallocThreshold() }, held.length]));`);
    expect(before.bytes).toBeNull();
    expect(after.bytes).toBe(131072);
    expect(after.fixed_at_rss_mb).toBeGreaterThan(after.above_rss_mb as number);
    // A run that knows its night is large fixes it before the mark.
    const [early] = probe('m.setMallocThreshold(1 << 20); console.log(JSON.stringify([{ ...m.fixMallocThreshold() }]))');
    expect(early).toMatchObject({ bytes: 131072, source: 'neardup', above_rss_mb: 1 << 20 });
  });

  it('sizes a night from its files before reading them, a compressed file at four times its size', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.jsonl'), 'x'.repeat(1000));
    writeFileSync(path.join(dir, 'b.jsonl.gz'), gzipSync(Buffer.from('y'.repeat(5000))));
    writeFileSync(path.join(dir, 'notes.md'), 'z'.repeat(700));
    const gz = statSync(path.join(dir, 'b.jsonl.gz')).size;
    expect(await inputBytes([dir])).toBe(1000 + 4 * gz);
    expect(await inputBytes([path.join(dir, 'a.jsonl'), path.join(dir, 'missing.jsonl')])).toBe(1000);
  });

  it('reads .txt articles: title, date line and credit line', () => {
    const good = readJsonl(path.join(out, 'dedup.jsonl.gz')).find((d) => d.id === 'good') as Record<string, unknown>;
    expect(good.title).toBe('عنوان الخبر');
    expect(good.published_at).toBe('2023-09-17T00:00:00Z');
    expect(good.credit).toBe('بوابة الاختبار');
  });
});

describe('config and usage errors exit with code 2', () => {
  it('names the key and what is allowed for a bad value', () => {
    const r = neardup(['run', '--input', 'input', '--output', tempDir(), '--set', 'verify.jaccard=1.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/verify\.jaccard/);
    expect(r.stderr).toMatch(/from 0 to 1/);
  });
  it('rejects an unknown config key in a file', () => {
    const dir = tempDir();
    const cfg = path.join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ minhash: { permutation: 64 } }));
    const r = neardup(['run', '--config', cfg, '--output', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown config key "minhash\.permutation"; allowed here: permutations/);
  });
  it('rejects an unknown option', () => {
    const r = neardup(['run', '--bogus-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bogus-flag/);
  });
  it('documents every option in --help', () => {
    const r = neardup(['run', '--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--input', '--output', '--config', '--set', '--quiet', '--log-format', 'verify.jaccard', 'minhash.permutations']) expect(r.stdout).toContain(opt);
  });
});

describe('other commands fail clearly', () => {
  it('report on a folder without a run explains what is missing (exit 1)', () => {
    const r = neardup(['report', '--output', tempDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/report\.json is missing or unreadable.*run "neardup run" first/);
  });
  it('gc needs --keep-days', () => {
    const r = neardup(['gc', '--state', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keep-days/);
  });
  it('stats on a new index reports it empty', () => {
    const r = neardup(['stats', '--state', tempDir()]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ documents: 0, runs: 0 });
  });
});
