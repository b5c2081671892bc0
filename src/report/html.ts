/**
 * report.html, rebuilt from the JSON outputs alone (report.json, rejected.jsonl,
 * run.json). The data is embedded as JSON in a non-executable script block
 * and rendered by the page's own script with textContent only, so no article
 * text is ever parsed as HTML. A strict Content-Security-Policy allows only
 * the inline style and script that ship in the file (by hash), no network.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { writeText } from './writers.js';
import { normalizeText } from '../text/normalize.js';

/** The page's own style and script live beside the sources (src/report/assets), found from dist/ or src/. */
function assetDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.join(here, 'assets'), path.join(here, '..', '..', '..', 'src', 'report', 'assets')]) {
    try {
      readFileSync(path.join(dir, 'report.js'));
      return dir;
    } catch {
      /* next candidate */
    }
  }
  throw new Error('report assets (report.js, report.css) not found');
}

let assets: { css: string; js: string } | undefined;
function loadAssets(): { css: string; js: string } {
  if (assets) return assets;
  const dir = assetDir();
  // The Arabic font (Noto Naskh Arabic, OFL) is inlined so the report needs no network.
  const require = createRequire(import.meta.url);
  const font = readFileSync(require.resolve('@fontsource/noto-naskh-arabic/files/noto-naskh-arabic-arabic-400-normal.woff2')).toString('base64');
  const css = readFileSync(path.join(dir, 'report.css'), 'utf8').replace('FONT_DATA_URI', `data:font/woff2;base64,${font}`);
  assets = { css, js: readFileSync(path.join(dir, 'report.js'), 'utf8') };
  return assets;
}

/** What the page's search needs from report.json: the clusters with their members, and the members' titles. */
export interface ReportIndex {
  clusters: Array<{ cluster_id: string; members: Array<{ id: string; outlet: string }> }>;
  titles: Map<string, string>;
  /** True when the run that passes this index wrote report.json escaped for the page (scriptSafe) itself. */
  written?: boolean;
}

/**
 * Normalized search text per cluster: every member's title and outlet, so that spelling variants match.
 * Each title and outlet is normalized once (an article is in up to two clusters, an outlet in thousands):
 * a space never joins two tokens, so the parts' normalized forms joined by spaces are the whole's.
 */
function searchKeys({ clusters, titles }: ReportIndex): Record<string, string> {
  const out: Record<string, string> = {};
  const normalized = new Map<string, string>();
  const norm = (s: string): string => {
    let n = normalized.get(s);
    if (n === undefined) normalized.set(s, (n = normalizeText(s)));
    return n;
  };
  for (const c of clusters) {
    const parts: string[] = [];
    for (const m of c.members) parts.push(norm(titles.get(m.id) ?? ''), norm(m.outlet));
    out[c.cluster_id] = parts.filter((p) => p !== '').join(' ');
  }
  return out;
}

/** Escape for embedding JSON inside <script type="application/json">: no "</script>", no "<!--". */
const SCRIPT_UNSAFE: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };
/** Escape JSON text for a <script type="application/json"> element: no "</script>", no "<!--". One pass. */
export function scriptSafe(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => SCRIPT_UNSAFE[c]);
}

const LINE_SEPARATOR = Buffer.from('\u2028');
const PARAGRAPH_SEPARATOR = Buffer.from('\u2029');
/** scriptSafe on UTF-8 bytes: the same bytes when they hold nothing to escape (checked natively), else an escaped copy. */
export function scriptSafeBytes(json: Uint8Array): Uint8Array {
  const b = Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  const clean = b.indexOf(0x3c) < 0 && b.indexOf(0x3e) < 0 && b.indexOf(0x26) < 0 && b.indexOf(LINE_SEPARATOR) < 0 && b.indexOf(PARAGRAPH_SEPARATOR) < 0;
  return clean ? json : Buffer.from(scriptSafe(b.toString('utf8')));
}

/** Whether a file holds none of the characters scriptSafe escapes (checked on bytes, in 1 MB chunks). */
export async function isScriptSafe(file: string): Promise<boolean> {
  // <, >, &, and U+2028 / U+2029 (E2 80 A8 / E2 80 A9 in UTF-8; a chunk edge may split one, so look back 2 bytes).
  const unsafe = (b: Buffer): boolean => b.indexOf(0x3c) >= 0 || b.indexOf(0x3e) >= 0 || b.indexOf(0x26) >= 0 || b.indexOf('\u2028') >= 0 || b.indexOf('\u2029') >= 0;
  let tail: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    // The chunk, and the few bytes across its edge with the last one (no copy of the whole chunk).
    if (unsafe(b) || unsafe(Buffer.concat([tail, b.subarray(0, 2)]))) return false;
    tail = Buffer.from(b.subarray(Math.max(0, b.length - 2)));
  }
  return true;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('base64');

async function readJsonl(file: string): Promise<unknown[]> {
  try {
    const text = await fsp.readFile(file, 'utf8');
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Build report.html from the outputs in `outputDir`. report.json is embedded as written, streamed in
 * chunks (a run writes it already escaped for the page; scriptSafe leaves such text unchanged). A run
 * passes the clusters and titles it has in memory; `neardup report` reads them from report.json.
 */
export async function buildHtmlReport(outputDir: string, preloaded?: ReportIndex): Promise<string> {
  const reportFile = path.join(outputDir, 'report.json');
  let index: ReportIndex;
  let reportBytes: number;
  try {
    reportBytes = (await fsp.stat(reportFile)).size;
    if (preloaded) index = preloaded;
    else {
      const report = JSON.parse(await fsp.readFile(reportFile, 'utf8')) as { clusters?: ReportIndex['clusters']; articles?: Array<{ id: string; title: string }> };
      index = { clusters: report.clusters ?? [], titles: new Map((report.articles ?? []).map((a) => [a.id, a.title])) };
    }
  } catch (e) {
    throw new Error(`cannot rebuild the report: ${reportFile} is missing or unreadable (${(e as Error).message}); run "neardup run" first`);
  }
  const rejected = await readJsonl(path.join(outputDir, 'rejected.jsonl'));
  // Only the run's identity (seed, bands, inputs, version) goes into the page, not its timings:
  // rebuilding the report later gives the same file.
  let run: Record<string, unknown> | null = null;
  try {
    const full = JSON.parse(await fsp.readFile(path.join(outputDir, 'run.json'), 'utf8')) as Record<string, unknown>;
    run = { seed: full.seed, lsh: full.lsh, passage_lsh: full.passage_lsh, inputs: full.inputs, neardup_version: full.neardup_version };
  } catch {
    run = null;
  }
  const rest = scriptSafe(JSON.stringify({ rejected, run, search: searchKeys(index) }));
  const { css: REPORT_CSS, js: REPORT_JS } = loadAssets();
  const csp = [
    "default-src 'none'",
    `style-src 'sha256-${sha256(REPORT_CSS)}'`,
    `script-src 'sha256-${sha256(REPORT_JS)}'`,
    "img-src 'none'",
    "font-src data:",
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
  // Written in parts: the data is tens of megabytes, and one concatenated copy of it is enough.
  const head = `<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>neardup — تقرير إعادة النشر</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<noscript>هذا التقرير يحتاج إلى تفعيل JavaScript.</noscript>
<div id="app" aria-live="polite"></div>
<script id="neardup-data" type="application/json">`;
  const tail = `</script>
<script>${REPORT_JS}</script>
</body>
</html>
`;
  const file = path.join(outputDir, 'report.html');
  const fh = await fsp.open(reportFile, 'r');
  let trailing = 0;
  try {
    const last = Buffer.alloc(Math.min(16, reportBytes));
    await fh.read(last, 0, last.length, reportBytes - last.length);
    while (trailing < last.length && /\s/.test(String.fromCharCode(last[last.length - 1 - trailing]))) trailing++;
  } finally {
    await fh.close();
  }
  // A run writes report.json already escaped: its bytes go into the page as they are. A file escaped
  // otherwise (edited by hand, say) is decoded and escaped on the way.
  const escaped = preloaded?.written === true || (await isScriptSafe(reportFile));
  const parts = async function* (): AsyncGenerator<string | Uint8Array> {
    yield head + '{"report":';
    // Trailing whitespace (the file's final newline) is left out; a UTF-8 decoder keeps characters whole across chunks.
    const range = { start: 0, end: reportBytes - 1 - trailing, highWaterMark: 1 << 20 };
    if (escaped) for await (const chunk of createReadStream(reportFile, range)) yield chunk as Buffer;
    else for await (const chunk of createReadStream(reportFile, { ...range, encoding: 'utf8' })) yield scriptSafe(chunk as string);
    yield ',"rest":' + rest + '}' + tail;
  };
  await writeText(file, parts());
  return file;
}
