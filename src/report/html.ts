/**
 * report.html, rebuilt from the JSON outputs alone (report.json, rejected.jsonl,
 * run.json). The data is embedded as JSON in a non-executable script block
 * and rendered by the page's own script with textContent only, so no article
 * text is ever parsed as HTML. A strict Content-Security-Policy allows only
 * the inline style and script that ship in the file (by hash), no network.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { readFileSync } from 'node:fs';
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

/** Normalized search text per cluster: every member's title and outlet, so that spelling variants match. */
function searchKeys(report: Record<string, unknown>): Record<string, string> {
  const titles = new Map<string, string>();
  for (const a of (report.articles as Array<{ id: string; title: string }>) ?? []) titles.set(a.id, a.title);
  const out: Record<string, string> = {};
  for (const c of (report.clusters as Array<{ cluster_id: string; members: Array<{ id: string; outlet: string }> }>) ?? []) {
    out[c.cluster_id] = normalizeText(c.members.map((m) => `${titles.get(m.id) ?? ''} ${m.outlet}`).join(' '));
  }
  return out;
}

/** Escape for embedding JSON inside <script type="application/json">: no "</script>", no "<!--". */
const SCRIPT_UNSAFE: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };
/** Escape JSON text for a <script type="application/json"> element: no "</script>", no "<!--". One pass. */
export function scriptSafe(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => SCRIPT_UNSAFE[c]);
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
 * Build report.html from the outputs in `outputDir`. A run passes report.json's content (object and text)
 * to skip re-reading and re-serializing it; `neardup report` reads it from the file.
 */
export async function buildHtmlReport(outputDir: string, preloaded?: { value: Record<string, unknown>; json: string }): Promise<string> {
  const reportFile = path.join(outputDir, 'report.json');
  let report: Record<string, unknown>;
  let reportText: string;
  try {
    reportText = preloaded?.json ?? (await fsp.readFile(reportFile, 'utf8')).trimEnd();
    report = preloaded?.value ?? (JSON.parse(reportText) as Record<string, unknown>);
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
  // The report's JSON text is embedded as is, not serialized again (scriptSafe returns it unchanged when the
  // run already wrote it escaped); the parts are written one after another, never joined in memory.
  const dataParts = ['{"report":', scriptSafe(reportText), ',"rest":', scriptSafe(JSON.stringify({ rejected, run, search: searchKeys(report) })), '}'];
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
  await writeText(file, [head, ...dataParts, tail]);
  return file;
}
