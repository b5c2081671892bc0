/**
 * Byte-level reading of a record's JSON line, for outputs that carry a field as it came: the report embeds
 * each clustered article's text, and decoding, parsing and re-serializing some 400 MB of texts for a
 * 100k-article night took most of the time spent writing report.json.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;

/** Index just past the JSON string starting at `at` (a quote), or -1 when it does not end in the line. */
function endOfString(line: Buffer, at: number): number {
  let from = at + 1;
  for (;;) {
    const q = line.indexOf(QUOTE, from);
    if (q < 0) return -1;
    // A quote preceded by an odd number of backslashes is escaped.
    let k = q - 1;
    while (k > at && line[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Index just past the JSON value starting at `at`, or -1. */
function endOfValue(line: Buffer, at: number): number {
  const first = line[at];
  if (first === QUOTE) return endOfString(line, at);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (let i = at; i < line.length; i++) {
      const b = line[i];
      if (b === QUOTE) {
        i = endOfString(line, i) - 1;
        if (i < 0) return -1;
      } else if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        if (--depth === 0) return i + 1;
      }
    }
    return -1;
  }
  let i = at;
  while (i < line.length && line[i] !== 0x2c && line[i] !== 0x7d && line[i] !== 0x5d && !isSpace(line[i])) i++;
  return i > at ? i : -1;
}

/**
 * The encoded JSON string (quotes included) that a top-level key of the line's object holds, as a view into
 * the line; null when the key is absent, its value is not a string, or the line is not a JSON object this
 * scanner can follow. As JSON.parse does, the last of repeated keys counts.
 */
export function rawStringField(line: Uint8Array, name: string): Uint8Array | null {
  const b = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  const wanted = quotedName(name);
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  const space = (): void => {
    while (i < b.length && isSpace(b[i])) i++;
  };
  space();
  if (b[i++] !== 0x7b) return null;
  let found: Uint8Array | null = null;
  space();
  if (b[i] === 0x7d) return null;
  for (;;) {
    space();
    if (b[i] !== QUOTE) return null;
    const keyEnd = endOfString(b, i);
    if (keyEnd < 0) return null;
    const key = b.subarray(i, keyEnd);
    // An escaped key ("\u0074ext") is decoded to compare; a plain one is compared as bytes.
    const matches = key.includes(BACKSLASH) ? JSON.parse(key.toString('utf8')) === name : key.equals(wanted);
    i = keyEnd;
    space();
    if (b[i++] !== 0x3a) return null;
    space();
    const valueEnd = endOfValue(b, i);
    if (valueEnd < 0) return null;
    if (matches) found = b[i] === QUOTE ? b.subarray(i, valueEnd) : null;
    i = valueEnd;
    space();
    if (b[i] === 0x2c) {
      i++;
      continue;
    }
    return b[i] === 0x7d ? found : null;
  }
}

/** Names as the bytes of their JSON strings (quotes included), made once each: they are looked for in every line. */
const quotedNames = new Map<string, Buffer>();
export function quotedName(name: string): Buffer {
  let bytes = quotedNames.get(name);
  if (!bytes) quotedNames.set(name, (bytes = Buffer.from(JSON.stringify(name))));
  return bytes;
}

/**
 * Whether an encoded JSON string is exactly what JSON.stringify writes for its value: no \u escape and no
 * escaped slash (the only escapes JSON.stringify never writes for text it may hold raw). Checked so that an
 * output carrying the bytes as they came is byte for byte the one re-serializing would give.
 */
export function isCanonicalJsonString(encoded: Uint8Array): boolean {
  const b = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  for (let at = b.indexOf(BACKSLASH); at >= 0; at = b.indexOf(BACKSLASH, at + 2)) {
    const next = b[at + 1];
    if (next === 0x75 || next === 0x2f) return false;
  }
  return true;
}
