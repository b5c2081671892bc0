import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { Spill } from '../src/ingest/spill.js';
import { readJsonl } from '../src/ingest/read.js';
import { isScriptSafe } from '../src/report/html.js';
import { appendKeys, writeLines, writeText, type TextPart } from '../src/report/writers.js';
import { ArticleTexts } from '../src/pipeline.js';
import type { Article } from '../src/ingest/validate.js';
import { neardup, withTempDir } from './helpers/cli.js';

const line = (o: Record<string, unknown>, sep = ', '): Buffer => Buffer.from(JSON.stringify(o).replaceAll('","', `"${sep}"`) + '\n');

describe('the night\'s kept records', () => {
  it('reads every record back as it was appended, from memory up to the budget and from the file past it', async () => {
    await withTempDir('neardup-records-', async (parent) => {
      const records = Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, text: `خبر رقم ${i} عن افتتاح مشروع جديد في المدينة`.repeat(1 + (i % 3)) }));
      const lines = records.map((r) => line(r));
      // Budget for about a third of them: the rest go to the file.
      const budget = lines.slice(0, 13).reduce((s, l) => s + l.length, 0);
      const spill = new Spill(budget, parent);
      const refs: Array<{ offset: number; length: number }> = [];
      // Appended in batches of 4 lines, as ingest does.
      for (let b = 0; b < lines.length; b += 4) {
        const batch = Buffer.concat(lines.slice(b, b + 4));
        const at = spill.append(batch, 4);
        let o = 0;
        for (const l of lines.slice(b, b + 4)) {
          refs.push({ offset: at + o, length: l.length - 1 });
          o += l.length;
        }
      }
      expect(spill.records).toBeGreaterThan(20);
      expect(spill.records).toBeLessThan(40);
      records.forEach((r, i) => {
        expect(spill.line(refs[i]).toString()).toBe(lines[i].toString().trimEnd());
        expect({ ...spill.fields(refs[i]) }).toEqual(r);
      });
      expect(() => spill.line({ offset: 1e9, length: 10 })).toThrow(/no record/);
      spill.close();
      expect(readdirSync(parent)).toEqual([]);
    });
  });
});

describe('feed lines', () => {
  /** A line's pieces (bytes and text) as the bytes written. */
  const joined = (pieces: Array<string | Uint8Array> | null): Buffer => Buffer.concat((pieces ?? []).map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  const keys = { cluster_id: 'nd:a', duplicates: ['b', 'c'], story_id: null };

  it('keeps the input line byte for byte and appends the keys', () => {
    const input = line({ id: 'a', title: 'عنوان', text: 'نص الخبر', extra: { n: 1 } });
    const out = joined(appendKeys(input, keys));
    expect(out.subarray(0, input.length - 2).equals(input.subarray(0, input.length - 2))).toBe(true);
    expect(out.at(-1)).toBe(0x0a);
    expect(JSON.parse(out.toString())).toEqual({ id: 'a', title: 'عنوان', text: 'نص الخبر', extra: { n: 1 }, ...keys });
  });

  it('trims a byte-order mark, spaces and a carriage return around the object', () => {
    const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('  {"id": "a", "text": "نص" }  \r\n')]);
    const out = joined(appendKeys(input, keys)).toString();
    expect(out.startsWith('{"id": "a"')).toBe(true);
    expect(JSON.parse(out)).toEqual({ id: 'a', text: 'نص', ...keys });
  });

  it('declines a line that has one of the keys already, or is not an object', () => {
    expect(appendKeys(line({ id: 'a', text: 'نص', story_id: 'old' }), keys)).toBeNull();
    expect(appendKeys(Buffer.from('["a"]'), keys)).toBeNull();
  });
});

describe('the compressed feed', () => {
  /** How many gzip members (each starting 1f 8b 08) the file holds. */
  const members = (gz: Buffer): number => {
    let n = 0;
    let at = 0;
    // Walk member by member: inflate one, skip its bytes, repeat.
    while (at < gz.length) {
      const rest = gz.subarray(at);
      const one = inflateMember(rest);
      n++;
      at += one;
    }
    return n;
  };
  /** Length in bytes of the first gzip member of `gz`. */
  const inflateMember = (gz: Buffer): number => {
    expect([gz[0], gz[1], gz[2]]).toEqual([0x1f, 0x8b, 0x08]);
    // A raw inflate over the deflate data (after the 10-byte header) reports how much input it used.
    const inf = zlib.inflateRawSync(gz.subarray(10), { info: true }) as unknown as { engine: { bytesWritten: number } };
    return 10 + inf.engine.bytesWritten + 8;
  };

  it('writes large outputs as several gzip members that read back as one stream, the same bytes every time', async () => {
    await withTempDir('neardup-gz-', async (dir) => {
      // About 9 MB of lines: three members of 4 MB or less. Varied enough not to compress to nothing.
      const lines = Array.from({ length: 30000 }, (_, i) => JSON.stringify({ id: `a${i}`, text: `وأعلنت الهيئة العامة للإحصاء أن عدد المسافرين بلغ ${i * 7919 % 100003} مسافراً في اليوم ${i % 31}`.repeat(2) }) + '\n');
      const bytes = lines.reduce((s, l) => s + Buffer.byteLength(l), 0);
      expect(bytes).toBeGreaterThan(8 << 20);
      const a = path.join(dir, 'a.jsonl.gz');
      const b = path.join(dir, 'b.jsonl.gz');
      expect(await writeLines(a, lines, true)).toBe(lines.length);
      await writeLines(b, lines.map((l) => Buffer.from(l)), true);
      const gz = readFileSync(a);
      expect(members(gz)).toBeGreaterThanOrEqual(3);
      expect(zlib.gunzipSync(gz).toString()).toBe(lines.join(''));
      // Strings or bytes, run after run: the same file.
      expect(readFileSync(b).equals(gz)).toBe(true);
      // No lines: an empty but valid gzip file.
      const empty = path.join(dir, 'empty.jsonl.gz');
      expect(await writeLines(empty, [], true)).toBe(0);
      expect(zlib.gunzipSync(readFileSync(empty)).length).toBe(0);
    });
  });
});

describe('reading lines in batches', () => {
  /** Every line readJsonl hands out, in order: its number and its bytes (null when over the cap). */
  const readAll = async (file: string, gz: boolean, maxRecordBytes: number): Promise<{ lines: Array<{ line: number; text: string | null }>; rejects: string[] }> => {
    const lines: Array<{ line: number; text: string | null }> = [];
    const rejects: string[] = [];
    for await (const unit of readJsonl(file, gz, { maxRecordBytes, maxFileBytes: 1e9 })) {
      if (unit.kind === 'reject') rejects.push(unit.rejection.reason);
      if (unit.kind !== 'lines') continue;
      const { bytes, ends, firstLine } = unit.batch;
      let start = 0;
      ends.forEach((end, i) => {
        if (end < 0) {
          lines.push({ line: firstLine + i, text: null });
          start = -end - 1;
        } else {
          lines.push({ line: firstLine + i, text: Buffer.from(bytes.subarray(start, end)).toString() });
          start = end;
        }
      });
    }
    return { lines, rejects };
  };

  it('keeps every line byte for byte with its number, across chunk and batch boundaries, skipping only lines over the cap', async () => {
    await withTempDir('neardup-lines-', async (dir) => {
      // Lines from a few bytes to 700 KB (longer than a read chunk), blank lines, a CRLF, no newline at the end.
      // Over the cap: lines 1 and 129 (the first of their batches, where a skipped line once passed for a blank one) and more.
      const sizes = Array.from({ length: 700 }, (_, i) => (i % 97 === 5 || i === 0 || i === 128 ? 700_000 : i % 13 === 0 ? 0 : 20 + ((i * 7919) % 4000)));
      const texts = sizes.map((n, i) => (n === 0 ? '' : JSON.stringify({ id: `l${i}`, text: 'ب'.repeat(n >> 1) }) + (i === 3 ? '\r' : '')));
      const content = texts.join('\n');
      const plain = path.join(dir, 'night.jsonl');
      writeFileSync(plain, content);
      writeFileSync(plain + '.gz', zlib.gzipSync(content));
      const cap = 600_000;
      for (const [file, gz] of [[plain, false], [plain + '.gz', true]] as const) {
        const { lines, rejects } = await readAll(file, gz, cap);
        expect(rejects).toEqual([]);
        expect(lines.map((l) => l.line)).toEqual(texts.map((_, i) => i + 1));
        lines.forEach((l, i) => expect(l.text).toBe(Buffer.byteLength(texts[i]) > cap ? null : texts[i]));
      }
    });
  });
});

describe('records read back while several outputs are written', () => {
  it('keeps each output intact when writers take turns peeking at records from the spill file', async () => {
    await withTempDir('neardup-peek-', async (parent) => {
      // Every record in the file (no memory budget), a few MB of them: several read-ahead blocks.
      const spill = new Spill(0, parent);
      const lines = Array.from({ length: 1500 }, (_, i) => Buffer.from(JSON.stringify({ id: `p${i}`, text: `فقرة ${i} `.repeat(150 + (i % 50)) })));
      const refs = lines.map((l) => ({ offset: spill.append(Buffer.concat([l, Buffer.from('\n')]), 1), length: l.length }));
      const newline = Buffer.from('\n');
      // Two writers in opposite orders: while one waits on its file, the other moves the read-ahead block.
      const forward = function* (): Generator<Uint8Array[]> {
        for (const r of refs) yield [spill.peek(r), newline];
      };
      const backward = function* (): Generator<Uint8Array[]> {
        for (const r of [...refs].reverse()) yield [spill.peek(r), newline];
      };
      const a = path.join(parent, 'a.jsonl');
      const b = path.join(parent, 'b.jsonl');
      await Promise.all([writeLines(a, forward()), writeLines(b, backward())]);
      expect(readFileSync(a).toString()).toBe(lines.map((l) => l + '\n').join(''));
      expect(readFileSync(b).toString()).toBe([...lines].reverse().map((l) => l + '\n').join(''));
      spill.close();
    });
  });
});

describe("report.json's texts read from the spill file beside the feed", () => {
  it('stay intact while the feed peeks at other records as the report waits on its writes', async () => {
    await withTempDir('neardup-report-texts-', async (parent) => {
      // Every record in the file, several read-ahead blocks of them; the report asks for the texts in input
      // order (through rawTexts), the feed for the lines in another order, both written at once, as writeNight does.
      const spill = new Spill(0, parent);
      const texts = Array.from({ length: 3000 }, (_, i) => `نص الخبر ${i} `.repeat(120 + (i % 41) * 30));
      const articles = texts.map((text, i) => {
        const bytes = Buffer.from(JSON.stringify({ id: `a${i}`, text }) + '\n');
        return { id: `a${i}`, index: i, body: { spill: { offset: spill.append(bytes, 1), length: bytes.length - 1 } } } as unknown as Article;
      });
      const lines = new ArticleTexts(articles, spill);
      const feed = function* (): Generator<Uint8Array[]> {
        for (let n = 0; n < articles.length; n++) yield [lines.peekLine((n * 7919) % articles.length) as Buffer, Buffer.from('\n')];
      };
      const report = async function* (): AsyncGenerator<TextPart> {
        yield '[';
        let k = 0;
        for await (const raw of lines.rawTexts(articles.map((a) => a.index))) {
          // A long head first: its write may wait on the file while the feed moves on.
          yield [k ? ',' : '', `{"id":"a${k}","pad":"${'x'.repeat(5000)}","text":`, raw as Uint8Array, '}'];
          k++;
        }
        yield ']';
      };
      const out = path.join(parent, 'report.json');
      await Promise.all([writeLines(path.join(parent, 'feed.jsonl'), feed()), writeText(out, report())]);
      const got = JSON.parse(readFileSync(out, 'utf8')) as Array<{ text: string }>;
      expect(got.length).toBe(texts.length);
      expect(got.filter((o, k) => o.text !== texts[k]).length).toBe(0);
      spill.close();
    });
  });
});

describe('writing a text in parts', () => {
  it('copies each part of bytes before awaiting anything, so two writers may share one reused buffer', async () => {
    await withTempDir('neardup-text-', async (dir) => {
      // Both producers refill one 300 KB buffer for each part (as two outputs peeking at the spill do): 40 parts
      // each cross several 4 MB writes, during which the other writer runs and refills the buffer.
      const reused = Buffer.alloc(300_000);
      const producer = (letter: number, expected: Buffer[]) =>
        function* (): Generator<string | Uint8Array> {
          for (let i = 0; i < 40; i++) {
            reused.fill(letter + (i % 10));
            expected.push(Buffer.from(reused), Buffer.from(`|${i}|`));
            yield reused;
            yield `|${i}|`;
          }
        };
      const expectA: Buffer[] = [];
      const expectB: Buffer[] = [];
      const [a, b] = [path.join(dir, 'a.json'), path.join(dir, 'b.json')];
      await Promise.all([writeText(a, producer(0x61, expectA)()), writeText(b, producer(0x41, expectB)())]);
      expect(readFileSync(a).equals(Buffer.concat(expectA))).toBe(true);
      expect(readFileSync(b).equals(Buffer.concat(expectB))).toBe(true);
    });
  });
});

describe('embedding report.json in the page', () => {
  it('finds a character the page must not see raw anywhere in the file, one split across read chunks too', async () => {
    await withTempDir('neardup-safe-', async (dir) => {
      const f = path.join(dir, 'report.json');
      // 3 MB of Arabic text in JSON (two bytes a letter): read in 1 MB chunks.
      const safe = Buffer.from(JSON.stringify({ text: 'ن'.repeat(1_500_000) }));
      writeFileSync(f, safe);
      expect(await isScriptSafe(f)).toBe(true);
      for (const [at, bytes] of [[1 << 20, Buffer.from('\u2028')], [(1 << 20) - 1, Buffer.from('\u2029')], [(2 << 20) - 2, Buffer.from('\u2028')], [safe.length - 3, Buffer.from('<')], [5, Buffer.from('&')]] as const) {
        const b = Buffer.from(safe);
        bytes.copy(b, at);
        writeFileSync(f, b);
        expect(await isScriptSafe(f)).toBe(false);
      }
    });
  });

  it('carries each clustered article\'s text exactly, however its input line encoded it', async () => {
    await withTempDir('neardup-report-text-', async (dir) => {
      const base = 'أعلنت وزارة الصحة اليوم افتتاح مستشفى جديد في المدينة بسعة مئتي سرير، ويضم المستشفى أقساما للطوارئ والعناية المركزة والأطفال.\nوقال الوزير إن المشروع يخدم أكثر من نصف مليون نسمة في المحافظة والقرى المجاورة لها.';
      const texts = {
        plain: base,
        // Escaped the way ensure_ascii writers do: every Arabic letter as a \u escape.
        escaped: base + ' (نسخة)',
        // Characters the page must not see raw, and an escaped slash.
        unsafe: base + ' <b>عاجل</b> & \u2028 http://example.org/a',
      };
      const lines = [
        JSON.stringify({ id: 'plain', outlet: 'a', published_at: '2026-11-20T08:00:00Z', title: 'افتتاح مستشفى', text: texts.plain }),
        JSON.stringify({ id: 'escaped', outlet: 'b', published_at: '2026-11-20T09:00:00Z', title: 'افتتاح مستشفى', text: texts.escaped }).replace(/[\u0600-\u06ff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
        JSON.stringify({ id: 'unsafe', outlet: 'c', published_at: '2026-11-20T10:00:00Z', title: 'افتتاح مستشفى', text: texts.unsafe }).replace('http://example.org/a', 'http:\\/\\/example.org\\/a'),
      ];
      writeFileSync(path.join(dir, 'night.jsonl'), lines.join('\n') + '\n');
      const r = neardup(['run', '--input', path.join(dir, 'night.jsonl'), '--output', path.join(dir, 'out'), '--standalone', '--quiet', '--set', 'report.html=false']);
      expect(r.code, r.stderr).toBe(0);
      const file = path.join(dir, 'out', 'report.json');
      const report = JSON.parse(readFileSync(file, 'utf8')) as { articles: Array<{ id: string; text: string }> };
      expect(Object.fromEntries(report.articles.map((a) => [a.id, a.text]))).toEqual(texts);
      expect(await isScriptSafe(file)).toBe(true);
    });
  });
});
