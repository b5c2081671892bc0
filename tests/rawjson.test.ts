import { describe, expect, it } from 'vitest';
import { isCanonicalJsonString, rawStringField } from '../src/ingest/rawjson.js';
import { scriptSafe, scriptSafeBytes } from '../src/report/html.js';
import { seededRandom } from '../src/util/random.js';
import { decodeUtf8 } from '../src/util/files.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const field = (line: string, name = 'text'): string | null => {
  const raw = rawStringField(bytes(line), name);
  return raw === null ? null : Buffer.from(raw).toString('utf8');
};

describe('a string field read from the bytes of a JSON line', () => {
  it('is the value as encoded, quotes and escapes included', () => {
    const text = 'قال المتحدث: "الاجتماع انتهى" \\ ثم غادر.\nفقرة ثانية\t.';
    expect(field(JSON.stringify({ id: 'a-1', text }))).toBe(JSON.stringify(text));
  });

  it('skips nested objects, arrays and strings holding quotes, braces and the key itself', () => {
    const line = '{"meta":{"x":"}\\"{","text":["[",{"text":"inner"}]},"n":-1.5e3,"ok":true,"none":null,"text":"الخارجي"}';
    expect(field(line)).toBe('"الخارجي"');
  });

  it('takes the last of repeated keys, as JSON.parse does', () => {
    expect(field('{"text":"الأول","text":"الثاني"}')).toBe('"الثاني"');
    expect(field('{"text":"الأول","text":5}')).toBeNull();
  });

  it('matches an escaped key, allows a byte-order mark and spaces', () => {
    expect(field('\ufeff  { "id" : 1 , "\\u0074ext" :\t"نص" }\r\n')).toBe('"نص"');
  });

  it('is null when the key is missing, not a string, or the line is not an object it can follow', () => {
    expect(field('{"id":"x"}')).toBeNull();
    expect(field('{"text":{"a":"b"}}')).toBeNull();
    expect(field('["text","x"]')).toBeNull();
    expect(field('{"text":"unterminated}')).toBeNull();
    expect(field('{}')).toBeNull();
  });

  it('agrees with JSON.parse on generated records', () => {
    const rnd = seededRandom(11);
    const pieces = ['خبر', ' ', '"', '\\', '\n', '{', '}', '[', ']', ',', ':', 'text', '\u2028', 'é', '😀', '/', '<'];
    const str = (): string => Array.from({ length: Math.floor(rnd() * 12) }, () => pieces[Math.floor(rnd() * pieces.length)]).join('');
    const value = (depth: number): unknown => {
      const r = rnd();
      if (r < 0.4 || depth > 2) return str();
      if (r < 0.55) return Math.floor(rnd() * 1000) - 500;
      if (r < 0.65) return [value(depth + 1), value(depth + 1)];
      if (r < 0.75) return { text: value(depth + 1), [str()]: value(depth + 1) };
      return rnd() < 0.5 ? null : false;
    };
    for (let n = 0; n < 2000; n++) {
      const record: Record<string, unknown> = {};
      for (let k = Math.floor(rnd() * 4); k > 0; k--) record[rnd() < 0.3 ? 'text' : str()] = value(0);
      if (rnd() < 0.8) record.text = value(0);
      const line = JSON.stringify(record, null, rnd() < 0.3 ? 1 : undefined);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      const raw = rawStringField(bytes(line), 'text');
      if (typeof parsed.text === 'string') {
        expect(raw, line).not.toBeNull();
        expect(Buffer.from(raw as Uint8Array).toString('utf8')).toBe(JSON.stringify(parsed.text));
      } else expect(raw, line).toBeNull();
    }
  });
});

describe('canonical JSON strings', () => {
  it('are those JSON.stringify would write: no \\u escape, no escaped slash', () => {
    expect(isCanonicalJsonString(bytes('"نص \\"مقتبس\\"\\n\\\\"'))).toBe(true);
    expect(isCanonicalJsonString(bytes('"a\\\\u0041"'))).toBe(true); // an escaped backslash, then a plain "u"
    expect(isCanonicalJsonString(bytes('"\\u0627\\u0644"'))).toBe(false);
    expect(isCanonicalJsonString(bytes('"http:\\/\\/example.org"'))).toBe(false);
  });
});

describe('scriptSafeBytes', () => {
  it('returns the same bytes when there is nothing to escape, and scriptSafe of them otherwise', () => {
    const clean = bytes('"خبر عاجل: لا شيء يهرب"');
    expect(scriptSafeBytes(clean)).toBe(clean);
    const unsafe = '"<\\/script> & \u2028 \u2029 >"';
    expect(Buffer.from(scriptSafeBytes(bytes(unsafe))).toString('utf8')).toBe(scriptSafe(unsafe));
  });
});

describe('UTF-8 decoding of input lines', () => {
  it('gives what toString gives, for Arabic, Persian, astral and ASCII text of every length', () => {
    const random = seededRandom(5);
    const units = ['ا', 'ی', 'ً', 'a', ' ', '"', '\\', '中', '😀', '𝐀', '\u0080', '\u07ff', '\u0800', '\uffff', '\n'];
    for (let t = 0; t < 2000; t++) {
      let s = '';
      for (let n = Math.floor(random() * 300); n > 0; n--) s += units[Math.floor(random() * units.length)];
      const b = Buffer.from(s, 'utf8');
      expect(decodeUtf8(b)).toBe(b.toString('utf8'));
      // A view into a larger buffer, not a Buffer of its own.
      const framed = new Uint8Array(b.length + 8);
      framed.set(b, 3);
      expect(decodeUtf8(framed.subarray(3, 3 + b.length))).toBe(s);
    }
  });
  it('throws on bytes that are not UTF-8 rather than replacing them', () => {
    const bad = Buffer.concat([Buffer.from('نص عربي طويل بما يكفي ليمر عبر المحول وليس عبر الطريق القصير', 'utf8'), Buffer.from([0xff, 0xfe])]);
    expect(() => decodeUtf8(bad)).toThrow(/invalid UTF-8/);
  });
});
