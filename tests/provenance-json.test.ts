import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detect } from '../src/pipeline.js';
import { defaultConfig, applyOverride } from '../src/config.js';
import { Logger } from '../src/util/log.js';
import { writeProvenanceJson } from '../src/provenance/index.js';
import { LineBytes } from '../src/report/line-bytes.js';
import { scriptSafe } from '../src/report/html.js';
import { ROOT } from './helpers/cli.js';

describe("report.json's clusters written as bytes", () => {
  it('are JSON.stringify of each provenance, escaped as scriptSafe escapes the whole, with or without a status', async () => {
    // The sample night, in this thread: real clusters, members, aligned spans and edges.
    const cfg = applyOverride(defaultConfig(), 'workers=1');
    const res = await detect([path.join(ROOT, 'input')], cfg, new Logger(true));
    res.texts.close();
    expect(res.provenance.length).toBeGreaterThan(3);
    const out = new LineBytes();
    const written = (c: (typeof res.provenance)[number], escape?: (json: string) => string): string => {
      writeProvenanceJson(c, out.reset(), escape);
      return Buffer.from(out.view()).toString();
    };
    let edges = 0;
    for (const c of res.provenance) {
      edges += c.edges.toJSON().length;
      expect(written(c, scriptSafe)).toBe(scriptSafe(JSON.stringify(c)));
      expect(written(c)).toBe(JSON.stringify(c));
      // A status set (a nightly run's), and one left undefined (JSON.stringify leaves it out).
      expect(written({ ...c, status: 'grown' }, scriptSafe)).toBe(scriptSafe(JSON.stringify({ ...c, status: 'grown' })));
      expect(written({ ...c, status: undefined }, scriptSafe)).toBe(scriptSafe(JSON.stringify({ ...c, status: undefined })));
    }
    expect(edges).toBeGreaterThan(3);
    // Strings with what JSON and scriptSafe escape, and a provenance of another shape (written by JSON.stringify).
    const c = res.provenance[0];
    const odd = { ...c, cluster_id: 'a"b\\c<d>&e\u2028f\u2029\ud800', origin: 'خبر\n' };
    expect(written(odd, scriptSafe)).toBe(scriptSafe(JSON.stringify(odd)));
    const extra = { ...c, note: 'added later' };
    expect(written(extra, scriptSafe)).toBe(scriptSafe(JSON.stringify(extra)));
    // A status that is not a string is JSON.stringify's to write too.
    for (const status of [null, 3]) {
      const other = { ...c, status } as unknown as typeof c;
      expect(written(other, scriptSafe)).toBe(scriptSafe(JSON.stringify(other)));
    }
  });
});
