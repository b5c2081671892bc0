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
import { writeText } from './writers.js';
import { REPORT_CSS, REPORT_JS } from './assets.js';

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

export async function buildHtmlReport(outputDir: string): Promise<string> {
  const reportFile = path.join(outputDir, 'report.json');
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(await fsp.readFile(reportFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`cannot rebuild the report: ${reportFile} is missing or unreadable (${(e as Error).message}); run "neardup run" first`);
  }
  const rejected = await readJsonl(path.join(outputDir, 'rejected.jsonl'));
  let run: unknown = null;
  try {
    run = JSON.parse(await fsp.readFile(path.join(outputDir, 'run.json'), 'utf8'));
  } catch {
    run = null;
  }
  const data = jsonForScript({ report, rejected, run });
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
