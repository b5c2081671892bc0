/**
 * `npm run gen:scale -- --docs N [--days D] [--out DIR] [--seed S]`: a larger synthetic corpus built from
 * the dev corpus, with the kinds of reuse neardup looks for, spread across outlets and days:
 *  - originals: paragraphs of real articles recombined with half their words replaced, so each is new text;
 *  - whole copies of an earlier article, re-headlined, trimmed, reworded in places and respelled
 *    (hamza, alef maqsura, teh marbuta, Arabic-Indic digits, tatweel);
 *  - partial copies: an original carrying one paragraph of an earlier article;
 *  - each outlet's own footer (boilerplate) on its articles.
 * Writes one YYYY-MM-DD.jsonl.gz per day, streamed, and prints what it made.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createGunzip, createGzip } from 'node:zlib';
import { seededRandom } from '../src/util/random.js';
import { argValue } from './args.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const arg = (name: string, dflt: string): string => argValue(process.argv.slice(2), name, dflt);
const docs = Number(arg('docs', '100000'));
const days = Number(arg('days', '7'));
const out = path.resolve(root, arg('out', 'output/scale'));
const input = path.resolve(root, arg('input', '../shared/corpora/saudinewsnet'));
const seed = Number(arg('seed', '7'));

const rand = seededRandom(seed);
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

/** Spelling variation a copying outlet introduces. */
function respell(text: string): string {
  return text
    .replace(/[أإآ]/g, () => (rand() < 0.5 ? 'ا' : 'أ'))
    .replace(/ى(?=\s|$)/g, () => (rand() < 0.4 ? 'ي' : 'ى'))
    .replace(/ة(?=\s|$)/g, () => (rand() < 0.2 ? 'ه' : 'ة'))
    .replace(/[0-9]/g, (d) => (rand() < 0.5 ? String.fromCharCode(0x0660 + Number(d)) : d))
    .replace(/ال(?=[\u0621-\u064A]{3})/g, (m) => (rand() < 0.03 ? 'الـ' : m));
}

/** Reword: swap a few words for others from the vocabulary, so texts are not byte-identical. */
function reword(text: string, vocabulary: string[], rate: number): string {
  return text.replace(/[\u0621-\u064A]{4,}/g, (w) => (rand() < rate ? pick(vocabulary) : w));
}

async function main(): Promise<void> {
  if (!existsSync(input)) throw new Error(`${input} not found: gen:scale builds from the dev corpus`);
  const paragraphs: string[] = [];
  const titles: string[] = [];
  for (const f of readdirSync(input).filter((x) => x.endsWith('.jsonl.gz')).sort()) {
    for await (const line of readline.createInterface({ input: createReadStream(path.join(input, f)).pipe(createGunzip()), crlfDelay: Infinity })) {
      const d = JSON.parse(line) as { title?: string; text?: string };
      if (!d.text) continue;
      if (d.title) titles.push(d.title);
      for (const p of d.text.split('\n')) if (p.trim().length > 80) paragraphs.push(p.trim());
    }
  }
  const vocabulary = [...new Set(paragraphs.slice(0, 20000).join(' ').match(/[\u0621-\u064A]{4,}/g) ?? [])];
  const outlets = Array.from({ length: 60 }, (_, i) => `outlet${String(i).padStart(2, '0')}`).concat(['was', 'wam', 'kuna']);
  const footers = new Map(outlets.map((o, i) => [o, `تابعوا آخر أخبار ${o} عبر تطبيقنا وحساباتنا على وسائل التواصل الاجتماعي واشتركوا في النشرة البريدية اليومية رقم ${i}`]));
  mkdirSync(out, { recursive: true });
  const writers = Array.from({ length: days }, (_, d) => {
    const gz = createGzip({ level: 1 });
    gz.pipe(createWriteStream(path.join(out, `2030-01-${String(d + 1).padStart(2, '0')}.jsonl.gz`)));
    return gz;
  });
  // Recent articles available to be copied (a sliding window keeps memory flat).
  const recent: Array<{ id: string; title: string; body: string[]; day: number; minute: number }> = [];
  const made = { original: 0, copy: 0, partial: 0 };
  for (let n = 0; n < docs; n++) {
    const day = Math.min(days - 1, Math.floor((n / docs) * days));
    const minute = Math.floor(rand() * 1440);
    const outlet = pick(outlets);
    const r = rand();
    let title: string;
    let body: string[];
    if (r < 0.3 && recent.length > 10) {
      // Whole copy of an earlier article: re-headlined, trimmed, reworded, respelled.
      const src = pick(recent);
      const keep = Math.max(1, src.body.length - Math.floor(rand() * 2));
      body = src.body.slice(0, keep).map((p) => respell(reword(p, vocabulary, 0.03)));
      title = rand() < 0.5 ? src.title : reword(src.title, vocabulary, 0.3);
      made.copy++;
    } else {
      const k = 3 + Math.floor(rand() * 5);
      // Half the words replaced: a new text in the corpus's vocabulary and style. Lighter rewording would leave
      // every original sharing passages with the several others drawn from the same real paragraph.
      body = Array.from({ length: k }, () => reword(pick(paragraphs), vocabulary, 0.5));
      title = reword(pick(titles), vocabulary, 0.4);
      if (r < 0.45 && recent.length > 10) {
        // Partial copy: one paragraph of an earlier article inside new reporting.
        body.splice(1 + Math.floor(rand() * (k - 1)), 0, pick(pick(recent).body));
        made.partial++;
      } else made.original++;
    }
    const id = `syn-${String(n).padStart(7, '0')}`;
    recent.push({ id, title, body, day, minute });
    if (recent.length > 5000) recent.splice(0, 1000);
    const text = body.concat([footers.get(outlet) as string]).join('\n');
    const hh = String(Math.floor(minute / 60)).padStart(2, '0');
    const mm = String(minute % 60).padStart(2, '0');
    const rec = { id, outlet, url: `https://${outlet}.example/${id}`, published_at: `2030-01-${String(day + 1).padStart(2, '0')}T${hh}:${mm}:00Z`, title, text };
    if (!writers[day].write(JSON.stringify(rec) + '\n')) await new Promise((res) => writers[day].once('drain', res));
  }
  await Promise.all(writers.map((w) => new Promise<void>((res) => w.end(res))));
  console.log(`gen:scale: ${docs} articles over ${days} days in ${out}: ${made.original} originals, ${made.copy} whole copies, ${made.partial} partial copies; ${outlets.length} outlets with their own footers`);
}

main().catch((e) => {
  console.error(`gen:scale: ${(e as Error).message}`);
  process.exitCode = 1;
});
