import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Spill } from '../src/ingest/spill.js';
import { appendKeys } from '../src/report/writers.js';

const line = (o: Record<string, unknown>, sep = ', '): Buffer => Buffer.from(JSON.stringify(o).replaceAll('","', `"${sep}"`) + '\n');

describe('the night\'s kept records', () => {
  it('reads every record back as it was appended, from memory up to the budget and from the file past it', () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'neardup-records-'));
    try {
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
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('feed lines', () => {
  const keys = { cluster_id: 'nd:a', duplicates: ['b', 'c'], story_id: null };

  it('keeps the input line byte for byte and appends the keys', () => {
    const input = line({ id: 'a', title: 'عنوان', text: 'نص الخبر', extra: { n: 1 } });
    const out = appendKeys(input, keys) as Buffer;
    expect(out.subarray(0, input.length - 2).equals(input.subarray(0, input.length - 2))).toBe(true);
    expect(out.at(-1)).toBe(0x0a);
    expect(JSON.parse(out.toString())).toEqual({ id: 'a', title: 'عنوان', text: 'نص الخبر', extra: { n: 1 }, ...keys });
  });

  it('trims a byte-order mark, spaces and a carriage return around the object', () => {
    const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('  {"id": "a", "text": "نص" }  \r\n')]);
    const out = (appendKeys(input, keys) as Buffer).toString();
    expect(out.startsWith('{"id": "a"')).toBe(true);
    expect(JSON.parse(out)).toEqual({ id: 'a', text: 'نص', ...keys });
  });

  it('declines a line that has one of the keys already, or is not an object', () => {
    expect(appendKeys(line({ id: 'a', text: 'نص', story_id: 'old' }), keys)).toBeNull();
    expect(appendKeys(Buffer.from('["a"]'), keys)).toBeNull();
  });
});
