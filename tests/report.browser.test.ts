import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { neardup, readJsonl, ROOT, tempDir } from './helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present) console.warn(`skipping browser tests: ${CHROMIUM} is missing (.ci/run installs Debian's chromium)`);

describe.skipIf(!present)('report.html in a real headless browser', () => {
  let browser: Browser;
  let page: Page;
  let out = '';
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    out = tempDir();
    // The sample night plus two hostile articles (a copy pair, so they form a cluster and get rendered).
    const r = neardup(['run', '--input', path.join(ROOT, 'input'), path.join(ROOT, 'tests', 'fixtures', 'hostile.jsonl'), '--output', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(pathToFileURL(path.join(out, 'report.html')).href);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('is right-to-left and loads with no console errors', async () => {
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(consoleErrors).toEqual([]);
  });

  it('shows as many clusters as clusters.jsonl holds', async () => {
    const expected = readJsonl(path.join(out, 'clusters.jsonl')).length;
    await page.evaluate(() => (location.hash = 'clusters'));
    await page.waitForSelector('#cluster-list');
    expect(await page.textContent('#count')).toBe(`${expected} مجموعة`);
    expect(await page.locator('#cluster-list li[data-cluster]').count()).toBe(Math.min(expected, 50));
  });

  it('finds a cluster by a title typed with other hamza, alef maqsura and diacritics', async () => {
    // The title is "مجلس الوزراء يقر خطة وطنية لتحلية المياه ..."; typed with harakat, أ for ا and ة as ه.
    await page.fill('#search', 'مَجْلِس الوُزَرَاء يُقِرُّ خُطه وَطَنِيه لتحليه المِياه');
    const ids = await page.locator('#cluster-list li[data-cluster]').evaluateAll((els) => els.map((e) => e.getAttribute('data-cluster')));
    expect(ids).toContain('story:wna-001');
    expect(ids).toContain('nd:wna-001');
    await page.fill('#search', 'أإآ لا يوجد شيء كهذا');
    expect(await page.locator('#cluster-list li[data-cluster]').count()).toBe(0);
    await page.fill('#search', '');
  });

  it('opens a cluster with the shared passages highlighted side by side', async () => {
    await page.evaluate(() => (location.hash = 'cluster=' + encodeURIComponent('story:wna-001')));
    await page.waitForSelector('#compare .sxs');
    expect(await page.locator('#compare .para.shared').count()).toBeGreaterThan(4);
    // The edited copy's spelling changes are marked as edits inside the shared paragraphs.
    await page.click('button[data-compare="nahar-001"]');
    expect(await page.locator('#compare .para.shared').count()).toBeGreaterThan(2);
    expect(await page.locator('#compare .para.boiler').count()).toBeGreaterThan(0);
    mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'report-cluster.png'), fullPage: false });
  });

  it('renders the hostile article as text: no script runs, no request leaves, no layout breaks', async () => {
    await page.evaluate(() => (location.hash = 'cluster=' + encodeURIComponent('nd:hostile-001')));
    await page.waitForSelector('#cluster-view');
    const title = await page.textContent('#cluster-view .title');
    expect(title).toContain("<script>alert('title')</script>");
    // The javascript: URL is not a link; the https URL with markup in it is an escaped link.
    const hrefs = await page.locator('a[href]').evaluateAll((els) => els.map((e) => e.getAttribute('href')));
    expect(hrefs.some((h) => /^javascript:/i.test(h ?? ''))).toBe(false);
    expect(await page.locator('#cluster-view script, #compare script, #compare img, #cluster-view img').count()).toBe(0);
    expect(await page.textContent('#compare')).toContain('<img src=x onerror=alert(1)>');
    await page.evaluate(() => (location.hash = 'overview'));
    await page.waitForTimeout(200);
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
    const external = requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:'));
    expect(external).toEqual([]);
    expect(requests.filter((u) => u.startsWith('file://'))).toHaveLength(1);
    await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'report-overview.png'), fullPage: true });
  });

  it('has a strict Content-Security-Policy and the Arabic font inside the file', () => {
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+'/);
    expect(html).toContain('data:font/woff2;base64,');
    expect(html).not.toMatch(/<script>alert/);
  });

  it('is rebuilt by `neardup report` from the JSON outputs alone', () => {
    const before = readFileSync(path.join(out, 'report.html'), 'utf8');
    const r = neardup(['report', '--output', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toBe(before);
  });

  it('escapes a report.json edited by hand (raw < and &) when rebuilding the page', () => {
    const copy = tempDir();
    for (const f of ['report.json', 'run.json', 'rejected.jsonl']) writeFileSync(path.join(copy, f), readFileSync(path.join(out, f)));
    const report = JSON.parse(readFileSync(path.join(copy, 'report.json'), 'utf8'));
    report.articles[0].title = '</script><script>alert(1)</script> & more';
    writeFileSync(path.join(copy, 'report.json'), JSON.stringify(report) + '\n');
    const r = neardup(['report', '--output', copy]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(path.join(copy, 'report.html'), 'utf8');
    expect(html).not.toContain('</script><script>alert');
    expect(html).toContain('\\u003c/script\\u003e\\u003cscript\\u003ealert(1)');
  });
});
