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
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
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

/** Build report.html from the outputs in `outputDir`; a run passes report.json's content to skip re-reading it. */
export async function buildHtmlReport(outputDir: string, preloaded?: Record<string, unknown>): Promise<string> {
  const reportFile = path.join(outputDir, 'report.json');
  let report: Record<string, unknown>;
  try {
    report = preloaded ?? (JSON.parse(await fsp.readFile(reportFile, 'utf8')) as Record<string, unknown>);
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
  const data = jsonForScript({ report, rejected, run, search: searchKeys(report) });
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
  const html = `<!DOCTYPE html>
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
<script id="neardup-data" type="application/json">${data}</script>
<script>${REPORT_JS}</script>
</body>
</html>
`;
  const file = path.join(outputDir, 'report.html');
  await writeText(file, html);
  return file;
}
